"""LearningRateScheduler: set the learning rate at the start of every epoch from a schedule."""
import inspect
import numbers

import seqnet.backend as K
from seqnet.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """At the start of each epoch sets the optimizer's ``lr`` to ``schedule(epoch, lr)`` (lr
    being the current rate) or, for a one-argument schedule, ``schedule(epoch)``; epochs
    count from 0 (Keras 2.2.4). At the end of each epoch it puts the rate the epoch ran
    with into the epoch logs as ``'lr'``, so ``history.history['lr']`` records it."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        """Sets the optimizer's lr from the schedule for this epoch."""
        if not hasattr(self.model.optimizer, "lr"):
            raise ValueError('Optimizer must have a "lr" attribute.')
        lr = float(K.get_value(self.model.optimizer.lr))
        if self._takes_lr is None:  # signature unknown: try the new API, then the old (as Keras)
            try:
                lr = self.schedule(epoch, lr)
            except TypeError:
                lr = self.schedule(epoch)
        else:
            lr = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
            raise ValueError('The output of the "schedule" function should be float; LearningRateScheduler got '
                             f"{lr!r} for epoch {epoch}")
        K.set_value(self.model.optimizer.lr, float(lr))
        if self.verbose > 0:
            print("\nEpoch %05d: LearningRateScheduler setting learning rate to %s." % (epoch + 1, lr))

    def on_epoch_end(self, epoch, logs=None):
        """Records the epoch's learning rate in the logs as 'lr'."""
        # Keras 2.2.4 stores K.get_value(lr), a float32; a Python float of the same value
        # keeps the logs JSON-serialisable.
        if logs is not None:
            logs["lr"] = float(K.get_value(self.model.optimizer.lr))


def _accepts_two_arguments(fn):
    """Whether ``fn`` can be called with two positional arguments; None if it cannot be told."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.0)
        return True
    except TypeError:
        return False
