"""Locally-connected layers (``seqnet.layers.local``, the Keras 2.2 module path)."""

__all__ = []
