"""Converters of the convolution, pooling, padding, cropping and upsampling layers.

ONNX's Conv and pooling ops read channels-first (NC...) tensors; a channels_last layer is
exported as Transpose -> op -> Transpose, which keeps every tensor between layers in Keras'
layout (ONNX Runtime's optimizer removes the transposes that cancel)."""
import numpy as np

from seqnet.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Cropping1D,
                                         Cropping2D, Cropping3D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
                                         UpSampling1D, UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D,
                                         ZeroPadding3D)
from seqnet.layers.convolutional.conv_utils import output_length, pad_before
from seqnet.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D,
                                   GlobalAveragePooling2D, GlobalAveragePooling3D, GlobalMaxPooling1D,
                                   GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling1D, MaxPooling2D, MaxPooling3D)
from seqnet.onnx.activation_ops import apply_activation
from seqnet.onnx.graph_builder import END
from seqnet.onnx.registry import converts, unsupported


# ---- convolutions ------------------------------------------------------------------------
@converts(Conv1D, Conv2D, Conv3D)
def conv(g, layer, x, in_shape, out_shape):
    rank = layer.rank
    kernel = layer.kernel.value  # kernel_size + (in, filters) -> (filters, in) + kernel_size
    weights = g.const(kernel.transpose([rank + 1, rank] + list(range(rank))), "kernel", key=(id(layer), "kernel"))
    y = _conv_op(g, layer, x, in_shape, weights, _bias(g, layer))
    return apply_activation(g, layer, layer.activation, y)


@converts(DepthwiseConv2D)
def depthwise_conv(g, layer, x, in_shape, out_shape):
    y = _conv_op(g, layer, x, in_shape, _depthwise_weights(g, layer), _bias(g, layer), depthwise=True)
    return apply_activation(g, layer, layer.activation, y)


@converts(SeparableConv1D, SeparableConv2D)
def separable_conv(g, layer, x, in_shape, out_shape):
    """The depthwise step (strides, dilation, padding), then a pointwise Conv with the bias."""
    rank, first = layer.rank, layer.data_format == "channels_first"
    t = _conv_op(g, layer, x, in_shape, _depthwise_weights(g, layer), None, depthwise=True, back_to_last=False)
    pointwise = layer.pointwise_kernel.value.reshape(layer.pointwise_kernel.value.shape[-2:])  # (in, filters)
    weights = g.const(pointwise.T.reshape(pointwise.shape[::-1] + (1,) * rank), "pointwise_kernel",
                      key=(id(layer), "pointwise"))
    bias = _bias(g, layer)
    y = g.op("Conv", [t, weights] + ([bias] if bias else []), kernel_shape=[1] * rank)
    y = y if first else _to_last(g, y, rank)
    return apply_activation(g, layer, layer.activation, y)


@converts(Conv2DTranspose, Conv3DTranspose)
def conv_transpose(g, layer, x, in_shape, out_shape):
    """TensorFlow's conv2d_transpose / conv3d_transpose: the input gradient of a convolution whose input has the
    output's size; its padding before each axis is the one that convolution would use."""
    rank, first = layer.rank, layer.data_format == "channels_first"
    spatial_in, spatial_out = _spatial(in_shape, layer), _spatial(out_shape, layer)
    if any(d is None for d in spatial_in + spatial_out):
        raise unsupported(layer, f"a transposed convolution needs known spatial sizes to be exported, got input "
                                 f"shape {tuple(in_shape)}")
    begin, end, extra = [], [], []
    for a in range(rank):
        k, s, d = layer.kernel_size[a], layer.strides[a], layer.dilation_rate[a]
        before = pad_before(spatial_out[a], spatial_in[a], k, layer.padding, s, d)
        after = s * (spatial_in[a] - 1) + (k - 1) * d + 1 - before - spatial_out[a]
        begin.append(before)
        end.append(max(after, 0))
        extra.append(max(-after, 0))
    kernel = layer.kernel.value  # kernel_size + (filters, in) -> (in, filters) + kernel_size
    weights = g.const(kernel.transpose([rank + 1, rank] + list(range(rank))), "kernel", key=(id(layer), "kernel"))
    bias = _bias(g, layer)
    y = g.op("ConvTranspose", [x if first else _to_first(g, x, rank), weights] + ([bias] if bias else []),
             kernel_shape=list(layer.kernel_size), strides=list(layer.strides), dilations=list(layer.dilation_rate),
             pads=begin + end, output_padding=extra if any(extra) else None)
    y = y if first else _to_last(g, y, rank)
    return apply_activation(g, layer, layer.activation, y)


def _conv_op(g, layer, x, in_shape, weights, bias, depthwise=False, back_to_last=True):
    rank, first = layer.rank, layer.data_format == "channels_first"
    channels = in_shape[1] if first else in_shape[-1]
    y = g.op("Conv", [x if first else _to_first(g, x, rank), weights] + ([bias] if bias else []),
             kernel_shape=list(layer.kernel_size), strides=list(layer.strides), dilations=list(layer.dilation_rate),
             group=channels if depthwise else None,
             **_padding(layer, _spatial(in_shape, layer), layer.kernel_size, layer.strides, layer.dilation_rate))
    return y if first or not back_to_last else _to_last(g, y, rank)


