"""``seqnet.layers.serialize`` / ``deserialize``: a layer (or a model) as the
{'class_name', 'config'} dict Keras 2.2.4's ``keras.layers.serialize`` gives, and back.
They live here, above the layers and models, because deserializing needs the registry of
every layer class and the models; ``seqnet/__init__.py`` puts them under Keras' path,
``seqnet.layers``."""
from seqnet.engine.base_layer import Layer
from seqnet.saving.model_config import layer_from_config


def serialize(layer):
    """{'class_name': the layer's class name, 'config': layer.get_config()}; a Sequential or
    functional model serializes the same way (its config holds its layers)."""
    if not isinstance(layer, Layer):
        raise TypeError(f"serialize: expected a seqnet layer or model, got {type(layer).__name__}")
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """A new layer (or model) from a dict that ``serialize`` (or Keras' own) wrote; classes
    seqnet does not define come from ``custom_objects`` ({name: class}) or from
    ``seqnet.utils.get_custom_objects()``. ValueError (a SavingError) naming an unknown class
    or a config the class does not accept."""
    return layer_from_config(config, custom_objects=custom_objects)
