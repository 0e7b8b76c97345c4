"""Keras 2's HDF5 files: whole models (`model.save`) and weights only (`save_weights`).

A model file holds, at its root, the attributes ``keras_version``, ``backend``,
``model_config`` (JSON) and ``training_config`` (JSON); the group ``model_weights``
with ``layer_names`` and, per layer, a group with ``weight_names`` whose datasets are
named as Keras names the weights (``model_weights/dense_1/dense_1/kernel:0``); and, for
a trained model, ``optimizer_weights`` in Keras' legacy order (iterations, then each
slot for every weight). A weights file has the ``model_weights`` layout at its root.
tf-keras 2.x reads and writes the same layout.

Files are written to a temporary file beside the target and renamed over it, so a
crash never leaves a broken file. Reading trusts nothing: every attribute, link and
dataset is checked before use, all arrays are read and checked before any weight is
assigned (a mismatch leaves the model unchanged), and the file never names code to run.
"""
import json
import os
import warnings

import numpy as np

from seqnet.saving import model_config, training_config
from seqnet.saving.errors import SavingError

# HDF5 attributes are limited to 64 KiB: Keras splits longer name lists into
# `layer_names0`, `layer_names1`, ... and so do we.
_ATTRIBUTE_LIMIT = 64512


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Writes architecture, weights, compile arguments and optimizer state to `filepath`.

    The file is written to a temporary file beside it, named
    ``.<file name>.seqnet-tmp-<pid>-<random>``, and renamed over `filepath` when complete,
    so a crash never leaves a broken file. A process killed while writing leaves its
    temporary behind; the next save to the same path deletes such temporaries whose
    writing process no longer exists. A new file gets the permissions a plain ``open``
    would give it (0o666 less the umask); an existing file keeps its own."""
    h5py = _h5py()
    metadata = {"model_config": model_config.model_to_json(model)}
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        metadata["training_config"] = json.dumps(training_config.training_config(model),
                                                 default=model_config._json_default)
    optimizer_state = _optimizer_state(model) if include_optimizer else None

    def write(f):
        f.attrs["keras_version"] = _bytes(model_config.KERAS_VERSION)
        f.attrs["backend"] = _bytes(model_config.BACKEND)
        for key, value in metadata.items():
            f.attrs[key] = _text(value)
        _write_weights(f.create_group("model_weights"), model)
        if optimizer_state:
            names, arrays = optimizer_state
            group = f.create_group("optimizer_weights")
            _write_names(group, "weight_names", names)
            for name, array in zip(names, arrays):
                group.create_dataset(name, data=array)

    if isinstance(filepath, h5py.Group):
        write(filepath)
    else:
        _write_atomically(filepath, overwrite, write)


def load_model(filepath, custom_objects=None, compile=True):  # noqa: A002 -- Keras' argument name
    """A model rebuilt from a file of `save_model` (seqnet's or Keras 2's): architecture,
    weights and, with `compile`, the compile arguments and optimizer state.

    Every failure raises SavingError (a ValueError) naming the file, the layer and the
    problem, or OSError for a file that cannot be read as HDF5 at all. Weights that are
    NaN or infinite load with a warning."""
    h5py = _h5py()
    if isinstance(filepath, h5py.Group):
        return _guarded("<h5py group>", lambda: _load_model_from_group(filepath, custom_objects, compile,
                                                                      "<h5py group>"))
    path = os.fspath(filepath)
    with _open_for_reading(path) as f:
        return _guarded(path, lambda: _load_model_from_group(f, custom_objects, compile, path))


def save_weights(model, filepath, overwrite=True):
    """Writes the layers' weights in Keras' weights-only layout (atomically, as `save_model`)."""
    _write_atomically(filepath, overwrite, lambda f: _write_weights(f, model))


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Loads weights saved by `save_weights` or `save_model` (seqnet's or Keras'): in layer
    order, or with `by_name` into the layers of the same name. Checks every layer first;
    on any error the model's weights are unchanged."""
    path = os.fspath(filepath)
    with _open_for_reading(path) as f:
        def match():
            group = f["model_weights"] if _is_group(f, "model_weights") else f
            return (_match_by_name(group, model, skip_mismatch, path) if by_name
                    else _match_in_order(group, model, path))
        assignments = _guarded(path, match)
    for weight, array in assignments:
        weight.value[...] = array


