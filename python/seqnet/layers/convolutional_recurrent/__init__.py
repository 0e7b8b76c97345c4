"""Convolutional recurrent layers (``seqnet.layers.convolutional_recurrent``, the Keras 2.2 module path)."""

__all__ = []
