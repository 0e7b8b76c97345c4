"""Recurrent layers (``seqnet.layers.recurrent``, the Keras 2.2 module path)."""
from seqnet.layers.rnn import GRU, LSTM, SimpleRNN

__all__ = ["LSTM", "GRU", "SimpleRNN"]
