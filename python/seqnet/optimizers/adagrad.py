"""Adagrad: per-parameter learning rates scaled by the root of all past squared gradients."""
import numpy as np

from seqnet import _engine
from seqnet.optimizers.optimizer import Optimizer, check_epsilon, check_range


class Adagrad(Optimizer):
    """a += g^2;  w -= lr * g / (sqrt(a) + epsilon)   (Keras 2.2.4).

    Keras 2.2.4 defaults: lr 0.01, accumulators starting at 0, epsilon 1e-7. tf-keras
    changed them to lr 0.001 and ``initial_accumulator_value=0.1``; that argument is
    accepted with tf-keras' meaning, so ``Adagrad(lr=0.001, initial_accumulator_value=0.1)``
    trains as tf-keras does.
    """

    def __init__(self, lr=0.01, epsilon=None, decay=0.0, initial_accumulator_value=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.epsilon = check_epsilon("Adagrad", epsilon)
        self.initial_accumulator_value = check_range("Adagrad", "initial_accumulator_value",
                                                     initial_accumulator_value, 0.0, float("inf"))

    def _create_slots(self, size):
        self.accumulators = np.full(size, self.initial_accumulator_value, dtype=np.float32)

    def _slot_buffers(self):
        return [("accumulator", self.accumulators)]

    def _update(self, params, grads, lr):
        _engine.adagrad_update(params, grads, self.accumulators, lr, self.epsilon)

    def get_config(self):
        """Keras 2.2.4's keys: lr, decay, epsilon (and clipnorm / clipvalue when set);
        ``initial_accumulator_value`` (tf-keras') only when not 0."""
        config = super().get_config()
        config.update(lr=self._lr_value(), decay=self._decay_value(), epsilon=self.epsilon)
        if self.initial_accumulator_value != 0.0:
            config["initial_accumulator_value"] = self.initial_accumulator_value
        return config
