"""Locally-connected layers (``seqnet.layers.local``, the Keras 2.2 module path)."""
from seqnet.layers.local.locally_connected1d import LocallyConnected1D
from seqnet.layers.local.locally_connected2d import LocallyConnected2D

__all__ = ["LocallyConnected1D", "LocallyConnected2D"]
