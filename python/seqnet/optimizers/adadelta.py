"""Adadelta: Adagrad's step size without a global learning rate to tune (Zeiler, 2012)."""
import numpy as np

from seqnet import _engine
from seqnet.optimizers.optimizer import Optimizer, check_epsilon, check_range


class Adadelta(Optimizer):
    """Keras 2.2.4's update, with ``a`` and ``d`` starting at 0::

        a = rho * a + (1 - rho) * g^2
        u = g * sqrt(d + epsilon) / sqrt(a + epsilon)
        w -= lr * u
        d = rho * d + (1 - rho) * u^2

    Keras 2.2.4 defaults: lr 1.0 (the paper's rule; tf-keras uses 0.001), rho 0.95,
    epsilon 1e-7.
    """

    def __init__(self, lr=1.0, rho=0.95, epsilon=None, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.rho = check_range("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = check_epsilon("Adadelta", epsilon)

    def _create_slots(self, size):
        self.accumulators = np.zeros(size, dtype=np.float32)
        self.delta_accumulators = np.zeros(size, dtype=np.float32)

    def _slot_buffers(self):
        return [("accum_grad", self.accumulators), ("accum_var", self.delta_accumulators)]

    def _update(self, params, grads, lr):
        _engine.adadelta_update(params, grads, self.accumulators, self.delta_accumulators, lr, self.rho, self.epsilon)

    def get_config(self):
        """Keras 2.2.4's keys: lr, rho, decay, epsilon (and clipnorm / clipvalue when set)."""
        config = super().get_config()
        config.update(lr=self._lr_value(), rho=self.rho, decay=self._decay_value(), epsilon=self.epsilon)
        return config
