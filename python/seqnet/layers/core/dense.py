"""Dense: the fully connected layer, y = activation(x @ kernel + bias), on the last axis."""
import numbers

from seqnet import _engine, activations, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.core.activation import CallableActivation

_LINEAR, _SOFTMAX, _SIGMOID = _engine.Activation.linear, _engine.Activation.softmax, _engine.Activation.sigmoid


class Dense(Layer):
    # An Activation layer right after it in a plain chain runs in its kernels (engine/network.py).
    _activation_fusable = True
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        code = activations.engine_code(self.activation)
        # A user's activation runs after a linear kernel, differentiated by seqnet.backend.
        self._custom = None if code is not None else CallableActivation(self.activation)
        self._act = _LINEAR if code is None else code
        # swish, gelu: their gradient needs the pre-activation
        self._keep_z = _engine.activation_backward_needs_input(self._act) or self._act in (_SOFTMAX, _SIGMOID)
        self.output_activation = {_SOFTMAX: "softmax", _SIGMOID: "sigmoid"}.get(self._act)

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}': the last axis of the input must be defined, got {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training):
        shape = x.shape[:-1] + (self.units,)
        y = self._workspace("y", shape)
        z = self._workspace("z", shape) if self._keep_z else None
        _engine.dense_forward(x, self.kernel.value, self.bias.value if self.bias is not None else None,
                              z, y, self._act)
        self._x, self._y, self.logits = x, y, z
        if self._custom is not None:
            return self._custom.forward(y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._custom is not None:
            dy = self._custom.backward(dy)
        dx = self._workspace("dx", self._x.shape) if need_dx else None
        _engine.dense_backward(self._x, self.kernel.value, self.logits, self._y, dy, dx, self.kernel.grad,
                               self.bias.grad if self.bias is not None else None, self._act,
                               dy_is_preactivation)
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.config_name(self.activation),
                      use_bias=self.use_bias, **self._weight_options_config("kernel", "bias"))
        return config
