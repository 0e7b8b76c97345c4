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
