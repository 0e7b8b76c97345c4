"""Optimizer: the base class. One update call covers every trainable weight of a model."""
import numpy as np

from seqnet import backend as K

_ALLOWED = {"clipnorm", "clipvalue", "lr", "learning_rate", "decay", "name"}


class Optimizer:
    """Base class of the optimizers, with Keras 2.2.4's arguments and update rules.

    ``lr`` (or ``learning_rate``) and ``iterations`` are backend variables, so schedulers
    read and set them with ``K.get_value`` / ``K.set_value`` (or by assigning
    ``optimizer.lr = 0.01``). ``decay`` is Keras' time-based decay,
    ``lr / (1 + decay * iterations)``, counting the updates made before the current one.
    ``clipnorm`` clips each weight's gradient to that L2 norm; ``clipvalue`` clips every
    gradient element to [-clipvalue, clipvalue].

    Subclasses implement ``_update(params, grads, lr)`` over the model's flat buffers and
    keep their slots (moments, accumulators) as flat buffers of the same size.
    """

    def __init__(self, lr, **kwargs):
        unknown = set(kwargs) - _ALLOWED
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        if "learning_rate" in kwargs:
            lr = kwargs.pop("learning_rate")
        decay = kwargs.pop("decay", 0.0)
        for name, value in (("lr", lr), ("decay", decay)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a non-negative number, got {value!r}")
        self.clipnorm = kwargs.get("clipnorm")
        self.clipvalue = kwargs.get("clipvalue")
        for name in ("clipnorm", "clipvalue"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{type(self).__name__}: {name} must be positive, got {value!r}")
        self._lr = K.variable(float(lr), name="lr")
        self.iterations = K.variable(0, dtype="int64", name="iterations")
        self.initial_decay = float(decay)
        self.decay = K.variable(float(decay), name="decay")
        self._slot_size = -1

    # lr and learning_rate name the same variable (Keras 2.2.4 and tf-keras spellings).
    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        K.set_value(self._lr, float(K.get_value(value)) if hasattr(value, "numpy") else float(value))

    learning_rate = lr

    def current_lr(self):
        """The learning rate the next update will use, decay included."""
        lr = float(K.get_value(self._lr))
        decay = float(K.get_value(self.decay))
        if decay > 0.0:
            lr /= 1.0 + decay * float(K.get_value(self.iterations))
        return lr

    def apply_gradients_flat(self, params, grads, segments):
        """Updates the flat parameter buffer from the flat gradient buffer (one engine call);
        `segments` are the (offset, size) of each weight, for per-weight gradient clipping."""
        if self._slot_size != params.size:
            self._create_slots(params.size)
            self._slot_size = params.size
        if self.clipnorm is not None:
            for start, size in segments:
                g = grads[start:start + size]
                norm = float(np.sqrt(np.dot(g, g)))
                if norm > self.clipnorm:
                    g *= self.clipnorm / norm
        if self.clipvalue is not None:
            np.clip(grads, -self.clipvalue, self.clipvalue, out=grads)
        self._update(params, grads, self.current_lr())
        K.set_value(self.iterations, int(K.get_value(self.iterations)) + 1)

    def _create_slots(self, size):
        pass

    def _update(self, params, grads, lr):
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def get_config(self):
        config = {"lr": float(K.get_value(self._lr)), "decay": float(K.get_value(self.decay))}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def check_range(owner, name, value, low, high, high_inclusive=True):
    """`value` as a float, or ValueError unless low <= value <= high (< high if not inclusive)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.floating)) and low <= value
          and (value <= high if high_inclusive else value < high))
    if not ok:
        bracket = "]" if high_inclusive else ")"
        raise ValueError(f"{owner}: {name} must be a number in [{low}, {high}{bracket}, got {value!r}")
    return float(value)


def check_epsilon(owner, epsilon):
    """Keras 2.2.4: epsilon=None means K.epsilon() (1e-7)."""
    if epsilon is None:
        return 1e-7
    return check_range(owner, "epsilon", epsilon, 0.0, float("inf"))
