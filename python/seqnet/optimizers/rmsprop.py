"""RMSprop: divides the gradient by a running root mean square of recent gradients."""
import numpy as np

from seqnet import _engine
from seqnet.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """a = rho * a + (1 - rho) * g^2;  w -= lr * g / (sqrt(a) + epsilon)   (Keras 2.2.4).

    ``momentum`` and ``centered`` (later additions) follow tf_keras.optimizers.legacy:
    with momentum, epsilon moves inside the square root.
    """

    def __init__(self, lr=0.001, rho=0.9, epsilon=None, decay=0.0, momentum=0.0, centered=False, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"RMSprop: rho must be in [0, 1], got {rho!r}")
        if momentum < 0:
            raise ValueError(f"RMSprop: momentum must be non-negative, got {momentum!r}")
        self.rho = float(rho)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)
        self.momentum = float(momentum)
        self.centered = bool(centered)

    def _create_slots(self, size):
        self.accumulators = np.zeros(size, dtype=np.float32)
        self.moments = np.zeros(size, dtype=np.float32) if self.momentum > 0 else None
        self.mean_grads = np.zeros(size, dtype=np.float32) if self.centered else None

    def _slot_buffers(self):
        return [(name, buf) for name, buf in (("rms", self.accumulators), ("momentum", self.moments),
                                              ("mg", self.mean_grads)) if buf is not None]

    def _update(self, params, grads, lr):
        _engine.rmsprop_update(params, grads, self.accumulators, self.moments, self.mean_grads, lr, self.rho,
                               self.momentum, self.epsilon)

    def get_config(self):
        """Keras 2.2.4's keys: lr, rho, decay, epsilon (and clipnorm / clipvalue when set);
        ``momentum`` and ``centered``, which Keras 2.2.4 lacks, only when not their defaults."""
        config = super().get_config()
        config.update(lr=self._lr_value(), rho=self.rho, decay=self._decay_value(), epsilon=self.epsilon)
        if self.momentum != 0.0:
            config["momentum"] = self.momentum
        if self.centered:
            config["centered"] = True
        return config
