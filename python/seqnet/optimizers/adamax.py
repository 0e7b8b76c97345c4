"""Adamax: Adam with the infinity norm in place of the root mean square (Kingma & Ba, 2014, sec. 7)."""
import numpy as np

from seqnet import _engine
from seqnet import backend as K
from seqnet.optimizers.optimizer import Optimizer, check_epsilon, check_range


class Adamax(Optimizer):
    """Keras 2.2.4's update::

        t = iterations + 1
        lr_t = lr / (1 - beta_1^t)
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w -= lr_t * m / (u + epsilon)

    Keras 2.2.4 defaults: lr 0.002 (tf-keras: 0.001), beta_1 0.9, beta_2 0.999, epsilon 1e-7.
    """

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.beta_1 = check_range("Adamax", "beta_1", beta_1, 0.0, 1.0, high_inclusive=False)
        self.beta_2 = check_range("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = check_epsilon("Adamax", epsilon)

    def _create_slots(self, size):
        self.m = np.zeros(size, dtype=np.float32)
        self.u = np.zeros(size, dtype=np.float32)

    def _slot_buffers(self):
        return [("m", self.m), ("v", self.u)]

    def _update(self, params, grads, lr):
        t = int(K.get_value(self.iterations)) + 1
        lr_t = lr / (1.0 - self.beta_1 ** t)
        _engine.adamax_update(params, grads, self.m, self.u, lr_t, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        """Keras 2.2.4's keys: lr, beta_1, beta_2, decay, epsilon (and clipnorm / clipvalue
        when set)."""
        config = super().get_config()
        config.update(lr=self._lr_value(), beta_1=self.beta_1, beta_2=self.beta_2, decay=self._decay_value(),
                      epsilon=self.epsilon)
        return config
