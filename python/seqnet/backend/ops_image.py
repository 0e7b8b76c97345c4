"""Backend resizing of images and volumes: resize_images (nearest or bilinear, as tf-keras'
tf.image.resize with half-pixel centres) and resize_volumes (nearest)."""
import numpy as np

from .operands import as_array
from .ops_conv import normalize_data_format
from .ops_shape import repeat_elements
from .tensor import record


def resize_images(x, height_factor, width_factor, data_format=None, interpolation="nearest"):
    """``x`` (batch, rows, cols, channels), or (batch, channels, rows, cols) with data_format
    'channels_first', scaled to rows * height_factor by cols * width_factor.

    ``interpolation`` is 'nearest' (each pixel repeated) or 'bilinear' (TensorFlow 2's
    half-pixel-centre bilinear, as tf-keras); tf-keras' other methods (bicubic, area, ...) are
    not available.
    """
    data_format = normalize_data_format(data_format)
    height_factor = _factor(height_factor, "height_factor")
    width_factor = _factor(width_factor, "width_factor")
    if as_array(x).ndim != 4:
        raise ValueError(f"resize_images: x must have 4 dimensions, got shape {as_array(x).shape}")
    rows = 2 if data_format == "channels_first" else 1
    if interpolation == "nearest":
        return repeat_elements(repeat_elements(x, height_factor, rows), width_factor, rows + 1)
    if interpolation == "bilinear":
        return _interpolate(_interpolate(x, rows, height_factor), rows + 1, width_factor)
    raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format=None):
    """``x`` (batch, d, h, w, channels), or (batch, channels, d, h, w) with data_format
    'channels_first', with each voxel repeated depth_factor, height_factor and width_factor
    times along the three spatial axes."""
    data_format = normalize_data_format(data_format)
    factors = [_factor(f, name) for f, name in ((depth_factor, "depth_factor"),
                                                (height_factor, "height_factor"),
                                                (width_factor, "width_factor"))]
    if as_array(x).ndim != 5:
        raise ValueError(f"resize_volumes: x must have 5 dimensions, got shape {as_array(x).shape}")
    first = 2 if data_format == "channels_first" else 1
    for axis, factor in enumerate(factors, start=first):
        x = repeat_elements(x, factor, axis)
    return x


def _factor(value, name):
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _interpolate(x, axis, factor):
    """x scaled by `factor` along `axis` by linear interpolation: a matrix (out, in) applied
    along that axis, whose transpose is the gradient."""
    a = as_array(x)
    if a.dtype.kind != "f":
        a = a.astype(np.float32)
    matrix = bilinear_matrix(a.shape[axis], factor).astype(a.dtype)
    value = np.moveaxis(np.tensordot(matrix, a, axes=([1], [axis])), 0, axis)

    def backward(g):
        return np.moveaxis(np.tensordot(matrix.T, g, axes=([1], [axis])), 0, axis),

    return record(value, (x,), backward)


def bilinear_matrix(length, factor):
    """Weights (length * factor, length) of TensorFlow's half-pixel-centre linear resize: output
    o reads input position (o + 0.5) / factor - 0.5, clamped to the edges."""
    position = (np.arange(length * factor) + 0.5) / factor - 0.5
    low = np.floor(position)
    fraction = position - low
    rows = np.arange(length * factor)
    matrix = np.zeros((length * factor, length))
    np.add.at(matrix, (rows, np.clip(low, 0, length - 1).astype(int)), 1 - fraction)
    np.add.at(matrix, (rows, np.clip(low + 1, 0, length - 1).astype(int)), fraction)
    return matrix
