"""Model architecture as Keras 2 configuration: dicts and JSON, to and from Sequential
and functional models (class_name 'Model', which tf-keras writes as 'Functional').

Layers are found by class name in seqnet's own layers (plus the user's
``custom_objects``); nothing named in a file is ever imported or evaluated, so a
configuration asking for a ``Lambda`` layer, or any class seqnet does not know, is
refused with a ValueError.
"""
import inspect
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
FUNCTIONAL_CLASS_NAMES = ("Model", "Functional")  # Keras 2.2.4 writes 'Model', tf-keras 'Functional'


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
    """A new model from {"class_name": "Sequential" | "Model" | "Functional", "config": {...}}
    (a bare config with 'input_layers' is a functional model's)."""
    if not isinstance(config, dict):
        raise SavingError(f"model config must be a dict with 'class_name' and 'config', got {type(config).__name__}")
    class_name = "Sequential"
    if isinstance(config.get("config"), (dict, list)) and "class_name" in config:
        class_name = config["class_name"]
        if class_name not in ("Sequential",) + FUNCTIONAL_CLASS_NAMES:
            raise SavingError(f"model config: seqnet loads Sequential and functional models ('Model', "
                              f"'Functional'), this one is {_short(class_name)}")
        config = config["config"]
    elif "input_layers" in config:
        class_name = "Model"
    if class_name in FUNCTIONAL_CLASS_NAMES:
        from seqnet.engine.training import Model
        return functional_from_config(Model, config, custom_objects)
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


def functional_from_config(cls, config, custom_objects=None):
    """`cls` (functional Model) from Keras 2's {'name', 'layers': [{'name', 'class_name',
    'config', 'inbound_nodes'}], 'input_layers', 'output_layers'} (tf-keras' too). Every
    node of every layer is called once its inputs exist (Keras 2.2.4's algorithm), so shared
    layers (several nodes) and nested models load; node and tensor indices are checked,
    unknown names and cycles refused with a ValueError."""
    from seqnet.engine.input_layer import InputLayer
    if not isinstance(config, dict):
        raise SavingError(f"functional config must be a dict, got {type(config).__name__}")
    name, layer_configs = config.get("name"), config.get("layers")
    if name is not None and not isinstance(name, str):
        raise SavingError(f"functional config: 'name' must be a string, got {_short(name)}")
    if not isinstance(layer_configs, list) or not layer_configs:
        raise SavingError(f"functional config: 'layers' must be a non-empty list, got {_short(layer_configs)}")
    layers, pending = {}, {}
    for index, entry in enumerate(layer_configs):
        layer = layer_from_config(entry, index, custom_objects)
        if entry.get("name", layer.name) != layer.name:
            raise SavingError(f"functional config: layer {index} is named {_short(entry.get('name'))}, but its "
                              f"config names it {layer.name!r}")
        if layer.name in layers:
            raise SavingError(f"functional config: the layer name {layer.name!r} is used twice")
        layers[layer.name] = layer
        pending[layer.name] = _inbound_nodes_of(entry.get("inbound_nodes", []), layer,
                                                isinstance(layer, InputLayer))
    for layer_name, nodes in pending.items():
        for node in nodes:
            for source, *_ in node:
                if source not in layers:
                    raise SavingError(f"functional config: layer {layer_name!r} takes its input from an unknown "
                                      f"layer {_short(source)}")
    _check_sizes([layer for layer in layers.values() if isinstance(layer, InputLayer)])
    while any(pending.values()):  # call every node whose inputs exist, in the config's order
        progress = False
        for layer_name, nodes in pending.items():
            while nodes and _call_node(layers[layer_name], nodes[0], layers):
                nodes.pop(0)
                progress = True
        if not progress:
            stuck = [n for n, nodes in pending.items() if nodes]
            raise SavingError(f"functional config: the layers {stuck[:10]} depend on each other in a cycle or on "
                              "nodes that do not exist")
    inputs = _endpoints(config.get("input_layers"), "input_layers", layers)
    outputs = _endpoints(config.get("output_layers"), "output_layers", layers)
    for t in inputs:
        if not isinstance(t.node.layer, InputLayer):
            raise SavingError(f"functional config: input layer {t.node.layer.name!r} is a "
                              f"{type(t.node.layer).__name__}, not an InputLayer")
    try:
        return cls(inputs=inputs[0] if len(inputs) == 1 else inputs,
                   outputs=outputs[0] if len(outputs) == 1 else outputs, name=name)
    except (TypeError, ValueError) as err:
        raise SavingError(f"functional config: cannot build the model: {err}") from None


def _call_node(layer, node, layers):
    """Calls `layer` on the tensors a node's entries name; False while one does not exist yet."""
    tensors = []
    for source, node_index, tensor_index, _ in node:
        source_nodes = layers[source]._inbound_nodes
        if node_index >= len(source_nodes):
            return False
        outputs = source_nodes[node_index].output_tensors
        if tensor_index >= len(outputs):
            raise SavingError(f"functional config: layer {layer.name!r} asks for output {tensor_index} of layer "
                              f"{source!r}, which has {len(outputs)}")
        tensors.append(outputs[tensor_index])
    kwargs = node[0][3]
    _check_call_sizes(layer, [t.shape for t in tensors])
    try:
        layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as err:
        raise SavingError(f"functional config: cannot call layer {layer.name!r} ({type(layer).__name__}) on "
                          f"{[t.node.layer.name for t in tensors]}: {err}") from None
    return True


