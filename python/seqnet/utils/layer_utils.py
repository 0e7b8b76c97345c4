"""print_summary: the layer table of model.summary(), in Keras 2's format."""


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
