"""What compile() was given, as Keras 2's `training_config`, and back.

Written as Keras 2.2.4 wrote it (names of losses and metrics, the optimizer's
{class_name, config}); read from that and from tf-keras 2.x, whose metric entries are
MeanMetricWrapper dicts nested per output and whose newer optimizers carry extra keys.
Functions are found by name in seqnet or in ``custom_objects``, never imported.
"""
import re

import numpy as np

from seqnet import losses, metrics as metrics_module, optimizers
from seqnet.saving.errors import SavingError

# tf-keras' newer optimizers add these keys: some change nothing in seqnet, the others
# must hold their neutral value (seqnet lacks the feature).
_IGNORED_OPTIMIZER_KEYS = ("ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer")
_NEUTRAL_OPTIMIZER_KEYS = {"weight_decay": (None, 0, 0.0), "use_ema": (None, False)}


def training_config(model):
    """The model's compile arguments as a JSON-able dict. A functional model keeps the
    structure it was compiled with: losses, loss_weights and metrics as a single entry,
    a list (outputs order) or a dict keyed by output name."""
    compile_args = getattr(model, "_compile_args", None)
    if compile_args is not None:  # a functional model
        weighted = _nested_names(compile_args["weighted_metrics"])
        return {"optimizer_config": optimizers.serialize(model.optimizer),
                "loss": _nested_names(model.loss),
                "metrics": _nested_names(compile_args["metrics"]) or [],
                "weighted_metrics": weighted or None,
                "sample_weight_mode": getattr(model, "sample_weight_mode", None),
                "loss_weights": _nested_names(getattr(model, "loss_weights", None))}
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
    loss_weights = config.get("loss_weights")
    if _is_functional(model):
        output_names = list(model.output_names)
        loss = _per_output_loss(config.get("loss"), custom_objects, output_names)
        metrics = _per_output_metrics(config.get("metrics"), custom_objects, output_names)
        weighted = _per_output_metrics(config.get("weighted_metrics"), custom_objects, output_names)
        if isinstance(loss_weights, dict):
            loss_weights = _as_numbers(loss_weights)
        elif isinstance(loss_weights, list):
            loss_weights = list(_as_numbers(dict(enumerate(loss_weights))).values())
        kwargs = {"metrics": metrics, "weighted_metrics": weighted}
    else:
        loss = _loss(config.get("loss"), custom_objects)
        metrics = [_metric(m, custom_objects) for m in _flatten(config.get("metrics"))]
        weighted = [_metric(m, custom_objects) for m in _flatten(config.get("weighted_metrics"))]
        kwargs = {"metrics": metrics or None, "weighted_metrics": weighted or None}
    try:
        model.compile(optimizer, loss=loss, **kwargs,
                      loss_weights=loss_weights if isinstance(loss_weights, (list, tuple, dict)) else None,
                      sample_weight_mode=config.get("sample_weight_mode"))
    except (TypeError, ValueError) as err:
        raise SavingError(f"training_config: cannot compile the model: {err}") from None


def _is_functional(model):
    from seqnet.models.sequential import Sequential
    return hasattr(model, "output_names") and not isinstance(model, Sequential)


def _per_output_loss(entry, custom_objects, output_names):
    """A functional model's loss as saved: one loss, a list (outputs order) or a dict by
    output name (its keys must be output names)."""
    if isinstance(entry, dict) and "class_name" not in entry:
        unknown = sorted(str(k) for k in entry if k not in output_names)
        if unknown:
            raise SavingError(f"training_config: the loss names unknown outputs {unknown[:10]} (outputs: "
                              f"{output_names})")
        return {key: _loss(value, custom_objects) for key, value in entry.items()}
    if isinstance(entry, list) and len(entry) != 1:
        if len(entry) != len(output_names):
            raise SavingError(f"training_config: {len(entry)} losses for {len(output_names)} outputs")
        return [_loss(value, custom_objects) for value in entry]
    return _loss(entry, custom_objects)


def _per_output_metrics(entry, custom_objects, output_names):
    """Metrics as compile takes them: a flat list (every output), or a dict by output name
    (tf-keras' list of lists, one per output, becomes that dict)."""
    if entry is None:
        return None
    if isinstance(entry, dict) and "class_name" not in entry:
        unknown = sorted(str(k) for k in entry if k not in output_names)
        if unknown:
            raise SavingError(f"training_config: metrics name unknown outputs {unknown[:10]} (outputs: "
                              f"{output_names})")
        return {key: [_output_metric(m, custom_objects, key) for m in _flatten(value)]
                for key, value in entry.items()}
    if isinstance(entry, list) and any(isinstance(item, (list, tuple)) for item in entry):
        if len(entry) != len(output_names):
            raise SavingError(f"training_config: {len(entry)} metric lists for {len(output_names)} outputs")
        return {name: [_output_metric(m, custom_objects, name) for m in _flatten(value)]
                for name, value in zip(output_names, entry)}
    return [_metric(m, custom_objects) for m in _flatten(entry)] or None


def _output_metric(entry, custom_objects, output_name):
    """tf-keras names an output's metric '<output>_accuracy': the name without the prefix
    keeps seqnet's metric names as tf-keras' ('cls_accuracy', not 'cls_categorical_accuracy')."""
    if isinstance(entry, dict) and isinstance(entry.get("config"), dict):
        name = entry["config"].get("name")
        if isinstance(name, str) and name.startswith(output_name + "_"):
            entry = {**entry, "config": {**entry["config"], "name": name[len(output_name) + 1:]}}
    return _metric(entry, custom_objects)


def _as_numbers(weights):
    for value in weights.values():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SavingError(f"training_config: loss_weights must be numbers, got {_short(weights)}")
    return weights


def _nested_names(value):
    """Compile arguments with every function replaced by its name (lists and dicts kept)."""
    if isinstance(value, dict):
        return {key: _nested_names(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nested_names(item) for item in value]
    if value is None or isinstance(value, (int, float, np.number)):
        return value.item() if isinstance(value, np.number) else value
    return _function_name(value)


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


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
    for key in ("clipnorm", "global_clipnorm", "clipvalue"):
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
