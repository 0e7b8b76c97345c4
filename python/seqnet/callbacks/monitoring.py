"""What the monitoring callbacks share: finding the monitored value in the logs (either
spelling of accuracy) and deciding whether larger or smaller is better."""
import warnings

from seqnet.callbacks.history import metric_alias


def monitored_value(logs, monitor):
    """The value of ``monitor`` in ``logs``, also under its other spelling (``val_acc`` finds
    ``val_accuracy`` and the reverse); None when neither is there."""
    logs = logs or {}
    if monitor in logs:
        return logs[monitor]
    alias = metric_alias(monitor)
    return logs.get(alias) if alias is not None else None


def warn_missing(what, monitor, logs):
    """Keras' RuntimeWarning for a monitored quantity that the logs lack."""
    warnings.warn("%s conditioned on metric `%s` which is not available. Available metrics are: %s"
                  % (what, monitor, ",".join(list((logs or {}).keys()))), RuntimeWarning, stacklevel=3)


def checked_mode(mode, unknown_message):
    """``mode`` if it is auto/min/max; otherwise Keras' RuntimeWarning and 'auto'."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(unknown_message % mode, RuntimeWarning, stacklevel=3)
        return "auto"
    return mode


def higher_is_better(mode, monitor, fmeasure=False):
    """True when the monitored quantity improves upward: mode 'max', or 'auto' with an accuracy
    (a name containing 'acc', which covers 'accuracy') or, with ``fmeasure`` (Keras 2.2.4's
    ModelCheckpoint only; its EarlyStopping and ReduceLROnPlateau minimise it), an f-measure."""
    if mode == "auto":
        return "acc" in monitor or (fmeasure and monitor.startswith("fmeasure"))
    return mode == "max"