def _guarded(path, load):
    """Runs `load`, turning every failure into the documented errors: SavingError (naming
    the file and the layer being read) or OSError (naming the file)."""
    model_config.set_current_layer(None)
    try:
        return load()
    except (SavingError, OSError) as err:
        if path in str(err):
            raise
        where = model_config.current_layer()
        raise type(err)(f"{path}: {where + ': ' if where else ''}{err}") from err
    except Exception as err:  # noqa: BLE001 -- a corrupt file must not leak h5py's or numpy's internals
        where = model_config.current_layer()
        raise SavingError(f"{path}: {where + ': ' if where else ''}cannot load the file "
                          f"({type(err).__name__}: {err})") from err
    finally:
        model_config.set_current_layer(None)


# ---- loading a model --------------------------------------------------------------------
def _load_model_from_group(f, custom_objects, compile, path):
    config_text = _attribute(f, "model_config", path)
    if config_text is None:
        raise SavingError(f"{path}: no model found in the file (attribute 'model_config' is missing); "
                          "a weights-only file is read with model.load_weights")
    model = model_config.model_from_config(model_config.parse_json(config_text, f"{path}: model_config"),
                                           custom_objects)
    if not _is_group(f, "model_weights"):
        raise SavingError(f"{path}: the file has no 'model_weights' group")
    weights_group = f["model_weights"]
    if not model.built and _saved_layer_names(weights_group, path, with_weights=True):
        raise SavingError(f"{path}: the model config gives no input shape, so its weights cannot be restored")
    for weight, array in _match_in_order(weights_group, model, path):
        weight.value[...] = array
    training_text = _attribute(f, "training_config", path)
    if not compile or training_text is None:
        return model
    config = model_config.parse_json(training_text, f"{path}: training_config")
    training_config.compile_from_config(model, config, custom_objects)
    link = f.get("optimizer_weights", getlink=True)
    if link is not None:
        if not isinstance(link, _h5py().HardLink):
            raise SavingError(f"{path}: 'optimizer_weights' is a {type(link).__name__}; only data inside the file "
                              "is read")
        _restore_optimizer_state(f, model, config, path)
    return model


def _restore_optimizer_state(f, model, config, path):
    """Keras' rule: optimizer state that does not fit warns and leaves a fresh optimizer."""
    if not training_config.is_legacy_optimizer_config(config.get("optimizer_config")):
        warnings.warn(f"{path}: the optimizer state was saved by a tf-keras (non-legacy) optimizer, whose layout "
                      "seqnet does not read; training continues with a fresh optimizer state.", stacklevel=3)
        return
    try:
        group = f["optimizer_weights"]
        if not isinstance(group, _h5py().Group):
            raise SavingError("'optimizer_weights' is not a group")
        names = _read_names(group, "weight_names", path)
        arrays = [_read_dataset(group, name, path, keep_dtype=True) for name in names]
        model.optimizer.set_weights(arrays, _segments(model))
    except Exception as err:  # noqa: BLE001 -- Keras' rule: any unusable state warns and starts fresh
        warnings.warn(f"{path}: error in loading the saved optimizer state ({err}); training continues with a "
                      "fresh optimizer state.", stacklevel=3)


def _segments(model):
    segments, offset = [], 0
    for weight in model.trainable_weights:
        segments.append((offset, weight.value.size))
        offset += weight.value.size
    return segments


