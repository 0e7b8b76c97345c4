"""DepthwiseConv2D: each input channel convolved with its own depth_multiplier kernels; and
FusedConv, the base it shares with SeparableConv1D/2D and Conv2DTranspose (kernels on NHWC
arrays with the bias and activation fused, channels_first moved around them)."""
import numpy as np

from seqnet import _engine, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.base_conv import Conv
from seqnet.layers.convolutional.conv_utils import check_spatial, with_channels

_LINEAR = _engine.Activation.linear


class FusedConv(Conv):
    """Base of DepthwiseConv2D, SeparableConv1D/2D and Conv2DTranspose: ``Conv``'s
    forward/backward with their own kernels behind its hooks (``_prepare``,
    ``_kernel_forward``, ``_kernel_backward``), and the argument checks they share."""

    def _check_strided_dilation(self):
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): dilation_rate {self.dilation_rate} != 1 "
                             f"is incompatible with strides {self.strides} != 1 (as in Keras)")

    def _input_channels(self, input_shape):
        """The channel count of a build's input shape (or ValueError), after checking the rank
        and (for a shrinking convolution) that the kernel fits."""
        channels, spatial = check_spatial(self, input_shape, self.rank)
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel axis of the input must be defined, got "
                             f"{tuple(input_shape)}")
        self.input_shape_seen = tuple(input_shape)
        self._out_spatial(spatial)
        return int(channels)


def as_4d(value, rank):
    """A rank-1 layer's kernel (k, c, m) viewed as (1, k, c, m); rank 2 as is."""
    return value.reshape((1,) + value.shape) if rank == 1 else value


def expanded_workspace(layer, x4, depth_multiplier):
    """Where the depthwise kernels repeat each input channel depth_multiplier times (None for 1)."""
    if depth_multiplier == 1:
        return None
    n, h, w, c = x4.shape
    return layer._workspace("x_expanded", (_engine.depthwise_expanded_size(n, h, w, c, depth_multiplier),))


def positive_int(layer, value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}): {what} must be a positive integer, "
                         f"got {value!r}")
    return int(value)


class DepthwiseConv2D(FusedConv):
    """Depthwise 2-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` kernels (the first step of a depthwise separable convolution); output
    channel ``c * depth_multiplier + m`` is input channel ``c``'s m-th kernel.

    Arguments (Keras 2.2.4): ``kernel_size``, ``strides``, ``padding`` ('valid' or 'same'),
    ``depth_multiplier``, ``data_format``, ``activation``, ``use_bias``,
    ``depthwise_initializer``/``_regularizer``/``_constraint``, ``bias_*``,
    ``activity_regularizer``. Weights: ``depthwise_kernel`` of shape
    ``(kh, kw, input_channels, depth_multiplier)``, then ``bias`` of
    ``input_channels * depth_multiplier``.

    As Keras 2.2.4 (a Conv2D without filters), ``dilation_rate`` is accepted as a keyword; unlike
    Keras 2.2.4 the output shape accounts for it (tf-keras' rule). Dilation with strides > 1 is
    refused, as in TensorFlow; unequal strides, which TensorFlow's kernel refuses at run time,
    work. Runs a direct C++ kernel vectorised over channels (a multiplier above 1 on the input
    with its channels repeated, in a workspace).
    """
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, bias_initializer=bias_initializer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.filters = None  # Keras 2.2.4: a Conv2D with filters=None
        self.depth_multiplier = positive_int(self, depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self._check_strided_dilation()

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (channels * self.depth_multiplier,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        Layer.build(self, input_shape)

    def compute_output_shape(self, input_shape):
        channels, spatial = check_spatial(self, input_shape, self.rank)
        out = None if channels is None else channels * self.depth_multiplier
        return with_channels(self, input_shape[0], self._out_spatial(spatial), out)

    # ---- kernels ------------------------------------------------------------------------
    def _prepare(self, x4):
        out, self._pads, self._st, self._dl = self._geometry(x4)
        return (x4.shape[0],) + out + (x4.shape[3] * self.depth_multiplier,)

    def _kernel_forward(self, x4, z4, y4, act):
        bias = self.bias.value if self.bias is not None else None
        _engine.depthwise_forward(x4, as_4d(self.depthwise_kernel.value, self.rank), bias, z4, y4,
                                  expanded_workspace(self, x4, self.depth_multiplier), self._st, self._dl, self._pads,
                                  act)

    def _kernel_backward(self, x4, dy4, dx4, z4, y4, act, pre):
        kernel = as_4d(self.depthwise_kernel.value, self.rank)
        kh, kw, c, m = kernel.shape
        n, oh, ow, _ = dy4.shape
        partials = self._workspace("dw_partials", (_engine.depthwise_dw_partials_size(n, oh, ow, kh, kw, c, m),))
        bias_grad = self.bias.grad if self.bias is not None else None
        _engine.depthwise_backward(x4, kernel, z4, y4, dy4, dx4, as_4d(self.depthwise_kernel.grad, self.rank),
                                   bias_grad, partials, expanded_workspace(self, x4, m), self._st, self._dl,
                                   self._pads, act, pre)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=initializers.serialize(self.depthwise_initializer),
                      depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
                      depthwise_constraint=constraints.serialize(self.depthwise_constraint))
        return config
