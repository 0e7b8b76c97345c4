"""Conv: the N-D convolution base class (im2col + GEMM with a fused bias + activation)."""
import numpy as np

from seqnet import _engine, activations, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.conv_utils import (ChannelsMover, PooledGradient, as_nhwc, check_spatial,
                                                    normalize_data_format, normalize_padding, normalize_tuple,
                                                    output_length, pad_before, with_channels)
from seqnet.layers.core.activation import CallableActivation

_LINEAR, _SIGMOID, _SOFTMAX = _engine.Activation.linear, _engine.Activation.sigmoid, _engine.Activation.softmax
# The im2col matrix of one chunk of images holds at most this many floats (one image always fits).
_COL_BUDGET = 1 << 23


# The size of a convolution's output gradient above which it reads a max pooling's gradient as it
# is (conv_backward's pool_dy) rather than its scatter: a quarter of L3. A smaller scatter stays in
# cache between its writing and the two passes that read it, and forming each tile's pixels from
# the pooled arrays costs about what it saves. Alternated in one process against the scatter (15-21
# rounds, the backward of the pooled layers alone; docs/performance.md): 18.9 MB (mnist_cnn)
# 1.07-1.15x, 15.9 and 37.7 MB (VGG) 1.00-1.08x and 1.00-1.03x, 1.4 and 3.7 MB (cifar10_cnn) 0.94-1.06x.
_POOLED_GRADIENT_MIN_BYTES = _engine.cache_sizes()["l3"] // 4


