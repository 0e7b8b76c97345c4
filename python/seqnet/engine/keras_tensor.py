"""Symbolic tensors and nodes: what `Input(...)` and `layer(tensor)` return, from which a
model (engine/network.py) reads its graph.

A Node is one call of a layer: the tensors it consumed and the tensors it made. A layer
called three times has three nodes (a shared layer); a tensor knows the node and the
output index that made it, which is Keras 2's ``_keras_history``."""
import itertools

import numpy as np

from seqnet import backend as K
from seqnet.backend import symbolic

_node_ids = itertools.count()


class Node:
    """One call of a layer on symbolic tensors.

    ``takes_list``/``returns_list`` say whether the layer was called on a list (merge
    layers, a model with several inputs) and returned one (return_state, a model with
    several outputs); ``kwargs`` are the call's keyword arguments (``training``,
    ``mask``, or a custom layer's own)."""

    def __init__(self, layer, input_tensors, takes_list, kwargs=None):
        self.layer = layer
        self.input_tensors = list(input_tensors)
        self.takes_list = takes_list
        self.returns_list = False
        self.kwargs = dict(kwargs or {})
        self.output_tensors = []
        self.input_masks = None
        self.id = next(_node_ids)  # creation order, which is a topological order

    @property
    def output(self):
        return self.output_tensors[0]

    @property
    def input_shapes(self):
        shapes = [t.shape for t in self.input_tensors]
        return shapes if self.takes_list else shapes[0]

    @property
    def output_shapes(self):
        shapes = [t.shape for t in self.output_tensors]
        return shapes if self.returns_list else shapes[0]

    @property
    def index(self):
        """This node's position in its layer's ``_inbound_nodes`` (Keras' node index)."""
        return self.layer._inbound_nodes.index(self)


class KerasTensor:
    """A symbolic tensor: its full shape (batch axis first, None where unknown), dtype,
    and the node (and output index) that produces it. It holds no data.

    ``K.int_shape``, ``K.ndim``, ``K.dtype`` and ``.shape`` answer as for a Keras 2
    tensor; ``_keras_mask`` is the symbolic mask (None when the tensor has none)."""

    def __init__(self, shape, node, index=0, dtype="float32"):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.node = node
        self.index = index
        self.dtype = str(np.dtype(dtype))
        self._keras_mask = None
        suffix = "" if index == 0 else f"_{index}"
        self.name = f"{node.layer.name}/output{suffix}:0"

    @property
    def _keras_history(self):
        return self.node.layer, self.node.index, self.index

    @property
    def _keras_shape(self):
        return self.shape

    @property
    def ndim(self):
        return len(self.shape)

    def get_shape(self):
        return self.shape

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} dtype={self.dtype} from layer '{self.node.layer.name}'>"

    # NumPy hands ``ndarray * tensor`` to the reflected operator below instead of converting.
    __array_priority__ = 100

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self!r} is symbolic: it holds no data, so NumPy functions cannot compute on it. Use "
                        "seqnet.backend ops (K.relu, K.sum, K.concatenate, ...) or Python operators (+, *, [...]), "
                        "which add a layer to the model; to see values, build a model and call model.predict, "
                        "or read the tensor with seqnet.backend.function([inputs], [tensor]).")

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic and cannot be iterated; slice it (tensor[:, 0]) or use "
                        "seqnet.backend ops such as K.stack / K.concatenate")

    # Operators are the seqnet.backend ops of the same name, which add a layer to the graph
    # (engine/backend_op.py). == and != stay identity tests: the graph code compares tensors.
    def __add__(self, other):
        return K.add(self, other)

    def __radd__(self, other):
        return K.add(other, self)

    def __sub__(self, other):
        return K.subtract(self, other)

    def __rsub__(self, other):
        return K.subtract(other, self)

    def __mul__(self, other):
        return K.multiply(self, other)

    def __rmul__(self, other):
        return K.multiply(other, self)

    def __truediv__(self, other):
        return K.divide(self, other)

    def __rtruediv__(self, other):
        return K.divide(other, self)

    def __pow__(self, other):
        return K.pow(self, other)

    def __rpow__(self, other):
        return K.pow(other, self)

    def __matmul__(self, other):
        return K.dot(self, other)

    def __rmatmul__(self, other):
        return K.dot(other, self)

    def __neg__(self):
        return K.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return K.abs(self)

    def __lt__(self, other):
        return K.less(self, other)

    def __le__(self, other):
        return K.less_equal(self, other)

    def __gt__(self, other):
        return K.greater(self, other)

    def __ge__(self, other):
        return K.greater_equal(self, other)

    def __getitem__(self, index):
        return symbolic.call_op("getitem", self, index)


class SymbolicMask:
    """The mask of a symbolic tensor: its shape only (the batch shape without the features)."""

    def __init__(self, shape):
        self.shape = tuple(shape)
        self.dtype = "bool"

    def __repr__(self):
        return f"<SymbolicMask shape={self.shape}>"


def is_symbolic(x):
    """True for a KerasTensor or a (nested) list of them."""
    if isinstance(x, (list, tuple)):
        return bool(x) and all(is_symbolic(t) for t in x)
    return isinstance(x, KerasTensor)
