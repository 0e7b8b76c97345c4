"""MaxPooling2D: max pooling over 2-D windows (TensorFlow's rule for 'same': padded positions are ignored)."""
from seqnet.layers.pooling.base_pooling import Pooling


class MaxPooling2D(Pooling):
    rank = 2
    mode = "max"
    _relu_gate_fusable = True  # its backward can return the gradient before a ReLU (engine/network.py)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


MaxPool2D = MaxPooling2D
