"""Turning what users pass to fit/evaluate/predict into arrays the engine can use,
with Keras' error messages when shapes do not fit; and the checks of those methods'
other arguments (batch_size, steps, callbacks)."""
import numpy as np

from seqnet.callbacks import Callback


def as_float32(data, what):
    """A C-contiguous float32 array from an array, a list, or a one-element list of arrays."""
    if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
        data = data[0]
    return np.ascontiguousarray(numeric_array(data, what), dtype=np.float32)


def numeric_array(data, what):
    """np.asarray(data), or ValueError naming `what` for ragged or non-numeric data."""
    try:
        arr = np.asarray(data)
    except ValueError as exc:  # ragged lists
        raise ValueError(f"{what}: could not be converted to an array ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise ValueError(f"{what}: expected numeric data, got an array of dtype {arr.dtype}")
    return arr


def as_input_array(data, what, keep_integers=False):
    """as_float32, except for array-likes read lazily batch by batch (HDF5Matrix) and, with
    `keep_integers` (an input only Embeddings read), integer arrays, which stay integral
    (int32, or int64 when a value needs it): float32 holds integers exactly only below 2**24."""
    if is_lazy_array(data):
        dtype = np.dtype(getattr(data, "dtype", np.float32))
        if not (np.issubdtype(dtype, np.number) or dtype == np.bool_):
            raise ValueError(f"{what}: expected numeric data, got an array of dtype {dtype}")
        return data
    if keep_integers:
        try:
            arr = np.asarray(data)
        except ValueError:  # ragged lists: as_float32 says what is wrong
            return as_float32(data, what)
        if arr.dtype.kind in "iu":
            if arr.dtype.kind == "u" or arr.dtype.itemsize > 4:
                too_big = arr.size and (int(arr.max()) > np.iinfo(np.int32).max or int(arr.min()) < 0)
                arr = arr.astype(np.int64 if too_big else np.int32)
            return np.ascontiguousarray(arr)
    return as_float32(data, what)


def is_lazy_array(data):
    """An indexable array-like with a shape that is not in memory (e.g. HDF5Matrix). Not a
    pandas DataFrame or Series: their [] selects columns or labels, not rows, so they are
    converted (Keras 2.2.4 takes a DataFrame's values too)."""
    return (not isinstance(data, (np.ndarray, list, tuple, dict)) and hasattr(data, "shape")
            and hasattr(data, "__getitem__") and hasattr(data, "__len__") and hasattr(data, "ndim")
            and not hasattr(data, "iloc"))


def in_memory(arrays):
    """The arrays with each lazy one (is_lazy_array) read whole as float32: the batch methods
    and generator batches hand arrays straight to the engine."""
    return [np.ascontiguousarray(a[0:len(a)], dtype=np.float32) if is_lazy_array(a) else a for a in arrays]


def arrays_for(data, names, what):
    """A list of arrays in `names` order from one array, a list or a dict keyed by name."""
    if isinstance(data, dict):
        unknown = sorted(k for k in data if k not in names)
        if unknown:
            raise ValueError(f"Error when checking model {what}: no {what} layer is named {unknown}; the dict "
                             f"keys must be the {what} names {names}")
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f"No data provided for \"{missing[0]}\". Need data for each key in: {names}")
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and (len(names) > 1 or (len(data) and hasattr(data[0], "shape"))):
        if len(data) != len(names):
            raise ValueError(f"Error when checking model {what}: the list of Numpy arrays that you are passing "
                             f"to your model is not the size the model expected. Expected to see {len(names)} "
                             f"array(s) ({names}), but instead got {len(data)}")
        return list(data)
    if len(names) > 1:
        raise ValueError(f"Error when checking model {what}: the model has {len(names)} {what}s ({names}); pass "
                         f"a list or a dict of arrays, got a single {type(data).__name__}")
    return [data]


