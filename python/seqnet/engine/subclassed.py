"""Subclassed models: ``class MyModel(Model)`` with layers as attributes and a ``call``.

seqnet keeps one graph engine: a subclassed model is traced into the same plan as a
functional one. The first time the input shapes are known -- fit / evaluate / predict and
the batch methods (from the data), ``model.build(input_shape)``, or calling the model on
symbolic tensors (``model(Input((784,)))``, also as a layer of another model) -- it makes
``Input`` tensors of those shapes (batch axis None), runs the user's ``call`` once on them
(the layers called inside record nodes as usual) and reads the plan from the result
(``Network._init_graph``). From then on it is an ordinary graph model.

Layers assigned as attributes (also inside lists, tuples and dicts) are tracked in
assignment order, as tf-keras does: ``model.layers`` lists them, and the weights follow
that order (a dict's layers by sorted key, a list's where the list was assigned).

Model (engine/training.py) holds the hooks: ``_subclassed`` is this module's
``SubclassedModel`` for a subclassed model and None otherwise.
"""
import inspect

import numpy as np

from seqnet import optimizers
from seqnet.engine.base_layer import Layer
from seqnet.engine.compile_utils import metric_name
from seqnet.engine.input_layer import InputLayer
from seqnet.engine.keras_tensor import KerasTensor

_TRACED = ("{cls}.call is traced once on symbolic tensors (seqnet.layers.Input) to build the model's graph, so "
           "it must compute with seqnet layers, seqnet.backend ops and Python operators (+, *, [...]) on those "
           "tensors (each adds a layer to the graph; or use seqnet.layers.Lambda), not with NumPy functions or "
           "Python control flow on their values. ")

# Attributes the engine itself sets on a model that hold layers (its plan, caches): never tracked.
_ENGINE_ATTRIBUTES = frozenset({
    "_subclassed", "_layers", "_chain", "_steps", "_nodes", "_inbound_nodes", "_row_sparse_plan", "_sparse_tables",
    "_relu_gate_cache", "_step_fusion_cache", "_token_fusion_cache", "_integer_inputs_cache", "_fused_steps",
    "_metrics", "_store", "_parallel", "_regularized", "_penalized", "_constrained", "_buffers", "_values", "_masks",
    "inputs", "outputs", "history", "optimizer"})


def overrides_call(cls):
    """Whether a Model subclass defines its own ``call`` (a subclassed model)."""
    return not getattr(cls.call, "_base_method", False)


def install_tracking(cls):
    """Called for each Model subclass: one that defines ``call`` tracks the layers its
    instances are given as attributes (other models pay nothing per attribute)."""
    if overrides_call(cls) and "__setattr__" not in cls.__dict__:
        cls.__setattr__ = _tracking_setattr
        cls.__delattr__ = _tracking_delattr


def _tracking_setattr(model, name, value):
    tracker = model.__dict__.get("_subclassed")
    if tracker is not None:
        tracker.record(name, value)
    elif isinstance(value, Layer) and "_inbound_nodes" not in model.__dict__:
        raise RuntimeError("It looks like you are subclassing `Model` and you forgot to call "
                           "`super().__init__()`. Always start with this line.")
    object.__setattr__(model, name, value)


def _tracking_delattr(model, name):
    tracker = model.__dict__.get("_subclassed")
    if tracker is not None:
        tracker.attributes.pop(name, None)
    object.__delattr__(model, name)


