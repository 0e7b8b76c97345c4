"""GlobalAveragePooling3D: the mean over every position of a 3-D input, (batch, ..., channels) -> (batch, channels)."""
from seqnet.layers.pooling.base_pooling import GlobalPooling


class GlobalAveragePooling3D(GlobalPooling):
    """The mean over the three spatial axes (Keras 2.2.4's ``GlobalAveragePooling3D``);
    ``data_format``. ``keepdims`` (tf-keras' argument, not Keras 2.2.4's) keeps them as size 1."""

    rank = 3
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


GlobalAvgPool3D = GlobalAveragePooling3D