def _depthwise_weights(g, layer):
    """(kernel..., in, multiplier) -> (in * multiplier, 1, kernel...): output channel
    c * multiplier + m is input channel c's m-th kernel, as in a Conv with group=in."""
    kernel = layer.depthwise_kernel.value
    rank = layer.rank
    moved = kernel.transpose([rank, rank + 1] + list(range(rank)))
    return g.const(moved.reshape((-1, 1) + kernel.shape[:rank]), "depthwise_kernel", key=(id(layer), "depthwise"))


def _bias(g, layer):
    return g.const(layer.bias.value, "bias", key=(id(layer), "bias")) if layer.bias is not None else None


# ---- pooling ---------------------------------------------------------------------------------
@converts(MaxPooling1D, MaxPooling2D, MaxPooling3D, AveragePooling1D, AveragePooling2D, AveragePooling3D)
def pooling(g, layer, x, in_shape, out_shape):
    """'same' padding: padded positions are ignored (the max and the mean over the window's
    valid elements, ONNX's count_include_pad=0), as TensorFlow pools."""
    rank, first = layer.rank, layer.data_format == "channels_first"
    op_type = "MaxPool" if layer.mode == "max" else "AveragePool"
    attributes = _padding(layer, _spatial(in_shape, layer), layer.pool_size, layer.strides, (1,) * rank)
    y = g.op(op_type, [x if first else _to_first(g, x, rank)], kernel_shape=list(layer.pool_size),
             strides=list(layer.strides), **attributes)
    return y if first else _to_last(g, y, rank)


@converts(GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
          GlobalAveragePooling3D)
def global_pooling(g, layer, x, in_shape, out_shape):
    op_type = "ReduceMax" if layer.mode == "max" else "ReduceMean"
    return g.reduce(op_type, x, _spatial_axes(layer, len(in_shape)), keepdims=layer.keepdims)


# ---- padding, cropping, upsampling ---------------------------------------------------------------
@converts(ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)
def zero_padding(g, layer, x, in_shape, out_shape):
    begin, end = [0] * len(in_shape), [0] * len(in_shape)
    for (before, after), axis in zip(layer._pairs, layer._spatial_axes()):
        begin[axis], end[axis] = before, after
    return g.op("Pad", [x, g.ints(begin + end), g.scalar(0.0)], mode="constant")


@converts(Cropping1D, Cropping2D, Cropping3D)
def cropping(g, layer, x, in_shape, out_shape):
    axes = list(layer._spatial_axes())
    starts = [before for before, _ in layer._pairs]
    ends = [-after if after else END for _, after in layer._pairs]
    return g.slice(x, starts, ends, axes)


@converts(UpSampling1D, UpSampling2D, UpSampling3D)
def upsampling(g, layer, x, in_shape, out_shape):
    scales = [1.0] * len(in_shape)
    for factor, axis in zip(layer._factors, layer._spatial_axes()):
        scales[axis] = float(factor)
    if getattr(layer, "interpolation", "nearest") == "nearest":  # output i repeats input floor(i / factor)
        return g.op("Resize", [x, "", g.const(np.array(scales, np.float32), "scales")], mode="nearest",
                    coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    # bilinear (tf-keras): half-pixel centres, clamped at the borders; ONNX Runtime resizes NCHW
    first = layer.data_format == "channels_first"
    scales = [1.0, 1.0] + [float(f) for f in layer._factors]
    y = g.op("Resize", [x if first else _to_first(g, x, 2), "", g.const(np.array(scales, np.float32), "scales")],
             mode="linear", coordinate_transformation_mode="half_pixel")
    return y if first else _to_last(g, y, 2)


# ---- layout and geometry ---------------------------------------------------------------------------
def _to_first(g, x, rank):
    return g.transpose(x, [0, rank + 1] + list(range(1, rank + 1)))


def _to_last(g, y, rank):
    return g.transpose(y, [0] + list(range(2, rank + 2)) + [1])


def _spatial(shape, layer):
    return list(shape[2:]) if layer.data_format == "channels_first" else list(shape[1:-1])


def _spatial_axes(layer, ndim):
    return list(range(2, ndim)) if layer.data_format == "channels_first" else list(range(1, ndim - 1))


def _padding(layer, spatial, window, strides, dilation):
    """ONNX's pads (or auto_pad) for Keras' padding: TensorFlow's 'same' puts the odd padded
    element after (SAME_UPPER), 'causal' pads the start only."""
    rank = len(window)
    if layer.padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if layer.padding == "causal":
        return {"pads": [(window[0] - 1) * dilation[0], 0]}
    unknown = any(d is None for d in spatial)
    if unknown and any(s > 1 for s in strides):  # the padding depends on lengths known at run time only
        if any(d > 1 for d in dilation):
            raise unsupported(layer, f"padding='same' with strides {tuple(strides)} and dilation_rate "
                                     f"{tuple(dilation)} needs known spatial sizes to be exported (ONNX Runtime "
                                     "has no dilated SAME_UPPER)")
        return {"auto_pad": "SAME_UPPER"}
    begin, end = [], []
    for a in range(rank):
        span = (window[a] - 1) * dilation[a] + 1
        if unknown:  # stride 1: the output has the input's length, span - 1 padded elements
            total = span - 1
        else:
            out = output_length(spatial[a], window[a], "same", strides[a], dilation[a])
            total = max((out - 1) * strides[a] + span - spatial[a], 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return {"pads": begin + end}
