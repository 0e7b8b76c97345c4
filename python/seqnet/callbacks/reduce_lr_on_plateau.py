"""ReduceLROnPlateau: lower the learning rate when a monitored quantity has stopped improving."""
import warnings

import numpy as np

import seqnet.backend as K
from seqnet.callbacks.callback import Callback
from seqnet.callbacks.monitoring import checked_mode, higher_is_better, monitored_value, warn_missing


class ReduceLROnPlateau(Callback):
    """Multiplies the optimizer's ``lr`` by ``factor`` after ``patience`` epochs without an
    improvement of more than ``min_delta``, never below ``min_lr``; after a reduction it waits
    ``cooldown`` epochs before counting again (Keras 2.2.4). Adds the current ``lr`` to the
    epoch logs. ``epsilon=`` is the deprecated name of ``min_delta``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                          stacklevel=2)
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unexpected keyword argument(s) {sorted(kwargs)}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got factor={factor!r}")
        self.monitor = monitor
        self.factor = factor
        self.min_lr = min_lr
        self.min_delta = min_delta
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.mode = checked_mode(mode, "Learning Rate Plateau Reducing mode %s is unknown, fallback to auto mode.")
        self._reset()

    def _reset(self):
        """Resets the best value and the wait and cooldown counters."""
        if higher_is_better(self.mode, self.monitor):
            self.monitor_op = lambda a, b: np.greater(a, b + self.min_delta)
            self.best = -np.inf
        else:
            self.monitor_op = lambda a, b: np.less(a, b - self.min_delta)
            self.best = np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        """Starts every fit afresh: no best value, no waiting, no cooldown."""
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        """Records the epoch's lr in the logs, then reduces it after ``patience`` epochs
        without improvement."""
        # As Keras 2.2.4: the rate this epoch ran with goes into the logs (History records
        # it) before any reduction, even when the monitored quantity is missing.
        logs = logs if logs is not None else {}
        logs["lr"] = float(K.get_value(self.model.optimizer.lr))
        current = monitored_value(logs, self.monitor)
        if current is None:
            warn_missing("Reduce LR on plateau", self.monitor, logs)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(K.get_value(self.model.optimizer.lr))
                # The variable is float32: compare in float32, or a rate held at min_lr would
                # look above it and be 'reduced' to min_lr again every time (as tf-keras).
                if np.float32(old_lr) > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    K.set_value(self.model.optimizer.lr, new_lr)
                    if self.verbose > 0:
                        print("\nEpoch %05d: ReduceLROnPlateau reducing learning rate to %s." % (epoch + 1, new_lr))
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        """Whether the callback is waiting out its cooldown after a reduction."""
        return self.cooldown_counter > 0
