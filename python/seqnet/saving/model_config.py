"""Model architecture as Keras 2 configuration: dicts and JSON, to and from Sequential.

Layers are found by class name in seqnet's own layers (plus the user's
``custom_objects``); nothing named in a file is ever imported or evaluated, so a
configuration asking for a ``Lambda`` layer, or any class seqnet does not know, is
refused with a ValueError.
"""
import json

import numpy as np

from seqnet.saving.errors import SavingError

KERAS_VERSION = "2.2.4"  # the Keras API version whose semantics seqnet follows (SPEC)
BACKEND = "seqnet"

# tf-keras adds these to InputLayer configs; seqnet has nothing they could change.
_INPUT_LAYER_DEFAULTS = {"ragged": False, "optional": False}
# A hostile configuration must not make us allocate the world: no dimension, and no
# Dense kernel, larger than this many elements (8 GiB of float32).
_MAX_ELEMENTS = 2 ** 31


def model_to_dict(model):
    """{"class_name": "Sequential", "config": ..., "keras_version": ..., "backend": ...}."""
    return {"class_name": type(model).__name__, "config": model.get_config(),
            "keras_version": KERAS_VERSION, "backend": BACKEND}


def model_to_json(model, **kwargs):
    return json.dumps(model_to_dict(model), default=_json_default, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new, uncompiled model from `model.to_json()` output (Keras' or seqnet's)."""
    return model_from_config(parse_json(json_string, "model JSON"), custom_objects)


def model_from_config(config, custom_objects=None):
    """A new model from {"class_name": "Sequential", "config": {...}}."""
    if not isinstance(config, dict):
        raise SavingError(f"model config must be a dict with 'class_name' and 'config', got {type(config).__name__}")
    if isinstance(config.get("config"), dict) and "class_name" in config:
        class_name = config["class_name"]
        if class_name != "Sequential":
            raise SavingError(f"model config: seqnet loads Sequential models only, this one is {class_name!r}")
        config = config["config"]
    from seqnet.models.sequential import Sequential
    return sequential_from_config(Sequential, config, custom_objects)


def sequential_from_config(cls, config, custom_objects=None):
    """`cls` (Sequential) from {'name': ..., 'layers': [...]}, Keras 2.2.4's format, or a
    bare list of layer configs (Keras 2.0), or tf-keras' with an InputLayer first."""
    if isinstance(config, list):
        name, layer_configs = None, config
    elif isinstance(config, dict):
        name, layer_configs = config.get("name"), config.get("layers")
    else:
        raise SavingError(f"Sequential config must be a dict, got {type(config).__name__}")
    if not isinstance(layer_configs, list):
        raise SavingError(f"Sequential config: 'layers' must be a list, got {type(layer_configs).__name__}")
    if name is not None and not isinstance(name, str):
        raise SavingError(f"Sequential config: 'name' must be a string, got {name!r}")
    layers = [layer_from_config(entry, index, custom_objects) for index, entry in enumerate(layer_configs)]
    _check_sizes(layers)
    model = cls(name=name)
    for layer in layers:
        try:
            model.add(layer)
        except (TypeError, ValueError) as err:
            raise SavingError(f"Sequential config: cannot add layer '{layer.name}': {err}") from None
    return model


def layer_from_config(entry, index=0, custom_objects=None):
    """One layer from {"class_name": ..., "config": {...}}."""
    from seqnet.engine.base_layer import Layer
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise SavingError(f"layer {index} of the config must be a dict with a 'class_name' string and a "
                          f"'config' dict, got {_short(entry)}")
    class_name = entry["class_name"]
    registry = layer_registry()
    custom = (custom_objects or {}).get(class_name)
    cls = custom if custom is not None else registry.get(class_name)
    if cls is None:
        hint = (" (seqnet never loads Lambda layers: their code would run from the file)"
                if class_name == "Lambda" else "")
        raise SavingError(f"Unknown layer: '{class_name}' (layer {index}){hint}. seqnet knows "
                          f"{sorted(registry)}; pass other classes in custom_objects.")
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise SavingError(f"custom_objects['{class_name}'] must be a seqnet Layer subclass, got {cls!r}")
    config = _layer_kwargs(class_name, entry["config"], custom_objects)
    try:
        return cls.from_config(config)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as err:
        name = config.get("name", index)
        raise SavingError(f"cannot rebuild layer '{name}' ({class_name}) from its config: {err}") from None


def layer_registry():
    """seqnet's layer classes by name: every Layer subclass that seqnet.layers exports."""
    from seqnet import layers as layers_module
    from seqnet.engine.base_layer import Layer
    registry = {}
    for name in getattr(layers_module, "__all__", []):
        obj = getattr(layers_module, name, None)
        if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer:
            registry[obj.__name__] = obj
    return registry


def parse_json(text, what):
    if isinstance(text, (bytes, bytearray, np.bytes_)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise SavingError(f"{what} is not UTF-8 text: {err}") from None
    if not isinstance(text, str):
        raise SavingError(f"{what} must be a JSON string, got {type(text).__name__}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise SavingError(f"{what} is not valid JSON: {err}") from None


# ---- helpers --------------------------------------------------------------------------
def _layer_kwargs(class_name, config, custom_objects):
    """A layer config as seqnet's constructor takes it: tf-keras' extra InputLayer keys
    dropped (when they hold their defaults), Keras 3 names mapped, user objects resolved."""
    config = dict(config)
    if isinstance(config.get("dtype"), dict):  # a dtype policy: {"class_name": ..., "config": {"name": "float32"}}
        config["dtype"] = (config["dtype"].get("config") or {}).get("name")
    if class_name == "InputLayer":
        for key, default in _INPUT_LAYER_DEFAULTS.items():
            if key in config:
                if config[key] not in (default, None):
                    raise SavingError(f"InputLayer '{config.get('name')}': {key}={config[key]!r} is not "
                                      "supported by seqnet")
                del config[key]
        if "batch_shape" in config and "batch_input_shape" not in config:
            config["batch_input_shape"] = config.pop("batch_shape")
    for key in ("batch_input_shape", "input_shape"):
        if isinstance(config.get(key), list):
            config[key] = tuple(config[key])
    for key, value in list(config.items()):
        if key.endswith("regularizer") and isinstance(value, dict):
            config[key] = _regularizer_config(value)
        if custom_objects:
            config[key] = _resolve_custom(value, custom_objects)
    return config


def _regularizer_config(value):
    # tf-keras has L1 and L2 classes; seqnet (as Keras 2.2.4) has L1L2 for both.
    name, inner = value.get("class_name"), value.get("config")
    if name in ("L1", "L2") and isinstance(inner, dict):
        key = name.lower()
        return {"class_name": "L1L2", "config": {key: inner.get(key, inner.get("l", 0.01))}}
    return value


def _resolve_custom(value, custom_objects):
    """A user's activation, initializer, regularizer or constraint named in the config."""
    if isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    if isinstance(value, dict) and isinstance(value.get("class_name"), str) and value["class_name"] in custom_objects:
        obj = custom_objects[value["class_name"]]
        inner = value.get("config") or {}
        if hasattr(obj, "from_config"):
            return obj.from_config(inner)
        return obj(**inner) if isinstance(obj, type) else obj
    return value


def _check_sizes(layers):
    """Refuses, before anything is allocated, shapes no real model has (a hostile file)."""
    for layer in layers:
        shape = layer.batch_input_shape
        if shape is not None and any(d is not None and d > _MAX_ELEMENTS for d in shape):
            raise SavingError(f"layer '{layer.name}': input shape {shape} is too large")
        units = getattr(layer, "units", None)
        if isinstance(units, int) and units > _MAX_ELEMENTS:
            raise SavingError(f"layer '{layer.name}': units={units} is too large")
    shape = next((layer.batch_input_shape for layer in layers if layer.batch_input_shape is not None), None)
    if shape is None:
        return
    for layer in layers:
        units = getattr(layer, "units", None)
        if isinstance(units, int) and shape[-1] is not None and shape[-1] * units > _MAX_ELEMENTS:
            raise SavingError(f"layer '{layer.name}': a kernel of {shape[-1]} x {units} is too large")
        try:
            shape = layer.compute_output_shape(shape)
        except Exception:  # noqa: BLE001 -- a layer that needs building first: stop checking here
            return
        if any(d is not None and d > _MAX_ELEMENTS for d in shape[1:]):
            raise SavingError(f"layer '{layer.name}': output shape {shape} is too large")


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    raise TypeError(f"Not JSON serializable: {obj!r}")


def _short(value, limit=120):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
