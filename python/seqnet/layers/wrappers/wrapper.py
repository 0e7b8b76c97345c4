"""Wrapper: the base of layers that run another layer (Keras 2's ``keras.layers.Wrapper``):
its weights, trainability, configuration and the deserialization of the wrapped layer."""
from seqnet.engine import saving_hooks
from seqnet.engine.base_layer import Layer

# A configuration nesting wrappers deeper than this is refused (a hostile file must not
# exhaust the interpreter's stack); real models nest one or two.
_MAX_NESTING = 16


class Wrapper(Layer):
    """Abstract base class of ``TimeDistributed`` and ``Bidirectional``: a layer that runs
    ``layer`` (any seqnet Layer instance) in some way.

    The wrapper owns no weights of its own: ``weights``, ``trainable_weights`` and
    ``get_weights``/``set_weights`` are the wrapped layer's, in its order. ``trainable``
    reads and sets the wrapped layer's flag. ``get_config()`` adds ``{'layer':
    {'class_name', 'config'}}`` as Keras 2.2.4 does; ``from_config(config,
    custom_objects)`` rebuilds the wrapped layer from it.

    Differs from Keras 2.2.4: a wrapper constructed without ``trainable=`` keeps the wrapped
    layer's flag (tf-keras); Keras 2.2.4 resets it to True.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__}: `layer` must be a seqnet Layer instance, got "
                             f"{type(layer).__name__} {layer!r}")
        self.layer = layer
        trainable = kwargs.pop("trainable", None)
        trainable = layer.trainable if trainable is None else bool(trainable)
        self._ready = False  # Layer.__init__ sets trainable; the wrapped layers keep theirs until now
        super().__init__(**kwargs)
        self._ready = True
        self.trainable = trainable

    # ---- what the wrapper delegates ---------------------------------------------------------
    @property
    def _sublayers(self):
        """The layers whose weights are this wrapper's, in Keras' order (a subclass with
        other layers creates them before calling ``Wrapper.__init__``)."""
        return [self.layer]

    @property
    def trainable(self):
        return self._sublayers[0].trainable

    @trainable.setter
    def trainable(self, value):
        if self.__dict__.get("_ready"):
            for layer in self._sublayers:
                layer.trainable = bool(value)

    @property
    def weights(self):
        return [w for layer in self._sublayers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._sublayers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._sublayers for w in layer.non_trainable_weights]

    @property
    def activity_regularizer(self):
        """The wrapped layer's, applied to the wrapper's output (Keras 2.2.4)."""
        return getattr(self.layer, "activity_regularizer", None)

    @property
    def losses(self):
        return [loss for layer in self._sublayers for loss in layer.losses]

    def _name_weights(self, layer, keep_layer_name):
        """Names the weights of a layer this wrapper has just built as Keras does: under the
        wrapper's name ('time_distributed_1/kernel:0', 'bidirectional_1/forward_lstm_1/kernel:0')."""
        prefix = layer.name + "/"
        for w in layer.weights:
            if w.name.startswith(prefix):
                w.name = f"{self.name}/{w.name if keep_layer_name else w.name[len(prefix):]}"

    def _call_clone(self):
        clone = super()._call_clone()
        clone.layer = self.layer._call_clone()
        return clone

    # ---- configuration -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config["layer"] = _layer_entry(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A wrapper from ``get_config()`` output (seqnet's, Keras 2's or tf-keras'): the
        wrapped layer is rebuilt by seqnet's layer registry (with ``custom_objects``)."""
        config = dict(config)
        layer = deserialize_layer(config.pop("layer", None), custom_objects, cls.__name__)
        return cls(layer, **config)


def deserialize_layer(entry, custom_objects=None, owner="Wrapper"):
    """A layer from {'class_name', 'config'}, found as a model file's layers are (seqnet's
    layers, models used as layers, ``custom_objects``; nothing else is ever imported).
    seqnet.saving does the work; the engine's saving hook reaches it, so this package does
    not import upward."""
    if isinstance(entry, Layer):  # already rebuilt (custom_objects resolved it)
        return entry
    if not isinstance(entry, dict):
        raise ValueError(f"{owner}: the wrapped layer's config must be a dict with 'class_name' and 'config', "
                         f"got {type(entry).__name__}")
    depth, inner = 0, entry
    while isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        depth += 1
        if depth > _MAX_NESTING:
            raise ValueError(f"{owner}: the config nests more than {_MAX_NESTING} wrapped layers")
        inner = inner["config"].get("layer")
    return saving_hooks.get().layer_from_config(entry, custom_objects=custom_objects)


def _layer_entry(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}
