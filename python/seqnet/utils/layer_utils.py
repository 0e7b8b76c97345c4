"""print_summary: the layer table of model.summary(), in Keras 2's format."""


def print_summary(model, line_length=None, positions=None, print_fn=None):
    print_fn = print_fn or print
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
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
    print_row(["Layer (type)", "Output Shape", "Param #"])
    print_fn("=" * line_length)
    shape = model.input_shape
    layers = model.layers
    for i, layer in enumerate(layers):
        shape = layer.compute_output_shape(shape)
        print_row([f"{layer.name} ({type(layer).__name__})", str(tuple(shape)), layer.count_params()])
        print_fn("=" * line_length if i == len(layers) - 1 else "_" * line_length)
    trainable = sum(w.value.size for w in model.trainable_weights)
    non_trainable = sum(w.value.size for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)


def print_functional_summary(model, line_length=None, positions=None, print_fn=None):
    """A functional model's table: Keras 2's sequential layout for a chain of layers,
    otherwise with a 'Connected to' column ('dense_1[0][0]', one line per inbound tensor)."""
    print_fn = print_fn or print
    nodes = model._nodes
    sequential_like = (len(model.inputs) == 1 and len(model.outputs) == 1
                       and all(len(n.input_tensors) == 1 for n in nodes)
                       and all(c <= 1 for c in model._consumers.values()))
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
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
    rows = [(t.node.layer, t.shape, []) for t in model.inputs]
    rows += [(n.layer, n.output.shape, [f"{t.node.layer.name}[0][0]" for t in n.input_tensors]) for n in nodes]
    for i, (layer, shape, inbound) in enumerate(rows):
        fields = [f"{layer.name} ({type(layer).__name__})", str(tuple(shape)), layer.count_params()]
        if sequential_like:
            print_row(fields)
        else:
            print_row(fields + [inbound[0] if inbound else ""])
            for extra in inbound[1:]:
                print_row(["", "", "", extra])
        print_fn("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    trainable = sum(w.value.size for w in model.trainable_weights)
    non_trainable = sum(w.value.size for w in model.non_trainable_weights)
    print_fn(f"Total params: {trainable + non_trainable:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {non_trainable:,}")
    print_fn("_" * line_length)
