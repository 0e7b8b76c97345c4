"""Weight initializers (``seqnet.initializers``), Keras 2 semantics and names."""
import contextlib
import ctypes
import functools
import math

import numpy as np

from seqnet import _engine
from seqnet.random_state import new_key
from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal",
           "TruncatedNormal", "VarianceScaling", "Orthogonal", "Identity", "glorot_uniform",
           "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "get",
           "serialize", "deserialize"]


class Initializer:
    """Base class: ``initializer(shape, dtype=None)`` returns a new float32 array."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _empty(shape):
    return np.empty(tuple(int(d) for d in shape), dtype=np.float32)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(tuple(shape), dtype=np.float32)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(tuple(shape), dtype=np.float32)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(tuple(shape), self.value, dtype=np.float32)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        out = _empty(shape)
        _engine.random_uniform(out, float(self.minval), float(self.maxval), new_key(self.seed), 0)
        return out

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        out = _empty(shape)
        _engine.random_normal(out, float(self.mean), float(self.stddev), new_key(self.seed), 0)
        return out

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        out = _empty(shape)
        _engine.random_truncated_normal(out, float(self.mean), float(self.stddev), new_key(self.seed), 0)
        return out


def compute_fans(shape):
    """Keras 2.2.4's fan_in / fan_out: (in, out) for Dense, receptive field x channels for
    convolutions, and sqrt(size) for both otherwise (0-D, 1-D, 6-D and up; not rounded, so a
    (10,) bias has fans 3.16). tf-keras uses n for a 1-D shape and the receptive field for
    any rank >= 3."""
    shape = tuple(int(d) for d in shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (3, 4, 5):
        receptive = int(np.prod(shape[:-2]))
        return shape[-2] * receptive, shape[-1] * receptive
    root = math.sqrt(int(np.prod(shape)) if shape else 1)
    return root, root


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("normal", "uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("VarianceScaling: distribution must be 'normal', 'uniform', 'truncated_normal' or "
                             f"'untruncated_normal', got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        out = _empty(shape)
        if self.distribution in ("normal", "truncated_normal"):
            # Keras 2: a truncated normal, stddev corrected for the truncation at 2 sigma.
            _engine.random_truncated_normal(out, 0.0, math.sqrt(scale) / 0.87962566103423978,
                                            new_key(self.seed), 0)
        elif self.distribution == "untruncated_normal":
            _engine.random_normal(out, 0.0, math.sqrt(scale), new_key(self.seed), 0)
        else:
            limit = math.sqrt(3.0 * scale)
            _engine.random_uniform(out, -limit, limit, new_key(self.seed), 0)
        return out

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        flat = _empty((max(rows, cols), min(rows, cols)))
        _engine.random_normal(flat, 0.0, 1.0, new_key(self.seed), 0)
        with _numpy_blas_on_one_thread():
            q, r = np.linalg.qr(flat.astype(np.float64))
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


@contextlib.contextmanager
def _numpy_blas_on_one_thread():
    """Runs a NumPy LAPACK call on one OpenBLAS thread. A threaded call leaves OpenBLAS's
    workers spinning for about 0.1 s after it, on the cores the engine's threads train on:
    the first training steps of a freshly built LSTM(128) model (Orthogonal recurrent kernel)
    took 2-3x their time until they stopped (40 steps 280-401 ms against 233-262 after;
    bench/bench_first_steps.py). One thread has no workers to wake; a QR of a layer's kernel is
    small. Linux builds of NumPy's OpenBLAS only (others: no change)."""
    calls = _openblas_thread_calls()
    before = calls[0]() if calls else 1
    if before > 1:
        calls[1](1)
    try:
        yield
    finally:
        if before > 1:
            calls[1](before)


@functools.lru_cache(maxsize=None)
def _openblas_thread_calls():
    """(get, set) of the thread count of the OpenBLAS loaded in this process (NumPy's), or ()
    when none is found (it is looked up in /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
        for path in paths:
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "64_"),
                                   ("openblas", "")):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    return get, set_
    except (OSError, ValueError, AttributeError):
        pass
    return ()


class Identity(Initializer):
    """Initializer that generates the identity matrix times ``gain``; 2-D shapes only. As in
    Keras 2.2.4, when the long side is a multiple of the short side, identity matrices are
    concatenated along the long side; any other rectangle raises ValueError."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        """The identity matrix times ``gain``; for a rectangular shape whose long side is a
        multiple of the short side, identities stacked along the long side (Keras 2.2.4)."""
        shape = tuple(int(d) for d in shape)
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices, got shape {shape}.")
        if min(shape) <= 0 or max(shape) % min(shape) != 0:
            raise ValueError(f"Identity initializer: long side should be multiple of short side, got shape {shape}.")
        rows, cols = shape
        eye = np.identity(min(shape))
        if rows > cols:
            eye = np.concatenate([eye] * (rows // cols), axis=0)
        elif cols > rows:
            eye = np.concatenate([eye] * (cols // rows), axis=1)
        return (self.gain * eye).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain}


def glorot_uniform(seed=None):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed)


def glorot_normal(seed=None):
    return VarianceScaling(1.0, "fan_avg", "normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "normal", seed)


# Class-style aliases of tf-keras (GlorotUniform(seed=...)).
GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal = (
    glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal)
zeros, ones, constant, uniform, normal = Zeros, Ones, Constant, RandomUniform, RandomNormal
zero, one = Zeros, Ones  # Keras 2.2.4 aliases
random_uniform, random_normal, truncated_normal, orthogonal, identity = (
    RandomUniform, RandomNormal, TruncatedNormal, Orthogonal, Identity)

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "zero": Zeros, "one": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal, "uniform": RandomUniform,
    "normal": RandomNormal, "variance_scaling": VarianceScaling, "orthogonal": Orthogonal,
    "identity": Identity, "glorot_uniform": glorot_uniform, "glorot_normal": glorot_normal,
    "he_uniform": he_uniform, "he_normal": he_normal, "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
}
for _cls in (Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
             Orthogonal, Identity):
    _BY_NAME[_cls.__name__] = _cls
_BY_NAME.update(GlorotUniform=glorot_uniform, GlorotNormal=glorot_normal, HeUniform=he_uniform,
                HeNormal=he_normal, LecunUniform=lecun_uniform, LecunNormal=lecun_normal)


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'zeros', ... or a custom object's
    name), a ``{'class_name', 'config'}`` dict, an instance or a callable. Names are
    looked up in the custom-object scope first, then among the built-ins."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(initializer):
    """``{'class_name', 'config'}`` of an initializer instance."""
    return serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """The initializer a ``{'class_name', 'config'}`` dict describes; the class name is
    looked up in ``custom_objects``, the custom-object scope, then the built-ins."""
    if isinstance(config, dict) and "class_name" in config and "config" not in config:
        config = {**config, "config": {}}
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="initializer",
                                    expected=f"Expected one of {sorted(k for k in _BY_NAME if k.islower())}"
                                             " or a name given in custom_objects.")
