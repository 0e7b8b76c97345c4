"""Cropping1D/2D/3D: trim rows, columns or slices off the borders of the spatial axes."""
import numpy as np

from seqnet.layers.convolutional._spatial import BorderLayer


class Cropping(BorderLayer):
    """Base class: removes ``cropping[i] = (before, after)`` elements at both ends of each
    spatial axis i. Cropping an axis down to nothing (or less) raises ValueError."""

    border_name = "cropping"

    def compute_output_shape(self, input_shape):
        def cropped(i, size):
            before, after = self._pairs[i]
            if before + after >= size:
                raise ValueError(f"{self._describe()}: cropping {self.cropping} removes {before + after} of the {size} "
                                 f"elements of spatial axis {i}; it must leave at least one (input shape "
                                 f"{tuple(input_shape)})")
            return size - before - after

        return self._map_spatial(input_shape, cropped)

    def forward(self, x, training):
        self._x_shape = x.shape
        y = self._workspace("y", self.compute_output_shape(x.shape))
        np.copyto(y, x[self._inner_slices(x.shape)])
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        dx = self._workspace("dx", self._x_shape)
        dx.fill(0.0)
        dx[self._inner_slices(self._x_shape)] = dy
        return dx


class Cropping1D(Cropping):
    """Cropping layer for 1D input (e.g. a temporal sequence): trims the time axis.

    Arguments:
        cropping: int or tuple of 2 ints, how many steps to remove at the beginning and
            at the end (an int: the same at both ends). Default (1, 1).

    Input shape: ``(batch, steps, features)``. Output shape:
    ``(batch, steps - cropping[0] - cropping[1], features)``.
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(Cropping):
    """Cropping layer for 2D input (e.g. a picture): trims height and width.

    Arguments:
        cropping: int, tuple of 2 ints or tuple of 2 tuples of 2 ints.
            An int: the same on all four sides; ``(h, w)``: symmetric height and width
            crops; ``((top, bottom), (left, right))``. Default ((0, 0), (0, 0)).
        data_format: 'channels_last' ``(batch, rows, cols, channels)`` or 'channels_first'
            ``(batch, channels, rows, cols)``; default ``backend.image_data_format()``.

    Example: ``Cropping2D(((2, 2), (4, 4)), input_shape=(28, 28, 3))`` gives
    ``(None, 24, 20, 3)``.
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class Cropping3D(Cropping):
    """Cropping layer for 3D data (e.g. spatial or spatio-temporal volumes).

    Arguments:
        cropping: int, tuple of 3 ints or tuple of 3 tuples of 2 ints, the
            (before, after) amounts of the three spatial axes. Default
            ((1, 1), (1, 1), (1, 1)).
        data_format: 'channels_last' ``(batch, dim1, dim2, dim3, channels)`` or
            'channels_first' ``(batch, channels, dim1, dim2, dim3)``; default
            ``backend.image_data_format()``.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)
