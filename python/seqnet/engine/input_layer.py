"""InputLayer and Input: where a model's data enters."""
from seqnet.engine.base_layer import Layer, _unique_name


class InputLayer(Layer):
    """The entry of a model: fixes the input shape (and optionally the batch size)."""

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None,
                 name=None, sparse=False, **kwargs):
        args = {"input_shape": input_shape, "batch_size": batch_size,
                "batch_input_shape": batch_input_shape, "dtype": dtype,
                "name": name or _unique_name("input")}
        super().__init__(**{k: v for k, v in args.items() if v is not None}, **kwargs)
        if self._batch_input_shape is None:
            raise ValueError("InputLayer: give input_shape or batch_input_shape")
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported by seqnet")
        self.built = True

    def forward(self, x, training):
        return x

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None, batch_size=None):
    """A model input: the symbolic tensor of a new InputLayer, for `Model(inputs, outputs)`;
    as the first entry of a Sequential list it fixes the input shape."""
    from seqnet.engine.keras_tensor import KerasTensor, Node
    if tensor is not None:
        raise ValueError("Input: tensor= is not supported by seqnet")
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, batch_size=batch_size,
                       name=name, dtype=dtype, sparse=sparse)
    node = Node(layer, [], False)
    node.output = KerasTensor(layer.batch_input_shape, node)
    layer._inbound_nodes = [node]
    return node.output