def _optimizer_state(model):
    """(names, arrays) of the optimizer's state in Keras' legacy order, or None untrained."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    arrays = optimizer.get_weights()
    if not arrays:
        return None
    weights = model.trainable_weights
    prefix = type(optimizer).__name__
    names = [f"{prefix}/iter:0"] + [f"{prefix}/{name}:0" for name, _ in optimizer._scalar_state()]
    head = len(names)
    slots = optimizer._slot_buffers()
    if optimizer._segments != _segments(model) or len(arrays) != head + len(slots) * len(weights):
        warnings.warn("The optimizer's state belongs to other trainable weights than the model has now (layers "
                      "changed since training); it is not saved.", stacklevel=3)
        return None
    shaped = list(arrays[:head])
    for index, (slot, _) in enumerate(slots):
        for position, weight in enumerate(weights):
            names.append(f"{prefix}/{_strip_port(weight.name)}/{slot}:0")
            shaped.append(arrays[head + index * len(weights) + position].reshape(weight.value.shape))
    return names, shaped


# ---- weights -------------------------------------------------------------------------------
def _write_weights(group, model):
    group.attrs["keras_version"] = _bytes(model_config.KERAS_VERSION)
    group.attrs["backend"] = _bytes(model_config.BACKEND)
    layers = model.layers
    _write_names(group, "layer_names", [layer.name for layer in layers])
    for layer in layers:
        layer_group = group.create_group(layer.name)
        weights = layer.weights
        _write_names(layer_group, "weight_names", [w.name for w in weights])
        for weight in weights:
            layer_group.create_dataset(weight.name, data=np.asarray(weight.value, dtype=np.float32))


def _match_in_order(group, model, path="file"):
    """(weight, array) pairs, Keras' rule: the file's layers that have weights, in order,
    against the model's layers that have weights."""
    saved = _saved_layer_names(group, path, with_weights=True)
    layers = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(layers):
        raise SavingError(f"{path}: you are trying to load a weight file containing {len(saved)} layers with "
                          f"weights into a model with {len(layers)} layers with weights")
    pairs = []
    for (name, weight_names), layer in zip(saved, layers):
        pairs += _layer_pairs(group, name, weight_names, layer, path)
    return pairs


def _match_by_name(group, model, skip_mismatch, path="file"):
    """(weight, array) pairs, Keras' rule for ``by_name``: each model layer named like a saved
    layer (with weights or not) must have as many weights as it, each of the same shape. With
    ``skip_mismatch`` a layer whose weight count differs is skipped, and so is each single
    weight whose shape differs (the layer's other weights still load), with a warning."""
    saved = dict(_saved_layer_names(group, path, with_weights=False))
    pairs = []
    for layer in model.layers:
        if layer.name not in saved:
            continue
        weight_names = saved[layer.name]
        if len(weight_names) != len(layer.weights):
            if not skip_mismatch:
                _layer_pairs(group, layer.name, weight_names, layer, path)  # raises, naming both counts
            warnings.warn(f"Skipping loading of weights for layer '{layer.name}' due to mismatch in number of "
                          f"weights ({len(layer.weights)} in the model vs {len(weight_names)} in the file)",
                          stacklevel=3)
            continue
        if not skip_mismatch:
            pairs += _layer_pairs(group, layer.name, weight_names, layer, path)
            continue
        model_config.set_current_layer(f"layer '{layer.name}'")
        for weight, weight_name in zip(layer.weights, weight_names):
            what = f"layer '{layer.name}' weight '{weight.name}'"
            array = _read_dataset(group[layer.name], weight_name, path, what=what)
            if array.shape != tuple(weight.value.shape):
                warnings.warn(f"Skipping loading of weights for layer '{layer.name}' due to mismatch in shape of "
                              f"{what}: {tuple(weight.value.shape)} in the model, {array.shape} in the file",
                              stacklevel=3)
                continue
            pairs.append((weight, array))
    return pairs


def _layer_pairs(group, saved_name, weight_names, layer, path):
    weights = layer.weights
    if len(weight_names) != len(weights):
        raise SavingError(f"{path}: layer '{layer.name}' ({type(layer).__name__}) expects {len(weights)} weights, "
                          f"but the saved layer '{saved_name}' has {len(weight_names)}")
    model_config.set_current_layer(f"layer '{layer.name}'")
    layer_group = group[saved_name]
    pairs = []
    for weight, weight_name in zip(weights, weight_names):
        array = _read_dataset(layer_group, weight_name, path, expected_shape=weight.value.shape,
                              what=f"layer '{layer.name}' weight '{weight.name}'")
        pairs.append((weight, array))
    return pairs


