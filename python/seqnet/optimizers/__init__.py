"""Optimizers (``seqnet.optimizers``), Keras 2.2.4 defaults."""
from seqnet.optimizers.adadelta import Adadelta
from seqnet.optimizers.adagrad import Adagrad
from seqnet.optimizers.adam import Adam
from seqnet.optimizers.adamax import Adamax
from seqnet.optimizers.nadam import Nadam
from seqnet.optimizers.optimizer import Optimizer
from seqnet.optimizers.rmsprop import RMSprop
from seqnet.optimizers.sgd import SGD

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
    """An optimizer instance from a name ('sgd', 'adam', ...), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: '{identifier}'. Expected one of {sorted(_BY_NAME)} "
                             "or an Optimizer instance.")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    name = config.get("class_name", "")
    cls = _BY_NAME.get(name.lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}")
    return cls(**config.get("config", {}))
