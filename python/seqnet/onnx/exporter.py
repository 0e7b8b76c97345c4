"""The walk from a seqnet model to an ONNX graph: inputs, every layer call in topological
order (nested models inlined), outputs; the checks of what cannot be exported."""
import inspect

import numpy as np

from seqnet.engine.network import Network
from seqnet.layers.core import Masking
from seqnet.layers.embeddings import Embedding
from seqnet.layers.normalization import BatchNormalization
from seqnet.layers.wrappers import TimeDistributed
from seqnet.onnx import advanced_activations, convolutional, core, merge, recurrent  # noqa: F401 (registers)
from seqnet.onnx.graph_builder import GraphBuilder
from seqnet.onnx.registry import CONVERTERS, unsupported

DEFAULT_OPSET = 17
OPSETS = range(13, 22)

# Layers whose forward takes a mask but whose output does not depend on it.
_MASK_BLIND = (BatchNormalization, Masking)


def build_model_proto(onnx, model, opset):
    """The ONNX ModelProto of `model` (a built seqnet Sequential or functional Model)."""
    input_names = list(model.input_names)
    output_names = _unique_names(model.output_names, set(input_names))
    g = GraphBuilder(onnx, opset, reserved=input_names + output_names)
    g.convert = lambda layer, x, in_shape, out_shape: _convert_layer(g, layer, x, in_shape, out_shape)
    graph_inputs = []
    for name, t in zip(input_names, model.inputs):
        dtype = _input_dtype(onnx, model, t)
        if dtype != onnx.TensorProto.FLOAT:
            g.dtypes[name] = dtype
        graph_inputs.append(onnx.helper.make_tensor_value_info(name, dtype, _dims(t.shape, name)))
    outs = _run_network(g, model, input_names)
    graph_outputs = []
    g.scope = "output"
    for name, out, t in zip(output_names, outs, model.outputs):
        g.nodes.append(onnx.helper.make_node("Identity", [g.as_float(out)], [name], name=g.unique(f"{name}/Identity")))
        graph_outputs.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, _dims(t.shape, name)))
    graph = onnx.helper.make_graph(g.nodes, model.name, graph_inputs, graph_outputs, g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="seqnet",
                                   producer_version=_version())
    # the oldest IR version that has this opset, so older runtimes load the file
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    return proto


def _run_network(g, network, input_names):
    """Converts every layer call of `network` on the given ONNX inputs; its output names."""
    names = {id(t): n for t, n in zip(network.inputs, input_names)}
    for node in network._nodes:
        layer = node.layer
        _check_call(layer, node)
        xs = [names[id(t)] for t in node.input_tensors]
        in_shapes = [t.shape for t in node.input_tensors]
        out_shapes = [t.shape for t in node.output_tensors]
        outs = _convert_layer(g, layer, xs if node.takes_list else xs[0],
                              in_shapes if node.takes_list else in_shapes[0],
                              out_shapes if node.returns_list else out_shapes[0])
        outs = outs if node.returns_list else [outs]
        if len(outs) != len(node.output_tensors):
            raise unsupported(layer, f"the conversion made {len(outs)} outputs for {len(node.output_tensors)}")
        for t, name in zip(node.output_tensors, outs):
            names[id(t)] = name
    return [names[id(t)] for t in network.outputs]


def _convert_layer(g, layer, x, in_shape, out_shape):
    """One call of `layer` (a model is inlined); returns its output name(s)."""
    if isinstance(layer, Network):
        xs = x if isinstance(x, list) else [x]
        outs = _run_network(g, layer, xs)
        return outs if isinstance(out_shape, list) else outs[0]
    converter = CONVERTERS.get(type(layer))
    if converter is None:
        raise unsupported(layer, "this layer class has no ONNX conversion (see docs/onnx.md for the supported "
                                 "layers)")
    if not layer.built:
        raise unsupported(layer, "the layer is not built")
    saved, g.scope = g.scope, layer.name
    try:
        if isinstance(x, list):
            x = x if type(layer) is Embedding else [g.as_float(v) for v in x]
        elif type(layer) is not Embedding:
            x = g.as_float(x)
        return converter(g, layer, x, in_shape, out_shape)
    finally:
        g.scope = saved


def _check_call(layer, node):
    """What a call adds that an inference graph cannot hold: training=True, a custom layer's
    own call arguments, a mask read by the layer."""
    if node.kwargs.get("training"):
        raise unsupported(layer, "it is called with training=True; the export writes the inference graph")
    extra = sorted(k for k in node.kwargs if k not in ("training", "mask"))
    if extra:
        raise unsupported(layer, f"call arguments {extra} cannot be exported")
    masks = node.input_masks if isinstance(node.input_masks, list) else [node.input_masks]
    if any(m is not None for m in masks) and _reads_mask(layer):
        raise unsupported(layer, "it receives a mask (from Embedding(mask_zero=True) or Masking) and its output "
                                 "depends on it; masked models cannot be exported. Export a model without the "
                                 "mask (mask_zero=False, no Masking) and the same weights instead")


def _reads_mask(layer):
    if isinstance(layer, Network):
        return any(_reads_mask(inner) for inner in layer._run_layers)
    if isinstance(layer, TimeDistributed):
        return _reads_mask(layer.layer)
    if isinstance(layer, _MASK_BLIND):
        return False
    try:
        return "mask" in inspect.signature(layer.forward).parameters
    except (TypeError, ValueError):
        return True


def _input_dtype(onnx, model, tensor):
    """An integer Input keeps its type; a float one that only Embedding layers read is int64
    (indices); anything else is float32."""
    dtype = np.dtype(tensor.dtype)
    if dtype.kind in "iu":
        return getattr(onnx.TensorProto, dtype.name.upper())
    return onnx.TensorProto.INT64 if _only_embeddings_read(model, tensor) else onnx.TensorProto.FLOAT


def _only_embeddings_read(network, tensor):
    readers = [(node, node.input_tensors.index(tensor)) for node in network._nodes
               if any(t is tensor for t in node.input_tensors)]
    if not readers:
        return False
    for node, position in readers:
        layer = node.layer
        if isinstance(layer, Network):
            if not _only_embeddings_read(layer, layer.inputs[position]):
                return False
        elif type(layer) is not Embedding:
            return False
    return True


def _dims(shape, name):
    """A value_info shape: the batch axis is 'batch', other unknown axes named after the tensor."""
    return ["batch"] + [d if d is not None else f"{name}_dim{i}" for i, d in enumerate(shape[1:], 1)]


def _unique_names(names, taken):
    out = []
    for name in names:
        candidate, i = name, 1
        while candidate in taken:
            candidate = f"{name}_{i}"
            i += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _version():
    from seqnet import __version__
    return __version__
