"""Conv2DTranspose: the transposed convolution ("deconvolution"), kernel (kh, kw, filters,
input_channels); and ConvTranspose, the base it shares with Conv3DTranspose (output_padding,
the output size and its check, the kernel's layout)."""
import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.base_conv import _COL_BUDGET
from seqnet.layers.convolutional.conv_utils import check_spatial, output_length, pad_before, with_channels
from seqnet.layers.convolutional.depthwise_conv2d import FusedConv


def deconv_output_length(length, kernel, padding, output_padding, stride, dilation=1):
    """tf-keras' (and Keras 2.2.4's) output length of a transposed convolution (None stays None)."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(span - stride, 0)
        return length * stride  # same
    pad = span // 2 if padding == "same" else 0
    return (length - 1) * stride + span - 2 * pad + output_padding


class ConvTranspose(FusedConv):
    """Base of Conv2DTranspose and Conv3DTranspose: ``output_padding`` (checked against the
    strides), the output size (``deconv_output_length``, checked: the convolution transposed must
    map it back to the input's), the kernel ``kernel_size + (filters, input_channels)`` and the
    config; the subclasses run their kernels behind FusedConv's hooks."""

    def __init__(self, filters, kernel_size, output_padding=None, **kwargs):
        super().__init__(filters, kernel_size, **kwargs)
        self.output_padding = self._normalize_output_padding(output_padding)
        self._check_strided_dilation()

    def _normalize_output_padding(self, value):
        if value is None:
            return None
        where, rank = f"Layer '{self.name}' ({type(self).__name__})", self.rank
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            value = (int(value),) * rank
        try:
            value = tuple(value)
        except TypeError:
            raise ValueError(f"{where}: output_padding must be None, an integer or a tuple of {rank} integers, "
                             f"got {value!r}") from None
        if len(value) != rank or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0
                                     for v in value):
            raise ValueError(f"{where}: output_padding must be None, a non-negative integer or a tuple of {rank} "
                             f"non-negative integers, got {value!r}")
        value = tuple(int(v) for v in value)
        if any(p >= s for p, s in zip(value, self.strides)):
            raise ValueError(f"{where}: strides {self.strides} must be greater than output_padding {value}")
        return value

    def build(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel axis of the input must be defined, got "
                             f"{tuple(input_shape)}")
        self.input_shape_seen = tuple(input_shape)
        self._out_spatial(spatial)
        self.kernel = self.add_weight("kernel", self.kernel_size + (self.filters, int(channels)),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        Layer.build(self, input_shape)

    def compute_output_shape(self, input_shape):
        _, spatial = check_spatial(self, input_shape, self.rank)
        return with_channels(self, input_shape[0], self._out_spatial(spatial), self.filters)

    def _out_spatial(self, spatial):
        """The output's spatial sizes, checked: the convolution this layer transposes must
        map them back to the input's (else TensorFlow cannot run it either)."""
        out = []
        for axis, length in enumerate(spatial):
            pad = None if self.output_padding is None else self.output_padding[axis]
            k, s, d = self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis]
            n = deconv_output_length(length, k, self.padding, pad, s, d)
            if n is not None and (n < 1 or output_length(n, k, self.padding, s, d) != length):
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}): kernel_size {self.kernel_size}, strides "
                    f"{self.strides}, padding='{self.padding}', output_padding {self.output_padding} and dilation_rate "
                    f"{self.dilation_rate} give an output of {n} along spatial axis {axis}, which a convolution "
                    f"does not map back to the input's {length} (input shape "
                    f"{tuple(self.input_shape_seen or ())})")
            out.append(n)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = self.output_padding
        return config


class Conv2DTranspose(ConvTranspose):
    """Transposed 2-D convolution: the gradient of a Conv2D with respect to its input, run
    forward (upsamples by ``strides``).

    Arguments (Keras 2.2.4): ``filters``, ``kernel_size``, ``strides``, ``padding`` ('valid' or
    'same'), ``output_padding`` (None, or per axis an integer smaller than the stride: the amount
    added to the output's height and width), ``data_format``, ``dilation_rate``, ``activation``,
    ``use_bias``, ``kernel_*``/``bias_*`` initializers/regularizers/constraints,
    ``activity_regularizer``. Weights: ``kernel`` of shape
    ``(kh, kw, filters, input_channels)`` (Keras' layout), then ``bias`` ``(filters,)``.

    Output size per axis: ``length * stride + max(span - stride, 0)`` ('valid') or
    ``length * stride`` ('same') without output_padding, else
    ``(length - 1) * stride + span - 2 * pad + output_padding`` with pad ``span // 2`` ('same')
    or 0, where span is the dilated kernel size. Combinations TensorFlow cannot run (an output
    whose convolution would not give back the input's size, e.g. an even kernel with 'same' and
    output_padding 0; dilation with strides > 1) raise ValueError instead; different dilation
    rates per axis (tf-keras refuses them) work. Forward is a GEMM and col2im, backward a
    convolution, both in C++.
    """
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, output_padding=output_padding, **kwargs)

    # ---- kernels ------------------------------------------------------------------------
    def _prepare(self, x4):
        n, h, w, _ = x4.shape
        out = self._out_spatial((h, w))
        self._pads = tuple(pad_before(out[a], (h, w)[a], self.kernel_size[a], self.padding, self.strides[a],
                                      self.dilation_rate[a]) for a in range(2))
        kh, kw, f, _ = self.kernel.value.shape
        pointwise = kh == kw == 1 and self.strides == (1, 1) and self._pads == (0, 0) and out == (h, w)
        self._col_ws = None
        if not pointwise and n > 0:
            pixels, patch = h * w, kh * kw * f
            images = max(1, min(n, _COL_BUDGET // max(pixels * patch, 1)))
            self._col_ws = self._workspace("col", (images * pixels, patch))
        return (n,) + out + (self.filters,)

    def _kernel_forward(self, x4, z4, y4, act):
        bias = self.bias.value if self.bias is not None else None
        _engine.conv_transpose_forward(x4, self.kernel.value, bias, z4, y4, self._col_ws, self.strides,
                                       self.dilation_rate, self._pads, act)

    def _kernel_backward(self, x4, dy4, dx4, z4, y4, act, pre):
        partials = None
        if self._col_ws is not None:
            n, h, w, c = x4.shape
            kh, kw, f, _ = self.kernel.value.shape
            size = _engine.conv_transpose_partials_size(n, h, w, kh, kw, f, c)
            partials = self._workspace("dw_partials", (size,))
        bias_grad = self.bias.grad if self.bias is not None else None
        _engine.conv_transpose_backward(x4, self.kernel.value, z4, y4, dy4, dx4, self.kernel.grad, bias_grad,
                                        self._col_ws, partials, self.strides, self.dilation_rate, self._pads, act, pre)


Convolution2DTranspose = Deconvolution2D = Deconv2D = Conv2DTranspose
