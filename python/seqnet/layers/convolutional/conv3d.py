"""Conv3D: convolution over volumes, kernel (kernel_dim1, kernel_dim2, kernel_dim3, input_channels, filters)."""
from seqnet import _engine
from seqnet.layers.convolutional.base_conv import Conv
from seqnet.layers.convolutional.conv_utils import output_length, pad_before

# The 2-D im2col block of one chunk of depth slices holds at most this many floats (one slice always fits).
_COL_BUDGET = 1 << 23


class Conv3D(Conv):
    """3-D convolution over volumes (Keras 2.2.4's ``Conv3D``).

    Input ``(batch, dim1, dim2, dim3, channels)`` (``channels_last``) or ``(batch, channels,
    dim1, dim2, dim3)`` (``channels_first``); kernel ``kernel_size + (channels, filters)`` and
    bias ``(filters,)``, in Keras' layout, so weights move both ways with Keras and tf-keras.

    Arguments: ``filters``, ``kernel_size`` (an int or 3 ints), ``strides`` (default 1),
    ``padding`` ('valid' or 'same', TensorFlow's rule: the odd padded element goes after),
    ``data_format``, ``dilation_rate``, ``activation``, ``use_bias``, and the kernel/bias
    initializers, regularizers and constraints and ``activity_regularizer``, as in Keras.

    The engine unfolds the input along the first spatial axis and runs the 2-D convolution's
    blocked im2col + GEMM (bias and activation fused) on it, so it keeps an unfolded copy of the
    batch (about kernel_size[0] / strides[0] times the input) between forward and backward.
    Unlike TensorFlow, strides > 1 together with dilation_rate > 1 are accepted (as in Conv2D).
    """
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)

    def _geometry3d(self, x5):
        """Output sizes and padding before, per spatial axis, of the channels_last input."""
        spatial = x5.shape[1:4]
        out = tuple(output_length(length, self.kernel_size[a], self.padding, self.strides[a], self.dilation_rate[a])
                    for a, length in enumerate(spatial))
        if min(out) < 1:
            raise ValueError(f"Layer '{self.name}': input of shape {x5.shape} is smaller than the kernel "
                             f"{self.kernel_size} (dilation_rate {self.dilation_rate}) with padding='valid'")
        pads = tuple(pad_before(length, out[a], self.kernel_size[a], self.padding, self.strides[a],
                                self.dilation_rate[a]) for a, length in enumerate(spatial))
        return out, pads

    # ---- Conv's hooks: the 3-D kernels (input unfolded along depth, then im2col + GEMM) ----
    def _prepare(self, x5):
        out, self._pads = self._geometry3d(x5)
        y5_shape = (x5.shape[0],) + out + (self.filters,)
        self._sizes, self._col_ws, self._flat = workspaces3d(self, x5.shape, y5_shape)
        return y5_shape

    def _kernel_forward(self, x5, z5, y5, act):
        bias = self.bias.value if self.bias is not None else None
        flat = self._flat
        _engine.conv3d_forward(x5, self.kernel.value, bias, z5, y5, self._col_ws, flat["unfold"],
                               flat["kernel_buffer"], self.strides, self.dilation_rate, self._pads, act)

    def _kernel_backward(self, x5, dy5, dx5, z5, y5, act, pre):
        flat = self._flat
        dunfold = self._workspace("dunfold", (self._sizes["unfold"],)) if dx5 is not None and \
            self._sizes["unfold"] else None
        bias_grad = self.bias.grad if self.bias is not None else None
        _engine.conv3d_backward(x5, self.kernel.value, z5, y5, dy5, dx5, self.kernel.grad, bias_grad, self._col_ws,
                                flat["dw_partials"], flat["unfold"], flat["kernel_buffer"], dunfold, self.strides,
                                self.dilation_rate, self._pads, act, pre)


def workspaces3d(layer, x_shape, y_shape):
    """The engine's sizes for the 3-D convolution x_shape -> y_shape (channels_last) with the
    layer's kernel, strides, dilation and ``_pads``, and the layer's workspaces of those sizes:
    col (None when the plane convolution is pointwise) and the flat unfold, kernel_buffer and
    dw_partials (None when empty). Conv3DTranspose asks for the convolution it transposes."""
    cached = getattr(layer, "_sizes_for", None)
    if cached is None or cached[0] != (x_shape, y_shape):  # one engine call per new batch shape, not per step
        layer._sizes_for = ((x_shape, y_shape), _engine.conv3d_workspace_sizes(
            x_shape, layer.kernel.value.shape, y_shape, layer.strides, layer.dilation_rate, layer._pads))
    sizes = layer._sizes_for[1]
    col = None
    if sizes["col_rows"]:
        slices = max(1, min(y_shape[0] * y_shape[1], _COL_BUDGET // max(sizes["col_rows"] * sizes["col_cols"], 1)))
        col = layer._workspace("col", (slices * sizes["col_rows"], sizes["col_cols"]))
    flat = {key: layer._workspace(key, (sizes[key],)) if sizes[key] else None
            for key in ("unfold", "kernel_buffer", "dw_partials")}
    return sizes, col, flat


Convolution3D = Conv3D
