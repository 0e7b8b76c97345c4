"""Convolutional recurrent layers (``seqnet.layers.convolutional_recurrent``, the Keras 2.2 module path)."""

from seqnet.layers.convolutional_recurrent.conv_lstm2d import ConvLSTM2D

__all__ = ["ConvLSTM2D"]
