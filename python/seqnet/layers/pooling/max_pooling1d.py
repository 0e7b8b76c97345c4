"""MaxPooling1D: max pooling over 1-D windows (TensorFlow's rule for 'same': padded positions are ignored)."""
from seqnet.layers.pooling.base_pooling import Pooling


class MaxPooling1D(Pooling):
    rank = 1
    mode = "max"
    _relu_gate_fusable = True  # its backward can return the gradient before a ReLU (engine/network.py)

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


MaxPool1D = MaxPooling1D
