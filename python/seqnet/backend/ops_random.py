"""Random tensors and dropout, from NumPy's generator.

With ``seed=None`` each call draws a fresh generator key from NumPy's global
state, so ``seqnet.utils.set_random_seed`` (or ``np.random.seed``) makes a
script reproducible; with a seed, the same seed gives the same numbers on
every call. The numbers are NumPy's, not TensorFlow's: a seeded call does not
reproduce the values Keras on TensorFlow would draw.
"""
import numpy as np

from ..random_state import new_key
from .operands import as_array
from .ops import multiply
from .session import floatx
from .variable import Variable


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """An array of ``shape`` drawn uniformly from [minval, maxval)."""
    values = _generator(seed).uniform(minval, maxval, size=_shape(shape))
    return values.astype(dtype or floatx())


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """An array of ``shape`` drawn from a normal distribution."""
    values = _generator(seed).normal(mean, stddev, size=_shape(shape))
    return values.astype(dtype or floatx())


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values redrawn until they lie within two standard deviations of
    the mean, as tf.truncated_normal."""
    rng = _generator(seed)
    values = rng.standard_normal(size=_shape(shape))
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(size=int(outside.sum()))
        outside = np.abs(values) > 2.0
    return (mean + stddev * values).astype(dtype or floatx())


def random_binomial(shape, p=0.0, dtype=None, seed=None):
    """An array of ``shape`` holding 1 with probability ``p`` and 0 otherwise."""
    return (_generator(seed).uniform(size=_shape(shape)) < p).astype(dtype or floatx())


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    """A Variable holding ``random_uniform(shape, low, high)``."""
    return Variable(random_uniform(shape, low, high, dtype, seed), dtype=dtype, name=name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    """A Variable holding ``random_normal(shape, mean, scale)``."""
    return Variable(random_normal(shape, mean, scale, dtype, seed), dtype=dtype, name=name)


def dropout(x, level, noise_shape=None, seed=None):
    """``x`` with each element set to 0 with probability ``level`` and the
    others scaled by 1 / (1 - level), so the expected value is unchanged (as
    tf.nn.dropout). ``noise_shape`` (default: x's shape; None entries mean
    x's length) is the shape of the keep/drop mask, broadcast over x: (batch,
    1, features) drops the same features at every time step. The gradient is
    the same mask times 1 / (1 - level)."""
    if not 0.0 <= level < 1.0:
        raise ValueError(f"dropout: level must be in [0, 1), got {level!r}")
    a = as_array(x)
    if noise_shape is None:
        mask_shape = a.shape
    else:
        mask_shape = tuple(n if d is None else d for d, n in zip(noise_shape, a.shape))
        if len(noise_shape) != a.ndim or any(d not in (1, n) for d, n in zip(mask_shape, a.shape)):
            raise ValueError(f"dropout: noise_shape {tuple(noise_shape)} does not broadcast to x's shape {a.shape}")
    keep = _generator(seed).uniform(size=mask_shape) >= level
    scale = keep.astype(a.dtype if a.dtype.kind == "f" else floatx()) / (1.0 - level)
    return multiply(x, scale)


def _generator(seed):
    return np.random.default_rng(new_key(seed))


def _shape(shape):
    # A shape as Keras takes it: an int, a tuple or list, or K.shape(x)'s array.
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    """An array of ``shape`` holding 1 with probability ``p`` and 0 otherwise (tf-keras' name
    for random_binomial; the numbers are NumPy's, see the module's note)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"random_bernoulli: p must be in [0, 1], got {p!r}")
    return random_binomial(shape, p, dtype, seed)
