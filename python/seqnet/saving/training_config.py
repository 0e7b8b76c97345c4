"""What compile() was given, as Keras 2's `training_config`, and back.

Written as Keras 2.2.4 wrote it (names of losses and metrics, the optimizer's
{class_name, config}); read from that and from tf-keras 2.x, whose metric entries are
MeanMetricWrapper dicts nested per output and whose newer optimizers carry extra keys.
Functions are found by name in seqnet or in ``custom_objects``, never imported.
"""
import re

from seqnet import losses, metrics as metrics_module, optimizers
from seqnet.saving.errors import SavingError

# tf-keras' newer optimizers add these keys: some change nothing in seqnet, the others
# must hold their neutral value (seqnet lacks the feature).
_IGNORED_OPTIMIZER_KEYS = ("ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer")
_NEUTRAL_OPTIMIZER_KEYS = {"weight_decay": (None, 0, 0.0), "global_clipnorm": (None,), "use_ema": (None, False)}


def training_config(model):
    """The model's compile arguments as a JSON-able dict."""
    metric_ids = getattr(model, "_metric_ids", [])
    plain = [_function_name(m) for m, weighted in metric_ids if not weighted]
    weighted = [_function_name(m) for m, weighted in metric_ids if weighted]
    return {"optimizer_config": optimizers.serialize(model.optimizer),
            "loss": _function_name(model.loss),
            "metrics": plain,
            "weighted_metrics": weighted or None,
            "sample_weight_mode": getattr(model, "sample_weight_mode", None),
            "loss_weights": getattr(model, "loss_weights", None)}


def compile_from_config(model, config, custom_objects=None):
    """Compiles `model` as `config` (a training_config) says."""
    if not isinstance(config, dict):
        raise SavingError(f"training_config must be a dict, got {type(config).__name__}")
    optimizer = optimizer_from_config(config.get("optimizer_config"))
    loss = _loss(config.get("loss"), custom_objects)
    metrics = [_metric(m, custom_objects) for m in _flatten(config.get("metrics"))]
    weighted = [_metric(m, custom_objects) for m in _flatten(config.get("weighted_metrics"))]
    loss_weights = config.get("loss_weights")
    try:
        model.compile(optimizer, loss=loss, metrics=metrics or None, weighted_metrics=weighted or None,
                      loss_weights=loss_weights if isinstance(loss_weights, (list, tuple, dict)) else None,
                      sample_weight_mode=config.get("sample_weight_mode"))
    except (TypeError, ValueError) as err:
        raise SavingError(f"training_config: cannot compile the model: {err}") from None


def optimizer_from_config(config):
    """A seqnet optimizer from Keras' {"class_name": ..., "config": {...}} (Keras 2.2.4,
    tf_keras.optimizers.legacy, or tf-keras' newer optimizers with default extras)."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise SavingError(f"training_config: optimizer_config must be a dict with a 'class_name', "
                          f"got {config!r}")
    class_name = config["class_name"].split(">")[-1]  # tf-keras writes "Custom>Adam" for its new optimizers
    kwargs = config.get("config") or {}
    if not isinstance(kwargs, dict):
        raise SavingError(f"optimizer {class_name}: 'config' must be a dict, got {kwargs!r}")
    kwargs = dict(kwargs)
    for key in _IGNORED_OPTIMIZER_KEYS:
        kwargs.pop(key, None)
    for key, neutral in _NEUTRAL_OPTIMIZER_KEYS.items():
        if key in kwargs and kwargs.pop(key) not in neutral:
            raise SavingError(f"optimizer {class_name}: {key}={config['config'][key]!r} is not supported by seqnet")
    for key in ("clipnorm", "clipvalue"):
        if key in kwargs and kwargs[key] is None:
            del kwargs[key]
    if class_name.lower() == "nadam" and "schedule_decay" not in kwargs and "decay" in kwargs:
        # tf_keras.optimizers.legacy.Nadam reports its schedule_decay as 'decay'.
        kwargs["schedule_decay"] = kwargs.pop("decay")
    if isinstance(kwargs.get("learning_rate"), dict) or isinstance(kwargs.get("lr"), dict):
        raise SavingError(f"optimizer {class_name}: learning-rate schedules are not supported by seqnet")
    try:
        return optimizers.get({"class_name": class_name, "config": kwargs})
    except (TypeError, ValueError) as err:
        raise SavingError(f"training_config: cannot rebuild optimizer {class_name!r}: {err}") from None


def is_legacy_optimizer_config(config):
    """Whether the saved optimizer state follows Keras' legacy layout (iterations, then
    each slot for every weight), which is the one seqnet reads."""
    if not isinstance(config, dict):
        return True
    inner = config.get("config") or {}
    return not (str(config.get("class_name", "")).startswith("Custom>")
                or (isinstance(inner, dict) and inner.get("is_legacy_optimizer") is False))


# ---- helpers --------------------------------------------------------------------------
def _function_name(fn):
    if fn is None or isinstance(fn, str):
        return fn
    name = getattr(fn, "__name__", None)
    if name is None:
        raise SavingError(f"cannot save the compile state: {fn!r} has no name")
    return name


def _loss(entry, custom_objects):
    if isinstance(entry, (list, tuple)) and len(entry) == 1:
        entry = entry[0]
    if isinstance(entry, dict) and "class_name" not in entry and len(entry) == 1:  # per output name
        entry = next(iter(entry.values()))
    if isinstance(entry, dict):  # a tf-keras Loss object: CategoricalCrossentropy -> categorical_crossentropy
        inner = entry.get("config") or {}
        if inner.get("from_logits") or inner.get("label_smoothing"):
            raise SavingError(f"training_config: loss {entry.get('class_name')!r} with from_logits or "
                              "label_smoothing is not supported by seqnet")
        entry = _snake_case(str(entry.get("class_name", "")))
    if not isinstance(entry, str):
        raise SavingError(f"training_config: loss must be a name, got {entry!r}")
    if custom_objects and entry in custom_objects:
        return custom_objects[entry]
    try:
        losses.get(entry)
    except ValueError as err:
        raise SavingError(f"training_config: {err} Pass user functions in custom_objects.") from None
    return entry


def _metric(entry, custom_objects):
    candidates = [entry]
    if isinstance(entry, dict):  # tf-keras: {"class_name": "MeanMetricWrapper", "config": {"name", "fn"}}
        inner = entry.get("config") or {}
        candidates = [inner.get("name"), inner.get("fn"), _snake_case(str(entry.get("class_name", "")))]
    for name in candidates:
        if not isinstance(name, str):
            continue
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        if name in ("accuracy", "acc"):
            return name
        try:
            metrics_module.get(name)
            return name
        except ValueError:
            pass
    raise SavingError(f"training_config: unknown metric {entry!r}. Pass user functions in custom_objects.")


def _flatten(entry):
    if entry is None:
        return []
    if isinstance(entry, dict) and "class_name" not in entry:
        entry = list(entry.values())
    if not isinstance(entry, (list, tuple)):
        entry = [entry]
    out = []
    for item in entry:
        out += _flatten(item) if isinstance(item, (list, tuple)) or (
            isinstance(item, dict) and "class_name" not in item) else [item]
    return out


def _snake_case(name):
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
