"""Model architecture as Keras 2 configuration: dicts and JSON, to and from Sequential
and functional models (class_name 'Model', which tf-keras writes as 'Functional').

Layers are found by class name in seqnet's own layers (plus the user's
``custom_objects``); nothing named in a file is ever imported or evaluated, so a
configuration asking for a ``Lambda`` layer, or any class seqnet does not know, is
refused with a ValueError.
"""
import collections
import heapq
import inspect
import json
import math
import threading

import numpy as np

from seqnet.saving.errors import SavingError

KERAS_VERSION = "2.2.4"  # the Keras API version whose semantics seqnet follows (SPEC)
BACKEND = "seqnet"

# tf-keras adds these to InputLayer configs; seqnet has nothing they could change.
_INPUT_LAYER_DEFAULTS = {"ragged": False, "optional": False}
# A hostile configuration must not make us allocate the world: no dimension, and no
# Dense kernel, larger than this many elements (8 GiB of float32).
_MAX_ELEMENTS = 2 ** 31
# One budget for a whole file (nested models included), checked from the config before
# any weight is allocated: parameters (weights and stateful state buffers) and layers.
MAX_PARAMETERS = 2 ** 31
MAX_LAYERS = 10 ** 6
FUNCTIONAL_CLASS_NAMES = ("Model", "Functional")

_state = threading.local()  # the load in progress: its budget and the layer being read


def current_layer():
    """The layer the load in progress is reading (for error messages), or None."""
    return getattr(_state, "layer", None)


def set_current_layer(description):
    _state.layer = description


class _Budget:
    def __init__(self):
        self.parameters = 0
        self.layers = 0

    def add_layers(self, count, what):
        self.layers += count
        if self.layers > MAX_LAYERS:
            raise SavingError(f"{what}: the configuration asks for more than {MAX_LAYERS} layers")

    def charge(self, layer, input_shapes):
        count = _parameter_estimate(layer, input_shapes)
        self.parameters += count
        if self.parameters > MAX_PARAMETERS:
            raise SavingError(f"layer '{layer.name}' ({type(layer).__name__}): {count} parameters would take the "
                              f"model past {MAX_PARAMETERS} parameters in all; refused")


def _budget():
    return getattr(_state, "budget", None) or _Budget()


