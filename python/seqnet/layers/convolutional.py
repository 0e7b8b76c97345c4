"""Convolutional layers (``seqnet.layers.convolutional``, the Keras 2.2 module path)."""

__all__ = []
