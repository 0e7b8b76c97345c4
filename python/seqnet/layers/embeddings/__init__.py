"""Embedding layers (``seqnet.layers.embeddings``, the Keras 2.2 module path)."""
from seqnet.layers.embeddings.embedding import Embedding

__all__ = ["Embedding"]
