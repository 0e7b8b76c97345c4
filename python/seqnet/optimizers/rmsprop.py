"""RMSprop: divides the gradient by a running root mean square of recent gradients."""
import math

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
        # Tables updated row by row (_update_rows): (offset, rows, dim) -> the step number each
        # row's accumulators are current at; _lazy_step counts the steps of that run.
        self._lazy, self._lazy_step = {}, 0

    def _slot_buffers(self):
        self._catch_up()  # whoever reads or writes the slots sees the dense update's values
        return [(name, buf) for name, buf in (("rms", self.accumulators), ("momentum", self.moments),
                                              ("mg", self.mean_grads)) if buf is not None]

    def _update(self, params, grads, lr):
        self._catch_up()
        _engine.rmsprop_update(params, grads, self.accumulators, self.moments, self.mean_grads, lr, self.rho,
                               self.momentum, self.epsilon)

    def _update_rows(self, params, grads, lr, sparse_rows):
        """Plain RMSprop only: a row whose gradient is zero keeps its parameters (epsilon > 0,
        finite lr) and its accumulator goes to rho * a, so a table's untouched rows wait, and
        take those decays when next touched or when the slots are read (_catch_up): the bits
        of the dense update, without its pass over the whole table every step."""
        if self.moments is not None or self.mean_grads is not None or not self.epsilon > 0 or not math.isfinite(lr):
            return False
        tables = sorted(sparse_rows)
        keys = {(offset, rows, dim) for offset, rows, dim, _ in tables}
        for key in [k for k in self._lazy if k not in keys]:
            self._catch_up(key)  # a table no longer updated row by row: current, then dense again
            del self._lazy[key]
        self._lazy_step += 1
        step, acc, start = self._lazy_step, self.accumulators, 0
        for offset, rows, dim, ids in tables:
            if offset > start:
                self._dense(params, grads, lr, start, offset)
            end = offset + rows * dim
            last = self._lazy.get((offset, rows, dim))
            if last is None:  # every row current up to the step before
                last = self._lazy[(offset, rows, dim)] = np.full(rows, step - 1, dtype=np.int64)
            _engine.rmsprop_update_rows(params[offset:end].reshape(rows, dim), grads[offset:end].reshape(rows, dim),
                                        acc[offset:end].reshape(rows, dim), ids, step - 1 - last[ids], lr,
                                        self.rho, self.epsilon)
            last[ids] = step
            start = end
        if start < params.size:
            self._dense(params, grads, lr, start, params.size)
        return True

    def _dense(self, params, grads, lr, start, end):
        _engine.rmsprop_update(params[start:end], grads[start:end], self.accumulators[start:end], None, None, lr,
                               self.rho, 0.0, self.epsilon)

    def _catch_up(self, only=None):
        """Brings the rows _update_rows left waiting up to the current step (of table `only`, or
        of all); with every table current, later dense updates need nothing more."""
        lazy = getattr(self, "_lazy", None)
        if not lazy:
            return
        for key in [only] if only is not None else list(lazy):
            (offset, rows, dim), last = key, lazy[key]
            behind = np.flatnonzero(last < self._lazy_step)
            if behind.size:
                acc = self.accumulators[offset:offset + rows * dim].reshape(rows, dim)
                _engine.rmsprop_decay_rows(acc, behind, self._lazy_step - last[behind], self.rho)
                last[behind] = self._lazy_step
        if only is None:
            lazy.clear()

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
