"""The base class of every layer, and the contract that built-in layers, Keras-style custom
layers and models (which are layers too) follow; docs/architecture.md has the picture."""
import re
import warnings

import numpy as np

from seqnet import initializers
from seqnet.engine import backend_call
from seqnet.engine.input_spec import InputSpec, assert_input_compatibility
from seqnet.engine.keras_tensor import KerasTensor, Node, SymbolicMask, is_symbolic
from seqnet.engine.memory import aligned_empty
from seqnet.engine.weight import Weight
from seqnet.random_state import new_key

_ALLOWED_KWARGS = {"name", "trainable", "dtype", "input_shape", "input_dim", "batch_size",
                   "batch_input_shape", "weights", "input_length"}


class Layer:
    """Base class of all layers.

    Two ways to write a layer
    -------------------------
    **Keras 2 style** (what a user writes): ``build(input_shape)`` creates weights with
    ``add_weight``; ``call(inputs)`` computes the output with ``seqnet.backend`` ops (it may
    take ``mask=`` and ``training=``); ``compute_output_shape(input_shape)`` (inferred by a
    dry run when not given); ``compute_mask(inputs, mask)`` when the layer changes masks.
    seqnet runs ``call`` on the backend's reverse-mode tape: forward records, backward is
    the vector-Jacobian product, and the weights' gradients land in the optimizer's buffer.

    **Native** (built-in layers): instead of ``call``, a forward/backward pair over NumPy
    float32 arrays that calls ``seqnet._engine``:

    - ``forward(x, training)`` (or ``forward(x, training, mask=None)`` for a layer with
      ``supports_masking``) computes a batch's output. ``x`` is C-contiguous float32 (a list
      for a layer called on a list), owned by the caller and unchanged until ``backward``.
      Outputs and intermediates go into ``self._workspace(key, shape)`` buffers, allocated
      once and reused, so a training step allocates nothing. A layer with several outputs
      (``return_state``) returns a list.
    - ``backward(dy, need_dx, dy_is_preactivation=False)`` receives dL/d(output) (which it
      may overwrite; a list with None for outputs that get no gradient), writes each
      trainable weight's gradient into ``weight.grad`` (overwriting), and returns dL/dx (a
      list for a list input), or None when ``need_dx`` is false. A layer whose output
      passes through a softmax or sigmoid exposes the name in ``output_activation`` and the
      last pre-activation in ``logits``, so a fused loss can call backward with
      dL/d(logits) and ``dy_is_preactivation=True``.

    Both kinds: ``__init__(**kwargs)`` stores configuration only (``name``, ``trainable``,
    ``dtype``; and on a first layer ``input_shape``/``input_dim``/``batch_size``/
    ``batch_input_shape``); ``get_config()`` returns the constructor arguments. Calling a
    layer on symbolic tensors (``layer(tensor)``) builds it and records a node; a layer
    called several times shares its weights (the engine sums their gradients).
    """

    # The activation a fused loss may differentiate through (see the contract).
    output_activation = None
    logits = None
    # A penalty on the layer's output (Keras 2.2.4: summed over the batch), or None.
    activity_regularizer = None
    # What each call's inputs must be (engine/input_spec.py): set by Keras-style custom layers.
    input_spec = None
    # Whether the layer accepts a mask and passes it on (Keras 2's flag).
    supports_masking = False

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
        self._inbound_nodes = []
        self.built = False
        self.input_shape_seen = None

    # ---- building -------------------------------------------------------------------
    def build(self, input_shape):
        """Creates the weights for inputs of `input_shape` (batch axis first); subclasses
        call ``super().build(input_shape)`` at the end, as in Keras."""
        self.input_shape_seen = _as_shape(input_shape)
        self.built = True
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None):
        """Creates a weight (initialised now) and registers it in Keras' order. Keras 2.2.4's
        signature; an initializer given in the third place (seqnet's older spelling) works."""
        if dtype is not None and initializer is None and not _is_dtype(dtype):
            dtype, initializer = None, dtype
        if dtype is not None and str(np.dtype(dtype)) != "float32":
            raise ValueError(f"Layer '{self.name}': weight '{name}' must be float32, got dtype={dtype!r}")
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        shape = tuple(int(d) for d in shape)
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        value = np.asarray(init(shape), dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"Layer '{self.name}': initializer for '{name}' returned shape {value.shape}, "
                             f"expected {shape}")
        from seqnet import constraints, regularizers
        weight = Weight(f"{self.name}/{name}:0", value, trainable=trainable,
                        regularizer=regularizers.get(regularizer), constraint=constraints.get(constraint))
        self._weights.append(weight)
        return weight

    def compute_output_shape(self, input_shape):
        """The output shape for `input_shape`. A Keras-style layer without its own version
        gets the shape of a dry run of `call` on zeros."""
        if backend_call.is_keras_style(self):
            return backend_call.infer_output_shape(self, input_shape)
        return input_shape

    # ---- masks ------------------------------------------------------------------------
    def compute_mask(self, inputs, mask=None):
        """The output mask: the input mask for a layer that supports masking, else None
        (and TypeError when a layer without mask support receives one, as Keras 2)."""
        if not self.supports_masking:
            if mask is not None and not (isinstance(mask, list) and all(m is None for m in mask)):
                raise TypeError(f"Layer {self.name} does not support masking, but was passed an input_mask: "
                                f"{mask}")
            return None
        return mask

    # ---- calling on symbolic tensors ---------------------------------------------------
    def __call__(self, inputs, **kwargs):
        """Applies the layer to a symbolic tensor (or a list of them): builds the layer,
        records a node and returns the output tensor(s)."""
        if not is_symbolic(inputs):
            raise TypeError(f"Layer '{self.name}' was called on {type(inputs).__name__}; layers are called on "
                            "the symbolic tensors of seqnet.layers.Input(...) or of other layers (use "
                            "model.predict for data)")
        self._check_call_kwargs(kwargs)
        takes_list = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if takes_list else [inputs]
        input_shape = [t.shape for t in tensors] if takes_list else tensors[0].shape
        # before build (the spec set in __init__) and after (build may set or narrow it), as Keras
        assert_input_compatibility(self, tensors)
        if not self.built:
            self._build_for(input_shape)
            assert_input_compatibility(self, tensors)
        else:
            self._build_for(input_shape)
        masks = [t._keras_mask for t in tensors]
        mask = kwargs.pop("mask", masks if takes_list else masks[0])
        node = Node(self, tensors, takes_list, kwargs)
        node.input_masks = mask
        output_shape = self.compute_output_shape(input_shape)
        node.returns_list = isinstance(output_shape, list)
        shapes = output_shape if node.returns_list else [output_shape]
        node.output_tensors = [KerasTensor(s, node, i) for i, s in enumerate(shapes)]
        out_masks = self._symbolic_mask(node.input_tensors if takes_list else node.input_tensors[0], mask)
        out_masks = out_masks if isinstance(out_masks, list) else [out_masks] * len(shapes)
        for t, m in zip(node.output_tensors, out_masks):
            t._keras_mask = None if m is None else SymbolicMask(t.shape[:-1])
        self._inbound_nodes.append(node)
        return node.output_tensors if node.returns_list else node.output_tensors[0]

    def _build_for(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True
            if self.input_shape_seen is None:
                self.input_shape_seen = _as_shape(input_shape)
        elif self.weights and not isinstance(input_shape, list) and self.input_shape_seen is not None \
                and not isinstance(self.input_shape_seen, list) \
                and not _compatible(self.input_shape_seen[1:], input_shape[1:]) \
                and not _weights_fit(self, input_shape):
            raise ValueError(f"Layer '{self.name}' was built for inputs of shape {self.input_shape_seen}, but is "
                             f"called on a tensor of shape {tuple(input_shape)}")

    def _check_call_kwargs(self, kwargs):
        extra = backend_call.extra_call_args(self)
        if "*" in extra:  # call(..., **kwargs) takes any keyword
            return
        unknown = sorted(set(kwargs) - {"mask", "training"} - extra)
        if unknown:
            raise TypeError(f"Layer '{self.name}': unexpected keyword argument(s) {unknown} in the call")

    def _symbolic_mask(self, inputs, mask):
        """compute_mask on symbolic tensors: True-ish marker where an output has a mask. A
        custom compute_mask that cannot run symbolically keeps the input's mask."""
        try:
            return self.compute_mask(inputs, mask)
        except TypeError as err:
            if "does not support masking" in str(err):
                raise
        except Exception:  # noqa: BLE001 -- a user's compute_mask written for arrays only
            pass
        warnings.warn(f"Layer '{self.name}': compute_mask could not run on symbolic tensors; assuming it passes "
                      "the input mask on", RuntimeWarning, stacklevel=3)
        return mask

    # ---- running ----------------------------------------------------------------------
    def call(self, inputs, **kwargs):
        """A Keras-style layer's computation with seqnet.backend ops (see the class doc)."""
        raise NotImplementedError(f"{type(self).__name__} defines neither call() (Keras style) nor forward()")

    def forward(self, x, training, mask=None):
        return backend_call.forward(self, x, training, mask)

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return backend_call.backward(self, dy, need_dx)

    def _workspace(self, key, shape, dtype=np.float32):
        """A reusable buffer of `shape`: a view of the first rows of one allocated for the
        largest batch seen, so the last, smaller batch of an epoch allocates nothing."""
        buf = self._workspaces.get(key)
        if buf is None or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0] or buf.dtype != dtype:
            buf = aligned_empty(shape, dtype)
            self._workspaces[key] = buf
        return buf if buf.shape[0] == shape[0] else buf[:shape[0]]

    def _call_clone(self):
        """A second runner of this layer for another node in the same model: the same
        weights and configuration, its own workspaces and saved forward state."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._workspaces = {}
        if "_key" in clone.__dict__:  # a layer drawing random numbers (dropout): each call its own stream
            clone._key = new_key()
        return clone

    # ---- weights ---------------------------------------------------------------------
    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return list(self._weights)
        return [w for w in self._weights if not w.trainable]

    def get_weights(self):
        return [w.value.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weight arrays, but set_weights got "
                             f"{len(weights)}")
        arrays = [np.asarray(new) for new in weights]
        for w, new in zip(own, arrays):  # check all first: a bad array changes nothing
            _check_numeric(self.name, w.name, new)
            if new.shape != w.value.shape:
                raise ValueError(f"Layer '{self.name}': weight '{w.name}' has shape {w.value.shape}, but "
                                 f"set_weights got an array of shape {new.shape}")
        for w, new in zip(own, arrays):
            w.value[...] = new

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call count_params on {self.name}, but the layer isn't built. "
                             "You can build it manually via: `layer.build(batch_input_shape)`.")
        return int(sum(w.value.size for w in self.weights))

    @property
    def losses(self):
        return []

    # ---- nodes: Keras 2's input/output getters -------------------------------------------
    def _node_attr(self, attr, what, node_index=None):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to return.")
        if node_index is None:
            values = [getattr(n, attr) for n in self._inbound_nodes]
            if any(_differs(v, values[0]) for v in values[1:]):
                raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the notion of "
                                     f"\"layer {what}\" is ill-defined. Use `get_{what.replace(' ', '_')}_at"
                                     "(node_index)` instead.")
            return values[0]
        if not -len(self._inbound_nodes) <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer has only "
                             f"{len(self._inbound_nodes)} inbound nodes.")
        return getattr(self._inbound_nodes[node_index], attr)

    @property
    def input(self):
        return self._node_attr("input_value", "input")

    @property
    def output(self):
        return self._node_attr("output_value", "output")

    @property
    def input_shape(self):
        if not self._inbound_nodes and self._batch_input_shape is not None:
            return self._batch_input_shape
        return self._node_attr("input_shapes", "input shape")

    @property
    def output_shape(self):
        return self._node_attr("output_shapes", "output shape")

    @property
    def input_mask(self):
        return self._node_attr("input_mask_value", "input mask")

    @property
    def output_mask(self):
        return self._node_attr("output_mask_value", "output mask")

    def get_input_at(self, node_index):
        return self._node_attr("input_value", "input", node_index)

    def get_output_at(self, node_index):
        return self._node_attr("output_value", "output", node_index)

    def get_input_shape_at(self, node_index):
        return self._node_attr("input_shapes", "input shape", node_index)

    def get_output_shape_at(self, node_index):
        return self._node_attr("output_shapes", "output shape", node_index)

    def get_input_mask_at(self, node_index):
        return self._node_attr("input_mask_value", "input mask", node_index)

    def get_output_mask_at(self, node_index):
        return self._node_attr("output_mask_value", "output mask", node_index)

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


# What backend_call.is_keras_style looks for: a subclass overriding call but not forward.
Layer.call._base_method = True
Layer.forward._base_method = True

# Node values the getters read (a list when the layer was called on / returned a list).
Node.input_value = property(lambda n: n.input_tensors if n.takes_list else n.input_tensors[0])
Node.output_value = property(lambda n: n.output_tensors if n.returns_list else n.output_tensors[0])
Node.input_mask_value = property(lambda n: n.input_masks)
Node.output_mask_value = property(
    lambda n: [t._keras_mask for t in n.output_tensors] if n.returns_list else n.output_tensors[0]._keras_mask)


class TokenRows:
    """An Embedding's output left unmaterialized for the recurrent layer that alone reads it
    (engine/network.py, _token_fusions): the Embedding (its runner) and the indices it took.
    The reader projects the distinct tokens once (layers/recurrent/base_rnn.py) and writes the
    Embedding's gradient itself. `shape` is that of the output it stands for."""

    __slots__ = ("layer", "ids", "shape")

    def __init__(self, layer, ids, shape):
        self.layer, self.ids, self.shape = layer, ids, shape


