"""A layer's weight: its value, its gradient, and how it is initialised and constrained."""
import numpy as np


class Weight:
    """One weight of a layer.

    ``value`` is the float32 array the kernels read; ``grad`` is where ``backward`` writes
    dL/d(value). A model may re-point both into its flat parameter buffers (one optimizer
    call then updates every weight), so code reads ``weight.value`` at use, never caching
    the array. Works with ``np.asarray``, ``K.get_value`` and ``K.set_value``.
    """

    __slots__ = ("name", "value", "grad", "trainable", "regularizer", "constraint")

    def __init__(self, name, value, trainable=True, regularizer=None, constraint=None):
        self.name = name
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.grad = np.zeros_like(self.value) if trainable else None
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return "float32"

    def numpy(self):
        return self.value.copy()

    def assign(self, new_value):
        new_value = np.asarray(new_value)
        if new_value.shape != self.value.shape:
            raise ValueError(f"Weight '{self.name}': cannot assign a value of shape {new_value.shape} "
                             f"to a weight of shape {self.value.shape}")
        self.value[...] = new_value

    def __array__(self, dtype=None, copy=None):
        return self.value.astype(dtype) if dtype is not None else self.value.copy()

    def __repr__(self):
        return f"<seqnet Weight '{self.name}' shape={self.value.shape} dtype=float32>"


def unique_weights(weights):
    """`weights` without repeats (a shared layer's), in first-seen order."""
    seen, out = set(), []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def weight_penalty(penalized):
    """The sum of the penalties of `penalized` (weights that each have a regularizer)."""
    total = 0.0
    for w in penalized:
        total += w.regularizer(w.value)
    return total
