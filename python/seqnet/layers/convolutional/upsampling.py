"""UpSampling1D/2D/3D: enlarge the spatial axes by repeating (or, 2D, interpolating) the data."""
import numpy as np

from seqnet.layers.convolutional._spatial import SpatialLayer, normalize_factors

_INTERPOLATIONS = ("nearest", "bilinear")
# tf-keras' other resize methods; named in the error so a user knows why a file fails.
_NOT_SUPPORTED = ("area", "bicubic", "gaussian", "lanczos3", "lanczos5", "mitchellcubic")


class UpSampling(SpatialLayer):
    """Base class: repeats each element ``size[i]`` times along spatial axis i."""

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._factors = normalize_factors(size, self.rank, "size", self)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda i, n: n * self._factors[i])

    def _split_shape(self, shape):
        """The output viewed with a repeat axis after each spatial axis, and the input
        with a 1 there: nearest-neighbour upsampling is then one broadcast copy."""
        out, src, repeat_axes = [], [], []
        spatial = dict(zip(self._spatial_axes(), self._factors))
        for axis, n in enumerate(shape):
            out.append(n)
            src.append(n)
            if axis in spatial:
                out.append(spatial[axis])
                src.append(1)
                repeat_axes.append(len(out) - 1)
        return tuple(out), tuple(src), tuple(repeat_axes)

    def forward(self, x, training):
        y = self._workspace("y", self.compute_output_shape(x.shape))
        out, src, _ = self._split_shape(x.shape)
        y.reshape(out)[...] = x.reshape(src)
        self._x_shape = x.shape
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        out, src, repeat_axes = self._split_shape(self._x_shape)
        dx = self._workspace("dx", self._x_shape)
        np.sum(dy.reshape(out), axis=repeat_axes, keepdims=True, out=dx.reshape(src))
        return dx

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class UpSampling1D(UpSampling):
    """Upsampling layer for 1D inputs: repeats each timestep `size` times.

    Arguments:
        size: positive integer, the upsampling factor (default 2).

    Input shape: ``(batch, steps, features)``. Output shape:
    ``(batch, steps * size, features)``.
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)
        self.size = self._factors[0]


class UpSampling2D(UpSampling):
    """Upsampling layer for 2D inputs: enlarges rows and columns by ``size``.

    Arguments:
        size: int or tuple of 2 ints, the factors for rows and columns (default (2, 2)).
        data_format: 'channels_last' ``(batch, rows, cols, channels)`` or 'channels_first'
            ``(batch, channels, rows, cols)``; default ``backend.image_data_format()``.
        interpolation: 'nearest' (repeat each pixel, the default) or 'bilinear'.

    'bilinear' follows tf-keras (``tf.image.resize`` with half-pixel centres: output pixel
    i samples the input at ``(i + 0.5) / size - 0.5``, clamped at the borders); Keras
    2.2.4's TF1 ``resize_bilinear`` sampled at ``i / size`` instead. tf-keras' other
    methods ('bicubic', 'area', ...) are not supported.
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)
        self.size = self._factors
        text = interpolation.lower() if isinstance(interpolation, str) else interpolation
        if text not in _INTERPOLATIONS:
            hint = " (a tf-keras method seqnet does not implement)" if text in _NOT_SUPPORTED else ""
            raise ValueError(f"UpSampling2D '{self.name}': interpolation must be 'nearest' or 'bilinear', got "
                             f"{interpolation!r}{hint}")
        self.interpolation = text

    def forward(self, x, training):
        if self.interpolation == "nearest":
            return super().forward(x, training)
        self._check_rank(x.shape)
        self._x_shape = x.shape
        h_axis, w_axis = self._spatial_axes()
        self._ah = _bilinear_weights(x.shape[h_axis], self._factors[0])
        self._aw = _bilinear_weights(x.shape[w_axis], self._factors[1])
        y = self._workspace("y", self.compute_output_shape(x.shape))
        if self.data_format == "channels_first":  # (n, c, h, w): Ah @ x @ Aw^T per image and channel
            np.matmul(self._ah, x @ self._aw.T, out=y)
        else:  # (n, h, w, c)
            np.einsum("ia,jb,nabc->nijc", self._ah, self._aw, x, out=y, optimize=True)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self.interpolation == "nearest":
            return super().backward(dy, need_dx, dy_is_preactivation)
        if not need_dx:
            return None
        dx = self._workspace("dx", self._x_shape)
        if self.data_format == "channels_first":
            np.matmul(self._ah.T, dy @ self._aw, out=dx)
        else:
            np.einsum("ia,jb,nijc->nabc", self._ah, self._aw, dy, out=dx, optimize=True)
        return dx

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(UpSampling):
    """Upsampling layer for 3D inputs: repeats the three spatial axes by ``size``.

    Arguments:
        size: int or tuple of 3 ints, the factors for dim1, dim2 and dim3 (default
            (2, 2, 2)).
        data_format: 'channels_last' ``(batch, dim1, dim2, dim3, channels)`` or
            'channels_first' ``(batch, channels, dim1, dim2, dim3)``; default
            ``backend.image_data_format()``.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format=data_format, **kwargs)
        self.size = self._factors


def _bilinear_weights(length, factor):
    """(length * factor, length) float32 matrix of TensorFlow's half-pixel bilinear
    resize along one axis: output i mixes inputs floor(s) and ceil(s) (clamped), with
    s = (i + 0.5) / factor - 0.5."""
    out = length * factor
    s = (np.arange(out, dtype=np.float64) + 0.5) / factor - 0.5
    floor = np.floor(s)
    lerp = s - floor
    lower = np.maximum(floor, 0).astype(np.int64)
    upper = np.minimum(np.ceil(s), length - 1).astype(np.int64)
    weights = np.zeros((out, length), dtype=np.float64)
    rows = np.arange(out)
    np.add.at(weights, (rows, lower), 1.0 - lerp)
    np.add.at(weights, (rows, upper), lerp)
    return weights.astype(np.float32)
