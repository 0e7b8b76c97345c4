"""GlobalAveragePooling2D: the average over every position of a 2-D input, (batch, ..., channels) -> (batch, channels)."""
from seqnet.layers.pooling.base_pooling import GlobalPooling


class GlobalAveragePooling2D(GlobalPooling):
    rank = 2
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


GlobalAvgPool2D = GlobalAveragePooling2D
