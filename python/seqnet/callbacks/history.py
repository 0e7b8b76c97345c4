"""History, BaseLogger and ProgbarLogger: the callbacks every fit uses."""
from seqnet.callbacks.callback import Callback
from seqnet.utils.generic_utils import Progbar


def metric_alias(key):
    """The other era's spelling of a metric key: acc <-> accuracy, val_acc <-> val_accuracy."""
    prefix = "val_" if key.startswith("val_") else ""
    base = key[len(prefix):]
    other = {"acc": "accuracy", "accuracy": "acc"}.get(base)
    return prefix + other if other else None


class MetricsDict(dict):
    """A dict of metric values in which `acc` finds `accuracy` and the reverse (both eras)."""

    def __missing__(self, key):
        alias = metric_alias(key) if isinstance(key, str) else None
        if alias is not None and dict.__contains__(self, alias):
            return dict.__getitem__(self, alias)
        raise KeyError(key)

    def __contains__(self, key):
        if dict.__contains__(self, key):
            return True
        alias = metric_alias(key) if isinstance(key, str) else None
        return alias is not None and dict.__contains__(self, alias)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = MetricsDict()

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = MetricsDict()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class BaseLogger(Callback):
    """Averages the per-batch metrics over an epoch (weighted by batch size) into the epoch logs."""

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or ())

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        for k, v in logs.items():
            if k in ("batch", "size"):
                continue
            if k in self.stateful_metrics:
                self.totals[k] = v
            else:
                self.totals[k] = self.totals.get(k, 0.0) + v * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for k in self.params.get("metrics", ()):
            if k in self.totals and k not in logs:
                logs[k] = self.totals[k] if k in self.stateful_metrics else self.totals[k] / max(self.seen, 1)


class ProgbarLogger(Callback):
    """Prints 'Epoch i/n' and a progress bar (verbose=1) or one line per epoch (verbose=2)."""

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(f"ProgbarLogger: count_mode must be 'samples' or 'steps', got {count_mode!r}")
        self.use_steps = count_mode == "steps"
        self.stateful_metrics = set(stateful_metrics or ())

    def on_train_begin(self, logs=None):
        self.verbose = self.params.get("verbose", 1)
        self.epochs = self.params.get("epochs", 1)

    def on_epoch_begin(self, epoch, logs=None):
        if not self.verbose:
            return
        print("Epoch %d/%d" % (epoch + 1, self.epochs), flush=True)
        self.target = self.params.get("steps") if self.use_steps else self.params.get("samples")
        if self.target is None:
            self.target = self.params.get("steps")
        self.progbar = Progbar(self.target, verbose=self.verbose, stateful_metrics=self.stateful_metrics)
        self.seen = 0

    def on_batch_end(self, batch, logs=None):
        if not self.verbose:
            return
        logs = logs or {}
        self.seen += 1 if self.use_steps or self.params.get("samples") is None else logs.get("size", 0)
        if self.target is None or self.seen < self.target:
            self.progbar.update(self.seen, [(k, logs[k]) for k in self.params["metrics"] if k in logs])

    def on_epoch_end(self, epoch, logs=None):
        if not self.verbose:
            return
        # The final line shows the epoch's averages (as recorded in History) and validation values.
        for k in self.params["metrics"]:
            if k in (logs or {}):
                self.progbar.set_value(k, logs[k])
        self.progbar.update(self.seen, finalize=True)
