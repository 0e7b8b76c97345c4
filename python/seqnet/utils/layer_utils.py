"""print_summary: the layer table of model.summary(), in Keras 2's format; count_params and
get_source_inputs (Keras 2.2.4's ``keras.utils.layer_utils``)."""
import numpy as np

from seqnet.engine.keras_tensor import is_symbolic
from seqnet.engine.weight import unique_weights


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints a model's layer table in Keras 2's format: Layer (type), Output Shape, Param #,
    and for a graph that is not a plain chain a 'Connected to' column ('dense_1[0][0]': the
    inbound layer, its node index and tensor index, one line per inbound tensor).

    # Arguments
        model: a built seqnet model.
        line_length: total width of the table (65 for a chain, 98 with 'Connected to').
        positions: the right edge of each column, as fractions of `line_length` or as
            absolute positions.
        print_fn: called with each line (default: print).
    """
    if positions is not None:
        _check_positions(positions, 3 if _is_sequential_like(model) else 4)
    sequential_like = _is_sequential_like(model)
    rows = []
    if sequential_like:
        for layer in model.layers:
            name = f"{layer.name} ({type(layer).__name__})"
            rows.append([[name, _output_shape_text(layer), _param_count_text(layer)]])
        _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #"], line_length or 65,
                     positions or [0.45, 0.85, 1.0], print_fn or print)
        return
    own = {id(n) for n in _model_nodes(model)}
    for layer in model.layers:
        inbound = [f"{t.node.layer.name}[{t.node.index}][{t.index}]"
                   for n in layer._inbound_nodes if id(n) in own for t in n.input_tensors]
        fields = [f"{layer.name} ({type(layer).__name__})", _output_shape_text(layer), _param_count_text(layer)]
        rows.append([fields + [inbound[0] if inbound else ""]] + [["", "", "", extra] for extra in inbound[1:]])
    _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #", "Connected to"], line_length or 98,
                 positions or [0.33, 0.55, 0.67, 1.0], print_fn or print)


def count_params(weights):
    """The number of scalars in a list of weights (Keras 2.2.4's ``layer_utils.count_params``;
    seqnet weights or arrays)."""
    return int(sum(np.size(getattr(w, "value", w)) for w in unique_weights(weights)))


def get_source_inputs(tensor, layer=None, node_index=None):
    """The Input tensors that `tensor` is computed from, in order and each once (an Input's
    tensor gives itself), as Keras 2.2.4: ``Model(get_source_inputs(input_tensor), ...)``.
    With `layer` (and `node_index`, default 0), the sources of that call of the layer."""
    if layer is not None:
        nodes = layer._inbound_nodes
        index = node_index or 0
        if not -len(nodes) <= index < len(nodes):
            raise ValueError(f"get_source_inputs: layer '{layer.name}' has {len(nodes)} inbound nodes, "
                             f"node_index={node_index!r} is out of range")
        tensors = nodes[index].input_tensors
    else:
        if not is_symbolic(tensor) or isinstance(tensor, (list, tuple)):
            raise ValueError(f"get_source_inputs: expected a symbolic tensor (from seqnet.layers.Input or a "
                             f"layer call), got {type(tensor).__name__}")
        if not tensor.node.input_tensors:
            return [tensor]
        tensors = tensor.node.input_tensors
    sources = []
    for t in tensors:
        for source in get_source_inputs(t):
            if not any(source is s for s in sources):
                sources.append(source)
    return sources


def _check_positions(positions, columns):
    if not isinstance(positions, (list, tuple)) or len(positions) < columns:
        raise ValueError(f"summary: positions must give the right edge of each of the {columns} columns, got "
                         f"{positions!r}")


def _model_nodes(model):
    """The model's layer calls and the nodes of the InputLayers they read, in creation order."""
    nodes = {id(n): n for n in model._nodes}
    for n in model._nodes:
        for t in n.input_tensors:
            nodes.setdefault(id(t.node), t.node)
    return sorted(nodes.values(), key=lambda n: n.id)


def _is_sequential_like(model):
    """Keras 2's test: a Sequential, or a graph with one node per depth (depth: the longest
    path to an output), none with several inbound tensors, and no layer called twice."""
    if type(model).__name__ == "Sequential":
        return True
    nodes = _model_nodes(model)
    if any(len(n.input_tensors) > 1 for n in nodes):
        return False
    if len({id(n.layer) for n in nodes}) != len(nodes):
        return False
    depth = {}
    for n in reversed(nodes):  # consumers before producers
        d = depth.setdefault(id(n), 0)
        for t in n.input_tensors:
            depth[id(t.node)] = max(depth.get(id(t.node), 0), d + 1)
    return len(set(depth.values())) == len(depth)


def _param_count_text(layer):
    # a subclassed model's attribute layer that its call never uses is never built (tf-keras' text)
    return layer.count_params() if layer.built else "0 (unused)"


def _output_shape_text(layer):
    # Keras 2 reads layer.output_shape, over all of the layer's calls: 'multiple' when they differ
    try:
        return str(layer.output_shape)
    except AttributeError:
        return "multiple"


def _print_table(model, rows, header, line_length, positions, print_fn):
    """Keras 2's table: fixed-width columns (each field cut at its column's end), a rule under
    every layer's lines, then the parameter totals. `rows` holds each layer's lines."""
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]

    def print_row(fields):
        line = ""
        for i, field in enumerate(fields):
            if i > 0:
                line = line[:-1] + " "
            line += str(field)
            line = line[:positions[i]]
            line += " " * (positions[i] - len(line))
        print_fn(line)

    print_fn("_" * line_length)
    print_row(header)
    print_fn("=" * line_length)
    for i, lines in enumerate(rows):
        for fields in lines:
            print_row(fields)
        print_fn("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    trainable = sum(w.value.size for w in model.trainable_weights)
    non_trainable = sum(w.value.size for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)
