"""Normalization layers (``seqnet.layers.normalization``, the Keras 2.2 module path)."""
from seqnet.layers.normalization.batch_normalization import BatchNormalization

__all__ = ["BatchNormalization"]
