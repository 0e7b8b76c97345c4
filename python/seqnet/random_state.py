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
