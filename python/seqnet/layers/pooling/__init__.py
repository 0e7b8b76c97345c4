"""Pooling layers (``seqnet.layers.pooling``, the Keras 2.2 module path), one class per file."""
from seqnet.layers.pooling.average_pooling1d import AveragePooling1D, AvgPool1D
from seqnet.layers.pooling.average_pooling2d import AveragePooling2D, AvgPool2D
from seqnet.layers.pooling.average_pooling3d import AveragePooling3D, AvgPool3D
from seqnet.layers.pooling.global_average_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D
from seqnet.layers.pooling.global_average_pooling2d import GlobalAveragePooling2D, GlobalAvgPool2D
from seqnet.layers.pooling.global_average_pooling3d import GlobalAveragePooling3D, GlobalAvgPool3D
from seqnet.layers.pooling.global_max_pooling1d import GlobalMaxPool1D, GlobalMaxPooling1D
from seqnet.layers.pooling.global_max_pooling2d import GlobalMaxPool2D, GlobalMaxPooling2D
from seqnet.layers.pooling.global_max_pooling3d import GlobalMaxPool3D, GlobalMaxPooling3D
from seqnet.layers.pooling.max_pooling1d import MaxPool1D, MaxPooling1D
from seqnet.layers.pooling.max_pooling2d import MaxPool2D, MaxPooling2D
from seqnet.layers.pooling.max_pooling3d import MaxPool3D, MaxPooling3D

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D",
           "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]
__all__ += ["MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D", "MaxPool3D",
            "AvgPool3D", "GlobalMaxPool3D", "GlobalAvgPool3D"]
