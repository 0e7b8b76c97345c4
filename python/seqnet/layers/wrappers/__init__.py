"""Layer wrappers (``seqnet.layers.wrappers``, the Keras 2.2 module path)."""

__all__ = []
