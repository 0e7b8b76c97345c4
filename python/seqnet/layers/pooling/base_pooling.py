"""Pooling and GlobalPooling: max or average over windows, or over every spatial position."""
import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.conv_utils import (ChannelsMover, PooledGradient, as_nhwc, check_spatial,
                                                    normalize_data_format, normalize_padding, normalize_tuple,
                                                    output_length, pad_before, with_channels)


class Pooling(Layer):
    """Max or average pooling over windows (rank 1 or 2)."""

    rank = None
    mode = None  # "max" or "avg"
    # Set by the model while it runs backward (network._relu_gates) when the pooled input is the
    # output of a ReLU: max pooling then returns the gradient before that ReLU, which the layer
    # that applied it takes as dy_is_preactivation.
    _relu_gate = False
    # ...and, with the gate, when the convolution that filled this forward's output (fill_from) can
    # take the pooled gradient as it is: backward then returns a PooledGradient.
    _pass_pooled = False
    _filled = None  # (input array, output) when the layer before wrote this forward's output (fill_from)
    _was_filled = False  # the last forward's output was filled

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", kind)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides", kind)
        self.padding = normalize_padding(padding, ("valid", "same"), kind)
        self.data_format = normalize_data_format(data_format, kind)

    def _out_spatial(self, spatial, shape=None):
        out = []
        for axis, length in enumerate(spatial):
            n = output_length(length, self.pool_size[axis], self.padding, self.strides[axis])
            if n is not None and n < 1:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): pool_size {self.pool_size} is "
                                 f"larger than the input's {length} along spatial axis {axis} with "
                                 f"padding='valid' (input shape {shape})")
            out.append(n)
        return tuple(out)

    def build(self, input_shape):
        _, spatial = check_spatial(self, input_shape, self.rank)
        self._out_spatial(spatial, tuple(input_shape))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        return with_channels(self, input_shape[0], self._out_spatial(spatial, tuple(input_shape)), channels)

    def fill_from(self, x4):
        """For the Conv2D whose (n, h, w, c) output x4 this layer pools next, when it is 2x2, stride-2,
        'valid' max pooling over channels_last: this layer's output and argmax arrays, which that
        convolution fills (conv_forward's pool_y / pool_argmax); the forward then only returns them.
        None when this layer pools otherwise (the convolution writes x4 and this layer runs)."""
        if not (self.mode == "max" and self.rank == 2 and self.pool_size == (2, 2) and self.strides == (2, 2)
                and self.padding == "valid" and self.data_format == "channels_last" and x4.ndim == 4):
            return None
        n, h, w, c = x4.shape
        if h < 2 or w < 2:
            return None
        self._args = ((2, 2), (2, 2), (0, 0))
        y4 = self._workspace("y", (n, h // 2, w // 2, c))
        self._argmax = self._workspace("argmax", y4.shape, np.int32)
        self._x4_shape, self._y4 = x4.shape, y4
        self._filled = (x4, y4)
        return y4, self._argmax

    def forward(self, x, training):
        filled, self._filled = self._filled, None
        self._was_filled = filled is not None and x is filled[0]
        if self._was_filled:
            return filled[1]
        first = self.data_format == "channels_first"
        xl = ChannelsMover.to_last(self, "x_last", x) if first else x
        x4 = as_nhwc(xl, self.rank)
        n, h, w, c = x4.shape
        ps = (1,) + self.pool_size if self.rank == 1 else self.pool_size
        st = (1,) + self.strides if self.rank == 1 else self.strides
        out = self._out_spatial((h, w) if self.rank == 2 else (w,), x.shape)
        out = (1,) + out if self.rank == 1 else out
        pads = tuple(pad_before(length, out[a], ps[a], self.padding, st[a]) for a, length in enumerate((h, w)))
        self._args = (ps, st, pads)
        y4 = self._workspace("y", (n,) + out + (c,))
        if self.mode == "max":
            self._argmax = self._workspace("argmax", y4.shape, np.int32)
            _engine.max_pool_forward(x4, y4, self._argmax, ps, st, pads)
        else:
            _engine.avg_pool_forward(x4, y4, ps, st, pads)
        self._x4_shape, self._y4 = x4.shape, y4
        y = y4.reshape(n, out[1], c) if self.rank == 1 else y4
        return ChannelsMover.to_first(self, "y_first", y) if first else y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        first = self.data_format == "channels_first"
        if first:
            dy = ChannelsMover.to_last(self, "dy_last", dy)
        dy4 = as_nhwc(dy, self.rank)
        if self._relu_gate and self._pass_pooled and self._was_filled and not first:
            return PooledGradient(dy4, self._argmax, self._y4, self._x4_shape)
        dx4 = self._workspace("dx_last" if first else "dx", self._x4_shape)
        if self.mode == "max":
            _engine.max_pool_backward(dy4, self._argmax, dx4, *self._args, gate=self._y4 if self._relu_gate else None)
        else:
            _engine.avg_pool_backward(dy4, dx4, *self._args)
        dx = dx4.reshape(dx4.shape[0], dx4.shape[2], dx4.shape[3]) if self.rank == 1 else dx4
        return ChannelsMover.to_first(self, "dx", dx) if first else dx

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


class GlobalPooling(Layer):
    """Max or average over every spatial position (rank 1 or 2): (n, ..., c) -> (n, c)."""

    rank = None
    mode = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        if self.keepdims:
            return with_channels(self, input_shape[0], (1,) * self.rank, channels)
        return (input_shape[0], channels)

    def build(self, input_shape):
        check_spatial(self, input_shape, self.rank)
        super().build(input_shape)

    def forward(self, x, training):
        first = self.data_format == "channels_first"
        xl = ChannelsMover.to_last(self, "x_last", x) if first else x
        n, c = xl.shape[0], xl.shape[-1]
        x3 = xl.reshape(n, -1, c)
        y = self._workspace("y", (n, c))
        if self.mode == "max":
            self._argmax = self._workspace("argmax", (n, c), np.int32)
            _engine.global_max_pool_forward(x3, y, self._argmax)
        else:
            _engine.global_avg_pool_forward(x3, y)
        self._xl_shape, self._x_shape = xl.shape, x.shape
        if self.keepdims:
            return y.reshape(self.compute_output_shape((n,) + x.shape[1:]))
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        n, c = self._xl_shape[0], self._xl_shape[-1]
        dy = np.ascontiguousarray(dy).reshape(n, c)
        first = self.data_format == "channels_first"
        dxl = self._workspace("dx_last" if first else "dx", self._xl_shape)
        d3 = dxl.reshape(n, -1, c)
        if self.mode == "max":
            _engine.global_max_pool_backward(dy, self._argmax, d3)
        else:
            _engine.global_avg_pool_backward(dy, d3)
        return ChannelsMover.to_first(self, "dx", dxl) if first else dxl

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.keepdims:
            config["keepdims"] = True
        return config
