"""Symbolic tensors and nodes: what `Input(...)` and `layer(tensor)` return, from which a
model (engine/network.py) reads its graph.

A Node is one call of a layer: the tensors it consumed and the tensors it made. A layer
called three times has three nodes (a shared layer); a tensor knows the node and the
output index that made it, which is Keras 2's ``_keras_history``."""
import itertools

import numpy as np

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

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"{self!r} is symbolic: it holds no data. Build a model with it and call "
                        "model.predict, or read it with seqnet.backend.function([inputs], [tensor]).")


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
