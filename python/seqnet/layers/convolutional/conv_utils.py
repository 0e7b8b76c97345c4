"""Shared machinery of the convolution and pooling layers: argument checking, TensorFlow's
output-length and padding rules, and the channels_first <-> channels_last moves.

Every kernel works on channels_last (NHWC) arrays; a 1-D layer views its (n, length, c)
input as (n, 1, length, c), so 1-D and 2-D share one kernel family."""
import numpy as np

from seqnet import _engine, backend


def normalize_tuple(value, rank, what, layer_type):
    """An int or a sequence of `rank` positive ints as a tuple, or ValueError naming `what`."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * rank
    try:
        value = tuple(value)
    except TypeError:
        raise ValueError(f"{layer_type}: {what} must be an integer or a tuple of {rank} integers, "
                         f"got {value!r}") from None
    if len(value) != rank or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1
                                 for v in value):
        raise ValueError(f"{layer_type}: {what} must be a positive integer or a tuple of {rank} positive "
                         f"integers, got {value!r}")
    return tuple(int(v) for v in value)


def normalize_padding(padding, allowed, layer_type):
    text = str(padding).lower() if isinstance(padding, str) else padding
    if text not in allowed:
        raise ValueError(f"{layer_type}: padding must be one of {allowed}, got {padding!r}")
    return text


def normalize_data_format(data_format, layer_type):
    if data_format is None:
        data_format = backend.image_data_format()
    text = str(data_format).lower() if isinstance(data_format, str) else data_format
    if text not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer_type}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    return text


def output_length(length, window, padding, stride, dilation=1):
    """Keras' conv_output_length: the output size of one spatial axis (None stays None)."""
    if length is None:
        return None
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return (length - span + stride) // stride
    return (length + stride - 1) // stride  # same, causal


def pad_before(length, out, window, padding, stride, dilation=1):
    """Zeros before the first element: TensorFlow's 'same' puts the odd one after;
    'causal' pads only on the left."""
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return 0
    if padding == "causal":
        return span - 1
    return max((out - 1) * stride + span - length, 0) // 2


def check_spatial(layer, input_shape, rank):
    """The input's rank, its channel count (or ValueError), and its spatial sizes."""
    input_shape = tuple(input_shape)
    if len(input_shape) != rank + 2:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects inputs of rank {rank + 2} "
                         f"(batch, {'spatial, ' * rank}channels), got shape {input_shape}")
    if layer.data_format == "channels_first":
        return input_shape[1], input_shape[2:]
    return input_shape[-1], input_shape[1:-1]


def with_channels(layer, batch, spatial, channels):
    if layer.data_format == "channels_first":
        return (batch, channels) + tuple(spatial)
    return (batch,) + tuple(spatial) + (channels,)


class ChannelsMover:
    """Copies between the layer's channels_first arrays and the kernels' NHWC workspaces."""

    @staticmethod
    def to_last(layer, key, x):
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        out = layer._workspace(key, tuple(x.shape[i] for i in perm))
        np.copyto(out, x.transpose(perm))
        return out

    @staticmethod
    def to_first(layer, key, x):
        perm = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
        out = layer._workspace(key, tuple(x.shape[i] for i in perm))
        np.copyto(out, x.transpose(perm))
        return out


def as_nhwc(x, rank):
    """A channels_last array of rank 1 (n, l, c) viewed as (n, 1, l, c); rank 2 as is."""
    return x.reshape(x.shape[0], 1, x.shape[1], x.shape[2]) if rank == 1 else x


class PooledGradient:
    """The gradient of a Conv2D's output that comes back through the 2x2 max pooling the convolution
    filled (Pooling.fill_from) with its ReLU gate on: the pooling's dy, argmax and gate (its output),
    which the convolution's backward reads in place of the scattered gradient (conv_backward's pool_dy;
    a Winograd convolution never forms that 4x larger array). `scatter` forms it, as the pooling's own
    backward would."""

    __slots__ = ("dy", "argmax", "gate", "shape")

    def __init__(self, dy, argmax, gate, shape):
        self.dy, self.argmax, self.gate, self.shape = dy, argmax, gate, shape

    def scatter(self, out):
        _engine.max_pool_backward(self.dy, self.argmax, out, (2, 2), (2, 2), (0, 0), gate=self.gate)
        return out
