"""Turning what users pass to fit/evaluate/predict into arrays the engine can use,
with Keras' error messages when shapes do not fit."""
import numpy as np


def as_float32(data, what):
    """A C-contiguous float32 array from an array, a list, or a one-element list of arrays."""
    if isinstance(data, dict):
        if len(data) != 1:
            raise ValueError(f"{what}: a Sequential model takes one array, got a dict with keys {sorted(data)}")
        data = next(iter(data.values()))
    if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
        data = data[0]
    try:
        arr = np.asarray(data)
    except ValueError as exc:  # ragged lists
        raise ValueError(f"{what}: could not be converted to an array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"{what}: expected numeric data, got an array of dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def n_samples(data):
    """The number of samples of an array or of a list of arrays (a multi-input model's)."""
    return len(data[0]) if isinstance(data, list) else len(data)


def take(data, start, end):
    """Rows start:end of an array, of each array of a list, or None for None."""
    if isinstance(data, list):
        return [None if a is None else a[start:end] for a in data]
    return None if data is None else data[start:end]


def check_input(x, expected_shape, input_name):
    """expected_shape excludes the batch axis; None entries match anything."""
    if x.ndim == 1 and len(expected_shape) == 1 and expected_shape[0] == 1:
        x = x.reshape(-1, 1)
    if x.ndim != len(expected_shape) + 1 or any(
            e is not None and e != d for e, d in zip(expected_shape, x.shape[1:])):
        raise ValueError(f"Error when checking input: expected {input_name} to have "
                         f"{len(expected_shape) + 1} dimensions with shape {_shape_str(expected_shape)}, "
                         f"but got array with shape {x.shape}")
    return x


def check_target(y, output_shape, output_name, loss_name, sparse):
    """Checks y against the output shape (excluding the batch axis) and the loss."""
    if sparse:
        if y.ndim == len(output_shape) + 1 and y.shape[-1] == 1:
            y = y.reshape(y.shape[:-1])
        if y.shape[1:] != tuple(output_shape[:-1]):
            raise ValueError(f"Error when checking target: {loss_name} expects integer labels of shape "
                             f"{(y.shape[0],) + tuple(output_shape[:-1])} for output {output_name} of shape "
                             f"{_shape_str(output_shape)}, but got array with shape {y.shape}")
        classes = output_shape[-1]
        if y.size and (y.min() < 0 or y.max() >= classes or np.any(y != np.floor(y))):
            bad = y[(y < 0) | (y >= classes) | (y != np.floor(y))][0]
            raise ValueError(f"Error when checking target: {loss_name} got label {bad:g}, but output "
                             f"{output_name} has {classes} classes (labels must be integers in [0, {classes}))")
        return np.ascontiguousarray(y.reshape(-1))
    if y.ndim == 1 and len(output_shape) == 1 and output_shape[0] == 1:
        y = y.reshape(-1, 1)
    if loss_name == "categorical_crossentropy" and y.ndim == 2 and y.shape[-1] == 1 and output_shape[-1] != 1:
        raise ValueError(f"You are passing a target array of shape {y.shape} while using as loss "
                         "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be binary "
                         "matrices (1s and 0s) of shape (samples, classes). If your targets are integer classes, "
                         "you can convert them to the expected format via:\n```\nfrom seqnet.utils import "
                         "to_categorical\ny_binary = to_categorical(y_int)\n```\nAlternatively, you can use the "
                         "loss function `sparse_categorical_crossentropy` instead, which does expect integer targets.")
    if y.ndim != len(output_shape) + 1 or any(e is not None and e != d for e, d in zip(output_shape, y.shape[1:])):
        raise ValueError(f"Error when checking target: expected {output_name} to have shape "
                         f"{_shape_str(output_shape)} but got array with shape {y.shape}")
    return y


def check_same_length(x, y, sample_weight=None):
    if len(x) != len(y):
        raise ValueError("Input arrays should have the same number of samples as target arrays. "
                         f"Found {len(x)} input samples and {len(y)} target samples.")
    if sample_weight is not None and len(sample_weight) != len(y):
        raise ValueError(f"sample_weight has {len(sample_weight)} entries but the data has {len(y)} samples")


def sample_weights(y, sample_weight, class_weight, sparse):
    """Per-sample weights (float32, 1-D) from sample_weight and class_weight, or None."""
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=np.float32)
        if weights.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D (one weight per sample), got shape {weights.shape}; "
                             "temporal (2-D) weights need sample_weight_mode='temporal', not yet supported")
        if len(weights) != len(y):
            raise ValueError(f"sample_weight has {len(weights)} entries but the data has {len(y)} samples")
    if class_weight:
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be a dict mapping class indices to weights, got {class_weight!r}")
        labels = y.astype(np.int64) if sparse else (np.argmax(y, axis=-1) if y.shape[-1] > 1 else
                                                     np.round(y[:, 0]).astype(np.int64))
        cw = np.array([class_weight.get(int(c), 1.0) for c in labels.reshape(len(y), -1)[:, 0]], dtype=np.float32)
        weights = cw if weights is None else weights * cw
    return None if weights is None else np.ascontiguousarray(weights)


def _shape_str(shape):
    return str(tuple(shape)).replace(",)", ",)")
