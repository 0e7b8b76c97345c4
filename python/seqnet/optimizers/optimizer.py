"""Optimizer: the base class. One update call covers every trainable weight of a model."""
import inspect
import math

import numpy as np

from seqnet import backend as K

_ALLOWED = {"clipnorm", "global_clipnorm", "clipvalue", "lr", "learning_rate", "decay", "name"}


class Optimizer:
    """Base class of the optimizers, with Keras 2.2.4's arguments and update rules.

    ``lr`` (or ``learning_rate``) and ``iterations`` are backend variables, so schedulers
    read and set them with ``K.get_value`` / ``K.set_value`` (or by assigning
    ``optimizer.lr = 0.01``). ``decay`` is Keras' time-based decay,
    ``lr / (1 + decay * iterations)``, counting the updates made before the current one.
    ``clipnorm`` scales all the gradients of an update by ``clipnorm / norm`` when their
    global L2 norm (over every weight together) reaches it, as Keras 2.2.4's
    ``get_gradients`` does (tf-keras 2.x clips each weight by its own norm there, and calls
    this ``global_clipnorm``, accepted too with the same meaning); ``clipvalue`` clips every
    gradient element to [-clipvalue, clipvalue], after ``clipnorm`` (Keras 2.2.4's order) but
    before ``global_clipnorm`` (tf-keras' order for its argument).

    Subclasses implement ``_update(params, grads, lr)`` over the model's flat buffers and
    keep their slots (moments, accumulators) as flat buffers of the same size.
    """

    def __init__(self, lr, **kwargs):
        unknown = set(kwargs) - _ALLOWED
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(unknown)}")
        if "learning_rate" in kwargs:
            learning_rate = kwargs.pop("learning_rate")
            # Both spellings given and different: one of them would be dropped silently.
            default = inspect.signature(type(self).__init__).parameters.get("lr")
            if default is not None and lr != default.default and lr != learning_rate:
                raise ValueError(f"{type(self).__name__}: give lr or learning_rate (the same setting), not both; "
                                 f"got lr={lr!r} and learning_rate={learning_rate!r}")
            lr = learning_rate
        decay = kwargs.pop("decay", 0.0)
        for name, value in (("lr", lr), ("decay", decay)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be a non-negative number, got {value!r}")
        if kwargs.get("clipnorm") is not None and kwargs.get("global_clipnorm") is not None:
            raise ValueError(f"{type(self).__name__}: give clipnorm or global_clipnorm, not both (both clip "
                             f"by the global norm), got clipnorm={kwargs['clipnorm']!r} and "
                             f"global_clipnorm={kwargs['global_clipnorm']!r}")
        self.clipnorm = kwargs.get("clipnorm")
        self.global_clipnorm = kwargs.get("global_clipnorm")
        self.clipvalue = kwargs.get("clipvalue")
        for name in ("clipnorm", "global_clipnorm", "clipvalue"):
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
        """The learning rate, a backend Variable (``K.get_value(opt.lr)``); assigning a
        number (``opt.lr = 0.01``) sets its value."""
        return self._lr

    @lr.setter
    def lr(self, value):
        K.set_value(self._lr, float(K.get_value(value)) if hasattr(value, "numpy") else float(value))

    learning_rate = lr

    def current_lr(self):
        """The learning rate the next update will use, decay included."""
        # float() of a Variable reads its value directly: this runs once per training step.
        lr = float(self._lr)
        decay = float(self.decay)
        if decay > 0.0:
            lr /= 1.0 + decay * float(self.iterations)
        return lr

    def apply_gradients_flat(self, params, grads, segments, sparse_rows=None):
        """Updates the flat parameter buffer from the flat gradient buffer (one engine call);
        `segments` are the (offset, size) of each weight, covering the buffers in order.
        `sparse_rows` (optional) lists tables whose gradient is zero but in some rows, as
        (offset, rows, dim, row ids: increasing int64): an optimizer that can gives the dense
        update's result while touching only those rows (``_update_rows``)."""
        if self._slot_size != params.size:
            self._create_slots(params.size)
            self._slot_size = params.size
        self._segments = segments
        if self.clipnorm is not None or self.global_clipnorm is not None or self.clipvalue is not None:
            self._clip(grads, sparse_rows)
        lr = self.current_lr()
        if not (sparse_rows and self._update_rows(params, grads, lr, sparse_rows)):
            self._update(params, grads, lr)
        K.set_value(self.iterations, int(K.get_value(self.iterations)) + 1)

    def _clip(self, grads, sparse_rows):
        """clipnorm then clipvalue (or clipvalue then global_clipnorm), in place over the buffer, as a few
        vector operations. A table of `sparse_rows` is zero outside its rows, so only those rows
        are read and written, gathered once (an Embedding of 50000 x 256 made the full passes
        cost more than the update itself)."""
        parts, gathered, start = [], [], 0  # the arrays clipped in place; (table, ids, its gathered rows)
        for offset, rows, dim, ids in sorted(sparse_rows or (), key=lambda t: t[0]):
            if offset > start:
                parts.append(grads[start:offset])
            table = grads[offset:offset + rows * dim].reshape(rows, dim)
            gathered.append((table, ids, table[ids]))
            parts.append(gathered[-1][2].reshape(-1))
            start = offset + rows * dim
        if start < grads.size:
            parts.append(grads[start:])
        if self.global_clipnorm is not None:  # tf-keras: clip by value, then by the global norm
            self._clip_value(parts)
            self._clip_norm(parts, self.global_clipnorm)
        else:  # Keras 2.2.4's get_gradients: clip by the global norm, then by value
            self._clip_norm(parts, self.clipnorm)
            self._clip_value(parts)
        for table, ids, rows in gathered:
            table[ids] = rows

    @staticmethod
    def _clip_norm(parts, clipnorm):
        if clipnorm is None:
            return
        norm = math.sqrt(sum(float(np.dot(g, g)) for g in parts))
        if norm >= clipnorm:  # Keras 2.2.4's clip_norm: g * (c / n) when n >= c
            scale = np.float32(clipnorm / norm)
            for g in parts:
                g *= scale

    def _clip_value(self, parts):
        if self.clipvalue is not None:
            for g in parts:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)

    def _create_slots(self, size):
        pass

    # ---- state (Keras' legacy optimizer weights) -------------------------------------------
    def _slot_buffers(self):
        """(Keras name, flat buffer) of each slot that exists, in tf_keras.optimizers.legacy's order."""
        return []

    def _scalar_state(self):
        """(Keras name, value) of scalar state saved after `iterations` (Nadam's momentum cache)."""
        return []

    def _set_scalar_state(self, values):
        pass

    def get_weights(self):
        """The state in Keras' legacy order: `iterations`, any scalar state, then each slot
        for every weight in model order (one flat float32 array per weight: reshape it with
        the weight's shape). Empty before the first update, as in Keras."""
        if self._slot_size < 0:
            return []
        state = [np.asarray(K.get_value(self.iterations), dtype=np.int64)]
        state += [np.asarray(value, dtype=np.float64) for _, value in self._scalar_state()]
        for _, buf in self._slot_buffers():
            state += [buf[offset:offset + size].copy() for offset, size in self._segments]
        return state

    def set_weights(self, weights, segments=None):
        """Restores state given in `get_weights`' order. `segments` are the (offset, size) of
        each trainable weight in the model's flat buffer (default: those of the last update).
        Checks everything first: on a ValueError the optimizer is unchanged."""
        segments = segments if segments is not None else getattr(self, "_segments", None)
        if segments is None:
            raise ValueError(f"{type(self).__name__}.set_weights: the optimizer has not updated a model yet, "
                             "so the weights' segments must be given")
        segments = [(int(offset), int(size)) for offset, size in segments]
        total = sum(size for _, size in segments)
        arrays = [np.asarray(w) for w in weights]
        before = dict(self.__dict__)
        if self._slot_size != total:
            self._create_slots(total)  # replaces the slot attributes; restored below on error
        try:
            self._check_state(arrays, segments)
        except ValueError:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        K.set_value(self.iterations, int(arrays[0]))
        scalars = len(self._scalar_state())
        self._set_scalar_state([float(a) for a in arrays[1:1 + scalars]])
        position = 1 + scalars
        for _, buf in self._slot_buffers():
            for offset, size in segments:
                buf[offset:offset + size] = arrays[position].reshape(-1)
                position += 1
        self._slot_size = total
        self._segments = segments

    def _check_state(self, arrays, segments):
        owner = type(self).__name__
        slots = self._slot_buffers()
        scalars = len(self._scalar_state())
        expected = 1 + scalars + len(slots) * len(segments)
        if len(arrays) != expected:
            raise ValueError(f"{owner}.set_weights: expected {expected} arrays (iterations, {scalars} scalar(s), "
                             f"slots {[name for name, _ in slots]} for {len(segments)} weights), got {len(arrays)}")
        for i, array in enumerate(arrays[:1 + scalars]):
            if array.size != 1 or array.dtype.kind not in "iuf" or not np.isfinite(array).all():
                raise ValueError(f"{owner}.set_weights: array {i} must be a finite number, got {array!r}")
        if float(arrays[0]) < 0 or float(arrays[0]) != int(arrays[0]):
            raise ValueError(f"{owner}.set_weights: iterations must be a non-negative integer, got {arrays[0]!r}")
        position = 1 + scalars
        for name, _ in slots:
            for index, (_, size) in enumerate(segments):
                array = arrays[position]
                if array.size != size or array.dtype.kind not in "iuf":
                    raise ValueError(f"{owner}.set_weights: slot '{name}' of weight {index} needs {size} numbers, "
                                     f"got an array of shape {array.shape} and dtype {array.dtype}")
                position += 1

    def _update(self, params, grads, lr):
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def _update_rows(self, params, grads, lr, sparse_rows):
        """The update with `sparse_rows` (see apply_gradients_flat); returns False when this
        optimizer (or its configuration) has no such update, and then `_update` runs."""
        return False

    def get_config(self):
        """The arguments that rebuild this optimizer (``from_config``), with Keras 2.2.4's
        keys: each optimizer adds its own to the base's ``clipnorm`` / ``clipvalue``, which
        appear only when set (as in Keras 2.2.4)."""
        config = {}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.global_clipnorm is not None:
            config["global_clipnorm"] = self.global_clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        return config

    def _lr_value(self):
        return float(K.get_value(self._lr))

    def _decay_value(self):
        return float(K.get_value(self.decay))

    @classmethod
    def from_config(cls, config):
        """The optimizer ``get_config`` describes: ``cls(**config)``."""
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
