"""Advanced activation layers (``seqnet.layers.advanced_activations``, the Keras 2.2 module path)."""

__all__ = []
