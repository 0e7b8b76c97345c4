"""SGD: stochastic gradient descent with momentum and Nesterov momentum."""
import numpy as np

from seqnet import _engine
from seqnet.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """v = momentum * v - lr * g;  w += v  (or, with nesterov, w += momentum * v - lr * g)."""

    def __init__(self, lr=0.01, momentum=0.0, decay=0.0, nesterov=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or momentum < 0:
            raise ValueError(f"SGD: momentum must be a non-negative number, got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _create_slots(self, size):
        self.moments = np.zeros(size, dtype=np.float32) if self.momentum > 0 else None

    def _slot_buffers(self):
        return [] if self.moments is None else [("momentum", self.moments)]

    def _update(self, params, grads, lr):
        _engine.sgd_update(params, grads, self.moments, lr, self.momentum, self.nesterov)

    def get_config(self):
        """Keras 2.2.4's keys: lr, momentum, decay, nesterov (and clipnorm / clipvalue when set)."""
        config = super().get_config()
        config.update(lr=self._lr_value(), momentum=self.momentum, decay=self._decay_value(),
                      nesterov=self.nesterov)
        return config