def _saved_layer_names(group, path, with_weights):
    """[(layer name, [weight names])] in the file's order (only those with weights if asked)."""
    layer_names = _read_names(group, "layer_names", path)
    saved = []
    for name in layer_names:
        if "/" in name or name in (".", ".."):
            raise SavingError(f"{path}: invalid layer name {name!r} in 'layer_names'")
        if not _is_group(group, name):
            raise SavingError(f"{path}: layer '{name}' is listed in 'layer_names' but has no group")
        weight_names = _read_names(group[name], "weight_names", path)
        if weight_names or not with_weights:
            saved.append((name, weight_names))
    return saved


# ---- low-level, checked reading ---------------------------------------------------------------
def _read_dataset(group, name, path, expected_shape=None, what=None, keep_dtype=False):
    """A copy of dataset `name` under `group` (float32 unless `keep_dtype`), refusing links
    out of the file, external or virtual storage, non-numeric data and (before reading) a
    wrong shape."""
    h5py = _h5py()
    what = what or f"dataset '{name}'"
    if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
        raise SavingError(f"{path}: {what} has an invalid name {name!r}")
    node = group
    for part in name.split("/"):
        link = node.get(part, getlink=True) if isinstance(node, h5py.Group) else None
        if link is None:
            raise SavingError(f"{path}: {what} is missing (no '{name}' in '{group.name}')")
        if not isinstance(link, h5py.HardLink):
            raise SavingError(f"{path}: {what} is a {type(link).__name__}; only data inside the file is read")
        node = node[part]
    if not isinstance(node, h5py.Dataset):
        raise SavingError(f"{path}: {what} is not a dataset")
    if node.external or node.is_virtual:
        raise SavingError(f"{path}: {what} keeps its data outside the file; refused")
    if node.dtype.kind not in "fiu":
        raise SavingError(f"{path}: {what} has dtype {node.dtype}; expected numbers")
    if expected_shape is not None and tuple(node.shape) != tuple(expected_shape):
        raise SavingError(f"{path}: {what} has shape {tuple(expected_shape)} in the model, but "
                          f"{tuple(node.shape)} in the file")
    if node.size > model_config._MAX_ELEMENTS:
        raise SavingError(f"{path}: {what} is too large ({node.shape})")
    try:
        array = node[()]
    except (OSError, ValueError, TypeError) as err:
        raise SavingError(f"{path}: cannot read {what}: {err}") from None
    array = np.array(array) if keep_dtype else np.asarray(array, dtype=np.float32)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        warnings.warn(f"{path}: {what} holds NaN or infinite values", RuntimeWarning, stacklevel=2)
    return array


def _read_names(group, key, path):
    """A list of names from attribute `key` (or its chunks key0, key1, ...)."""
    if key in group.attrs:
        values = _attr_array(group, key, path)
    elif f"{key}0" in group.attrs:
        values, index = [], 0
        while f"{key}{index}" in group.attrs:
            values += list(_attr_array(group, f"{key}{index}", path))
            index += 1
    else:
        raise SavingError(f"{path}: attribute '{key}' is missing on '{group.name}'")
    names = []
    for value in values:
        if isinstance(value, (bytes, np.bytes_)):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise SavingError(f"{path}: attribute '{key}' on '{group.name}' holds a name that is not UTF-8") from None
        if not isinstance(value, str) or not value:
            raise SavingError(f"{path}: attribute '{key}' on '{group.name}' must hold names, got {value!r}")
        names.append(value)
    return names


def _attr_array(group, key, path):
    try:
        value = group.attrs[key]
    except (OSError, TypeError, ValueError, KeyError) as err:
        raise SavingError(f"{path}: cannot read attribute '{key}' on '{group.name}': {err}") from None
    array = np.asarray(value)
    if array.ndim > 1 or (array.size and array.dtype.kind not in "SUO"):
        raise SavingError(f"{path}: attribute '{key}' on '{group.name}' must be a list of names")
    return array.reshape(-1)


