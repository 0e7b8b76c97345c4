"""Process-wide backend state: default float type, fuzz factor, image layout,
name counters and the learning phase.

Keras keeps these in module globals too; user scripts set them once
(``K.set_floatx('float64')``) and every layer created afterwards reads them.
"""
import collections

from .. import _engine

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_LEARNING_PHASE = None  # None: not fixed by the user, the training loop decides

# Keras 2.2.4 counts names per prefix, starting at 1 (dense_1, dense_2, ...).
_UIDS = collections.defaultdict(int)

_FLOAT_TYPES = ("float16", "float32", "float64")
_IMAGE_DATA_FORMATS = ("channels_last", "channels_first")


def floatx():
    """The default float type as a string, 'float32' unless set."""
    return _FLOATX


def set_floatx(value):
    """Set the default float type ('float16', 'float32' or 'float64')."""
    global _FLOATX
    value = str(value)
    if value not in _FLOAT_TYPES:
        raise ValueError(
            f"Unknown floatx type: {value!r}; expected one of {_FLOAT_TYPES}")
    _FLOATX = value


def epsilon():
    """The fuzz factor used in numeric expressions, 1e-7 unless set."""
    return _EPSILON


def set_epsilon(value):
    """Set the fuzz factor returned by ``epsilon()``."""
    global _EPSILON
    _EPSILON = float(value)


def matmul_precision():
    """'highest' (the default) or 'high': see ``set_matmul_precision``."""
    return _engine.matmul_precision()


def set_matmul_precision(precision):
    """How accurate float32 matrix products must be where a faster unit allows less, as
    PyTorch's ``torch.set_float32_matmul_precision``.

    'highest' (the default): FP32 accuracy everywhere. 'high': on CPUs with AMX, the large
    products that run on the bf16 tile unit keep three of their six partial products (each
    float is split exactly into three bf16 parts; 'high' drops the three smallest products),
    about twice as fast there, with an error of about 2**-16 of sum |a*b| per element instead
    of float32's 2**-24. Elsewhere, and for the other products, it changes nothing.
    ``SEQNET_MATMUL_PRECISION=high`` sets it at start-up.
    """
    _engine.set_matmul_precision(str(precision))  # ValueError naming the choices for anything else


def image_data_format():
    """'channels_last' (the default) or 'channels_first'."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Set the default image layout for convolution and pooling layers."""
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format)
    if data_format not in _IMAGE_DATA_FORMATS:
        raise ValueError(
            f"Unknown data_format: {data_format!r}; expected one of "
            f"{_IMAGE_DATA_FORMATS}")
    _IMAGE_DATA_FORMAT = data_format


def get_uid(prefix=""):
    """A counter per prefix: 1 on the first call with a prefix, then 2, ...

    Layers use it for their default names, so the first Dense is 'dense_1'.
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def reset_uids():
    """Restart every name counter at 1."""
    _UIDS.clear()


def learning_phase():
    """0 (test) or 1 (train): the value fixed by ``set_learning_phase``, else 0.

    Outside of a training step nothing is training, which is Keras' eager
    default; the training loop passes ``training`` to layers directly.
    """
    if _LEARNING_PHASE is not None:
        return _LEARNING_PHASE
    return _CALL_PHASE[-1] if _CALL_PHASE else 0


# The phase of the layer call now running (a Keras-style layer's call() inside a training
# step sees 1, inside predict 0); a stack, since models nest.
_CALL_PHASE = []


class call_phase:
    """Context manager the engine uses around a Keras-style layer's call():
    ``learning_phase()`` answers `value` inside unless the user fixed the phase."""

    def __init__(self, value):
        self.value = int(bool(value))

    def __enter__(self):
        _CALL_PHASE.append(self.value)
        return self

    def __exit__(self, *exc):
        _CALL_PHASE.pop()
        return False


def set_learning_phase(value):
    """Fix the learning phase to 0 (test) or 1 (train)."""
    global _LEARNING_PHASE
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1, got {value!r}")
    _LEARNING_PHASE = int(value)


class learning_phase_scope:
    """Context manager fixing the learning phase to `value` (0 or 1) inside, and restoring the
    previous setting (fixed or not) on exit, as tf-keras' ``K.learning_phase_scope``."""

    def __init__(self, value):
        if value not in (0, 1):
            raise ValueError(f"learning_phase_scope: value must be 0 or 1, got {value!r}")
        self.value = int(value)
        self._previous = None

    def __enter__(self):
        global _LEARNING_PHASE
        self._previous, _LEARNING_PHASE = _LEARNING_PHASE, self.value
        return self.value

    def __exit__(self, *exc):
        global _LEARNING_PHASE
        _LEARNING_PHASE = self._previous
        return False


class name_scope:
    """A context manager that does nothing: seqnet has no graph names to scope. Code written
    ``with K.name_scope('block'):`` runs unchanged."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return self.name

    def __exit__(self, *exc):
        return False


def learning_phase_is_set():
    """Whether the user fixed the learning phase (layers then obey it)."""
    return _LEARNING_PHASE is not None


def clear_session():
    """Forget session state: name counters restart (the next Dense is
    'dense_1') and the learning phase is no longer fixed."""
    global _LEARNING_PHASE
    reset_uids()
    _LEARNING_PHASE = None
