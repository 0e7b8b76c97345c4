"""Activation: applies an activation function to its input."""
import numpy as np

from seqnet import _engine, activations
from seqnet.engine.base_layer import Layer


class Activation(Layer):
    # Runs inside a linear Dense / Conv1D / Conv2D right before it in a plain chain (engine/network.py).
    _fusable_into_previous = True
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._code = activations.engine_code(self.activation)
        self._custom = None if self._code is not None else CallableActivation(self.activation)
        self.output_activation = {_engine.Activation.softmax: "softmax",
                                  _engine.Activation.sigmoid: "sigmoid"}.get(self._code)

    def forward(self, x, training):
        if self._custom is not None:
            return self._custom.forward(x)
        y = self._workspace("y", x.shape)
        _engine.activation_forward(self._code, x, y)
        self._x, self._y, self.logits = x, y, x
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if self._custom is not None:
            return self._custom.backward(dy)
        if dy_is_preactivation or self._code == _engine.Activation.linear:
            return dy
        _engine.activation_backward(self._code, self._x if _engine.activation_backward_needs_input(self._code)
                                    else None, self._y, dy, dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["activation"] = getattr(self.activation, "__name__", repr(self.activation))
        return config


class CallableActivation:
    """A user's activation function, differentiated with seqnet.backend's tape."""

    def __init__(self, fn):
        self.fn = fn

    def forward(self, x):
        from seqnet.backend import vjp
        value, self._pullback = vjp(lambda _, t: self.fn(t), None, x)
        return np.ascontiguousarray(value, dtype=np.float32)

    def backward(self, dy):
        return np.ascontiguousarray(self._pullback(dy), dtype=np.float32)
