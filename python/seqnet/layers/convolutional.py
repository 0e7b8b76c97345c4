"""Convolutional layers (``seqnet.layers.convolutional``, the Keras 2.2 module path)."""
from seqnet.layers.conv import Conv1D, Conv2D, Convolution1D, Convolution2D

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]
