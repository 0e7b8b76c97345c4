"""Embeddings layers (``seqnet.layers.embeddings``, the Keras 2.2 module path)."""

__all__ = []
