"""Pooling3D: max or average pooling over 3-D windows (the engine pools each slice's 2-D windows,
then the depth windows of the result; see cpp/include/seqnet/pool3d.h)."""
import numpy as np

from seqnet import _engine
from seqnet.layers.convolutional.conv_utils import ChannelsMover, pad_before
from seqnet.layers.pooling.base_pooling import Pooling


class Pooling3D(Pooling):
    """Max or average pooling over 3-D windows, TensorFlow's rule for 'same' (padded positions
    are ignored: the max and the mean are over the window's valid elements)."""

    rank = 3

    def forward(self, x, training):
        first = self.data_format == "channels_first"
        x5 = ChannelsMover.to_last(self, "x_last", x) if first else x
        n, d, h, w, c = x5.shape
        out = self._out_spatial((d, h, w), x.shape)
        pads = tuple(pad_before(length, out[a], self.pool_size[a], self.padding, self.strides[a])
                     for a, length in enumerate((d, h, w)))
        self._args = (self.pool_size, self.strides, pads)
        y5 = self._workspace("y", (n,) + out + (c,))
        self._mid_shape = (n, d, out[1], out[2], c)
        mid = self._workspace("mid", self._mid_shape)
        if self.mode == "max":
            self._argmax = self._workspace("argmax", y5.shape, np.int32)
            self._mid_argmax = self._workspace("mid_argmax", self._mid_shape, np.int32)
            _engine.max_pool3d_forward(x5, y5, self._argmax, mid, self._mid_argmax, *self._args)
        else:
            _engine.avg_pool3d_forward(x5, y5, mid, *self._args)
        self._x5_shape = x5.shape
        return ChannelsMover.to_first(self, "y_first", y5) if first else y5

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        first = self.data_format == "channels_first"
        if first:
            dy = ChannelsMover.to_last(self, "dy_last", dy)
        dx5 = self._workspace("dx_last" if first else "dx", self._x5_shape)
        dmid = self._workspace("mid", self._mid_shape)  # the forward's intermediate is not needed any more
        if self.mode == "max":
            _engine.max_pool3d_backward(dy, self._argmax, self._mid_argmax, dmid, dx5, *self._args)
        else:
            _engine.avg_pool3d_backward(dy, dmid, dx5, *self._args)
        return ChannelsMover.to_first(self, "dx", dx5) if first else dx5
