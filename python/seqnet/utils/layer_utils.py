"""print_summary: the layer table of model.summary(), in Keras 2's format."""


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """A Sequential model's table: Layer (type), Output Shape, Param #."""
    shape = model.input_shape
    rows = []
    for layer in model.layers:
        shape = layer.compute_output_shape(shape)
        rows.append([[f"{layer.name} ({type(layer).__name__})", str(tuple(shape)), layer.count_params()]])
    _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #"], line_length or 65,
                 positions or [0.45, 0.85, 1.0], print_fn or print)


def print_functional_summary(model, line_length=None, positions=None, print_fn=None):
    """A functional model's table: Keras 2's sequential layout for a chain of layers,
    otherwise with a 'Connected to' column ('dense_1[0][0]', one line per inbound tensor)."""
    nodes = model._nodes
    sequential_like = (len(model.inputs) == 1 and len(model.outputs) == 1
                       and all(len(n.input_tensors) == 1 for n in nodes)
                       and all(c <= 1 for c in model._consumers.values()))
    entries = [(t.node.layer, t.shape, []) for t in model.inputs]
    entries += [(n.layer, n.output.shape, [f"{t.node.layer.name}[0][0]" for t in n.input_tensors]) for n in nodes]
    rows = []
    for layer, shape, inbound in entries:
        fields = [f"{layer.name} ({type(layer).__name__})", str(tuple(shape)), layer.count_params()]
        if sequential_like:
            rows.append([fields])
        else:
            rows.append([fields + [inbound[0] if inbound else ""]] + [["", "", "", extra] for extra in inbound[1:]])
    if sequential_like:
        _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #"], line_length or 65,
                     positions or [0.45, 0.85, 1.0], print_fn or print)
    else:
        _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #", "Connected to"], line_length or 98,
                     positions or [0.33, 0.55, 0.67, 1.0], print_fn or print)


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
