"""Recurrent layers (``seqnet.layers.recurrent``, the Keras 2.2 module path), one class per file."""
from seqnet.layers.recurrent.base_rnn import BaseRNN
from seqnet.layers.recurrent.cells import GRUCell, LSTMCell, SimpleRNNCell
from seqnet.layers.recurrent.gru import GRU
from seqnet.layers.recurrent.lstm import LSTM
from seqnet.layers.recurrent.rnn import RNN
from seqnet.layers.recurrent.simple_rnn import SimpleRNN
from seqnet.layers.recurrent.stacked_rnn_cells import StackedRNNCells

__all__ = ["LSTM", "GRU", "SimpleRNN", "RNN", "SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells"]
