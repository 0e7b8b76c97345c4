"""MaxPooling3D: max pooling over 3-D windows (TensorFlow's rule for 'same': padded positions are ignored)."""
from seqnet.layers.pooling.base_pooling3d import Pooling3D


class MaxPooling3D(Pooling3D):
    """Max pooling over 3-D windows (Keras 2.2.4's ``MaxPooling3D``): ``pool_size`` (an int or 3
    ints, default 2), ``strides`` (default: ``pool_size``), ``padding`` ('valid' or 'same'),
    ``data_format``. The gradient goes to the first maximum of each window in
    (dim1, dim2, dim3) order."""

    mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


MaxPool3D = MaxPooling3D
