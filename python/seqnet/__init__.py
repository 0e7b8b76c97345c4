"""seqnet: the Keras 2 Sequential API on a native C++ engine.

``import seqnet as keras`` and a Keras 2 script runs unchanged.
"""
import os as _os

# libgomp's idle threads spin for ~300k iterations (about 10 ms here) after each parallel
# region, burning the other core while Python runs between kernels and starving any competing
# process; a worker that has gone to sleep takes 30-50 us to start the next region on a VM.
# 10000 iterations (about 0.3 ms) keep the workers awake across the Python between a training
# step's kernels (the seed Embedding + LSTM epoch 15% faster than with 1000) and still let a
# 2-thread product back off to one thread under contention (README: Under contention). Set
# before libgomp loads (it reads the environment once); the user's own OMP_WAIT_POLICY /
# GOMP_SPINCOUNT win.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "10000"

from seqnet import _engine  # noqa: E402
from seqnet import backend
from seqnet import activations, constraints, initializers, losses, metrics, optimizers, regularizers, callbacks, utils
from seqnet import layers, models, datasets, preprocessing
from seqnet.models import Sequential, Model
from seqnet.engine.input_layer import Input
from seqnet.saving import layer_serialization as _layer_serialization

# Keras' path for them; they live in saving, above the layers (they need the whole registry).
layers.serialize = _layer_serialization.serialize
layers.deserialize = _layer_serialization.deserialize

__version__ = "0.1.0"


def set_num_threads(n):
    """Threads used by the engine's parallel kernels (default: OMP_NUM_THREADS or all cores)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    _engine.set_num_threads(n)


def get_num_threads():
    return _engine.get_num_threads()


__all__ = ["Sequential", "Model", "Input", "activations", "backend", "callbacks", "constraints", "datasets",
           "initializers",
           "layers", "losses", "preprocessing", "regularizers", "metrics", "models", "optimizers", "utils", "set_num_threads", "get_num_threads"]
