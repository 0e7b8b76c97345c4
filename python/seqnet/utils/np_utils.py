"""Array utilities (``seqnet.utils.np_utils``, the Keras 2.2 module path)."""
import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels: shape (..., 1) or (...) -> (..., num_classes)."""
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 0):
        raise ValueError(f"to_categorical: num_classes must be a non-negative integer or None, got {num_classes!r}")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" and not (y.dtype.kind == "O" and y.size == 0):
        raise ValueError(f"to_categorical: y must hold integer class labels, got an array of dtype {y.dtype}")
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError("to_categorical: labels must be integers, got non-integer values")
    y = y.astype("int64")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative, got {y.min()}")
    if num_classes is None:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(y.max())} is out of range for num_classes={num_classes}")
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Scales x to unit `order`-norm along `axis` (zero vectors stay zero)."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)
