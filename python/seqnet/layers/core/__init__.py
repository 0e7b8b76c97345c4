"""Core layers (``seqnet.layers.core``, the Keras 2.2 module path)."""
from seqnet.layers.core.activation import Activation
from seqnet.layers.core.dense import Dense
from seqnet.layers.core.dropout import Dropout
from seqnet.layers.core.flatten import Flatten

__all__ = ["Activation", "Dense", "Dropout", "Flatten"]
