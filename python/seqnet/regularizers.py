"""Weight regularizers (``seqnet.regularizers``): penalties added to the loss, Keras 2 formulas.

A regularizer maps a weight (or a layer's output, for activity regularization) to a
scalar penalty, ``penalty = l1 * sum(|x|) + l2 * sum(x^2)``, and adds that penalty's
gradient into a gradient buffer. The training loop adds every penalty to the reported loss,
as Keras does.
"""
import numpy as np

from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["Regularizer", "L1L2", "L1", "L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


class Regularizer:
    """Base class: ``__call__(x)`` is the penalty; ``add_gradient(x, grad)`` adds d penalty/dx."""

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def add_gradient(self, x, grad):
        raise NotImplementedError(f"{type(self).__name__} must implement add_gradient")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value < 0:
                raise ValueError(f"L1L2: {name} must be a non-negative number, got {value!r}")
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x):
        x = np.asarray(x, dtype=np.float32)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(x)))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(x)))
        return penalty

    def add_gradient(self, x, grad):
        if self.l1:
            grad += np.float32(self.l1) * np.sign(x)
        if self.l2:
            grad += np.float32(2.0 * self.l2) * x

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01, **kwargs):  # noqa: E741 (Keras' argument name)
    """An L1 penalty ``l * sum(|x|)``. tf-keras' spelling ``l1(l1=0.01)`` (and ``L1``) is accepted."""
    return L1L2(l1=_penalty_argument("l1", l, kwargs))


def l2(l=0.01, **kwargs):  # noqa: E741
    """An L2 penalty ``l * sum(x^2)``. tf-keras' spelling ``l2(l2=0.01)`` (and ``L2``) is accepted."""
    return L1L2(l2=_penalty_argument("l2", l, kwargs))


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return L1L2(l1=l1, l2=l2)


def _penalty_argument(name, l, kwargs):  # noqa: E741
    """The factor given to ``l1``/``l2`` as ``l`` (Keras 2.2.4) or as ``l1=``/``l2=`` (tf-keras)."""
    if name in kwargs:
        l = kwargs.pop(name)  # noqa: E741
    if kwargs:
        raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(kwargs)}")
    return l


# tf-keras' class names; a penalty still serializes as Keras 2.2.4's L1L2.
L1, L2 = l1, l2

_BY_NAME = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "L1L2": L1L2, "L1": L1, "L2": L2}


def get(identifier):
    """A regularizer from None, a name ('l1', 'l2', 'l1_l2' or a custom object's name), a
    ``{'class_name', 'config'}`` dict or an instance. Names are looked up in the
    custom-object scope first, then among the built-ins."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r} (a callable regularizer "
                     "must subclass seqnet.regularizers.Regularizer and define add_gradient)")


def serialize(regularizer):
    """``{'class_name', 'config'}`` of a regularizer (None for None)."""
    return serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer a ``{'class_name', 'config'}`` dict describes; the class name is
    looked up in ``custom_objects``, the custom-object scope, then the built-ins."""
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="regularizer",
                                    expected=f"Expected one of {sorted(_BY_NAME)}"
                                             " or a name given in custom_objects.")