class Conv(Layer):
    """N-D convolution (rank 1 or 2) by im2col + GEMM with a fused bias + activation."""

    rank = None
    _pool_into = None  # a MaxPooling2D whose output this layer's forward writes (Conv2D only: network._with_pool)

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
        # swish, gelu: their gradient needs the pre-activation
        self._keep_z = _engine.activation_backward_needs_input(self._act) or self._act in (_SOFTMAX, _SIGMOID)

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

    # ---- running: channels_first moved around NHWC kernels that fuse bias + activation ----
    # forward/backward are shared by every convolution layer; a subclass says what its
    # kernels do through three hooks:
    #   _input4(x) / _output_dx(dx4): the 4-D view of the input the kernels take, and dx back
    #     from it (by default channels_first moved to NHWC and back);
    #   _prepare(x4): the geometry for the NHWC input (workspaces too); returns the output shape;
    #   _kernel_forward(x4, z4, y4, act): y4 = act(z4), z4 optional;
    #   _kernel_backward(x4, dy4, dx4, z4, y4, act, pre): the weights' grad, and dx4 when not None.
    def forward(self, x, training):
        first = self.data_format == "channels_first"
        x4 = self._input4(x)
        y4_shape = self._prepare(x4)
        if self._split_act:  # channels_first: the activation runs on the moved output (Keras' last axis)
            z4 = self._workspace("z_last", y4_shape)
            self._kernel_forward(x4, None, z4, _LINEAR)
            z = ChannelsMover.to_first(self, "z", self._unview(z4))
            y = self._workspace("y", z.shape)
            _engine.activation_forward(self._act, z, y)
            self._z_arg = z if _engine.activation_backward_needs_input(self._act) else None
        else:
            y4 = self._workspace("y", y4_shape)
            z4 = self._workspace("z", y4_shape) if self._keep_z else None
            self._kernel_forward(x4, z4, y4, self._act)
            y = self._unview(y4)
            if first:  # linear: the output only moves
                y = ChannelsMover.to_first(self, "y_first", y)
            z = None if z4 is None else self._unview(z4)
            self._z_arg = z4
        self._x4, self._y_out = x4, y
        self._y4 = None if self._split_act or first else y4
        self.logits = z if self._keep_z else None
        if self._custom is not None:
            return self._custom.forward(y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        pooled = dy if isinstance(dy, PooledGradient) else None
        if pooled is not None:  # from the max pooling this layer's forward filled (network._with_relu_gate)
            dz = self._workspace("dz", pooled.shape)
            if self._custom is not None or self.data_format == "channels_first" or self._y4 is None \
                    or dz.nbytes <= _POOLED_GRADIENT_MIN_BYTES:
                dy, pooled = self._unview(pooled.scatter(dz)), None
            else:
                dy = self._unview(dz)  # the scatter's place, for algorithms that form it
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
        if pooled is not None:
            self._kernel_backward(self._x4, dy4, dx4, self._z_arg, y4, act, pre, pooled)
        else:
            self._kernel_backward(self._x4, dy4, dx4, None if first else self._z_arg, y4, act, pre)
        return None if dx4 is None else self._output_dx(dx4)

    def _input4(self, x):
        xl = ChannelsMover.to_last(self, "x_last", x) if self.data_format == "channels_first" else x
        return as_nhwc(xl, self.rank)

    def _output_dx(self, dx4):
        dx = self._unview(dx4)
        return ChannelsMover.to_first(self, "dx", dx) if self.data_format == "channels_first" else dx

    def _unview(self, a4):
        return a4.reshape(a4.shape[0], a4.shape[2], a4.shape[3]) if self.rank == 1 else a4

    def _view(self, a):
        return as_nhwc(a, self.rank)

    # ---- the hooks, for Conv1D/Conv2D: im2col + GEMM (_engine.conv_forward/backward) ----
    def _prepare(self, x4):
        out, self._pads, self._st, self._dl = self._geometry(x4)
        n = x4.shape[0]
        self._col_ws = self._col(n, out, self._kernel4())
        self._y4_shape = (n,) + out + (self.filters,)
        return self._y4_shape

    def _kernel_forward(self, x4, z4, y4, act):
        bias = self.bias.value if self.bias is not None else None
        pool = self._pool_into
        # With a pooling target (a Conv2D's, network._with_pool), and y4 what forward returns
        # (channels_last, no custom activation after it): the 2x2 max pooling of y4 goes into
        # the pooling layer's own arrays, and y4 itself may stay unwritten.
        direct = pool is not None and z4 is None and self.data_format == "channels_last" and self._custom is None
        targets = (pool.fill_from(y4) if direct else None) or (None, None)
        _engine.conv_forward(x4, self._kernel4(), bias, z4, y4, self._col_ws, self._st, self._dl, self._pads, act,
                             pool_y=targets[0], pool_argmax=targets[1])

    def _kernel_backward(self, x4, dy4, dx4, z4, y4, act, pre, pooled=None):
        partials = None
        if self._col_ws is not None:
            n, oh, ow, f = self._y4_shape
            kh, kw, c, _ = self._kernel4().shape
            partials = self._workspace("dw_partials", (_engine.conv_dw_partials_size(n, oh, ow, kh, kw, c, f),))
        kgrad = self.kernel.grad
        kgrad4 = kgrad.reshape((1,) + kgrad.shape) if self.rank == 1 else kgrad
        bias_grad = self.bias.grad if self.bias is not None else None
        if pooled is None:
            _engine.conv_backward(x4, self._kernel4(), z4, y4, dy4, dx4, kgrad4, bias_grad, self._col_ws, partials,
                                  self._st, self._dl, self._pads, act, pre)
        else:
            _engine.conv_backward(x4, self._kernel4(), z4, y4, dy4, dx4, kgrad4, bias_grad, self._col_ws, partials,
                                  self._st, self._dl, self._pads, act, pre, pool_dy=pooled.dy,
                                  pool_argmax=pooled.argmax, pool_gate=pooled.gate)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                      padding=self.padding, data_format=self.data_format, dilation_rate=self.dilation_rate,
                      activation=activations.config_name(self.activation), use_bias=self.use_bias,
                      **self._weight_options_config("kernel", "bias"))
        return config
