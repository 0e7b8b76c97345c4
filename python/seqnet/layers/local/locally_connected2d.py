"""LocallyConnected2D: a 2-D convolution with unshared weights, kernel (rows * cols, kh * kw * channels, filters)."""
from seqnet.layers.local.base_local import LocallyConnected


class LocallyConnected2D(LocallyConnected):
    """Locally-connected layer for 2-D inputs (Keras 2.2.4's ``LocallyConnected2D``): like
    ``Conv2D`` but with a different set of filters at each output pixel.

    Arguments: ``filters``, ``kernel_size`` and ``strides`` (an int or 2 ints), ``padding``
    ('valid' only), ``data_format``, ``activation``, ``use_bias``, and the kernel/bias
    initializers, regularizers and constraints and ``activity_regularizer``. The input's
    spatial shape must be fully defined. Weights: kernel ``(new_rows * new_cols, kh * kw *
    channels, filters)`` (the patch ordered (kh, kw, channels) for channels_last, (channels,
    kh, kw) for channels_first) and bias ``(new_rows, new_cols, filters)``, Keras' layout
    (tf-keras' ``implementation=1``; ``implementation`` is accepted for its configs, 1 only).
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
