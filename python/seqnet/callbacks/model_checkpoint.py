"""ModelCheckpoint: save the model (or its weights) during training."""
import numbers
import warnings

import numpy as np

from seqnet.callbacks.callback import Callback
from seqnet.callbacks.history import metric_alias
from seqnet.callbacks.monitoring import checked_mode, higher_is_better, monitored_value


class ModelCheckpoint(Callback):
    """Saves the model after every ``period`` epochs (Keras 2.2.4), or every ``save_freq``
    batches when that is an integer (tf-keras).

    ``filepath`` may contain ``{epoch:02d}`` (1-based) and any log value, e.g.
    ``weights.{epoch:02d}-{val_loss:.2f}.hdf5``; ``{val_acc}`` and ``{val_accuracy}`` both
    resolve; with an integer ``save_freq``, ``{batch}`` is the 1-based batch of the epoch (as
    tf-keras). With ``save_best_only`` a file is written only when ``monitor`` improves
    (``mode``: 'min', 'max', or 'auto' = max for accuracies), and, given
    ``initial_value_threshold`` (tf-keras), only once it beats that value. Files are written
    to a temporary name and renamed, so an interrupted save never leaves a broken checkpoint
    behind. ``options`` (tf-keras' TensorFlow save options) must be None: seqnet writes HDF5.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", period=1, save_freq="epoch", options=None, initial_value_threshold=None):
        super().__init__()
        if options is not None:
            raise ValueError("ModelCheckpoint: options must be None (they are TensorFlow save options; seqnet "
                             f"writes HDF5 files), got {options!r}")
        if initial_value_threshold is not None and (isinstance(initial_value_threshold, bool) or
                                                    not isinstance(initial_value_threshold, numbers.Real)):
            raise ValueError("ModelCheckpoint: initial_value_threshold must be a number or None, got "
                             f"{initial_value_threshold!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive integer, got {save_freq!r}")
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"ModelCheckpoint: period must be a positive integer, got {period!r}")
        self.filepath = str(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.period = period
        self.save_freq = save_freq
        mode = checked_mode(mode, "ModelCheckpoint mode %s is unknown, fallback to auto mode.")
        if higher_is_better(mode, monitor, fmeasure=True):
            self.monitor_op, self.best = np.greater, -np.inf
        else:
            self.monitor_op, self.best = np.less, np.inf
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        self.epochs_since_last_save = 0
        self._batches_seen = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, logs or {}, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq != "epoch":
            return
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save(epoch, logs or {})

    def _save(self, epoch, logs, batch=None):
        filepath = self._format(epoch, logs, batch)
        if self.save_best_only:
            current = monitored_value(logs, self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", RuntimeWarning,
                              stacklevel=3)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print("\nEpoch %05d: %s did not improve from %0.5f" % (epoch + 1, self.monitor, self.best))
                return
            if self.verbose > 0:
                print("\nEpoch %05d: %s improved from %0.5f to %0.5f, saving model to %s"
                      % (epoch + 1, self.monitor, self.best, current, filepath))
            self.best = current
        elif self.verbose > 0:
            print("\nEpoch %05d: saving model to %s" % (epoch + 1, filepath))
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _format(self, epoch, logs, batch):
        values = dict(logs)
        for key in list(logs):  # both spellings of accuracy resolve in the file name
            alias = metric_alias(key)
            if alias is not None and alias not in values:
                values[alias] = logs[key]
        values.pop("epoch", None)
        values.pop("batch", None)
        if batch is not None:  # tf-keras: the batch of the epoch, counted from 1 as epochs are
            values["batch"] = batch + 1
        try:
            return self.filepath.format(epoch=epoch + 1, **values)
        except KeyError as exc:
            raise KeyError(f"ModelCheckpoint: failed to format filepath {self.filepath!r}: the logs have no "
                           f"{exc.args[0]!r} (available: {sorted(values)})") from None
