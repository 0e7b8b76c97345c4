"""BackendOp: the layer a ``seqnet.backend`` op (or a Python operator) becomes when it is called on
symbolic tensors, as tf-keras' TFOpLambda: ``K.relu(Dense(8)(x))``, ``x + 0.5 * y``, ``h[:, :4]``.

seqnet.backend wraps its ops with a check for symbolic arguments (backend/symbolic.py); this
module registers the check (``is_symbolic_tensor``) and what it calls (``record_op``). The layer
keeps the op's arguments with each symbolic tensor replaced by a slot; its ``call`` fills the
slots with the inputs' values and calls the plain op, so it trains on the backend's tape like a
Lambda layer, and its output shape comes from the same dry run.
"""
import numpy as np

from seqnet.backend import symbolic
from seqnet.engine.base_layer import Layer, _unique_name
from seqnet.engine.keras_tensor import KerasTensor


class BackendOp(Layer):
    """``BackendOp(op, arguments)``: calls the seqnet.backend op named `op` (a key of
    ``seqnet.backend.symbolic.OPS``: 'relu', 'add', 'getitem', ...) with `arguments`, a pair
    (args, kwargs) in which ``{'__input__': i}`` stands for the layer's i-th input.

    You do not make one yourself: calling a backend op on a symbolic tensor does, and names it
    ``backend_<op>_<n>``. It has no weights. Masks: its output has no mask (an input's mask is
    dropped), and the op sees no mask. Outputs are float32, as every layer's (a comparison gives
    0/1). A model holding one saves and loads when the op's constant arguments are numbers,
    strings, None, slices, lists/tuples of these or small arrays; otherwise get_config raises
    a ValueError naming the layer. ONNX export and the native runtime refuse it."""

    supports_masking = True

    def __init__(self, op, arguments, **kwargs):
        if op not in symbolic.OPS:
            raise ValueError(f"BackendOp: unknown seqnet.backend op {op!r}")
        kwargs.setdefault("name", _unique_name(f"backend_{op}"))
        super().__init__(**kwargs)
        self.op = op
        args, op_kwargs = arguments
        self.arguments = (tuple(args), dict(op_kwargs))

    def call(self, inputs):
        values = inputs if isinstance(inputs, list) else [inputs]
        args, kwargs = self.arguments
        return symbolic.OPS[self.op](*_fill(args, values), **_fill(kwargs, values))

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        try:
            config.update(op=self.op, arguments=_encode(list(self.arguments)))
        except TypeError as err:
            raise ValueError(f"Layer '{self.name}' (BackendOp: seqnet.backend.{self.op} called on a symbolic "
                             f"tensor) cannot be serialized: {err}. Save the weights with model.save_weights, "
                             "or write the computation as a Lambda layer and load it with custom_objects.") from None
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        args, kwargs = _decode(config.pop("arguments"))
        return cls(config.pop("op"), (args, kwargs), **config)


def is_symbolic_tensor(x):
    """The predicate registered with seqnet.backend."""
    return isinstance(x, KerasTensor)


def record_op(name, op, args, kwargs):
    """The factory registered with seqnet.backend: a BackendOp for `op`(args, kwargs), called
    on the distinct symbolic tensors among the arguments (in order of first use)."""
    inputs = []
    args = _to_slots(args, inputs)
    kwargs = _to_slots(kwargs, inputs)
    layer = BackendOp(name, (args, kwargs))
    return layer(inputs if len(inputs) > 1 else inputs[0])


class _Slot:
    """Where the layer's input `index` goes among the op's arguments."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"<input {self.index}>"


def _to_slots(value, inputs):
    if isinstance(value, KerasTensor):
        for i, t in enumerate(inputs):
            if t is value:
                return _Slot(i)
        inputs.append(value)
        return _Slot(len(inputs) - 1)
    if type(value) in (list, tuple):
        return type(value)(_to_slots(v, inputs) for v in value)
    if type(value) is dict:
        return {k: _to_slots(v, inputs) for k, v in value.items()}
    return value


def _fill(value, values):
    if type(value) is _Slot:
        return values[value.index]
    if type(value) in (list, tuple):
        return type(value)(_fill(v, values) for v in value)
    if type(value) is dict:
        return {k: _fill(v, values) for k, v in value.items()}
    return value


# JSON form of the arguments: tuples, slices, Ellipsis and arrays are tagged so they come back
# as they were (an index must stay a tuple, an axis list may not become a tuple, ...).
def _encode(value):
    if type(value) is _Slot:
        return {"__input__": value.index}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, np.bool_):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"__slice__": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, (np.dtype, type)) and (isinstance(value, np.dtype) or issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.ndarray) and value.size <= 4096 and value.dtype.kind in "biuf":
        return {"__array__": value.tolist(), "dtype": value.dtype.name}
    raise TypeError(f"an argument of type {type(value).__name__} ({_short(value)}) has no JSON form")


def _decode(value):
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__input__" in value:
        return _Slot(int(value["__input__"]))
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__slice__" in value:
        return slice(*(_decode(v) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__dtype__" in value:
        return np.dtype(value["__dtype__"])
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    raise ValueError(f"BackendOp: unknown argument encoding {_short(value)}")


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
