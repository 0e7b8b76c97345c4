"""Layers (``seqnet.layers``)."""
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.layers.core import Activation, Dense, Dropout, Flatten

__all__ = ["Layer", "Input", "InputLayer", "Activation", "Dense", "Dropout", "Flatten"]
