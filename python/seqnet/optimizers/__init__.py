"""Optimizers (``seqnet.optimizers``), Keras 2.2.4 defaults."""
from seqnet.optimizers.adadelta import Adadelta
from seqnet.optimizers.adagrad import Adagrad
from seqnet.optimizers.adam import Adam
from seqnet.optimizers.adamax import Adamax
from seqnet.optimizers.nadam import Nadam
from seqnet.optimizers.optimizer import Optimizer
from seqnet.optimizers.rmsprop import RMSprop
from seqnet.optimizers.sgd import SGD
from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

# Keras 2.2 lower-case aliases: optimizers.rmsprop(lr=...), optimizers.adam(lr=...).
sgd = SGD
rmsprop = RMSprop
adagrad = Adagrad
adadelta = Adadelta
adam = Adam
adamax = Adamax
nadam = Nadam

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam", "get", "serialize",
           "deserialize"]

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": Adam,
            "adamax": Adamax, "nadam": Nadam}


def get(identifier):
    """An optimizer from a name ('sgd', 'adam', ..., any case, or a custom object's
    name), a ``{'class_name', 'config'}`` dict or an instance (returned as it is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer):
    """``{'class_name', 'config'}`` of an optimizer, as Keras saves it."""
    return serialize_keras_object(optimizer)


def deserialize(config, custom_objects=None):
    """The optimizer a ``{'class_name', 'config'}`` dict describes. Built-in class names
    match in any case ('Adam', 'adam'); other names are looked up in ``custom_objects``
    and the custom-object scope. Nothing is imported."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"Could not interpret optimizer config: {config!r} (expected a dict with a "
                         "'class_name' and a 'config')")
    config = {"class_name": config["class_name"], "config": config.get("config") or {}}
    if config["class_name"].lower() in _BY_NAME:
        config["class_name"] = config["class_name"].lower()
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="optimizer",
                                    expected=f"Expected one of {sorted(_BY_NAME)}"
                                             ", an Optimizer instance, or a name given in custom_objects.")
