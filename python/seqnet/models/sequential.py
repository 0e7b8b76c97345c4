"""Sequential: a linear stack of layers, run as a linear plan on the engine's Model."""
import warnings

from seqnet.engine import saving_hooks
from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import InputLayer
from seqnet.engine.keras_tensor import KerasTensor
from seqnet.engine.network import Network
from seqnet.engine.training import Model


class Sequential(Model):
    """A model made of layers applied one after another.

    ``Sequential([Dense(32, input_shape=(784,)), Activation('relu')])`` or ``.add()`` one
    layer at a time. The first layer states the input shape (``input_shape``,
    ``input_dim``, ``batch_input_shape``, optionally ``batch_size``), or an ``Input`` does;
    the others infer theirs. Without an input shape the model is built from the first data
    it sees (or by ``build(input_shape)``). A layer may be a model itself.
    """

    def __init__(self, layers=None, name=None):
        Network.__init__(self, name=name)
        self._init_training()
        self._stack = []
        self._stack_outputs = []
        self._input_tensor = None
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential: layers must be a list of Layer instances, got {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer)

    # ---- structure -------------------------------------------------------------------
    @property
    def layers(self):
        """The added layers (Keras 2.2.4 leaves out the InputLayer)."""
        return list(self._stack)

    @property
    def _run_layers(self):
        return list(self._stack)

    def _output_names(self):
        return [self._stack[-1].name] if self._stack else []

    def add(self, layer):
        """Adds a layer on top of the stack (calls it now when the input shape is known)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # Sequential([Input(shape=...), ...])
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_tensor is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model")
            self._input_tensor = layer._inbound_nodes[0].output_tensors[0]
            return
        names = getattr(self, "_stack_names", None)
        if names is None or len(names) != len(self._stack):  # first add, or layers popped since: recount
            names = self._stack_names = {existing.name for existing in self._stack}
        if layer.name in names:
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if not self._stack and self._input_tensor is None:
            shape = _declared_input_shape(layer)
            if shape is not None:
                self._input_tensor = InputLayer(batch_input_shape=shape, name=layer.name + "_input")._inbound_nodes[
                    0].output_tensors[0]
        elif self._stack and layer.batch_input_shape is not None:
            warnings.warn(f"Layer '{layer.name}' gives an input shape, but it is not the first layer of the "
                          "Sequential model; the shape is ignored (as Keras 2.2.4 does).", UserWarning, stacklevel=2)
        if self._input_tensor is not None:
            previous = self._stack_outputs[-1] if self._stack_outputs else self._input_tensor
            self._stack_outputs.append(_call_single(layer, previous))
        self._stack.append(layer)
        names.add(layer.name)
        self._graph_changed()

    def pop(self):
        """Removes the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        if self._stack_outputs:
            node = self._stack_outputs.pop().node
            if node in layer._inbound_nodes:
                layer._inbound_nodes.remove(node)
        self._graph_changed()

    # A loader adding many layers sets this, then calls _graph_changed once (linear loading).
    _defer_graph = False

    def _graph_changed(self):
        self._store = None
        self._metrics_ready = False
        if self._defer_graph:
            return
        if self._stack_outputs and len(self._stack_outputs) == len(self._stack):
            self._init_graph(self._input_tensor, self._stack_outputs[-1])
        else:
            self.built = False
            self.inputs, self.outputs, self._steps = [], [], []
            self.output_names = self._output_names()

    def build(self, input_shape=None):
        """Calls every layer for inputs of `input_shape` (batch axis first)."""
        if self.built:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        if self._input_tensor is None:
            self._input_tensor = InputLayer(batch_input_shape=tuple(input_shape))._inbound_nodes[0].output_tensors[0]
        x = self._input_tensor
        self._stack_outputs = []
        for layer in self._stack:
            x = _call_single(layer, x)
            self._stack_outputs.append(x)
        self._graph_changed()

    def _build_for(self, input_shape):
        """Called on a tensor before it is built (as a layer of another model): build first."""
        if not self.built and not isinstance(input_shape, list):
            self.build(input_shape)
        super()._build_for(input_shape)

    def _build_from_data(self, x):
        from seqnet.engine.data import arrays_for, as_input_array
        if not self._stack:
            raise TypeError("The model has no layers: add layers before calling fit or predict.")
        a = as_input_array(arrays_for(x, ["input"], "input")[0], "x")
        if a.ndim < 2:
            raise ValueError(f"x: expected a batch of samples (at least 2 dimensions), got shape {a.shape}")
        self.build((None,) + tuple(a.shape[1:]))

    def count_params(self):
        if not self.built:
            raise ValueError("This model has not yet been built (needed by count_params). Build the model "
                             "first by calling build() or calling fit() with some data. Or specify input_shape or "
                             "batch_input_shape in the first layer for automatic build.")
        return super().count_params()

    # ---- seed-era prediction helpers (Keras 2.2) ------------------------------------------------
    def predict_proba(self, x, batch_size=32, verbose=0):
        """Class probabilities: `predict`, warning if the outputs are not in [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.size and (preds.min() < 0.0 or preds.max() > 1.0):
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: argmax over classes, or output > 0.5 for a single sigmoid unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # ---- configuration ------------------------------------------------------------------
    def get_config(self):
        """Keras 2's Sequential config: {'name': ..., 'layers': [{'class_name', 'config'}, ...]}."""
        layers = [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._stack]
        # The input shape travels in the first layer's config (Keras 2.2.4), also when the
        # model was built from data or from an Input.
        if layers and self._input_tensor is not None and not isinstance(self._stack[0], Network) \
                and "batch_input_shape" not in layers[0]["config"]:
            layers[0]["config"]["batch_input_shape"] = tuple(self._input_tensor.shape)
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from `get_config()` output (seqnet's, Keras 2's or tf-keras')."""
        return saving_hooks.get().sequential_from_config(cls, config, custom_objects)


def _declared_input_shape(layer):
    if isinstance(layer, Network):
        return tuple(layer.inputs[0].shape) if layer.built and len(layer.inputs) == 1 else None
    return layer.batch_input_shape


def _call_single(layer, x):
    out = layer(x)
    if not isinstance(out, KerasTensor):
        node = layer._inbound_nodes.pop()
        raise TypeError(f"All layers in a Sequential model should have a single output tensor. For multi-output "
                        f"layers, use the functional API (layer '{node.layer.name}' returns {len(out)} tensors).")
    return out
