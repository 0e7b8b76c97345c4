"""Normalization layers (``seqnet.layers.normalization``, the Keras 2.2 module path)."""

__all__ = []