def per_output(value, names, what, class_weight=False):
    """sample_weight / class_weight as one entry per output (None where not given)."""
    if value is None or (isinstance(value, (list, tuple)) and not value):  # Keras 2.2.4: [] is no weights
        return [None] * len(names)
    if isinstance(value, dict) and (not class_weight or set(value) <= set(names)
                                    or (len(names) > 1 and set(value) & set(names))):
        if class_weight and len(names) == 1 and not set(value) & set(names):
            return [value]
        unknown = sorted((k for k in value if k not in names), key=repr)
        if unknown:
            raise ValueError(f"{what}: unknown output name(s) {unknown}; the outputs are {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and not (len(names) == 1 and not hasattr(value[0], "__len__")):
        if len(value) != len(names):
            raise ValueError(f"{what}: expected one entry per output ({names}), got {len(value)}")
        return list(value)
    if len(names) > 1:
        raise ValueError(f"{what}: the model has several outputs ({names}); pass a list or a dict keyed by "
                         "output name")
    return [value]


def same_length(arrays, names, what):
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        letter = "x" if what == "input" else "y"
        raise ValueError(f"All {what} arrays ({letter}) should have the same number of samples. Got array shapes: "
                         f"{dict(zip(names, [tuple(a.shape) for a in arrays]))}")


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
        return np.ascontiguousarray(y)  # (samples,) + the output's leading axes: batches gather rows of it
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


def sample_weights(y, sample_weight, class_weight, sparse, temporal=False):
    """Per-sample weights (float32, 1-D), or per-timestep weights (2-D) with `temporal`
    (compile's sample_weight_mode='temporal'), from sample_weight and class_weight; None
    when neither is given."""
    weights = None
    if sample_weight is not None:
        weights = np.asarray(numeric_array(sample_weight, "sample_weight"), dtype=np.float32)
        if temporal:
            if weights.ndim != 2:
                raise ValueError(f"Found a sample_weight array with shape {weights.shape}. In order to use timestep-"
                                 "wise sample weighting, you should pass a 2D sample_weight array (samples, "
                                 "timesteps).")
            steps = y.shape[1] if y.ndim > (1 if sparse else 2) else None
            if steps is None:  # Keras 2.2.4's standardize_weights: a 2-D output has no timesteps to weight
                raise ValueError(f"Found a 2D sample_weight array with shape {weights.shape} for a target of shape "
                                 f"{y.shape}. Timestep-wise sample weighting (sample_weight_mode=\"temporal\") is "
                                 "restricted to outputs that are at least 3D, i.e. that have a time dimension.")
            if weights.shape[1] != steps:
                raise ValueError(f"sample_weight has {weights.shape[1]} timesteps, but the target has {steps} "
                                 f"(target shape {y.shape})")
        elif weights.ndim != 1:
            raise ValueError(f"Found a sample_weight array with shape {weights.shape}. In order to use timestep-"
                             "wise sample weighting, you should pass a 2D sample_weight array and specify "
                             "sample_weight_mode=\"temporal\" in compile(). If you just mean to use sample-wise "
                             "weights, make sure your sample_weight array is 1D.")
        if len(weights) != len(y):
            raise ValueError(f"sample_weight has {len(weights)} entries but the data has {len(y)} samples")
    if class_weight:
        if not isinstance(class_weight, dict):
            raise ValueError(f"class_weight must be a dict mapping class indices to weights, got {class_weight!r}")
        bad = {k: v for k, v in class_weight.items() if not isinstance(v, (int, float, np.integer, np.floating))}
        if bad:
            raise ValueError(f"class_weight: the weights must be numbers, got {bad!r}")
        labels = y.astype(np.int64) if sparse else (np.argmax(y, axis=-1) if y.shape[-1] > 1 else
                                                     np.round(y[:, 0]).astype(np.int64))
        classes = labels.reshape(len(y), -1)[:, 0]
        # Keras 2.2.4's rule (training_utils.standardize_weights): every class in the data
        # needs a weight; keys naming no class in the data are ignored.
        missing = [int(c) for c in np.unique(classes) if int(c) not in class_weight]
        if missing:
            raise ValueError("`class_weight` must contain all classes in the data. The classes "
                             f"{{{', '.join(map(str, missing))}}} exist in the data but not in `class_weight`.")
        cw = np.array([class_weight[int(c)] for c in classes], dtype=np.float32)
        if weights is not None and weights.ndim == 2:
            cw = cw[:, None]
        weights = cw if weights is None else weights * cw
    return None if weights is None else np.ascontiguousarray(weights)


def _shape_str(shape):
    return str(tuple(shape)).replace(",)", ",)")


def split_arrays(xs, ys, ws, start, end):
    """Samples [start, end) of inputs, targets and sample weights (None stays None)."""
    return ([a[start:end] for a in xs], [a[start:end] for a in ys],
            None if ws is None else [None if w is None else w[start:end] for w in ws])


def batch_size_or_default(batch_size):
    """batch_size checked, 32 when None (Keras' default)."""
    if batch_size is None:
        return 32
    check_int("batch_size", batch_size, minimum=1)
    return int(batch_size)


def check_steps_without_batch_size(what, steps_name, steps, batch_size):
    """Keras 2.2.4 (check_num_samples): with arrays, each of `steps` steps takes all the
    samples, so a batch_size as well is an error rather than silently ignored (tf-keras
    would take `steps` batches of batch_size samples instead)."""
    if steps is not None and batch_size is not None:
        raise ValueError(f"{what}: if {steps_name} is set, batch_size must be None (with arrays, each of the "
                         f"{steps_name} steps takes all the samples, as in Keras 2.2.4), got batch_size="
                         f"{batch_size!r} and {steps_name}={steps!r}")


def check_int(name, value, minimum):
    """ValueError naming `name` unless `value` is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_callbacks(callbacks, what):
    """callbacks is None or a list of Callback instances; anything else fails here, naming
    the argument, not in the middle of the first batch."""
    if callbacks is None:
        return
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{what}: callbacks must be a list of Callback instances, got {type(callbacks).__name__}")
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"{what}: callbacks must be a list of Callback instances (seqnet.callbacks.Callback), "
                            f"but callbacks[{i}] is {cb!r} of type {type(cb).__name__}")


def check_not_scalar(a, arg, what):
    """A 0-d array has no samples axis: say so instead of reshaping it into one sample."""
    if getattr(a, "ndim", None) == 0 or isinstance(a, (int, float, np.number)):
        raise ValueError(f"{arg}: {what} is a 0-d array (a scalar); expected an array whose first axis is the "
                         "samples axis, e.g. shape (num_samples, ...)")


def check_has_samples(xs, what):
    """ValueError when the first input holds no sample."""
    if len(xs[0]) == 0:
        raise ValueError(f"{what}: x contains no samples (got an array of shape {tuple(xs[0].shape)}); "
                         "a batch needs at least one sample")
