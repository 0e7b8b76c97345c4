"""Converters of the core layers (Dense, Activation, the shape layers, Masking), the layers
that are the identity at inference (dropout, noise), Embedding and BatchNormalization."""
import numpy as np

from seqnet.layers.core import (Activation, ActivityRegularization, BackendOp, Dense, Dropout, Flatten, Masking,
                                Permute, RepeatVector, Reshape, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from seqnet.layers.embeddings import Embedding
from seqnet.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise
from seqnet.layers.normalization import BatchNormalization
from seqnet.onnx.activation_ops import apply_activation
from seqnet.onnx.registry import converts, unsupported


@converts(Dense)
def dense(g, layer, x, in_shape, out_shape):
    y = g.op("MatMul", [x, g.const(layer.kernel.value, "kernel", key=(id(layer), "kernel"))])
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(layer.bias.value, "bias", key=(id(layer), "bias"))])
    return apply_activation(g, layer, layer.activation, y)


@converts(BackendOp)
def backend_op(g, layer, x, in_shape, out_shape):
    raise unsupported(layer, f"it is seqnet.backend.{layer.op} called on a symbolic tensor (or a Python operator), "
                             "which has no ONNX conversion; write the model with layers (Activation, Add, "
                             "Concatenate, Reshape, ...) to export it")


@converts(Activation)
def activation(g, layer, x, in_shape, out_shape):
    return apply_activation(g, layer, layer.activation, x)


@converts(Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D, GaussianNoise, GaussianDropout, AlphaDropout,
          ActivityRegularization)
def identity(g, layer, x, in_shape, out_shape):
    """Active in training only: the identity in an inference graph."""
    return x


@converts(Flatten)
def flatten(g, layer, x, in_shape, out_shape):
    if layer.data_format == "channels_first" and len(in_shape) > 2:
        # Keras flattens channels_first input in channels_last order.
        x = g.transpose(x, [0] + list(range(2, len(in_shape))) + [1])
    return g.op("Flatten", [x], axis=1)


@converts(Reshape)
def reshape(g, layer, x, in_shape, out_shape):
    return g.reshape(x, [0] + list(layer.target_shape))


@converts(Permute)
def permute(g, layer, x, in_shape, out_shape):
    return g.transpose(x, (0,) + tuple(layer.dims))


@converts(RepeatVector)
def repeat_vector(g, layer, x, in_shape, out_shape):
    return g.op("Tile", [g.unsqueeze(x, [1]), g.ints([1, layer.n, 1])])


@converts(Masking)
def masking(g, layer, x, in_shape, out_shape):
    """x * any(x != mask_value) over the features: masked timesteps become zeros. The mask
    itself is not exported (the exporter refuses a layer downstream that would read it)."""
    same = g.op("Equal", [x, g.scalar(layer.mask_value)], dtype=g.onnx.TensorProto.BOOL)
    keep = g.op("Cast", [g.op("Not", [same], dtype=g.onnx.TensorProto.BOOL)], to=g.onnx.TensorProto.FLOAT)
    return g.op("Mul", [x, g.reduce("ReduceMax", keep, [-1], keepdims=True)])


@converts(Embedding)
def embedding(g, layer, x, in_shape, out_shape):
    int64, int32 = g.onnx.TensorProto.INT64, g.onnx.TensorProto.INT32
    if g.dtypes.get(x) not in (int64, int32):
        x = g.op("Cast", [x], to=int64, dtype=int64)
    return g.op("Gather", [g.const(layer.embeddings.value, "embeddings", key=(id(layer), "embeddings")), x], axis=0)


@converts(BatchNormalization)
def batch_normalization(g, layer, x, in_shape, out_shape):
    """Inference: (x - moving_mean) * (gamma / sqrt(moving_variance + epsilon)) + beta, the
    engine's formula (the scale computed in float64, then rounded to float32)."""
    ndim = len(in_shape)
    axis = layer.axis % ndim
    if axis == 0:
        raise unsupported(layer, "normalizing along the batch axis cannot be exported")
    shape = (-1,) + (1,) * (ndim - 1 - axis)
    inv = 1.0 / np.sqrt(layer.moving_variance.value.astype(np.float64) + layer.epsilon)
    scale = inv * layer.gamma.value if layer.gamma is not None else inv
    key = id(layer)
    y = g.op("Sub", [x, g.const(layer.moving_mean.value.reshape(shape), "moving_mean", key=(key, "mean"))])
    y = g.op("Mul", [y, g.const(scale.astype(np.float32).reshape(shape), "scale", key=(key, "scale"))])
    if layer.beta is not None:
        y = g.op("Add", [y, g.const(layer.beta.value.reshape(shape), "beta", key=(key, "beta"))])
    return y
