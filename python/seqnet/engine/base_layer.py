"""The base class of every layer, and the contract that convolution, recurrent and every
later layer follow (also described in docs/architecture.md)."""
import re

import numpy as np

from seqnet import initializers
from seqnet.engine.weight import Weight

_ALLOWED_KWARGS = {"name", "trainable", "dtype", "input_shape", "input_dim", "batch_size",
                   "batch_input_shape", "weights", "input_length"}


class Layer:
    """Base class of all layers.

    The contract
    ------------
    A layer is configuration, weights, and a forward/backward pair over NumPy float32
    arrays. The model drives it in this order:

    1. ``__init__(**kwargs)`` stores configuration only, no weights. Every layer accepts
       ``name``, ``trainable`` and ``dtype``; the first layer of a model also accepts
       ``input_shape``, ``input_dim`` (and ``input_length`` on sequence layers),
       ``batch_size`` and ``batch_input_shape``: ``batch_size=32, input_shape=(6, 8)``
       means batches of shape (32, 6, 8).
    2. ``build(input_shape)`` runs once with the full input shape (batch first, ``None``
       where unknown). It creates the weights with ``add_weight`` in Keras' order and
       layout (so ``get_weights``/``set_weights`` interoperate with Keras) and calls
       ``super().build(input_shape)``.
    3. ``compute_output_shape(input_shape)`` maps an input shape to the output shape
       without data.
    4. ``forward(x, training)`` computes a batch's output. ``x`` is C-contiguous float32,
       owned by the caller and unchanged until ``backward``. The layer keeps what
       ``backward`` needs (usually ``x`` and its output) and writes outputs and
       intermediates into workspaces from ``self._workspace(key, shape)``: buffers that
       are allocated once and reused for every later batch of the same or smaller size,
       so a training step allocates nothing. The result is valid until the next forward.
    5. ``backward(dy, need_dx)`` receives dL/d(output), which it may overwrite; it writes
       each trainable weight's gradient into ``weight.grad`` (overwriting, never
       accumulating) and returns dL/dx, or ``None`` when ``need_dx`` is false (the first
       layer). Layers whose output passes through a softmax or sigmoid expose the name in
       ``output_activation`` and the pre-activation of the last forward in ``logits``; a
       loss fused with that activation then calls ``backward(dlogits, need_dx,
       dy_is_preactivation=True)``.
    6. ``get_config()`` returns the constructor arguments (``from_config`` rebuilds the
       layer without weights); ``get_weights()``/``set_weights()`` move weights as
       NumPy arrays.

    Kernels are reached through ``seqnet._engine``, one call per layer per direction where
    possible; Python code in ``forward``/``backward`` is kept to argument passing. Weights
    are ``Weight`` objects whose ``value``/``grad`` arrays a model may move into its flat
    parameter buffers, so a layer reads ``weight.value`` at each use.
    """

    # The activation a fused loss may differentiate through (see the contract, point 5).
    output_activation = None
    logits = None
    # A penalty on the layer's output (Keras 2.2.4: summed over the batch), or None.
    activity_regularizer = None

    def __init__(self, **kwargs):
        unknown = set(kwargs) - _ALLOWED_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        self.name = kwargs.get("name") or _unique_name(_to_snake_case(type(self).__name__))
        self.trainable = kwargs.get("trainable", True)
        dtype = kwargs.get("dtype") or "float32"
        if str(np.dtype(dtype)) != "float32":
            raise ValueError(f"Layer '{self.name}': only dtype='float32' is supported, got {dtype!r}")
        self.dtype = "float32"
        self._batch_input_shape = _batch_input_shape_from(kwargs, type(self).__name__)
        self._initial_weights = kwargs.get("weights")
        self._weights = []
        self._workspaces = {}
        self.built = False
        self.input_shape_seen = None

    # ---- building -------------------------------------------------------------------
    def build(self, input_shape):
        self.input_shape_seen = tuple(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def add_weight(self, name, shape, initializer="glorot_uniform", regularizer=None, trainable=True,
                   constraint=None, dtype=None):
        """Creates a weight (initialised now) and registers it in Keras' order."""
        init = initializers.get(initializer)
        value = np.asarray(init(tuple(shape)), dtype=np.float32)
        if value.shape != tuple(shape):
            raise ValueError(f"Layer '{self.name}': initializer for '{name}' returned shape {value.shape}, "
                             f"expected {tuple(shape)}")
        weight = Weight(f"{self.name}/{name}:0", value, trainable=trainable, regularizer=regularizer,
                        constraint=constraint)
        self._weights.append(weight)
        return weight

    def compute_output_shape(self, input_shape):
        return input_shape

    def __call__(self, inputs, **kwargs):
        """Applies the layer to a symbolic tensor (or a list of them) of the functional API."""
        if kwargs:
            raise TypeError(f"Layer '{self.name}': unexpected keyword argument(s) {sorted(kwargs)} in the call")
        from seqnet.engine.keras_tensor import call_layer
        return call_layer(self, inputs)

    # ---- running ----------------------------------------------------------------------
    def forward(self, x, training):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def _workspace(self, key, shape, dtype=np.float32):
        """A reusable buffer of `shape`: a view of the first rows of one allocated for the
        largest batch seen, so the last, smaller batch of an epoch allocates nothing."""
        buf = self._workspaces.get(key)
        if buf is None or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0] or buf.dtype != dtype:
            buf = np.empty(shape, dtype=dtype)
            self._workspaces[key] = buf
        return buf if buf.shape[0] == shape[0] else buf[:shape[0]]

    # ---- weights ---------------------------------------------------------------------
    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not (w.trainable and self.trainable)]

    def get_weights(self):
        return [w.value.copy() for w in self._weights]

    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(f"Layer '{self.name}' expects {len(self._weights)} weight arrays, "
                             f"but set_weights got {len(weights)}")
        for w, new in zip(self._weights, weights):
            new = np.asarray(new)
            if new.shape != w.value.shape:
                raise ValueError(f"Layer '{self.name}': weight '{w.name}' has shape {w.value.shape}, "
                                 f"but set_weights got an array of shape {new.shape}")
        for w, new in zip(self._weights, weights):
            w.value[...] = new

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call count_params on {self.name}, but the layer isn't built. "
                             "You can build it manually via: `layer.build(batch_input_shape)`.")
        return int(sum(w.value.size for w in self._weights))

    # ---- configuration -------------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    def _weight_options_config(self, *prefixes):
        """`<prefix>_initializer`, `_regularizer`, `_constraint` for each weight prefix ('kernel',
        'bias', ...) and `activity_regularizer`, serialized in Keras' order."""
        from seqnet import constraints, regularizers
        config = {f"{p}_initializer": initializers.serialize(getattr(self, f"{p}_initializer")) for p in prefixes}
        config.update({f"{p}_regularizer": regularizers.serialize(getattr(self, f"{p}_regularizer"))
                       for p in prefixes})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        config.update({f"{p}_constraint": constraints.serialize(getattr(self, f"{p}_constraint")) for p in prefixes})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @property
    def batch_input_shape(self):
        return self._batch_input_shape

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name}>"


