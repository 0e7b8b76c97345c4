"""Where seqnet's random numbers come from.

Values themselves come from the engine's counter-based generator (Philox), addressed by a
64-bit key and a position, so they do not depend on threads. Keys are drawn from NumPy's
global generator, so ``seqnet.utils.set_random_seed`` (or ``np.random.seed``) makes
initial weights, dropout masks and shuffling reproducible, as Keras users expect.
"""
import random

import numpy as np


def new_key(seed=None):
    """A 64-bit generator key: the given seed, or a fresh draw from NumPy's global state."""
    if seed is not None:
        return int(seed) & 0xFFFFFFFFFFFFFFFF
    return int(np.random.randint(0, 2 ** 62, dtype=np.int64))


def set_random_seed(seed):
    """Seeds Python's, NumPy's and seqnet's random numbers (as tf.keras.utils.set_random_seed)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"set_random_seed: expected an integer seed, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % (2 ** 32))


# Data-parallel training (seqnet.distribute) runs each process on a slice of the global
# batch. Layers drawing one random number per element (dropout, noise) draw element
# `first * elements_per_sample + i` of their stream, so each process draws exactly what one
# process holding the whole batch would draw at those positions. (0, None): the batch is
# the whole batch.
_batch_position = [0, None]


def batch_position():
    """(index of the current batch's first sample in the global batch, samples in the
    global batch or None when the batch is the whole batch)."""
    return _batch_position[0], _batch_position[1]


def set_batch_position(first=0, total=None):
    """Set by the training step of data-parallel training around its forward pass."""
    _batch_position[0], _batch_position[1] = int(first), None if total is None else int(total)


def stream_offset(elements_per_sample):
    """Where the current batch's draws start in the stream of a per-element random layer:
    the first sample's global position times the elements drawn per sample (0 outside
    data-parallel training)."""
    return _batch_position[0] * int(elements_per_sample)
