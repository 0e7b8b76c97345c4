"""Adam: momentum on the gradient, scaled by a running root mean square (Kingma & Ba, 2014)."""
import math

import numpy as np

from seqnet import _engine
from seqnet import backend as K
from seqnet.optimizers.optimizer import Optimizer, check_epsilon, check_range


class Adam(Optimizer):
    """Keras 2.2.4's update, with the bias corrections folded into the step size::

        t = iterations + 1
        lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        w -= lr_t * m / (sqrt(v) + epsilon)

    With ``amsgrad=True`` the denominator uses ``vhat = max(vhat, v)``, the largest ``v``
    seen so far. Defaults: lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    """

    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.beta_1 = check_range("Adam", "beta_1", beta_1, 0.0, 1.0, high_inclusive=False)
        self.beta_2 = check_range("Adam", "beta_2", beta_2, 0.0, 1.0, high_inclusive=False)
        self.epsilon = check_epsilon("Adam", epsilon)
        self.amsgrad = bool(amsgrad)

    def _create_slots(self, size):
        self.m = np.zeros(size, dtype=np.float32)
        self.v = np.zeros(size, dtype=np.float32)
        self.vhat = np.zeros(size, dtype=np.float32) if self.amsgrad else None

    def _slot_buffers(self):
        return [("m", self.m), ("v", self.v)] + ([("vhat", self.vhat)] if self.vhat is not None else [])

    def _update(self, params, grads, lr):
        t = int(K.get_value(self.iterations)) + 1
        lr_t = lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        _engine.adam_update(params, grads, self.m, self.v, self.vhat, lr_t, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        """Keras 2.2.4's keys: lr, beta_1, beta_2, decay, epsilon, amsgrad (and clipnorm /
        clipvalue when set)."""
        config = super().get_config()
        config.update(lr=self._lr_value(), beta_1=self.beta_1, beta_2=self.beta_2, decay=self._decay_value(),
                      epsilon=self.epsilon, amsgrad=self.amsgrad)
        return config
