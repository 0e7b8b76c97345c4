"""EarlyStopping: stop training when a monitored quantity has stopped improving."""
import numbers

import numpy as np

from seqnet.callbacks.callback import Callback
from seqnet.callbacks.monitoring import checked_mode, higher_is_better, monitored_value, warn_missing


class EarlyStopping(Callback):
    """Stops training after ``patience`` epochs without an improvement of more than
    ``min_delta`` in ``monitor`` (Keras 2.2.4).

    ``baseline`` is the value to beat: training stops if the monitored quantity does not
    improve on it within ``patience`` epochs. With ``restore_best_weights`` the model gets
    back the weights of its best epoch when training is stopped (if no epoch beat the
    baseline, there is no best epoch and the weights are left as they are); a fit that runs
    all its epochs keeps its last weights (Keras 2.2.4; tf-keras restores them then too).
    ``start_from_epoch`` (tf-keras) ignores the epochs before it (a warm-up).

    Where seqnet differs from tf-keras: as Keras 2.2.4, the sign of ``min_delta`` is kept, so
    a negative ``min_delta`` lets a change up to ``|min_delta|`` in the wrong direction count
    as an improvement (tf-keras takes its absolute value).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if isinstance(start_from_epoch, bool) or not isinstance(start_from_epoch, numbers.Integral) \
                or start_from_epoch < 0:
            raise ValueError("EarlyStopping: start_from_epoch must be an integer >= 0, got "
                             f"{start_from_epoch!r}")
        self.monitor = monitor
        self.baseline = baseline
        self.patience = patience
        self.verbose = verbose
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        mode = checked_mode(mode, "EarlyStopping mode %s is unknown, fallback to auto mode.")
        self.monitor_op = np.greater if higher_is_better(mode, monitor) else np.less
        # Keras 2.2.4: min_delta counts in the direction of "better", its sign kept.
        self.min_delta = min_delta if self.monitor_op is np.greater else -min_delta
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        # Reset, so that one instance can serve several fits.
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = np.inf if self.monitor_op is np.less else -np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.monitor_op(current - self.min_delta, self.best):
            self.best = current
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print("Restoring model weights from the end of the best epoch")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print("Epoch %05d: early stopping" % (self.stopped_epoch + 1))

    def get_monitor_value(self, logs):
        value = monitored_value(logs, self.monitor)
        if value is None:
            warn_missing("Early stopping", self.monitor, logs)
        return value
