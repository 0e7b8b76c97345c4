"""Core layers (``seqnet.layers.core``, the Keras 2.2 module path)."""
from seqnet.layers.core.activation import Activation
from seqnet.layers.core.dense import Dense
from seqnet.layers.core.dropout import Dropout
from seqnet.layers.core.flatten import Flatten
from seqnet.layers.core.lambda_layer import Lambda
from seqnet.layers.core.masking import Masking

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Lambda", "Masking"]
