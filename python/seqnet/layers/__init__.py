"""Layers (``seqnet.layers``): every layer class, and one subpackage per Keras 2.2 module path
(``seqnet.layers.core``, ``.convolutional``, ``.pooling``, ``.recurrent``, ``.embeddings``, ``.merge``)."""
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.layers import convolutional, core, embeddings, merge, pooling, recurrent
from seqnet.layers.convolutional import *  # noqa: F401,F403
from seqnet.layers.core import *  # noqa: F401,F403
from seqnet.layers.embeddings import *  # noqa: F401,F403
from seqnet.layers.merge import *  # noqa: F401,F403
from seqnet.layers.pooling import *  # noqa: F401,F403
from seqnet.layers.recurrent import *  # noqa: F401,F403

__all__ = (["Layer", "Input", "InputLayer"] + core.__all__ + convolutional.__all__ + pooling.__all__
           + recurrent.__all__ + embeddings.__all__ + merge.__all__)
