"""Symbolic tensors and nodes: what `Input(...)` and `layer(tensor)` return, from which
`seqnet.models.Model(inputs, outputs)` reads the graph (engine/functional.py)."""
import itertools

_node_ids = itertools.count()


class Node:
    """One call of a layer: the tensors it consumed (in order) and the tensor it made."""

    def __init__(self, layer, input_tensors, takes_list):
        self.layer = layer
        self.input_tensors = list(input_tensors)
        self.takes_list = takes_list  # the layer was called on a list (merge layers)
        self.output = None
        self.id = next(_node_ids)  # creation order, which is a topological order


class KerasTensor:
    """A symbolic tensor: its full shape (batch axis first, None where unknown) and the
    node that produces it. It holds no data."""

    def __init__(self, shape, node):
        self.shape = tuple(shape)
        self.node = node
        self.name = f"{node.layer.name}/output:0"

    @property
    def _keras_history(self):
        return self.node.layer, 0, 0

    @property
    def _keras_shape(self):
        return self.shape

    def __repr__(self):
        return f"<KerasTensor shape={self.shape} from layer '{self.node.layer.name}'>"


def call_layer(layer, inputs):
    """layer(inputs) on symbolic tensors: builds the layer and returns its output tensor."""
    takes_list = isinstance(inputs, (list, tuple))
    tensors = list(inputs) if takes_list else [inputs]
    if not tensors or not all(isinstance(t, KerasTensor) for t in tensors):
        raise TypeError(f"Layer '{layer.name}' was called on {type(inputs).__name__}; layers are called on the "
                        "symbolic tensors of seqnet.layers.Input(...) or of other layers (use model.predict "
                        "for data)")
    if getattr(layer, "_inbound_nodes", None):
        raise ValueError(f"Layer '{layer.name}' is already used in a graph; seqnet does not support sharing a "
                         "layer between several calls yet")
    input_shape = [t.shape for t in tensors] if takes_list else tensors[0].shape
    if not layer.built:
        layer.build(input_shape)
    elif not takes_list and layer.input_shape_seen is not None and \
            tuple(layer.input_shape_seen[1:]) != tuple(input_shape[1:]):
        raise ValueError(f"Layer '{layer.name}' was built for inputs of shape {layer.input_shape_seen}, but is "
                         f"called on a tensor of shape {input_shape}")
    node = Node(layer, tensors, takes_list)
    node.output = KerasTensor(layer.compute_output_shape(input_shape), node)
    layer._inbound_nodes = [node]
    return node.output