class _Load:
    """The outermost model_from_config opens the budget that nested models share."""

    def __enter__(self):
        self.outer = getattr(_state, "budget", None) is None
        if self.outer:
            _state.budget = _Budget()
        return _state.budget

    def __exit__(self, *exc):
        if self.outer:
            _state.budget = None  # Keras 2.2.4 writes 'Model', tf-keras 'Functional'


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
    (a bare config with 'input_layers' is a functional model's). Every refusal is a
    SavingError naming the layer and the problem."""
    with _Load():
        if getattr(_state, "inside", False):  # a nested model: the outer load reports errors
            return _model_from_config(config, custom_objects)
        _state.inside = True
        set_current_layer(None)
        try:
            return _model_from_config(config, custom_objects)
        except SavingError:
            raise
        except RecursionError:
            raise SavingError("model config: nested too deeply") from None
        except Exception as err:  # noqa: BLE001 -- a hostile config must not leak internals
            where = current_layer()
            raise SavingError(f"model config: {where + ': ' if where else ''}cannot rebuild the model "
                              f"({type(err).__name__}: {err})") from err
        finally:
            _state.inside = False


def _model_from_config(config, custom_objects):
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
    with _Load() as budget:
        budget.add_layers(len(layer_configs), "Sequential config")
        names = _default_names(layer_configs)
        layers = [layer_from_config(entry, index, custom_objects, names[index])
                  for index, entry in enumerate(layer_configs)]
        _check_sizes(layers)
        model = cls(name=name)
        # The graph is read once at the end, not after every layer (linear in the layers).
        model._defer_graph = True
        try:
            for layer in layers:
                set_current_layer(f"layer '{layer.name}' ({type(layer).__name__})")
                shape = _sequential_output_shape(model)
                if shape is None and not model._stack:
                    shape = _declared_shape(layer)
                if shape is not None:
                    budget.charge(layer, [shape])
                try:
                    model.add(layer)
                except (TypeError, ValueError) as err:
                    raise SavingError(f"Sequential config: cannot add layer '{layer.name}': {err}") from None
        finally:
            model._defer_graph = False
        try:
            model._graph_changed()
        except (TypeError, ValueError) as err:
            raise SavingError(f"Sequential config: cannot build the model: {err}") from None
        return model


def _sequential_output_shape(model):
    outputs = getattr(model, "_stack_outputs", None)
    if outputs:
        return tuple(outputs[-1].shape)
    tensor = getattr(model, "_input_tensor", None)
    return tuple(tensor.shape) if tensor is not None else None


def _declared_shape(layer):
    shape = getattr(layer, "batch_input_shape", None)
    return tuple(shape) if shape is not None else None


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
    with _Load() as budget:
        budget.add_layers(len(layer_configs), "functional config")
        layers, pending = _functional_layers(layer_configs, custom_objects, InputLayer)
        _check_sizes([layer for layer in layers.values() if isinstance(layer, InputLayer)])
        _call_nodes(layers, pending)
        return _functional_model(cls, config, name, layers, InputLayer)


def _functional_layers(layer_configs, custom_objects, InputLayer):  # noqa: N803 -- the class
    names = _default_names(layer_configs)
    layers, pending = {}, {}
    for index, entry in enumerate(layer_configs):
        layer = layer_from_config(entry, index, custom_objects, names[index])
        entry_name = entry.get("name")
        if entry_name not in (None, "", layer.name):
            raise SavingError(f"functional config: layer {index} is named {_short(entry_name)}, but its "
                              f"config names it {layer.name!r}")
        if layer.name in layers:
            raise SavingError(f"functional config: the layer name {layer.name!r} is used twice")
        layers[layer.name] = layer
        pending[layer.name] = collections.deque(_inbound_nodes_of(entry.get("inbound_nodes", []), layer,
                                                                  isinstance(layer, InputLayer)))
    for layer_name, nodes in pending.items():
        for node in nodes:
            for source, *_ in node:
                if source not in layers:
                    raise SavingError(f"functional config: layer {layer_name!r} takes its input from an unknown "
                                      f"layer {_short(source)}")
    return layers, pending


def _call_nodes(layers, pending):
    """Calls every node once its inputs exist, each layer's nodes in their order (Keras 2.2.4's
    rule), in dependency order: a layer whose next node waits for another layer's node is
    woken when that layer is called, so the work is n log n in the nodes, whatever the order
    of the config. Of the layers ready, the first in the config goes first: the model's
    layers are in the order of their first nodes, and the config lists them in that order, so
    the rebuilt model lists its layers as the saved one did (weights load by that order; a
    woken layer taken last put a branch's Dense before another branch's GRU, and loading failed)."""
    position = {name: index for index, name in enumerate(pending)}
    waiting = collections.defaultdict(list)  # layer name -> layers whose next node waits for it
    queue = [(position[name], name) for name, nodes in pending.items() if nodes]
    heapq.heapify(queue)
    while queue:
        _, layer_name = heapq.heappop(queue)
        nodes = pending[layer_name]
        while nodes:
            missing = _missing_source(nodes[0], layers)
            if missing is not None:
                if layer_name not in waiting[missing]:
                    waiting[missing].append(layer_name)
                break
            _call_node(layers[layer_name], nodes[0], layers)
            nodes.popleft()
            for woken in waiting.pop(layer_name, ()):
                heapq.heappush(queue, (position[woken], woken))
    stuck = [n for n, nodes in pending.items() if nodes]
    if stuck:
        raise SavingError(f"functional config: the layers {stuck[:10]} depend on each other in a cycle or on "
                          "nodes that do not exist")


def _missing_source(node, layers):
    for source, node_index, _, _ in node:
        if node_index >= len(layers[source]._inbound_nodes):
            return source
    return None


def _functional_model(cls, config, name, layers, InputLayer):  # noqa: N803 -- the class
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
    set_current_layer(f"layer '{layer.name}' ({type(layer).__name__})")
    _check_call_sizes(layer, [t.shape for t in tensors])
    if not getattr(layer, "built", False):
        _budget().charge(layer, [tuple(t.shape) for t in tensors])
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


def layer_from_config(entry, index=0, custom_objects=None, default_name=None):
    """One layer from {"class_name": ..., "config": {...}}. A layer without a name gets
    `default_name` (the loaders derive it from the layer's position in the config, so it
    does not depend on what the process created before)."""
    from seqnet.engine.base_layer import Layer
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise SavingError(f"layer {index} of the config must be a dict with a 'class_name' string and a "
                          f"'config' dict, got {_short(entry)}")
    class_name = entry["class_name"]
    set_current_layer(f"layer {index} ({_short(class_name, 60)} {_short(entry['config'].get('name'), 80)})")
    _check_field_types(class_name, entry["config"], index)
    if not entry["config"].get("name") and default_name is not None:
        entry = dict(entry, config=dict(entry["config"], name=default_name))
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


def _default_names(layer_configs):
    """Names for the unnamed layers of a config, from their position ('dense_3' for an
    unnamed Dense third in the list), never one that another layer of the config has."""
    from seqnet.engine.base_layer import _to_snake_case
    taken = {entry["config"].get("name") for entry in layer_configs
             if isinstance(entry, dict) and isinstance(entry.get("config"), dict)}
    names = []
    for index, entry in enumerate(layer_configs):
        config = entry.get("config") if isinstance(entry, dict) else None
        class_name = entry.get("class_name") if isinstance(entry, dict) else None
        if not isinstance(config, dict) or config.get("name") or not isinstance(class_name, str):
            names.append(None)
            continue
        base = f"{_to_snake_case(class_name)}_{index + 1}"
        name, suffix = base, 1
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        taken.add(name)
        names.append(name)
    return names


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_shape(value):
    return isinstance(value, (list, tuple)) and all(d is None or (_is_int(d) and d >= 0) for d in value)


def _is_int_or_ints(value):
    return _is_int(value) or (isinstance(value, (list, tuple)) and all(_is_int(v) for v in value))


_FIELD_TYPES = {
    "name": (lambda v: v is None or isinstance(v, str), "a string"),
    "trainable": (lambda v: isinstance(v, bool), "true or false"),
    "dtype": (lambda v: v is None or isinstance(v, (str, dict)), "a dtype name"),
    "batch_input_shape": (lambda v: v is None or _is_shape(v), "a list of non-negative integers or nulls"),
    "input_shape": (lambda v: v is None or _is_shape(v), "a list of non-negative integers or nulls"),
    "batch_size": (lambda v: v is None or (_is_int(v) and v >= 0), "a non-negative integer"),
    "units": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "filters": (lambda v: v is None or (_is_int(v) and v >= 0), "a non-negative integer"),
    "input_dim": (lambda v: v is None or (_is_int(v) and v >= 0), "a non-negative integer"),
    "output_dim": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "depth_multiplier": (lambda v: _is_int(v) and v >= 0, "a non-negative integer"),
    "kernel_size": (_is_int_or_ints, "an integer or a list of integers"),
    "strides": (_is_int_or_ints, "an integer or a list of integers"),
    "dilation_rate": (_is_int_or_ints, "an integer or a list of integers"),
    "rate": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "activation": (lambda v: v is None or isinstance(v, (str, dict)) or callable(v), "an activation name"),
    **{key: (lambda v: isinstance(v, bool), "true or false")
       for key in ("use_bias", "return_sequences", "return_state", "go_backwards", "stateful", "unroll", "center",
                   "scale", "mask_zero")},
}


def _check_field_types(class_name, config, index):
    for key, (valid, expected) in _FIELD_TYPES.items():
        if key in config and not valid(config[key]):
            raise SavingError(f"layer {index} ({class_name} {_short(config.get('name'), 80)}): field {key!r} must "
                              f"be {expected}, got {_short(config[key])}")


def _prod(values):
    total = 1
    for v in values:
        total *= int(v)
    return total


def _channels(layer, shape):
    if not shape or len(shape) < 2:
        return None
    if getattr(layer, "data_format", None) == "channels_first":
        return shape[1]
    return shape[-1]


def _parameter_estimate(layer, input_shapes):
    """The parameters (and stateful state) `layer` will allocate when called on inputs of
    `input_shapes`, from its config alone (Python integers: nothing can overflow)."""
    from seqnet.engine.network import Network
    if isinstance(layer, Network) or getattr(layer, "built", False):
        return 0
    shape = tuple(input_shapes[0]) if input_shapes and input_shapes[0] is not None else None
    total = 0
    for s in input_shapes:  # buffers the size of an input (PReLU, stateful batch) are bounded by it too
        if s is not None and all(d is not None for d in s[1:]) and _prod(s[1:]) > _MAX_ELEMENTS:
            raise SavingError(f"layer '{layer.name}': input shape {tuple(s)} is too large")
    name = type(layer).__name__
    inner = getattr(layer, "layer", None)
    if inner is not None and name == "Bidirectional":
        backward = getattr(layer, "backward_layer", None) or inner
        return _parameter_estimate(inner, input_shapes) + _parameter_estimate(backward, input_shapes)
    if inner is not None and shape is not None and len(shape) > 2:
        return _parameter_estimate(inner, [(shape[0],) + shape[2:]])
    channels = _channels(layer, shape)
    c = channels if _is_int(channels) else 0
    cell = getattr(layer, "cell", None)
    if cell is not None or name in ("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D"):
        cells = getattr(cell, "cells", None) or [cell if cell is not None else layer]
        for one in cells:
            units = getattr(one, "units", None) or getattr(one, "filters", None) or 0
            gates = 4 if "LSTM" in type(one).__name__ else 3 if "GRU" in type(one).__name__ else 1
            kernel = _prod(_as_tuple(getattr(one, "kernel_size", 1)))
            total += gates * units * (kernel * (c + units) + 2)
            c = units
            if getattr(layer, "stateful", False) and shape and _is_int(shape[0]):
                total += 2 * shape[0] * units * (_prod(shape[2:-1]) if name == "ConvLSTM2D" else 1)
        return total
    if name == "Embedding":
        return int(getattr(layer, "input_dim", 0) or 0) * int(getattr(layer, "output_dim", 0) or 0)
    if name == "BatchNormalization":
        return 4 * c
    if name == "PReLU" and shape is not None:
        return _prod(d or 1 for d in shape[1:])
    kernel_size = getattr(layer, "kernel_size", None)
    filters = getattr(layer, "filters", None)
    if kernel_size is not None:
        window = _prod(_as_tuple(kernel_size))
        multiplier = int(getattr(layer, "depth_multiplier", 1) or 1)
        if "Separable" in name:
            return window * c * multiplier + c * multiplier * int(filters or 0) + int(filters or 0)
        if "Depthwise" in name:
            return window * c * multiplier + c * multiplier
        count = window * c * int(filters or 0) + int(filters or 0)
        if "LocallyConnected" in name:
            try:
                out = layer.compute_output_shape(shape)
                count *= _prod(d or 1 for d in (out[2:] if layer.data_format == "channels_first" else out[1:-1]))
            except Exception:  # noqa: BLE001 -- the layer's own build reports a bad shape
                pass
        return count
    units = _units_of(layer)
    if _is_int(units):
        return c * units + units
    return 0


def _as_tuple(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


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
