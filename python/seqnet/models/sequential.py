"""Sequential: a linear stack of layers."""
import numpy as np

from seqnet.engine.base_layer import Layer
from seqnet.engine.input_layer import InputLayer
from seqnet.engine.training import TrainingModel


class Sequential(TrainingModel):
    """A model made of layers applied one after another.

    ``Sequential([Dense(32, input_shape=(784,)), Activation('relu')])`` or ``.add()`` one
    layer at a time. The first layer states the input shape (``input_shape``,
    ``input_dim``, ``batch_input_shape``, optionally ``batch_size``); the others infer
    theirs. Without an input shape the model is built from the first data it sees.
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._layers = []
        self._input_layer = None
        self._output_shape = None  # full shape of the last layer's output once built
        for layer in layers or []:
            self.add(layer)

    # ---- structure -------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._layers)

    @property
    def _run_layers(self):
        return self._layers

    def add(self, layer):
        """Adds a layer on top of the stack (builds it now when the input shape is known)."""
        from seqnet.engine.keras_tensor import KerasTensor
        if isinstance(layer, KerasTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # Sequential([Input(shape=...), ...])
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model")
            self._input_layer = layer
            self._output_shape = layer.batch_input_shape
            return
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. Name "
                             f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                             "argument to pass a unique name.")
        if not self._layers and self._input_layer is None and layer.batch_input_shape is not None:
            self._input_layer = InputLayer(batch_input_shape=layer.batch_input_shape, name=layer.name + "_input")
            self._output_shape = layer.batch_input_shape
        elif self._layers and layer.batch_input_shape is not None:
            raise ValueError(f"Layer '{layer.name}' gives an input shape, but only the first layer of a "
                             "Sequential model may do so")
        self._layers.append(layer)
        if self._output_shape is not None:
            self._output_shape = self._build_layer(layer, self._output_shape)
        self._store = None
        self._metrics_ready = False

    def pop(self):
        """Removes the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        self._layers.pop()
        self._store = None
        self._metrics_ready = False
        if self._input_layer is not None:
            shape = self._input_layer.batch_input_shape
            for layer in self._layers:
                shape = layer.compute_output_shape(shape)
            self._output_shape = shape

    @staticmethod
    def _build_layer(layer, input_shape):
        if not layer.built:
            layer.build(input_shape)
        elif layer.input_shape_seen is not None and tuple(layer.input_shape_seen[1:]) != tuple(input_shape[1:]):
            raise ValueError(f"Layer '{layer.name}' was built for inputs of shape {layer.input_shape_seen}, "
                             f"but receives {input_shape} here")
        return layer.compute_output_shape(input_shape)

    def build(self, input_shape=None):
        """Builds every layer for inputs of `input_shape` (batch axis first)."""
        if self._is_built():
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        self._ensure_built(tuple(input_shape))

    def _ensure_built(self, batch_input_shape):
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_input_shape=batch_input_shape)
        shape = self._input_layer.batch_input_shape
        for layer in self._layers:
            shape = self._build_layer(layer, shape)
        self._output_shape = shape

    def _is_built(self):
        return self._input_layer is not None and self._output_shape is not None and bool(self._layers)

    def _require_built(self, what):
        if not self._is_built():
            raise ValueError(f"This model has not yet been built (needed by {what}). Build the model first by "
                             "calling build() or calling fit() with some data. Or specify input_shape or "
                             "batch_input_shape in the first layer for automatic build.")

    def _input_shape_nobatch(self):
        return tuple(self._input_layer.batch_input_shape[1:])

    def _output_shape_nobatch(self):
        return tuple(self._output_shape[1:])

    @property
    def _input_name(self):
        return self._input_layer.name if self._input_layer is not None else "input"

    @property
    def _output_name(self):
        return self._layers[-1].name

    @property
    def input_shape(self):
        self._require_built("input_shape")
        return tuple(self._input_layer.batch_input_shape)

    @property
    def output_shape(self):
        self._require_built("output_shape")
        return tuple(self._output_shape)

    # ---- layers and weights ------------------------------------------------------------
    def get_layer(self, name=None, index=None):
        """A layer by index (which wins when both are given) or by unique name; ValueError otherwise."""
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise ValueError(f"get_layer: index must be an integer, got {index!r}")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Every layer's weights, in order, as NumPy arrays in Keras' layouts."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        weights = list(weights)
        expected = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights: model '{self.name}' has {expected} weight arrays, got {len(weights)}")
        # Check every shape first: a bad array leaves all weights unchanged.
        arrays = [np.asarray(w) for w in weights]
        for weight, array in zip(self.weights, arrays):
            if array.shape != weight.value.shape:
                raise ValueError(f"set_weights: weight '{weight.name}' has shape {weight.value.shape}, "
                                 f"but got an array of shape {array.shape}")
        for weight, array in zip(self.weights, arrays):
            weight.value[...] = array

    def count_params(self):
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self._layers)

    def reset_states(self):
        for layer in self._layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    # ---- seed-era prediction helpers (Keras 2.2) ------------------------------------------------
    def predict_proba(self, x, batch_size=32, verbose=0):
        """Class probabilities: `predict`, warning if the outputs are not in [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.size and (preds.min() < 0.0 or preds.max() > 1.0):
            import warnings
            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: argmax over classes, or output > 0.5 for a single sigmoid unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    # ---- description -----------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the layer table in Keras 2's format."""
        self._require_built("summary")
        from seqnet.utils.layer_utils import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        """Keras 2's Sequential config: {'name': ..., 'layers': [{'class_name', 'config'}, ...]}."""
        layers = [{"class_name": type(layer).__name__, "config": layer.get_config()} for layer in self._layers]
        # The input shape travels in the first layer's config (Keras 2.2.4), also when the
        # model was built from data or from an Input.
        if layers and self._input_layer is not None and "batch_input_shape" not in layers[0]["config"]:
            layers[0]["config"]["batch_input_shape"] = tuple(self._input_layer.batch_input_shape)
        return {"name": self.name, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from `get_config()` output (seqnet's, Keras 2's or tf-keras')."""
        from seqnet.saving.model_config import sequential_from_config
        return sequential_from_config(cls, config, custom_objects)
