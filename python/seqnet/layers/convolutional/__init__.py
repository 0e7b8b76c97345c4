"""Convolutional layers (``seqnet.layers.convolutional``, the Keras 2.2 module path), one class per file."""
from seqnet.layers.convolutional.conv1d import Conv1D, Convolution1D
from seqnet.layers.convolutional.conv2d import Conv2D, Convolution2D

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]
