"""ZeroPadding1D/2D/3D: add zeros at the borders of the spatial axes."""
import numpy as np

from seqnet.layers.convolutional._spatial import BorderLayer


class ZeroPadding(BorderLayer):
    """Base class: adds ``padding[i] = (before, after)`` zeros at both ends of each spatial
    axis i."""

    border_name = "padding"

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda i, size: size + sum(self._pairs[i]))

    def forward(self, x, training):
        y = self._workspace("y", self.compute_output_shape(x.shape))
        y.fill(0.0)
        y[self._inner_slices(y.shape)] = x
        self._y_shape = y.shape
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        inner = dy[self._inner_slices(self._y_shape)]
        dx = self._workspace("dx", inner.shape)
        np.copyto(dx, inner)
        return dx


class ZeroPadding1D(ZeroPadding):
    """Zero-padding layer for 1D input (e.g. a temporal sequence).

    Arguments:
        padding: int or tuple of 2 ints, how many zeros to add at the beginning and at
            the end of the time axis (an int: the same at both ends). Default 1.

    Input shape: ``(batch, steps, features)``. Output shape:
    ``(batch, steps + padding[0] + padding[1], features)``.
    """

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(ZeroPadding):
    """Zero-padding layer for 2D input (e.g. a picture): rows of zeros at the top and
    bottom, columns of zeros at the left and right.

    Arguments:
        padding: int, tuple of 2 ints or tuple of 2 tuples of 2 ints.
            An int: the same on all four sides; ``(h, w)``: symmetric height and width
            padding; ``((top, bottom), (left, right))``. Default (1, 1).
        data_format: 'channels_last' ``(batch, rows, cols, channels)`` or 'channels_first'
            ``(batch, channels, rows, cols)``; default ``backend.image_data_format()``.
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


class ZeroPadding3D(ZeroPadding):
    """Zero-padding layer for 3D data (spatial or spatio-temporal volumes).

    Arguments:
        padding: int, tuple of 3 ints or tuple of 3 tuples of 2 ints, the (before,
            after) amounts of the three spatial axes. Default (1, 1, 1).
        data_format: 'channels_last' ``(batch, dim1, dim2, dim3, channels)`` or
            'channels_first' ``(batch, channels, dim1, dim2, dim3)``; default
            ``backend.image_data_format()``.
    """

    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)