class SubclassedModel:
    """The subclassed side of one model: its tracked attributes, the compile arguments
    waiting for the graph, and the tracing."""

    def __init__(self, model):
        self.model = model
        self.attributes = {}  # name -> a layer, or a list/tuple/dict that may hold layers; assignment order
        self.pending_compile = None

    def record(self, name, value):
        if name in _ENGINE_ATTRIBUTES or value is self.model:
            return
        self.attributes.pop(name, None)  # a reassigned attribute moves to the end (tf-keras)
        if isinstance(value, (Layer, list, tuple, dict)):
            self.attributes[name] = value

    # ---- layers and weights -----------------------------------------------------------
    def tracked_layers(self):
        """The layers held by the tracked attributes, in order, each once; read now, so a
        list filled after its assignment counts (as tf-keras' tracked lists)."""
        out, seen = [], set()
        for value in self.attributes.values():
            _collect_layers(value, out, seen)
        return out

    def layers(self):
        """``model.layers``: the tracked layers, then any layer the graph calls that no
        attribute holds (made inside ``call``), so its weights still train and save."""
        layers = self.tracked_layers()
        if self.model.built:
            seen = {id(layer) for layer in layers}
            layers += [layer for layer in self.model._layers
                       if not isinstance(layer, InputLayer) and id(layer) not in seen]
        return layers

    # ---- compile before the graph exists -------------------------------------------------
    def defer_compile(self, arguments):
        """compile on an unbuilt model: the number of outputs is not known yet, so the
        arguments wait for the graph (as Keras 2.2.4 does); the optimizer is made now."""
        if arguments.get("loss") is None:
            raise ValueError("compile: a loss is required (a name such as 'mse' or a function)")
        model = self.model
        model.optimizer = optimizers.get(arguments["optimizer"])
        arguments["optimizer"] = model.optimizer
        model.loss = arguments["loss"]
        model.loss_weights = arguments.get("loss_weights")
        model.metrics = arguments.get("metrics") or []
        model._compiled_losses = []  # compiled, the losses are made with the graph
        # the names of one output's values, for a loop that reads them before the first
        # batch builds the model (fit on a generator); the graph's compile sets the real ones
        metrics, weighted = arguments.get("metrics"), arguments.get("weighted_metrics")
        if isinstance(metrics or [], (list, tuple)) and isinstance(weighted or [], (list, tuple)):
            model.metrics_names = ["loss"] + [metric_name(m, False) for m in metrics or []] + \
                [metric_name(m, True) for m in weighted or []]
        self.pending_compile = arguments

    # ---- building: tracing call once -----------------------------------------------------
    def build(self, input_shape):
        """``model.build(input_shape)``: a shape (batch axis first) or a list of shapes."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shapes, several = _shapes(input_shape)
        tensors = [InputLayer(batch_input_shape=(None,) + s[1:])._inbound_nodes[0].output_tensors[0] for s in shapes]
        self.trace(tensors if several else tensors[0])

    def build_from_data(self, x):
        """Builds from the first data the model sees: an array, a list of arrays (one per
        input) or a dict of arrays (its keys become the input names)."""
        if isinstance(x, dict):
            tensors = {}
            for name, a in x.items():
                shape = _sample_shape(a, f"x['{name}']")
                tensors[name] = InputLayer(batch_input_shape=(None,) + shape,
                                           name=str(name))._inbound_nodes[0].output_tensors[0]
            self.trace(tensors)
            return
        if isinstance(x, (list, tuple)) and len(x) and all(hasattr(a, "shape") for a in x):
            self.build([(None,) + _sample_shape(a, f"x[{i}]") for i, a in enumerate(x)])
        else:
            self.build((None,) + _sample_shape(x, "x"))

    def trace(self, inputs):
        """Runs ``call`` once on the symbolic `inputs` (a tensor, a list or a dict of them)
        and makes the model a graph model of the result."""
        model = self.model
        cls = type(model).__name__
        kwargs = {"training": None} if _takes_training(type(model)) else {}
        before = {id(layer): len(layer._inbound_nodes) for layer in self.tracked_layers()}
        try:
            try:
                outputs = model.call(inputs, **kwargs)
            except (TypeError, AttributeError) as err:
                raise TypeError(_TRACED.format(cls=cls) + f"Tracing it failed with {type(err).__name__}: {err}") \
                    from err
            flat = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
            bad = [o for o in flat if not isinstance(o, KerasTensor)]
            if bad or not flat:
                raise TypeError(_TRACED.format(cls=cls) + f"It returned {_describe(bad[0] if bad else outputs)} "
                                "instead of the output tensor(s) of layers called on its inputs.")
            graph_inputs = list(inputs.values()) if isinstance(inputs, dict) else inputs
            model._init_graph(graph_inputs, list(outputs) if isinstance(outputs, (list, tuple)) else outputs)
        except BaseException:
            for layer in self.tracked_layers():  # leave no half-traced calls on the layers
                del layer._inbound_nodes[before.get(id(layer), len(layer._inbound_nodes)):]
            raise
        # Keras 2.2.4 names a subclassed model's outputs output_1, output_2, ...
        model.output_names = [f"output_{i + 1}" for i in range(len(model.outputs))]
        model._store = None
        model._metrics_ready = False
        if self.pending_compile is not None:
            arguments, self.pending_compile = self.pending_compile, None
            model.compile(**arguments)


def refuse_serialization(model, what):
    """save / get_config / to_json on a subclassed model: NotImplementedError, as Keras 2.2.4."""
    raise NotImplementedError(
        f"{what} needs the model's configuration, and '{model.name}' is a subclassed model "
        f"({type(model).__name__}): it is defined by the body of its `call` method, which cannot be serialized. "
        "Save its weights with `model.save_weights(filepath)` and load them into a new instance with "
        "`model.load_weights(filepath)` (after building it), or write it as a Sequential or functional model.")


def require_built_for_loading(model):
    if not model.built:
        raise ValueError("Unable to load weights into a subclassed model that has not been built yet: its weights "
                         "are made when it is built. Call `model.build(input_shape)` (or fit/predict on some "
                         "data) first, then load the weights.")


def _collect_layers(value, out, seen):
    if isinstance(value, Layer):
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
    elif isinstance(value, dict):
        try:
            keys = sorted(value)  # tf-keras walks a tracked dict by sorted key
        except TypeError:
            keys = list(value)
        for key in keys:
            _collect_layers(value[key], out, seen)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect_layers(item, out, seen)


def _takes_training(cls):
    try:
        params = inspect.signature(cls.call).parameters
    except (TypeError, ValueError):
        return False
    return "training" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _shapes(input_shape):
    """([full shapes as tuples], whether a list of shapes was given)."""
    several = isinstance(input_shape, (list, tuple)) and len(input_shape) > 0 \
        and all(isinstance(s, (list, tuple)) for s in input_shape)
    shapes = [tuple(s) for s in input_shape] if several else [tuple(input_shape)]
    for s in shapes:
        if len(s) < 2 or any(d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer))
                                                  or d <= 0) for d in s):
            raise ValueError(f"build: input_shape must be a shape with the batch axis first, e.g. (None, 784), or "
                             f"a list of such shapes; got {input_shape!r}")
    return [tuple(None if d is None else int(d) for d in s) for s in shapes], several


def _sample_shape(a, what):
    shape = tuple(np.shape(a))
    if len(shape) < 2:
        raise ValueError(f"{what}: expected a batch of samples (at least 2 dimensions), got shape {shape}")
    return shape[1:]


def _describe(value):
    return f"{type(value).__name__} {value!r}"[:200]