def _differs(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) != len(b) or any(_differs(x, y) for x, y in zip(a, b))
    if isinstance(a, KerasTensor) or isinstance(b, KerasTensor):
        return a is not b
    return a != b


def _weights_fit(layer, input_shape):
    """Whether `layer`'s weights are the ones it would create for `input_shape` too: a shared
    Conv1D, Embedding or LSTM takes inputs of other lengths, as in Keras. A copy made from the
    layer's config is built for that shape, NumPy's random state restored afterwards so that
    later layers initialise as they would have."""
    state = np.random.get_state()
    try:
        probe = type(layer).from_config(layer.get_config())
        probe.build(tuple(input_shape))
    except Exception:  # noqa: BLE001 -- a layer that cannot be copied or built for it: keep the error
        return False
    finally:
        np.random.set_state(state)
    return [w.value.shape for w in probe.weights] == [w.value.shape for w in layer.weights]


def _compatible(a, b):
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _as_shape(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [tuple(s) for s in shape]
    return tuple(shape)


def _is_dtype(value):
    try:
        np.dtype(value)
    except TypeError:
        return False
    return isinstance(value, (str, type, np.dtype))


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


def _check_numeric(layer_name, weight_name, array):
    """set_weights takes numbers only: None entries (which NumPy would write as NaN), strings
    and other objects raise ValueError naming the weight, before anything is written."""
    if array.dtype.kind in "biuf":
        return
    if array.dtype.kind == "O" and not any(v is None for v in array.flat):
        try:
            array.astype(np.float64)
            return
        except (TypeError, ValueError):
            pass
    raise ValueError(f"Layer '{layer_name}': weight '{weight_name}' must be set from a numeric array, but "
                     f"set_weights got an array of dtype {array.dtype} holding non-numeric values "
                     "(None, strings or other objects)")