def _to_snake_case(name):
    # Keras 2's rule: Dense -> dense, Conv2D -> conv2d, MaxPooling2D -> max_pooling2d.
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return snake if snake[0] != "_" else "private" + snake


def _unique_name(prefix):
    from seqnet import backend
    return f"{prefix}_{backend.get_uid(prefix)}"


def _batch_input_shape_from(kwargs, layer_type):
    """The full batch input shape named by a first layer's input arguments, or None."""
    if kwargs.get("batch_input_shape") is not None:
        shape = kwargs["batch_input_shape"]
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"{layer_type}: batch_input_shape must be a non-empty tuple, got {shape!r}")
        return tuple(None if d is None else _positive(d, "batch_input_shape", layer_type) for d in shape)
    shape = None
    if kwargs.get("input_shape") is not None:
        shape = kwargs["input_shape"]
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)):
            raise ValueError(f"{layer_type}: input_shape must be a tuple, got {shape!r}")
        shape = tuple(shape)
    elif kwargs.get("input_dim") is not None:
        dim = _positive(kwargs["input_dim"], "input_dim", layer_type)
        length = kwargs.get("input_length")
        shape = (length, dim) if "input_length" in kwargs else (dim,)
    if shape is None:
        return None
    shape = tuple(None if d is None else _positive(d, "input_shape", layer_type) for d in shape)
    batch = kwargs.get("batch_size")
    if batch is not None:
        batch = _positive(batch, "batch_size", layer_type)
    return (batch,) + shape


def _positive(value, what, layer_type):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer_type}: {what} must contain positive integers (or None), got {value!r}")
    return int(value)
