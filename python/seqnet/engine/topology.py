"""Keras 2.2's ``keras.engine.topology`` path (``from keras.engine.topology import Layer``
in many Keras 2 scripts): the same classes as ``seqnet.engine``."""
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.engine.network import Network

__all__ = ["Layer", "Input", "InputLayer", "Network"]
