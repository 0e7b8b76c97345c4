"""Noise layers (``seqnet.layers.noise``, the Keras 2.2 module path): active in training only."""

__all__ = []
