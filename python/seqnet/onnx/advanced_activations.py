"""Converters of the advanced activation layers (LeakyReLU, PReLU, ELU, ThresholdedReLU,
Softmax, ReLU)."""
from seqnet.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from seqnet.onnx.registry import converts


@converts(LeakyReLU)
def leaky_relu(g, layer, x, in_shape, out_shape):
    return g.op("LeakyRelu", [x], alpha=layer.alpha)


@converts(PReLU)
def prelu(g, layer, x, in_shape, out_shape):
    # alpha has the input's shape without the batch axis (1 along shared axes): it broadcasts
    return g.op("PRelu", [x, g.const(layer.alpha.value, "alpha", key=(id(layer), "alpha"))])


@converts(ELU)
def elu(g, layer, x, in_shape, out_shape):
    return g.op("Elu", [x], alpha=layer.alpha)


@converts(ThresholdedReLU)
def thresholded_relu(g, layer, x, in_shape, out_shape):
    return g.op("ThresholdedRelu", [x], alpha=layer.theta)


@converts(Softmax)
def softmax(g, layer, x, in_shape, out_shape):
    ndim = len(in_shape)
    axes = sorted({a % ndim for a in layer._axes})
    if len(axes) == 1:
        return g.op("Softmax", [x], axis=axes[0])
    # several axes: exp(x - max) / sum(exp(x - max)) over them, as the layer computes it
    e = g.op("Exp", [g.op("Sub", [x, g.reduce("ReduceMax", x, axes, keepdims=True)])])
    return g.op("Div", [e, g.reduce("ReduceSum", e, axes, keepdims=True)])


@converts(ReLU)
def relu(g, layer, x, in_shape, out_shape):
    """Keras 2.2.4's K.relu with max_value, threshold and negative_slope (the layer's rule)."""
    alpha, cap, threshold = layer.negative_slope, layer.max_value, layer.threshold
    if cap is None and threshold == 0.0:
        return g.op("Relu", [x]) if alpha == 0.0 else g.op("LeakyRelu", [x], alpha=alpha)
    zero = g.scalar(0.0)
    above = g.op("Greater", [x, g.scalar(threshold)], dtype=g.onnx.TensorProto.BOOL)
    y = g.op("Where", [above, x, zero])
    if cap is not None:
        y = g.op("Clip", [y, zero, g.scalar(cap)])
    if alpha != 0.0:
        below = g.op("Less", [x, g.scalar(threshold)], dtype=g.onnx.TensorProto.BOOL)
        slope = g.op("Mul", [g.op("Sub", [x, g.scalar(threshold)]), g.scalar(alpha)])
        y = g.op("Add", [y, g.op("Where", [below, slope, zero])])
    return y
