"""Layers (``seqnet.layers``): every layer class, and one subpackage per Keras 2.2 module path
(``seqnet.layers.core``, ``.convolutional``, ``.pooling``, ``.recurrent``, ``.embeddings``, ``.merge``,
``.normalization``, ``.noise``, ``.advanced_activations``, ``.wrappers``, ``.local``,
``.convolutional_recurrent``)."""
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.engine.input_spec import InputSpec
from seqnet.layers import (advanced_activations, convolutional, convolutional_recurrent, core, embeddings, local,
                           merge, noise, normalization, pooling, recurrent, wrappers)
from seqnet.layers.advanced_activations import *  # noqa: F401,F403
from seqnet.layers.convolutional import *  # noqa: F401,F403
from seqnet.layers.convolutional_recurrent import *  # noqa: F401,F403
from seqnet.layers.core import *  # noqa: F401,F403
from seqnet.layers.embeddings import *  # noqa: F401,F403
from seqnet.layers.local import *  # noqa: F401,F403
from seqnet.layers.merge import *  # noqa: F401,F403
from seqnet.layers.noise import *  # noqa: F401,F403
from seqnet.layers.normalization import *  # noqa: F401,F403
from seqnet.layers.pooling import *  # noqa: F401,F403
from seqnet.layers.recurrent import *  # noqa: F401,F403
from seqnet.layers.wrappers import *  # noqa: F401,F403

__all__ = (["Layer", "Input", "InputLayer", "InputSpec"] + core.__all__ + convolutional.__all__ + pooling.__all__
           + recurrent.__all__ + embeddings.__all__ + merge.__all__ + normalization.__all__ + noise.__all__
           + advanced_activations.__all__ + wrappers.__all__ + local.__all__ + convolutional_recurrent.__all__)
