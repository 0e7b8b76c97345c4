"""Shared machinery of the convolution and pooling layers: argument checking, TensorFlow's
output-length and padding rules, and the channels_first <-> channels_last moves.

Every kernel works on channels_last (NHWC) arrays; a 1-D layer views its (n, length, c)
input as (n, 1, length, c), so 1-D and 2-D share one kernel family."""
import numpy as np

from seqnet import _engine, activations, backend, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.core.activation import CallableActivation

_LINEAR, _SIGMOID, _SOFTMAX = 0, 2, 5
_NEEDS_INPUT = {11, 12}  # swish, gelu: their gradient needs the pre-activation
# The im2col matrix of one chunk of images holds at most this many floats (one image always fits).
_COL_BUDGET = 1 << 23


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


class Conv(Layer):
    """N-D convolution (rank 1 or 2) by im2col + GEMM with a fused bias + activation."""

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, groups=1, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        rank = self.rank
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{kind}: filters must be a positive integer, got {filters!r}")
        if groups != 1:
            raise ValueError(f"{kind}: only groups=1 is supported, got groups={groups!r}")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", kind)
        self.strides = normalize_tuple(strides, rank, "strides", kind)
        self.padding = normalize_padding(padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"),
                                         kind)
        self.data_format = normalize_data_format(data_format, kind)
        if self.padding == "causal" and self.data_format != "channels_last":
            raise ValueError(f"{kind}: padding='causal' needs data_format='channels_last'")
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", kind)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        code = activations.engine_code(self.activation)
        self._custom = None if code is not None else CallableActivation(self.activation)
        self._act = _LINEAR if code is None else code
        self.output_activation = {_SOFTMAX: "softmax", _SIGMOID: "sigmoid"}.get(self._act)
        # channels_first: the kernel runs linear on NHWC, the activation on the moved output.
        self._split_act = self.data_format == "channels_first" and self._act != _LINEAR
        self._keep_z = self._act in _NEEDS_INPUT or self._act in (_SOFTMAX, _SIGMOID)

    # ---- shapes --------------------------------------------------------------------------
    def _out_spatial(self, spatial):
        out = []
        for axis, length in enumerate(spatial):
            n = output_length(length, self.kernel_size[axis], self.padding, self.strides[axis],
                              self.dilation_rate[axis])
            if n is not None and n < 1:
                span = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): kernel_size {self.kernel_size} "
                                 f"with dilation_rate {self.dilation_rate} spans {span} along spatial axis "
                                 f"{axis}, larger than the input's {length} with padding='valid' "
                                 f"(input shape {tuple(self.input_shape_seen or ())})")
            out.append(n)
        return tuple(out)

    def build(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel axis of the input must be defined, got "
                             f"{tuple(input_shape)}")
        self.input_shape_seen = tuple(input_shape)
        self._out_spatial(spatial)
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, self.filters), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _, spatial = check_spatial(self, input_shape, self.rank)
        return with_channels(self, input_shape[0], self._out_spatial(spatial), self.filters)

    # ---- running ---------------------------------------------------------------------------
    def _geometry(self, x4):
        """(oh, ow), pads (top, left), strides, dilation of the NHWC problem."""
        n, h, w, c = x4.shape
        ks = (1,) + self.kernel_size if self.rank == 1 else self.kernel_size
        st = (1,) + self.strides if self.rank == 1 else self.strides
        dl = (1,) + self.dilation_rate if self.rank == 1 else self.dilation_rate
        out = tuple(output_length(length, ks[a], self.padding if a or self.rank == 2 else "valid", st[a], dl[a])
                    for a, length in enumerate((h, w)))
        if out[0] < 1 or out[1] < 1:
            raise ValueError(f"Layer '{self.name}': input of shape {x4.shape} is smaller than the kernel "
                             f"{self.kernel_size} with padding='valid'")
        pads = tuple(pad_before(length, out[a], ks[a], self.padding if a or self.rank == 2 else "valid", st[a],
                                dl[a]) for a, length in enumerate((h, w)))
        return out, pads, st, dl

    def _kernel4(self):
        value = self.kernel.value
        return value.reshape((1,) + value.shape) if self.rank == 1 else value

    def _col(self, n, out, kernel4):
        pixels = out[0] * out[1]
        patch = kernel4.shape[0] * kernel4.shape[1] * kernel4.shape[2]
        pointwise = kernel4.shape[0] == kernel4.shape[1] == 1 and self._pads == (0, 0) and self._st == (1, 1)
        if pointwise or n == 0:
            return None
        images = max(1, min(n, _COL_BUDGET // max(pixels * patch, 1)))
        return self._workspace("col", (images * pixels, patch))

    def forward(self, x, training):
        first = self.data_format == "channels_first"
        xl = ChannelsMover.to_last(self, "x_last", x) if first else x
        x4 = as_nhwc(xl, self.rank)
        out, self._pads, self._st, self._dl = self._geometry(x4)
        n = x4.shape[0]
        kernel4 = self._kernel4()
        y4_shape = (n,) + out + (self.filters,)
        bias = self.bias.value if self.bias is not None else None
        col = self._col(n, out, kernel4)
        if self._split_act:
            z4 = self._workspace("z_last", y4_shape)
            _engine.conv_forward(x4, kernel4, bias, None, z4, col, self._st, self._dl, self._pads, _LINEAR)
            z = ChannelsMover.to_first(self, "z", self._unview(z4))
            y = self._workspace("y", z.shape)
            _engine.activation_forward(self._act, z, y)
            self._z_arg = z if self._act in _NEEDS_INPUT else None
        else:
            y4 = self._workspace("y", y4_shape)
            z4 = self._workspace("z", y4_shape) if self._keep_z else None
            _engine.conv_forward(x4, kernel4, bias, z4, y4, col, self._st, self._dl, self._pads, self._act)
            y = self._unview(y4)
            if first:  # linear: the output only moves
                y = ChannelsMover.to_first(self, "y_first", y)
            z = None if z4 is None else self._unview(z4)
            self._z_arg = z4
        self._x4, self._y_out, self._col_ws, self._y4_shape = x4, y, col, y4_shape
        self._y4 = None if self._split_act or first else y4
        self.logits = z if self._keep_z else None
        if self._custom is not None:
            return self._custom.forward(y)
        return y

    def _unview(self, a4):
        return a4.reshape(a4.shape[0], a4.shape[2], a4.shape[3]) if self.rank == 1 else a4

    def _view(self, a):
        return as_nhwc(a, self.rank)

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._custom is not None:
            dy = self._custom.backward(dy)
        first = self.data_format == "channels_first"
        act, pre = self._act, dy_is_preactivation
        if first:
            if self._act != _LINEAR and not pre:
                _engine.activation_backward(self._act, self._z_arg, self._y_out, dy, dy)
            dy = ChannelsMover.to_last(self, "dy_last", dy)
            act, pre = _LINEAR, True
        dy4 = self._view(dy)
        y4 = self._y4 if self._y4 is not None else dy4
        dx4 = self._workspace("dx_last" if first else "dx", self._x4.shape) if need_dx else None
        bias_grad = self.bias.grad if self.bias is not None else None
        partials = None
        if self._col_ws is not None:
            n, oh, ow, f = self._y4_shape
            kh, kw, c, _ = self._kernel4().shape
            size = _engine.conv_dw_partials_size(n, oh, ow, kh, kw, c, f)
            partials = self._workspace("dw_partials", (size,))
        kgrad = self.kernel.grad
        kgrad4 = kgrad.reshape((1,) + kgrad.shape) if self.rank == 1 else kgrad
        _engine.conv_backward(self._x4, self._kernel4(), self._z_arg if not first else None, y4, dy4, dx4, kgrad4,
                              bias_grad, self._col_ws, partials, self._st, self._dl, self._pads, act, pre)
        if dx4 is None:
            return None
        dx = self._unview(dx4)
        if first:
            dx = ChannelsMover.to_first(self, "dx", dx)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                      activation=activations.config_name(self.activation), use_bias=self.use_bias,
                      **self._weight_options_config("kernel", "bias"))
        return config


class Pooling(Layer):
    """Max or average pooling over windows (rank 1 or 2)."""

    rank = None
    mode = None  # "max" or "avg"

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

    def forward(self, x, training):
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
        self._x4_shape = x4.shape
        y = y4.reshape(n, out[1], c) if self.rank == 1 else y4
        return ChannelsMover.to_first(self, "y_first", y) if first else y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        first = self.data_format == "channels_first"
        if first:
            dy = ChannelsMover.to_last(self, "dy_last", dy)
        dy4 = as_nhwc(dy, self.rank)
        dx4 = self._workspace("dx_last" if first else "dx", self._x4_shape)
        if self.mode == "max":
            _engine.max_pool_backward(dy4, self._argmax, dx4, *self._args)
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