def _attribute(f, key, path):
    """A string attribute at the root, or None when absent."""
    if key not in f.attrs:
        return None
    try:
        value = f.attrs[key]
    except (OSError, TypeError, ValueError) as err:
        raise SavingError(f"{path}: cannot read attribute '{key}': {err}") from None
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise SavingError(f"{path}: attribute '{key}' is not UTF-8 text") from None
    if not isinstance(value, str):
        raise SavingError(f"{path}: attribute '{key}' must be a string, got {type(value).__name__}")
    return value


def _is_group(group, name):
    h5py = _h5py()
    try:
        link = group.get(name, getlink=True)
        return isinstance(link, h5py.HardLink) and isinstance(group[name], h5py.Group)
    except (KeyError, OSError, ValueError, TypeError):
        return False


# ---- writing ---------------------------------------------------------------------------------
def _write_names(group, key, names):
    """Attribute `key` holding `names`, or (Keras' rule, as its save_attributes_to_hdf5_group)
    the fewest chunks `key0`, `key1`, ... that each fit HDF5's 64 KiB attribute limit."""
    encoded = [_bytes(name) for name in names]
    too_long = [bytes(name[:40]).decode("utf-8", "replace") + "..." for name in encoded
                if len(name) > _ATTRIBUTE_LIMIT]
    if too_long:
        raise SavingError(f"The following names in '{key}' cannot be saved to HDF5 because they are longer than "
                          f"{_ATTRIBUTE_LIMIT} bytes: {too_long[:3]}")
    array = np.asarray(encoded) if encoded else np.asarray([], dtype=np.float64)  # as Keras writes empty lists
    chunks = max(1, int(np.ceil(array.nbytes / _ATTRIBUTE_LIMIT)))
    parts = np.array_split(array, chunks)
    while any(part.nbytes > _ATTRIBUTE_LIMIT for part in parts):
        chunks += 1
        parts = np.array_split(array, chunks)
    if chunks == 1:
        group.attrs[key] = array
        return
    for index, part in enumerate(parts):
        group.attrs[f"{key}{index}"] = part


_TEMP_MARK = ".seqnet-tmp-"


def _temporary_name(path):
    """'<dir>/.<name>.seqnet-tmp-<pid>-<random>': beside the target, plainly ours, and
    naming the process that writes it (so a later save can tell it is stale)."""
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{base}{_TEMP_MARK}{os.getpid()}-{os.urandom(4).hex()}")


def _remove_stale_temporaries(path):
    """Deletes temporaries of `path` left by saves whose process no longer exists."""
    directory, base = os.path.split(os.path.abspath(path))
    prefix = f".{base}{_TEMP_MARK}"
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        pid_text = entry[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or _process_exists(int(pid_text)):
            continue
        try:
            os.unlink(os.path.join(directory, entry))
        except OSError:
            pass


def _process_exists(pid):
    if pid == os.getpid():
        return True  # another thread of ours may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # alive (another user's), or unknowable: keep the file
    return True


def _write_atomically(filepath, overwrite, write):
    h5py = _h5py()
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False")
    _remove_stale_temporaries(path)
    tmp = _temporary_name(path)
    # Created as a plain open would create the target (0o666 less the umask, applied by the
    # system: the process umask is never read or changed); an existing target's mode is kept.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        with h5py.File(tmp, "w") as f:
            write(f)
        mode = _existing_mode(path)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _existing_mode(path):
    """The existing file's permissions, or None for a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return None


def _open_for_reading(path):
    h5py = _h5py()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No file found at {path}")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise OSError(f"{path}: not a readable HDF5 file ({err})") from None


def _text(text):
    """Short text as fixed-length bytes (as Keras 2.2.4 wrote it), long text as a
    variable-length string (as tf-keras does): HDF5 keeps small attributes to 64 KiB."""
    data = text.encode("utf-8")
    return np.bytes_(data) if len(data) < _ATTRIBUTE_LIMIT else text


def _bytes(text):
    return np.bytes_(text.encode("utf-8"))


def _strip_port(name):
    return name[:-2] if name.endswith(":0") else name


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover -- h5py is a dependency
        raise ImportError("Saving and loading models needs h5py: pip install h5py") from None
    return h5py
