"""LocallyConnected: the base of the unshared-weight convolutions (one small GEMM per output
position in the engine, bias and activation fused)."""
import numpy as np

from seqnet import _engine
from seqnet.layers.convolutional.base_conv import Conv
from seqnet.layers.convolutional.conv_utils import check_spatial


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

    def _input4(self, x):
        """The 2-D view the engine takes, in the input's own layout (the engine reads a
        channels_first input in place): a 1-D (n, length, c) input as (n, 1, length, c), or
        channels_first (n, c, length) as (n, c, 1, length)."""
        if tuple(x.shape[1:]) != tuple(self.input_shape_seen[1:]):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) was built for inputs of shape "
                             f"{self.input_shape_seen}, got an input of shape {x.shape}")
        self._x_shape = x.shape
        if self.rank == 2:
            return x
        if self.data_format == "channels_first":
            return x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
        return x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])

    def _output_dx(self, dx4):
        return dx4.reshape(self._x_shape)

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

    # ---- the Conv hooks: one small GEMM per output position (_engine.local_forward/backward) ----
    def _prepare(self, x4):
        n = x4.shape[0]
        out2 = (1,) + self._out if self.rank == 1 else self._out
        self._y4_shape = (n,) + out2 + (self.filters,)
        kernel = self.kernel.value
        self._col_ws = self._workspace("col", (n, kernel.shape[0], kernel.shape[1]))
        return self._y4_shape

    def _kernel_forward(self, x4, z4, y4, act):
        ks, st, cf = self._engine_args()
        _engine.local_forward(x4, self.kernel.value, self._bias_rows(), z4, y4, self._col_ws, ks, st, cf, act)

    def _kernel_backward(self, x4, dy4, dx4, z4, y4, act, pre):
        first = self.data_format == "channels_first"
        db = None
        if self.bias is not None:
            db = self._workspace("dbias_rows", (self._y4_shape[1] * self._y4_shape[2], self.filters)) if first \
                else self.bias.grad.reshape(-1, self.filters)
        ks, st, cf = self._engine_args()
        _engine.local_backward(x4, self.kernel.value, z4, y4, dy4, dx4, self.kernel.grad, db, self._col_ws, ks, st,
                               cf, act, pre)
        if first and db is not None:
            np.copyto(self.bias.grad.reshape(self.filters, -1), db.T)

    def get_config(self):
        config = super().get_config()
        del config["dilation_rate"]
        return config
