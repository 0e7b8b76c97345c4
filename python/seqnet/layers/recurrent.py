"""Recurrent layers (``seqnet.layers.recurrent``, the Keras 2.2 module path)."""

__all__ = []
