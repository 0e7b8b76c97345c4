"""Conv3DTranspose: the transposed 3-D convolution ("deconvolution"), kernel (kernel_dim1,
kernel_dim2, kernel_dim3, filters, input_channels)."""
from seqnet import _engine
from seqnet.layers.convolutional.conv2d_transpose import ConvTranspose
from seqnet.layers.convolutional.conv3d import workspaces3d
from seqnet.layers.convolutional.conv_utils import pad_before


class Conv3DTranspose(ConvTranspose):
    """Transposed 3-D convolution: the gradient of a Conv3D with respect to its input, run
    forward (upsamples volumes by ``strides``).

    Input ``(batch, dim1, dim2, dim3, channels)`` (``channels_last``) or ``(batch, channels,
    dim1, dim2, dim3)`` (``channels_first``). Arguments (Keras 2.2.4): ``filters``,
    ``kernel_size`` (an int or 3 ints), ``strides`` (default 1), ``padding`` ('valid' or 'same'),
    ``output_padding`` (None, or per axis an integer smaller than the stride: the amount added to
    the output along that axis), ``data_format``, ``activation``, ``use_bias``,
    ``kernel_*``/``bias_*`` initializers/regularizers/constraints, ``activity_regularizer``.
    Weights: ``kernel`` of shape ``kernel_size + (filters, input_channels)`` (Keras' layout),
    then ``bias`` ``(filters,)``.

    Output size per axis, as Keras' ``deconv_output_length``: ``length * stride +
    max(kernel - stride, 0)`` ('valid') or ``length * stride`` ('same') without output_padding,
    else ``(length - 1) * stride + kernel - 2 * pad + output_padding`` with pad ``kernel // 2``
    ('same') or 0. Combinations TensorFlow cannot run (an output whose convolution would not give
    back the input's size, e.g. an even kernel with 'same' and output_padding 0) raise ValueError.

    ``dilation_rate`` (a tf-keras addition) is accepted only as 1: tf-keras takes the argument but
    never passes it to its kernel (nor to the output size or the config), so a dilated layer would
    silently compute an undilated one there; seqnet refuses it with a ValueError instead. Runs in
    C++ on Conv3D's kernels: forward is the 2-D transposed convolution (GEMM + col2im) over the
    depth-unfolded volume, folded back along depth; backward is the convolution and its weight
    gradient.
    """
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, output_padding=output_padding, **kwargs)
        if self.dilation_rate != (1, 1, 1):
            raise ValueError(f"Layer '{self.name}' (Conv3DTranspose): dilation_rate must be 1, got "
                             f"{self.dilation_rate}: tf-keras accepts the argument but its conv3d_transpose "
                             f"ignores it, and Keras 2.2.4 has none")

    # ---- FusedConv's hooks: the engine's conv3d_transpose on the channels_last volume ----------
    def _prepare(self, x5):
        spatial = x5.shape[1:4]
        out = self._out_spatial(spatial)
        self._pads = tuple(pad_before(out[a], length, self.kernel_size[a], self.padding, self.strides[a],
                                      self.dilation_rate[a]) for a, length in enumerate(spatial))
        y5_shape = (x5.shape[0],) + out + (self.filters,)
        # The workspaces of the convolution this layer transposes, y5 -> x5.
        _, self._col_ws, self._flat = workspaces3d(self, y5_shape, x5.shape)
        return y5_shape

    def _kernel_forward(self, x5, z5, y5, act):
        bias = self.bias.value if self.bias is not None else None
        flat = self._flat
        _engine.conv3d_transpose_forward(x5, self.kernel.value, bias, z5, y5, self._col_ws, flat["unfold"],
                                         flat["kernel_buffer"], self.strides, self.dilation_rate, self._pads, act)

    def _kernel_backward(self, x5, dy5, dx5, z5, y5, act, pre):
        flat = self._flat
        bias_grad = self.bias.grad if self.bias is not None else None
        _engine.conv3d_transpose_backward(x5, self.kernel.value, z5, y5, dy5, dx5, self.kernel.grad, bias_grad,
                                          self._col_ws, flat["dw_partials"], flat["unfold"], flat["kernel_buffer"],
                                          self.strides, self.dilation_rate, self._pads, act, pre)

    def get_config(self):
        config = super().get_config()
        config.pop("dilation_rate")  # as Keras 2.2.4 and tf-keras, which never apply it
        return config


Convolution3DTranspose = Deconvolution3D = Deconv3D = Conv3DTranspose
