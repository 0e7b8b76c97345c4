"""GlobalMaxPooling3D: the max over every position of a 3-D input, (batch, ..., channels) -> (batch, channels)."""
from seqnet.layers.pooling.base_pooling import GlobalPooling


class GlobalMaxPooling3D(GlobalPooling):
    """The max over the three spatial axes (Keras 2.2.4's ``GlobalMaxPooling3D``); ``data_format``.
    ``keepdims`` (tf-keras' argument, not Keras 2.2.4's) keeps them as size 1."""

    rank = 3
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool3D = GlobalMaxPooling3D
