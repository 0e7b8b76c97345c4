"""The engine of the Keras API (Keras 2.2's ``keras.engine`` path): the base Layer, Input,
the graph (Network) and the training Model."""
from seqnet.backend import graph as _backend_graph
from seqnet.backend import symbolic as _backend_symbolic
from seqnet.engine import backend_op as _backend_op
from seqnet.engine import graph_function as _graph_function
from seqnet.engine.backend_op import BackendOp
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import Input, InputLayer
from seqnet.engine.input_spec import InputSpec
from seqnet.engine.network import Network
from seqnet.engine.training import Model

_backend_graph.register(_graph_function.GraphFunction, _graph_function.placeholder)
_backend_symbolic.register(_backend_op.is_symbolic_tensor, _backend_op.record_op)

__all__ = ["BackendOp", "Layer", "Input", "InputLayer", "InputSpec", "Network", "Model"]
