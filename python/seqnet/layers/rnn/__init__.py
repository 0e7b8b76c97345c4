"""Recurrent layers and Embedding, one class per file (re-exported by
``seqnet.layers.recurrent`` and ``seqnet.layers.embeddings``, the Keras 2.2 module paths)."""
from seqnet.layers.rnn.base_rnn import BaseRNN
from seqnet.layers.rnn.embedding import Embedding
from seqnet.layers.rnn.gru import GRU
from seqnet.layers.rnn.lstm import LSTM
from seqnet.layers.rnn.simple_rnn import SimpleRNN

__all__ = ["BaseRNN", "Embedding", "GRU", "LSTM", "SimpleRNN"]
