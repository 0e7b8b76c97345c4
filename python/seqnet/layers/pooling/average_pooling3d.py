"""AveragePooling3D: average pooling over 3-D windows (TensorFlow's rule for 'same': padded positions are ignored)."""
from seqnet.layers.pooling.base_pooling3d import Pooling3D


class AveragePooling3D(Pooling3D):
    """Average pooling over 3-D windows (Keras 2.2.4's ``AveragePooling3D``): ``pool_size`` (an
    int or 3 ints, default 2), ``strides`` (default: ``pool_size``), ``padding`` ('valid' or
    'same': the mean over the window's valid elements), ``data_format``."""

    mode = "avg"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format, **kwargs)


AvgPool3D = AveragePooling3D
