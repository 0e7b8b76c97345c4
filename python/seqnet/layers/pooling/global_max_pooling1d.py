"""GlobalMaxPooling1D: the max over every position of a 1-D input, (batch, ..., channels) -> (batch, channels)."""
from seqnet.layers.pooling.base_pooling import GlobalPooling


class GlobalMaxPooling1D(GlobalPooling):
    rank = 1
    mode = "max"

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


GlobalMaxPool1D = GlobalMaxPooling1D