def _inbound_nodes_of(inbound_nodes, layer, is_input):
    """A layer's nodes as lists of (layer_name, node_index, tensor_index, kwargs)."""
    if not isinstance(inbound_nodes, list):
        raise SavingError(f"functional config: layer {layer.name!r}: 'inbound_nodes' must be a list, got "
                          f"{_short(inbound_nodes)}")
    if is_input:
        if inbound_nodes:
            raise SavingError(f"functional config: InputLayer {layer.name!r} cannot have inbound nodes")
        return []
    if not inbound_nodes:
        raise SavingError(f"functional config: layer {layer.name!r} ({type(layer).__name__}) has no inbound node; "
                          "only InputLayers may have none")
    nodes = []
    for node in inbound_nodes:
        if isinstance(node, dict) and "args" in node:
            raise SavingError(f"functional config: layer {layer.name!r}: the Keras 3 node format is not supported")
        if isinstance(node, list) and len(node) in (3, 4) and isinstance(node[0], str):
            node = [node]  # a single input written without its list
        if not isinstance(node, list) or not node:
            raise SavingError(f"functional config: layer {layer.name!r}: an inbound node must be a non-empty "
                              f"list of [layer_name, node_index, tensor_index, kwargs], got {_short(node)}")
        entries = []
        for item in node:
            if not (isinstance(item, list) and len(item) in (3, 4) and isinstance(item[0], str)):
                raise SavingError(f"functional config: layer {layer.name!r}: bad inbound entry {_short(item)}; "
                                  "expected [layer_name, node_index, tensor_index, kwargs]")
            _check_indices(item, f"layer {layer.name!r}: inbound entry")
            kwargs = item[3] if len(item) == 4 and item[3] is not None else {}
            if not isinstance(kwargs, dict) or set(kwargs) - {"training", "mask"}:
                raise SavingError(f"functional config: layer {layer.name!r}: call arguments {_short(kwargs)} are "
                                  "not supported by seqnet")
            entries.append((item[0], item[1], item[2], {k: v for k, v in kwargs.items() if k == "training"}))
        nodes.append(entries)
    return nodes


def _endpoints(entries, key, layers):
    if isinstance(entries, list) and len(entries) == 3 and isinstance(entries[0], str):
        entries = [entries]  # one endpoint written without its list
    if not isinstance(entries, list) or not entries:
        raise SavingError(f"functional config: {key!r} must be a non-empty list of [layer_name, node, tensor], "
                          f"got {_short(entries)}")
    tensors = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str)):
            raise SavingError(f"functional config: bad {key} entry {_short(entry)}; expected [layer_name, node, "
                              "tensor]")
        _check_indices(entry, f"{key} entry")
        if entry[0] not in layers:
            raise SavingError(f"functional config: {key} names an unknown layer {_short(entry[0])}")
        nodes = layers[entry[0]]._inbound_nodes
        if entry[1] >= len(nodes) or entry[2] >= len(nodes[entry[1]].output_tensors):
            raise SavingError(f"functional config: {key} entry {_short(entry)} names a node or tensor that does "
                              "not exist")
        tensors.append(nodes[entry[1]].output_tensors[entry[2]])
    return tensors


def _check_indices(entry, what):
    for index in entry[1:3]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1024:
            raise SavingError(f"functional config: {what} {_short(entry)}: node and tensor indices must be "
                              "integers in [0, 1024)")


def _check_call_sizes(layer, shapes):
    """Refuses a layer call whose weights would be too large, before the layer is built."""
    units = _units_of(layer)
    for shape in shapes:
        if isinstance(units, int) and shape and shape[-1] is not None and shape[-1] * units > _MAX_ELEMENTS:
            raise SavingError(f"layer '{layer.name}': a kernel of {shape[-1]} x {units} is too large")


def layer_from_config(entry, index=0, custom_objects=None):
    """One layer from {"class_name": ..., "config": {...}}."""
    from seqnet.engine.base_layer import Layer
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise SavingError(f"layer {index} of the config must be a dict with a 'class_name' string and a "
                          f"'config' dict, got {_short(entry)}")
    class_name = entry["class_name"]
    if class_name in ("Sequential",) + FUNCTIONAL_CLASS_NAMES:  # a model used as a layer
        return model_from_config({"class_name": class_name, "config": entry["config"]}, custom_objects)
    registry = layer_registry()
    from seqnet.utils.generic_utils import get_custom_objects
    custom_objects = dict(get_custom_objects(), **(custom_objects or {}))
    custom = custom_objects.get(class_name)
    cls = custom if custom is not None else registry.get(class_name)
    if cls is None:
        raise SavingError(f"Unknown layer: '{class_name}' (layer {index}). seqnet knows "
                          f"{sorted(registry)}; pass other classes in custom_objects.")
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise SavingError(f"custom_objects['{class_name}'] must be a seqnet Layer subclass, got {cls!r}")
    config = _layer_kwargs(class_name, entry["config"], custom_objects)
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            return cls.from_config(config, custom_objects=custom_objects)
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
        if custom_objects and key not in ("name", "layer", "backward_layer"):
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


def _units_of(layer):
    """A layer's `units`, looking through wrappers (TimeDistributed(Dense(...)))."""
    while getattr(layer, "units", None) is None and getattr(layer, "layer", None) is not None:
        layer = layer.layer
    return getattr(layer, "units", None)


def _check_sizes(layers):
    """Refuses, before anything is allocated, shapes no real model has (a hostile file)."""
    for layer in layers:
        shape = layer.batch_input_shape
        if shape is not None and any(d is not None and d > _MAX_ELEMENTS for d in shape):
            raise SavingError(f"layer '{layer.name}': input shape {shape} is too large")
        units = _units_of(layer)
        if isinstance(units, int) and units > _MAX_ELEMENTS:
            raise SavingError(f"layer '{layer.name}': units={units} is too large")
    shape = next((layer.batch_input_shape for layer in layers if layer.batch_input_shape is not None), None)
    if shape is None:
        return
    for layer in layers:
        units = _units_of(layer)
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
