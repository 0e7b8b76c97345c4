"""Which function converts which layer class: ``@converts(Dense)`` registers one.

A converter is ``fn(g, layer, x, in_shape, out_shape)``: `g` the GraphBuilder, `x` the input
tensor name (a list for a layer called on a list), the Keras shapes of the call's input(s) and
output(s) (batch axis first, None where unknown); it returns the output name (a list for a
layer with several outputs). Classes are matched exactly: a subclass (a user's layer) is not
assumed to compute what its base class does."""

CONVERTERS = {}


def converts(*classes):
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def unsupported(layer, why):
    """The ValueError of a layer (or a use of it) that the export cannot write."""
    return ValueError(f"seqnet.onnx.export: layer '{layer.name}' ({type(layer).__name__}): {why}")
