"""Backend pooling for custom layers: pool2d and pool3d, with tf-keras' arguments and values
('same' average pooling divides by the number of real, unpadded inputs in each window, as
TensorFlow does; a max window's gradient goes to its first largest input).

float32 pool2d runs the engine's kernels (_engine.max_pool_forward / avg_pool_forward, those of
the built-in pooling layers); pool3d and other dtypes run a NumPy loop over the window's taps.
"""
import numpy as np

from .. import _engine
from .operands import as_array
from .ops_conv import (_crop, _pad, conv_geometry, normalize_data_format, normalize_padding,
                       normalize_tuple, tap_slices)
from .tensor import record


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    """2-D max or average pooling of ``x`` (batch, rows, cols, channels), or (batch, channels,
    rows, cols) with data_format 'channels_first'; ``pool_mode`` is 'max' or 'avg'."""
    return _pooling(x, pool_size, strides, padding, data_format, pool_mode, 2)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    """3-D max or average pooling of ``x`` (batch, d, h, w, channels), or (batch, channels, d,
    h, w) with data_format 'channels_first'; ``pool_mode`` is 'max' or 'avg'."""
    return _pooling(x, pool_size, strides, padding, data_format, pool_mode, 3)


def _pooling(x, pool_size, strides, padding, data_format, pool_mode, rank):
    data_format = normalize_data_format(data_format)
    padding = normalize_padding(padding, ("valid", "same"))
    pool_size = normalize_tuple(pool_size, rank, "pool_size")
    strides = normalize_tuple(strides, rank, "strides")
    if pool_mode not in ("max", "avg"):
        raise ValueError(f"pool_mode must be 'max' or 'avg', got {pool_mode!r}")
    xv = as_array(x)
    if xv.ndim != rank + 2:
        raise ValueError(f"pool{rank}d: x must have {rank + 2} dimensions, got shape {xv.shape}")
    if xv.dtype.kind != "f":
        xv = xv.astype(np.float32)
    first = data_format == "channels_first"
    x_last = np.ascontiguousarray(np.moveaxis(xv, 1, -1) if first else xv)
    geometry = conv_geometry(x_last.shape[1:-1], pool_size, strides, padding, (1,) * rank)
    if rank == 2 and xv.dtype == np.float32:
        y, backward_last = _engine_pool(x_last, pool_size, strides, geometry, pool_mode)
    elif pool_mode == "max":
        y, backward_last = _taps_max(x_last, pool_size, strides, geometry)
    else:
        y, backward_last = _taps_avg(x_last, pool_size, strides, geometry)

    def backward(g):
        dx = backward_last(np.ascontiguousarray(np.moveaxis(g, 1, -1) if first else g, dtype=y.dtype))
        return (np.moveaxis(dx, -1, 1) if first else dx),

    return record(np.moveaxis(y, -1, 1) if first else y, (x,), backward)


def _engine_pool(x4, pool_size, strides, geometry, pool_mode):
    out, pads, _ = geometry
    y4 = np.empty((x4.shape[0],) + out + (x4.shape[-1],), dtype=np.float32)
    if pool_mode == "max":
        argmax = np.empty(y4.shape, dtype=np.int32)
        _engine.max_pool_forward(x4, y4, argmax, pool_size, strides, pads)
    else:
        _engine.avg_pool_forward(x4, y4, pool_size, strides, pads)

    def backward(g):
        dx4 = np.zeros(x4.shape, dtype=np.float32)
        if pool_mode == "max":
            _engine.max_pool_backward(g, argmax, dx4, pool_size, strides, pads)
        else:
            _engine.avg_pool_backward(g, dx4, pool_size, strides, pads)
        return dx4

    return y4, backward


def _taps_max(x, pool_size, strides, geometry):
    out, before, after = geometry
    xp = _pad(x, before, after, value=-np.inf)
    dilation = (1,) * len(pool_size)
    y, best = None, None
    for index, offset in enumerate(np.ndindex(*pool_size)):
        window = xp[tap_slices(offset, strides, dilation, out)]
        if y is None:
            y, best = window.copy(), np.zeros(window.shape, dtype=np.int32)
        else:
            larger = window > y
            y[larger], best[larger] = window[larger], index

    def backward(g):
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        for index, offset in enumerate(np.ndindex(*pool_size)):
            dxp[tap_slices(offset, strides, dilation, out)] += np.where(best == index, g, 0)
        return np.ascontiguousarray(_crop(dxp, before, x.shape))

    return y, backward


def _taps_avg(x, pool_size, strides, geometry):
    out, before, after = geometry
    xp = _pad(x, before, after)
    inside = _pad(np.ones((1,) + x.shape[1:-1] + (1,), dtype=x.dtype), before, after)
    dilation = (1,) * len(pool_size)
    total = np.zeros((x.shape[0],) + out + (x.shape[-1],), dtype=x.dtype)
    count = np.zeros((1,) + out + (1,), dtype=x.dtype)
    for offset in np.ndindex(*pool_size):
        taps = tap_slices(offset, strides, dilation, out)
        total += xp[taps]
        count += inside[taps]

    def backward(g):
        dxp = np.zeros(xp.shape, dtype=g.dtype)
        share = g / count
        for offset in np.ndindex(*pool_size):
            dxp[tap_slices(offset, strides, dilation, out)] += share
        return np.ascontiguousarray(_crop(dxp, before, x.shape))

    return total / count, backward
