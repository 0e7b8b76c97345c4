"""Pooling layers (``seqnet.layers.pooling``, the Keras 2.2 module path)."""

__all__ = []
