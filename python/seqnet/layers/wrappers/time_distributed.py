"""TimeDistributed: one layer applied to every timestep of its input."""
import numpy as np

from seqnet.engine.keras_tensor import KerasTensor, Node, SymbolicMask
from seqnet.engine.network import _forward_takes_mask
from seqnet.layers.wrappers.wrapper import Wrapper


class TimeDistributed(Wrapper):
    """Applies `layer` to every temporal slice of an input (Keras 2.2.4's
    ``keras.layers.TimeDistributed``).

    The input has at least 3 dimensions, ``(batch, timesteps, ...)``; the wrapped layer sees
    ``(batch * timesteps, ...)`` and is built for the per-step shape ``(batch, ...)``.
    ``TimeDistributed(Dense(8), input_shape=(10, 16))`` gives ``(None, 10, 8)``;
    ``TimeDistributed(Conv2D(64, (3, 3)), input_shape=(10, 32, 32, 3))`` runs the convolution
    on each of the 10 frames. Any layer works: built-in ones (one engine call for all the
    steps), Keras-style custom layers, Dropout, a nested model.

    Weights are the wrapped layer's, in its order, named under the wrapper as Keras names
    them (``time_distributed_1/kernel:0``; a model built before wrapping keeps its names).

    Masks (Keras 2.2.4): the input mask, reshaped to ``(batch * timesteps, ...)``, goes to a
    wrapped layer that takes one; the output mask is the wrapped layer's ``compute_mask``
    reshaped back to ``(batch, timesteps, ...)``, or, when that is None, the input mask
    reduced to ``(batch, timesteps)``. A wrapped layer without mask support given a mask
    raises TypeError, as in Keras.

    Differs from Keras 2.2.4: Keras 2.2.4 loops over the timesteps with ``K.rnn`` when the
    batch size is fixed (and then passes no mask to the wrapped layer and the input mask
    on unchanged); seqnet always runs the reshape path of an unknown batch size, whose
    results are the same for per-sample layers.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self._shapes = None

    # ---- shapes ---------------------------------------------------------------------------------
    def _child_shape(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (TimeDistributed) takes one input, got a list of shapes "
                             f"{[tuple(s) for s in input_shape]}")
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"Layer '{self.name}' (TimeDistributed of '{self.layer.name}') expects inputs of at "
                             f"least 3 dimensions (batch, timesteps, ...), got shape {input_shape}")
        return (input_shape[0],) + input_shape[2:]

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        built_before = self.layer.built
        self.layer._build_for(child)
        if not built_before:
            self._name_weights(self.layer, keep_layer_name=False)
        if isinstance(self.layer.compute_output_shape(child), list):
            raise ValueError(f"Layer '{self.name}' (TimeDistributed): the wrapped layer '{self.layer.name}' "
                             "returns several outputs; TimeDistributed needs a layer with one output")
        super().build(input_shape)

    def _build_for(self, input_shape):
        if self.built:  # another call: the wrapped layer checks the per-step shape
            self.layer._build_for(self._child_shape(input_shape))
            return
        super()._build_for(input_shape)

    def compute_output_shape(self, input_shape):
        child = self._child_shape(input_shape)
        out = tuple(self.layer.compute_output_shape(child))
        return (out[0], tuple(input_shape)[1]) + out[1:]

    # ---- masks -----------------------------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        if isinstance(inputs, KerasTensor):
            inner_inputs = KerasTensor((None,) + inputs.shape[2:], Node(self.layer, [], False), dtype=inputs.dtype)
            inner_mask = None if mask is None else SymbolicMask((None,) + tuple(mask.shape[2:]))
            out = self.layer.compute_mask(inner_inputs, inner_mask)
            if out is None:
                return None if mask is None else SymbolicMask(inputs.shape[:2])
            return SymbolicMask(inputs.shape[:2] + tuple(out.shape[1:]))
        batch, steps = inputs.shape[:2]
        out = self.layer.compute_mask(_merge_steps(inputs), None if mask is None else _merge_steps(np.asarray(mask)))
        if out is None:
            if mask is None:
                return None
            mask = np.asarray(mask)
            return mask.any(axis=tuple(range(2, mask.ndim))) if mask.ndim > 2 else mask
        out = np.asarray(out)
        return out.reshape((batch, steps) + out.shape[1:])

    # ---- running -----------------------------------------------------------------------------------
    def forward(self, x, training, mask=None):
        batch, steps = x.shape[:2]
        inner_x = np.ascontiguousarray(_merge_steps(x))
        if mask is not None and _forward_takes_mask(self.layer):
            y = self.layer.forward(inner_x, training, mask=np.ascontiguousarray(_merge_steps(np.asarray(mask))))
        else:
            y = self.layer.forward(inner_x, training)
        self._shapes = (x.shape, batch, steps)
        return y.reshape((batch, steps) + y.shape[1:])

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        x_shape = self._shapes[0]
        dx = self.layer.backward(np.ascontiguousarray(_merge_steps(dy)), need_dx, dy_is_preactivation)
        return None if dx is None else dx.reshape(x_shape)

    @property
    def output_activation(self):
        """The wrapped layer's (a fused loss differentiates through it)."""
        return self.layer.output_activation

    @property
    def logits(self):
        """The wrapped layer's last pre-activation, shaped as this layer's output."""
        z = self.layer.logits
        if z is None or self._shapes is None:
            return None
        return z.reshape(self._shapes[1:] + z.shape[1:])


def _merge_steps(a):
    """(batch, steps, ...) -> (batch * steps, ...), a view when `a` is contiguous."""
    return a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:])
