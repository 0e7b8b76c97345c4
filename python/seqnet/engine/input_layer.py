"""InputLayer and Input: where a model's data enters."""
import numpy as np

from seqnet.engine.base_layer import Layer, _unique_name
from seqnet.engine.keras_tensor import KerasTensor, Node

_INPUT_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class InputLayer(Layer):
    """The entry of a model: fixes the input shape (and optionally the batch size) and
    dtype. An integer dtype ('int32') documents integer data, e.g. an Embedding's indices;
    seqnet's kernels read every input as float32."""

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None,
                 name=None, sparse=False, **kwargs):
        args = {"input_shape": input_shape, "batch_size": batch_size,
                "batch_input_shape": batch_input_shape, "name": name or _unique_name("input")}
        super().__init__(**{k: v for k, v in args.items() if v is not None}, **kwargs)
        if self._batch_input_shape is None:
            raise ValueError("InputLayer: give input_shape or batch_input_shape")
        if sparse:
            raise ValueError("InputLayer: sparse inputs are not supported by seqnet")
        dtype = "float32" if dtype is None else str(np.dtype(dtype))
        if dtype not in _INPUT_DTYPES:
            raise ValueError(f"InputLayer: dtype must be one of {_INPUT_DTYPES}, got {dtype!r}")
        self.dtype = dtype
        self.built = True
        node = Node(self, [], False)
        node.output_tensors = [KerasTensor(self._batch_input_shape, node, dtype=dtype)]
        self._inbound_nodes.append(node)

    def forward(self, x, training, mask=None):
        return x

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy

    def get_config(self):
        # Keras 2.2.4's InputLayer config (tf-keras refuses other keys, e.g. 'trainable')
        return {"batch_input_shape": tuple(self._batch_input_shape), "dtype": self.dtype, "sparse": False,
                "name": self.name}


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None, batch_size=None):
    """A model input: the symbolic tensor of a new InputLayer, for `Model(inputs, outputs)`;
    as the first entry of a Sequential list it fixes the input shape. ``dtype='int32'``
    states integer data (an Embedding's indices)."""
    if tensor is not None:
        raise ValueError("Input: tensor= is not supported by seqnet")
    if shape is None and batch_shape is None:
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` argument. Note that "
                         "`shape` does not include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, batch_size=batch_size,
                       name=name, dtype=dtype, sparse=sparse)
    return layer._inbound_nodes[0].output_tensors[0]
