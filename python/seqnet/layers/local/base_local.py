"""LocallyConnected: the base of the unshared-weight convolutions (one small GEMM per output
position in the engine, bias and activation fused)."""
import numpy as np

from seqnet import _engine
from seqnet.layers.convolutional.base_conv import _LINEAR, Conv
from seqnet.layers.convolutional.conv_utils import ChannelsMover, check_spatial


class LocallyConnected(Conv):
    """A convolution whose weights are not shared: each output position has its own kernel
    (rank 1 or 2, padding 'valid' only, as Keras 2.2.4).

    Weights in Keras 2.2.4's layout, which is tf-keras' with ``implementation=1``: kernel
    ``(output positions, window * input_channels, filters)``, the window flattened as Keras
    slices the input, ``(window..., channels)`` for channels_last and ``(channels, window...)``
    for channels_first; bias ``output spatial shape + (filters,)``, which Keras adds to a
    channels_first output by reshaping it (not transposing) to ``(filters,) + spatial``, and so
    does seqnet, so that weights load both ways.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, implementation=1, **kwargs):
        kind = type(self).__name__
        if isinstance(padding, str) and padding.lower() != "valid":
            raise ValueError(f"{kind}: padding must be 'valid' (the only border mode of Keras 2.2.4's "
                             f"locally-connected layers), got {padding!r}")
        if implementation != 1:
            raise ValueError(f"{kind}: only implementation=1 (Keras 2.2.4's kernel layout) is supported, got "
                             f"implementation={implementation!r}")
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=1, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)

    def build(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        if channels is None or any(length is None for length in spatial):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the spatial and channel axes of the "
                             f"input must be fully defined (each position has its own weights), got "
                             f"{tuple(input_shape)}")
        self.input_shape_seen = tuple(input_shape)
        out = self._out_spatial(spatial)
        self._out = out
        positions = int(np.prod(out))
        patch = int(np.prod(self.kernel_size)) * channels
        self.kernel = self.add_weight("kernel", (positions, patch, self.filters), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", out + (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        super(Conv, self).build(input_shape)

    # ---- running ---------------------------------------------------------------------------
    def _engine_args(self):
        two = (lambda t: (1,) + t) if self.rank == 1 else (lambda t: t)
        return two(self.kernel_size), two(self.strides), self.data_format == "channels_first"

    def _as4(self, a):
        """The 2-D view the engine takes: a 1-D (n, length, c) input as (n, 1, length, c), or
        channels_first (n, c, length) as (n, c, 1, length)."""
        if self.rank == 2:
            return a
        if self.data_format == "channels_first":
            return a.reshape(a.shape[0], a.shape[1], 1, a.shape[2])
        return a.reshape(a.shape[0], 1, a.shape[1], a.shape[2])

    def _bias_rows(self):
        """The bias as (positions, filters) rows of the channels_last output: channels_first
        reads the array as Keras does, reshaped to (filters, positions)."""
        if self.bias is None:
            return None
        positions = int(np.prod(self._out))
        value = self.bias.value.reshape(positions, self.filters)
        if self.data_format != "channels_first":
            return value
        rows = self._workspace("bias_rows", (positions, self.filters))
        np.copyto(rows, value.reshape(self.filters, positions).T)
        return rows

    def forward(self, x, training):
        first = self.data_format == "channels_first"
        if tuple(x.shape[1:]) != tuple(self.input_shape_seen[1:]):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) was built for inputs of shape "
                             f"{self.input_shape_seen}, got an input of shape {x.shape}")
        n = x.shape[0]
        out2 = (1,) + self._out if self.rank == 1 else self._out
        y4_shape = (n,) + out2 + (self.filters,)
        kernel = self.kernel.value
        col = self._workspace("col", (n, kernel.shape[0], kernel.shape[1]))
        ks, st, cf = self._engine_args()
        x4 = self._as4(x)
        if self._split_act:
            z4 = self._workspace("z_last", y4_shape)
            _engine.local_forward(x4, kernel, self._bias_rows(), None, z4, col, ks, st, cf, _LINEAR)
            z = ChannelsMover.to_first(self, "z", self._unview(z4))
            y = self._workspace("y", z.shape)
            _engine.activation_forward(self._act, z, y)
            self._z_arg = z if _engine.activation_backward_needs_input(self._act) else None
        else:
            y4 = self._workspace("y", y4_shape)
            z4 = self._workspace("z", y4_shape) if self._keep_z else None
            _engine.local_forward(x4, kernel, self._bias_rows(), z4, y4, col, ks, st, cf, self._act)
            y = self._unview(y4)
            if first:  # linear: the output only moves
                y = ChannelsMover.to_first(self, "y_first", y)
            z = None if z4 is None else self._unview(z4)
            self._z_arg = z4
        self._x_shape, self._x4, self._y_out, self._col_ws, self._y4_shape = x.shape, x4, y, col, y4_shape
        self._y4 = None if self._split_act or first else y4
        self.logits = z if self._keep_z else None
        if self._custom is not None:
            return self._custom.forward(y)
        return y

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
        dy4 = dy.reshape(self._y4_shape)
        y4 = self._y4 if self._y4 is not None else dy4
        dx4 = self._workspace("dx", self._x4.shape) if need_dx else None
        db = None
        if self.bias is not None:
            db = self._workspace("dbias_rows", (self._y4_shape[1] * self._y4_shape[2], self.filters)) if first \
                else self.bias.grad.reshape(-1, self.filters)
        ks, st, cf = self._engine_args()
        _engine.local_backward(self._x4, self.kernel.value, self._z_arg if not first else None, y4, dy4, dx4,
                               self.kernel.grad, db, self._col_ws, ks, st, cf, act, pre)
        if first and db is not None:
            np.copyto(self.bias.grad.reshape(self.filters, -1), db.T)
        if dx4 is None:
            return None
        return dx4.reshape(self._x_shape)

    def get_config(self):
        config = super().get_config()
        del config["dilation_rate"]
        return config
