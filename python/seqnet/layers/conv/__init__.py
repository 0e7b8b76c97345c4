"""Convolution and pooling layers, one class per file; ``seqnet.layers.convolutional`` and
``seqnet.layers.pooling`` (the Keras 2.2 module paths) re-export them."""
from seqnet.layers.conv.average_pooling1d import AveragePooling1D, AvgPool1D
from seqnet.layers.conv.average_pooling2d import AveragePooling2D, AvgPool2D
from seqnet.layers.conv.conv1d import Conv1D, Convolution1D
from seqnet.layers.conv.conv2d import Conv2D, Convolution2D
from seqnet.layers.conv.global_average_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D
from seqnet.layers.conv.global_average_pooling2d import GlobalAveragePooling2D, GlobalAvgPool2D
from seqnet.layers.conv.global_max_pooling1d import GlobalMaxPool1D, GlobalMaxPooling1D
from seqnet.layers.conv.global_max_pooling2d import GlobalMaxPool2D, GlobalMaxPooling2D
from seqnet.layers.conv.max_pooling1d import MaxPool1D, MaxPooling1D
from seqnet.layers.conv.max_pooling2d import MaxPool2D, MaxPooling2D

CONVOLUTIONAL = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]
POOLING = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D",
           "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]
__all__ = CONVOLUTIONAL + POOLING
