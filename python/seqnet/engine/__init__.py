"""The engine of the Keras API (Keras 2.2's ``keras.engine`` path): the base Layer, Input,
the graph (Network) and the training Model."""
from seqnet.backend import graph as _backend_graph
from seqnet.engine import graph_function as _graph_function
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.engine.input_spec import InputSpec
from seqnet.engine.network import Network
from seqnet.engine.training import Model

_backend_graph.register(_graph_function.GraphFunction, _graph_function.placeholder)

__all__ = ["Layer", "Input", "InputLayer", "InputSpec", "Network", "Model"]
