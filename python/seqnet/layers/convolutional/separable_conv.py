"""SeparableConv1D and SeparableConv2D: a depthwise convolution, then a pointwise (1x1)
convolution mixing the channels, with the bias and the activation fused into the second."""
from seqnet import _engine, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.depthwise_conv2d import FusedConv, as_4d, expanded_workspace, positive_int

_LINEAR = _engine.Activation.linear
_ONE, _ZERO = (1, 1), (0, 0)


class SeparableConv(FusedConv):
    """Depthwise separable convolution of rank 1 or 2: the depthwise step (each input channel
    convolved with its own ``depth_multiplier`` kernels, a direct C++ kernel) writes an
    intermediate of ``input_channels * depth_multiplier`` channels, and the pointwise step is
    one GEMM over it with the bias and the activation fused.

    Arguments (Keras 2.2.4): ``filters``, ``kernel_size``, ``strides``, ``padding``,
    ``data_format``, ``dilation_rate``, ``depth_multiplier``, ``activation``, ``use_bias``,
    ``depthwise_*``, ``pointwise_*`` and ``bias_*`` initializers/regularizers/constraints,
    ``activity_regularizer``. Weights, in Keras' order: ``depthwise_kernel``
    ``kernel_size + (input_channels, depth_multiplier)``, ``pointwise_kernel``
    ``(1,) * rank + (input_channels * depth_multiplier, filters)``, ``bias`` ``(filters,)``.
    Dilation with strides > 1 is refused, as in TensorFlow; unequal strides, which TensorFlow's
    kernel refuses at run time, work; so does channels_first, which TensorFlow runs on GPUs only.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        # As Keras 2.2.4, kernel_initializer/_regularizer/_constraint (in tf-keras' configs) are
        # accepted and ignored.
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(self, depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self._check_strided_dilation()

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        middle = channels * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (middle, self.filters), self.pointwise_initializer,
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        Layer.build(self, input_shape)

    # ---- kernels ------------------------------------------------------------------------
    def _prepare(self, x4):
        out, self._pads, self._st, self._dl = self._geometry(x4)
        return (x4.shape[0],) + out + (self.filters,)

    def _pointwise4(self, value):
        return value.reshape((1, 1) + value.shape[-2:])

    def _kernel_forward(self, x4, z4, y4, act):
        n, oh, ow, _ = y4.shape
        depthwise = as_4d(self.depthwise_kernel.value, self.rank)
        t4 = self._workspace("t", (n, oh, ow, depthwise.shape[2] * depthwise.shape[3]))
        _engine.depthwise_forward(x4, depthwise, None, None, t4, expanded_workspace(self, x4, self.depth_multiplier),
                                  self._st, self._dl, self._pads, _LINEAR)
        bias = self.bias.value if self.bias is not None else None
        _engine.conv_forward(t4, self._pointwise4(self.pointwise_kernel.value), bias, z4, y4, None, _ONE, _ONE, _ZERO,
                             act)
        self._t4 = t4

    def _kernel_backward(self, x4, dy4, dx4, z4, y4, act, pre):
        t4 = self._t4
        dt4 = self._workspace("dt", t4.shape)
        bias_grad = self.bias.grad if self.bias is not None else None
        _engine.conv_backward(t4, self._pointwise4(self.pointwise_kernel.value), z4, y4, dy4, dt4,
                              self._pointwise4(self.pointwise_kernel.grad), bias_grad, None, None, _ONE, _ONE, _ZERO,
                              act, pre)
        depthwise = as_4d(self.depthwise_kernel.value, self.rank)
        kh, kw, c, m = depthwise.shape
        n, oh, ow, _ = t4.shape
        partials = self._workspace("dw_partials", (_engine.depthwise_dw_partials_size(n, oh, ow, kh, kw, c, m),))
        _engine.depthwise_backward(x4, depthwise, None, dt4, dt4, dx4, as_4d(self.depthwise_kernel.grad, self.rank),
                                   None, partials, expanded_workspace(self, x4, m), self._st, self._dl, self._pads,
                                   _LINEAR, True)

    def get_config(self):
        config = super().get_config()
        for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update(depth_multiplier=self.depth_multiplier,
                      depthwise_initializer=initializers.serialize(self.depthwise_initializer),
                      pointwise_initializer=initializers.serialize(self.pointwise_initializer),
                      depthwise_regularizer=regularizers.serialize(self.depthwise_regularizer),
                      pointwise_regularizer=regularizers.serialize(self.pointwise_regularizer),
                      depthwise_constraint=constraints.serialize(self.depthwise_constraint),
                      pointwise_constraint=constraints.serialize(self.pointwise_constraint))
        return config


class SeparableConv1D(SeparableConv):
    """Depthwise separable 1-D convolution (see SeparableConv): input ``(batch, steps, channels)``;
    ``padding`` 'valid', 'same' or 'causal' (tf-keras'; Keras 2.2.4's backend rejected it)."""
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class SeparableConv2D(SeparableConv):
    """Depthwise separable 2-D convolution (see SeparableConv): input
    ``(batch, rows, cols, channels)`` (or channels first); ``padding`` 'valid' or 'same'."""
    # An Activation layer right after it runs in its kernels (engine/network.py).
    _activation_fusable = True

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
