"""Nadam: Adam with Nesterov momentum and a warming momentum schedule (Dozat, 2015)."""
import numpy as np

from seqnet import _engine
from seqnet import backend as K
from seqnet.optimizers.optimizer import Optimizer, check_epsilon, check_range


class Nadam(Optimizer):
    """Keras 2.2.4's update. The momentum schedule ``mu_t`` warms up over the steps and
    ``m_schedule`` (the product mu_1 ... mu_t, starting at 1) is kept as state::

        t = iterations + 1
        mu_t = beta_1 * (1 - 0.5 * 0.96^(t * schedule_decay))
        mu_t1 = beta_1 * (1 - 0.5 * 0.96^((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * mu_t;  m_schedule_next = m_schedule_new * mu_t1
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_bar = (1 - mu_t) * g / (1 - m_schedule_new) + mu_t1 * m / (1 - m_schedule_next)
        w -= lr * m_bar / (sqrt(v / (1 - beta_2^t)) + epsilon)
        m_schedule = m_schedule_new

    Keras 2.2.4 defaults: lr 0.002 (tf-keras: 0.001), beta_1 0.9, beta_2 0.999,
    schedule_decay 0.004, epsilon 1e-7. Keras 2.2.4's Nadam had no ``decay``; here
    ``decay`` is the time-based learning-rate decay of every optimizer (default 0, the
    2.2.4 update). tf_keras.optimizers.legacy.Nadam ignores a ``decay`` argument and
    reports schedule_decay under that name in its config.
    """

    def __init__(self, lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, schedule_decay=0.004, decay=0.0, **kwargs):
        super().__init__(lr, decay=decay, **kwargs)
        self.beta_1 = check_range("Nadam", "beta_1", beta_1, 0.0, 1.0, high_inclusive=False)
        self.beta_2 = check_range("Nadam", "beta_2", beta_2, 0.0, 1.0, high_inclusive=False)
        self.epsilon = check_epsilon("Nadam", epsilon)
        self.schedule_decay = check_range("Nadam", "schedule_decay", schedule_decay, 0.0, float("inf"))
        self.m_schedule = 1.0

    def _create_slots(self, size):
        self.m = np.zeros(size, dtype=np.float32)
        self.v = np.zeros(size, dtype=np.float32)

    def _slot_buffers(self):
        return [("m", self.m), ("v", self.v)]

    def _scalar_state(self):
        # tf_keras.optimizers.legacy.Nadam's momentum_cache is this running product.
        return [("momentum_cache", self.m_schedule)]

    def _set_scalar_state(self, values):
        self.m_schedule = values[0]

    def _update(self, params, grads, lr):
        t = int(K.get_value(self.iterations)) + 1
        mu_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.schedule_decay))
        mu_t1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * self.schedule_decay))
        m_schedule_new = self.m_schedule * mu_t
        m_schedule_next = m_schedule_new * mu_t1
        _engine.nadam_update(params, grads, self.m, self.v, lr, self.beta_1, self.beta_2, self.epsilon,
                             (1.0 - mu_t) / (1.0 - m_schedule_new), mu_t1 / (1.0 - m_schedule_next),
                             1.0 - self.beta_2 ** t)
        self.m_schedule = m_schedule_new

    def get_config(self):
        """Keras 2.2.4's keys: lr, beta_1, beta_2, epsilon, schedule_decay (and clipnorm /
        clipvalue when set); ``decay``, which Keras 2.2.4's Nadam lacks, only when not 0."""
        config = super().get_config()
        config.update(lr=self._lr_value(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      schedule_decay=self.schedule_decay)
        if self._decay_value() != 0.0:
            config["decay"] = self._decay_value()
        return config
