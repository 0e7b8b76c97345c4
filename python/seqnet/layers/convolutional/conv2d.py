"""Conv2D: spatial convolution over images, kernel (kh, kw, input_channels, filters)."""
from seqnet.layers.convolutional.base_conv import Conv


class Conv2D(Conv):
    # An Activation layer right after it in a plain chain runs in its kernels (engine/network.py).
    _activation_fusable = True
    # So does a MaxPooling2D() that alone reads its ReLU output (network._pool_fusions).
    _pool_fusable = True
    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)


Convolution2D = Conv2D
