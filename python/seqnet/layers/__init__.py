"""Layers (``seqnet.layers``)."""
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.layers import convolutional, embeddings, merge, pooling, recurrent
from seqnet.layers.convolutional import *  # noqa: F401,F403
from seqnet.layers.core import Activation, Dense, Dropout, Flatten
from seqnet.layers.embeddings import *  # noqa: F401,F403
from seqnet.layers.merge import *  # noqa: F401,F403
from seqnet.layers.pooling import *  # noqa: F401,F403
from seqnet.layers.recurrent import *  # noqa: F401,F403

__all__ = (["Layer", "Input", "InputLayer", "Activation", "Dense", "Dropout", "Flatten"]
           + convolutional.__all__ + pooling.__all__ + recurrent.__all__ + embeddings.__all__ + merge.__all__)
