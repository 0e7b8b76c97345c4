"""LocallyConnected1D: a 1-D convolution with unshared weights, kernel (new_steps, kernel_size * input_dim, filters)."""
from seqnet.layers.local.base_local import LocallyConnected


class LocallyConnected1D(LocallyConnected):
    """Locally-connected layer for 1-D inputs (Keras 2.2.4's ``LocallyConnected1D``): like
    ``Conv1D`` but with a different set of filters at each output step.

    Arguments: ``filters``, ``kernel_size`` and ``strides`` (an int or a tuple of one),
    ``padding`` ('valid' only), ``data_format``, ``activation``, ``use_bias``, and the
    kernel/bias initializers, regularizers and constraints and ``activity_regularizer``.
    Input ``(batch, steps, input_dim)`` with fully defined steps and input_dim; output
    ``(batch, new_steps, filters)``. Weights: kernel ``(new_steps, kernel_size * input_dim,
    filters)`` and bias ``(new_steps, filters)``, Keras' layout (tf-keras' ``implementation=1``).

    Differences: ``data_format='channels_first'`` (input ``(batch, input_dim, steps)``) works
    as in tf-keras, where Keras 2.2.4 ignores the argument for this layer; ``implementation``
    is accepted for tf-keras configs, 1 only.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, **kwargs)
