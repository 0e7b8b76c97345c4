"""GlobalAveragePooling1D: the average over every position of a 1-D input, (batch, ..., channels) -> (batch, channels).
With a mask (Keras 2.2.4), the average over the unmasked steps only."""
import numpy as np

from seqnet.layers.pooling.base_pooling import GlobalPooling


class GlobalAveragePooling1D(GlobalPooling):
    rank = 1
    mode = "avg"
    supports_masking = True

    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return None

    def forward(self, x, training, mask=None):
        self._mask_weights = None
        if mask is None:
            return super().forward(x, training)
        steps_axis = 2 if self.data_format == "channels_first" else 1
        m = np.asarray(mask, dtype=np.float32)
        m = m[:, None, :] if steps_axis == 2 else m[:, :, None]
        with np.errstate(divide="ignore", invalid="ignore"):  # a fully masked row is nan, as in Keras
            weights = m / m.sum(axis=steps_axis, keepdims=True)
        self._mask_weights, self._steps_axis, self._x_shape = weights, steps_axis, x.shape
        y = self._workspace("y", (x.shape[0], x.shape[3 - steps_axis]))
        np.sum(x * weights, axis=steps_axis, out=y)
        if self.keepdims:
            return y.reshape(self.compute_output_shape((x.shape[0],) + x.shape[1:]))
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._mask_weights is None:
            return super().backward(dy, need_dx, dy_is_preactivation)
        if not need_dx:
            return None
        dy = np.asarray(dy).reshape(self._x_shape[0], -1)
        dy = dy[:, :, None] if self._steps_axis == 2 else dy[:, None, :]
        dx = self._workspace("dx", self._x_shape)
        np.multiply(dy, self._mask_weights, out=dx)
        return dx


GlobalAvgPool1D = GlobalAveragePooling1D
