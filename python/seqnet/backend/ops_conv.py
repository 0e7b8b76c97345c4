"""Backend convolutions for custom layers: conv1d, conv2d, conv3d and conv2d_transpose, with
tf-keras' arguments (strides, padding, data_format, dilation_rate) and values.

float32 conv1d / conv2d run the engine's im2col + GEMM kernels (_engine.conv_forward and
conv_backward, the built-in Conv2D's); the other cases (conv3d, conv2d_transpose, other dtypes)
run a NumPy loop over the kernel's taps, one matrix product per tap (``conv_taps``). All of them
record their vector-Jacobian product on the tape.
"""
import numpy as np

from .. import _engine
from .operands import as_array
from .session import image_data_format
from .tensor import record

# The im2col matrix of one chunk of images holds at most this many floats (as the Conv layers).
_COL_BUDGET = 1 << 23


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D convolution of ``x`` (batch, steps, channels) by ``kernel`` (k, channels, filters).

    ``padding`` is 'valid', 'same' or 'causal' (zeros on the left only, so output t sees inputs
    up to t); ``data_format`` 'channels_first' takes and returns (batch, channels, steps).
    """
    data_format = normalize_data_format(data_format)
    padding = normalize_padding(padding, ("valid", "same", "causal"))
    strides = normalize_tuple(strides, 1, "strides")
    dilation_rate = normalize_tuple(dilation_rate, 1, "dilation_rate")
    return _convolution(x, kernel, 1, strides, padding, data_format, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    """2-D convolution of ``x`` (batch, rows, cols, channels) by ``kernel`` (kh, kw, channels,
    filters); 'channels_first' takes and returns (batch, channels, rows, cols)."""
    data_format = normalize_data_format(data_format)
    padding = normalize_padding(padding, ("valid", "same"))
    strides = normalize_tuple(strides, 2, "strides")
    dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
    return _convolution(x, kernel, 2, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    """3-D convolution of ``x`` (batch, d, h, w, channels) by ``kernel`` (kd, kh, kw, channels,
    filters); 'channels_first' takes and returns (batch, channels, d, h, w)."""
    data_format = normalize_data_format(data_format)
    padding = normalize_padding(padding, ("valid", "same"))
    strides = normalize_tuple(strides, 3, "strides")
    dilation_rate = normalize_tuple(dilation_rate, 3, "dilation_rate")
    return _convolution(x, kernel, 3, strides, padding, data_format, dilation_rate)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    """2-D transposed convolution ("deconvolution"): the gradient of conv2d with respect to its
    input, so ``conv2d(y, kernel, strides, padding)`` of a ``y`` of ``output_shape`` has x's shape.

    ``kernel`` is (kh, kw, output_channels, input_channels), as tf-keras; ``output_shape`` is the
    full output shape in ``data_format``'s layout (its batch entry may be None or -1).
    """
    data_format = normalize_data_format(data_format)
    padding = normalize_padding(padding, ("valid", "same"))
    strides = normalize_tuple(strides, 2, "strides")
    dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
    xv, kv = _float_operands(x, kernel, 4, 4)
    first = data_format == "channels_first"
    x_last = np.moveaxis(xv, 1, -1) if first else xv
    output_shape = tuple(int(d) if d is not None else -1 for d in _shape_values(output_shape))
    if len(output_shape) != 4:
        raise ValueError(f"conv2d_transpose: output_shape must have 4 entries, got {output_shape}")
    out_last = (output_shape[0],) + output_shape[2:] + output_shape[1:2] if first else output_shape
    if out_last[-1] != kv.shape[2] or x_last.shape[-1] != kv.shape[3]:
        raise ValueError(
            f"conv2d_transpose: kernel of shape {kv.shape} (kh, kw, output_channels, input_channels) "
            f"expected output_shape channels {kv.shape[2]} and input channels {kv.shape[3]}, got "
            f"{out_last[-1]} and {x_last.shape[-1]}")
    if out_last[0] not in (-1, x_last.shape[0]):
        raise ValueError(f"conv2d_transpose: output_shape batch {out_last[0]} is not x's batch "
                         f"{x_last.shape[0]}")
    spatial = out_last[1:3]
    geometry = conv_geometry(spatial, kv.shape[:2], strides, padding, dilation_rate)
    if geometry[0] != x_last.shape[1:3]:
        raise ValueError(
            f"conv2d_transpose: output_shape {output_shape} is not consistent with x of shape "
            f"{xv.shape}: a conv2d of that output gives spatial shape {geometry[0]}, expected "
            f"{x_last.shape[1:3]}")
    y_shape = (x_last.shape[0],) + tuple(spatial) + (kv.shape[2],)
    y = taps_input_grad(x_last, kv, y_shape, strides, dilation_rate, geometry)

    def backward(g):
        g_last = np.moveaxis(g, 1, -1) if first else g
        dx = taps_forward(g_last, kv, strides, dilation_rate, geometry)
        dk = taps_kernel_grad(g_last, x_last, kv.shape, strides, dilation_rate, geometry)
        return (np.moveaxis(dx, -1, 1) if first else dx), dk

    return record(np.moveaxis(y, -1, 1) if first else y, (x, kernel), backward)


# ---- arguments --------------------------------------------------------------------------------
def normalize_data_format(data_format):
    """None -> the image_data_format(); else 'channels_last' or 'channels_first'."""
    if data_format is None:
        return image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def normalize_padding(padding, allowed):
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(f"padding must be one of {', '.join(repr(a) for a in allowed)}, got {padding!r}")
    return value


def normalize_tuple(value, n, name):
    """An int or n ints as a tuple of n positive ints."""
    values = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != n or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in values):
        raise ValueError(f"{name} must be a positive int or a tuple of {n} positive ints, got {value!r}")
    return tuple(int(v) for v in values)


def _shape_values(shape):
    value = as_array(shape) if not isinstance(shape, (tuple, list)) else shape
    return [None if d is None else int(as_array(d)) for d in value]


def _float_operands(x, kernel, x_ndim, k_ndim):
    xv, kv = as_array(x), as_array(kernel)
    if xv.ndim != x_ndim:
        raise ValueError(f"x must have {x_ndim} dimensions, got shape {xv.shape}")
    if kv.ndim != k_ndim:
        raise ValueError(f"kernel must have {k_ndim} dimensions, got shape {kv.shape}")
    dtype = np.result_type(xv.dtype, kv.dtype, np.float32)
    return xv.astype(dtype, copy=False), kv.astype(dtype, copy=False)


# ---- geometry ---------------------------------------------------------------------------------
def conv_geometry(lengths, kernel, strides, padding, dilation):
    """(output lengths, pads before, pads after) of a convolution or pooling, as TensorFlow
    pads: 'same' gives ceil(length / stride) outputs with the odd padding at the end; 'causal'
    pads (k - 1) * dilation on the left only."""
    out, before, after = [], [], []
    for length, k, s, d in zip(lengths, kernel, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "valid":
            o, b = (length - span) // s + 1, 0
        elif padding == "causal":
            o, b = (length - 1) // s + 1, span - 1
        else:
            o = -(-length // s)
            b = max((o - 1) * s + span - length, 0) // 2
        if o < 1:
            raise ValueError(f"input spatial shape {tuple(lengths)} is smaller than the kernel "
                             f"{tuple(kernel)} (dilation {tuple(dilation)}) with padding='{padding}'")
        out.append(o)
        before.append(b)
        after.append(max((o - 1) * s + span - length - b, 0))
    return tuple(out), tuple(before), tuple(after)


def tap_slices(offset, strides, dilation, out):
    """The slices of the padded input that kernel tap `offset` reads for every output."""
    return (slice(None),) + tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                                  for o, s, d, n in zip(offset, strides, dilation, out))


def _pad(x, before, after, value=0):
    if not any(before) and not any(after):
        return x
    return np.pad(x, [(0, 0)] + list(zip(before, after)) + [(0, 0)], constant_values=value)


def _crop(xp, before, shape):
    return xp[(slice(None),) + tuple(slice(b, b + n) for b, n in zip(before, shape[1:-1]))]


# ---- the NumPy path: one matrix product per kernel tap -----------------------------------------
def taps_forward(x, kernel, strides, dilation, geometry):
    """y (n, *out, f) of x (n, *spatial, c) by kernel (*k, c, f), channels_last."""
    out, before, after = geometry
    xp = _pad(x, before, after)
    y = np.zeros((x.shape[0],) + out + (kernel.shape[-1],), dtype=x.dtype)
    for offset in np.ndindex(*kernel.shape[:-2]):
        y += xp[tap_slices(offset, strides, dilation, out)] @ kernel[offset]
    return y


def taps_input_grad(g, kernel, x_shape, strides, dilation, geometry):
    """d sum(y * g) / dx for y = taps_forward(x, ...) with x of `x_shape`."""
    out, before, after = geometry
    padded = (x_shape[0],) + tuple(n + b + a for n, b, a in zip(x_shape[1:-1], before, after)) + x_shape[-1:]
    dxp = np.zeros(padded, dtype=g.dtype)
    for offset in np.ndindex(*kernel.shape[:-2]):
        dxp[tap_slices(offset, strides, dilation, out)] += g @ kernel[offset].T
    return np.ascontiguousarray(_crop(dxp, before, x_shape))


def taps_kernel_grad(x, g, kernel_shape, strides, dilation, geometry):
    """d sum(y * g) / dkernel for y = taps_forward(x, kernel, ...)."""
    out, before, after = geometry
    xp = _pad(x, before, after)
    dk = np.zeros(kernel_shape, dtype=g.dtype)
    axes = list(range(g.ndim - 1))
    for offset in np.ndindex(*kernel_shape[:-2]):
        dk[offset] = np.tensordot(xp[tap_slices(offset, strides, dilation, out)], g, axes=(axes, axes))
    return dk


# ---- dispatch ---------------------------------------------------------------------------------
def _convolution(x, kernel, rank, strides, padding, data_format, dilation):
    xv, kv = _float_operands(x, kernel, rank + 2, rank + 2)
    first = data_format == "channels_first"
    x_last = np.moveaxis(xv, 1, -1) if first else xv
    if x_last.shape[-1] != kv.shape[-2]:
        raise ValueError(f"kernel of shape {kv.shape} expects {kv.shape[-2]} input channels, x of shape "
                         f"{xv.shape} ({data_format}) has {x_last.shape[-1]}")
    geometry = conv_geometry(x_last.shape[1:-1], kv.shape[:-2], strides, padding, dilation)
    engine = rank <= 2 and xv.dtype == np.float32
    if engine:
        y, backward_last = _engine_conv(x_last, kv, rank, strides, dilation, geometry)
    else:
        y = taps_forward(x_last, kv, strides, dilation, geometry)

        def backward_last(g):
            return (taps_input_grad(g, kv, x_last.shape, strides, dilation, geometry),
                    taps_kernel_grad(x_last, g, kv.shape, strides, dilation, geometry))

    def backward(g):
        dx, dk = backward_last(np.ascontiguousarray(np.moveaxis(g, 1, -1) if first else g, dtype=y.dtype))
        return (np.moveaxis(dx, -1, 1) if first else dx), dk

    return record(np.moveaxis(y, -1, 1) if first else y, (x, kernel), backward)


def _engine_conv(x_last, kernel, rank, strides, dilation, geometry):
    """The engine's conv_forward on the NHWC view (conv1d as a 1-row conv2d); returns y and
    the backward of (dx, dkernel) from dy."""
    lift = rank == 1
    x4 = np.ascontiguousarray(x_last[:, None] if lift else x_last)
    k4 = np.ascontiguousarray(kernel[None] if lift else kernel)
    st, dl = ((1,) + strides, (1,) + dilation) if lift else (strides, dilation)
    out, before, _ = geometry
    out = (1,) + out if lift else out
    pads = (0,) + before if lift else before
    n, (kh, kw, c, f) = x4.shape[0], k4.shape
    pixels, patch = out[0] * out[1], kh * kw * c
    col = None
    if not (kh == kw == 1 and pads == (0, 0) and st == (1, 1)) and n:
        images = max(1, min(n, _COL_BUDGET // max(pixels * patch, 1)))
        col = np.empty((images * pixels, patch), dtype=np.float32)
    y4 = np.empty((n,) + out + (f,), dtype=np.float32)
    linear = _engine.Activation.linear
    _engine.conv_forward(x4, k4, None, None, y4, col, st, dl, pads, linear)

    def backward(g):
        dy4 = np.array(g.reshape(y4.shape), dtype=np.float32)  # the kernel may overwrite dy
        dx4 = np.zeros(x4.shape, dtype=np.float32)
        dk4 = np.zeros(k4.shape, dtype=np.float32)
        partials = None
        if col is not None:
            partials = np.empty((_engine.conv_dw_partials_size(n, out[0], out[1], kh, kw, c, f),), np.float32)
        _engine.conv_backward(x4, k4, None, y4, dy4, dx4, dk4, None, col, partials, st, dl, pads, linear, True)
        return (dx4[:, 0] if lift else dx4), (dk4[0] if lift else dk4)

    return (y4[:, 0] if lift else y4), backward
