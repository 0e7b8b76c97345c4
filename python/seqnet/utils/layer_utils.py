"""print_summary: the layer table of model.summary(), in Keras 2's format."""


def print_summary(model, line_length=None, positions=None, print_fn=None):
    """Prints a model's layer table in Keras 2's format: Layer (type), Output Shape, Param #,
    and for a graph that is not a plain chain a 'Connected to' column ('dense_1[0][0]', one
    line per inbound tensor)."""
    own = {id(n) for n in model._nodes}
    nodes = [n for n in model._nodes]
    sequential_like = type(model).__name__ == "Sequential" or (
        len(model.inputs) == 1 and len(model.outputs) == 1
        and all(len(n.input_tensors) == 1 and len(n.output_tensors) == 1 for n in nodes)
        and all(c <= 1 for c in model._consumers.values())
        and len({id(n.layer) for n in nodes}) == len(nodes))
    layers = model.layers
    rows = []
    for layer in layers:
        layer_nodes = [n for n in layer._inbound_nodes if id(n) in own] or layer._inbound_nodes[:1]
        shapes = [n.output_shapes for n in layer_nodes]
        shape = shapes[0] if all(s == shapes[0] for s in shapes) else "multiple"
        fields = [f"{layer.name} ({type(layer).__name__})", _shape_text(shape), layer.count_params()]
        if sequential_like:
            rows.append([fields])
            continue
        inbound = [f"{t.node.layer.name}[{_node_index(model, t.node)}][{t.index}]"
                   for n in layer_nodes if id(n) in own for t in n.input_tensors]
        rows.append([fields + [inbound[0] if inbound else ""]] + [["", "", "", extra] for extra in inbound[1:]])
    if sequential_like:
        _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #"], line_length or 65,
                     positions or [0.45, 0.85, 1.0], print_fn or print)
    else:
        _print_table(model, rows, ["Layer (type)", "Output Shape", "Param #", "Connected to"], line_length or 98,
                     positions or [0.33, 0.55, 0.67, 1.0], print_fn or print)


def _node_index(model, node):
    layer = node.layer
    kept = 1 if getattr(layer, "_is_network", False) else 0
    own = {id(n) for n in model._nodes} | {id(t.node) for t in model.inputs}
    for n in layer._inbound_nodes:
        if n is node:
            return kept
        if id(n) in own:
            kept += 1
    return 0


def _shape_text(shape):
    if isinstance(shape, list):
        return str([tuple(s) for s in shape])
    return str(tuple(shape)) if shape != "multiple" else shape


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
