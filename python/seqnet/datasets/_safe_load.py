"""Reading the data sets' files without executing code from them.

Keras' imdb.npz / reuters.npz hold object arrays (lists of word indices) and CIFAR's batches
are pickles: both need unpickling, which can run arbitrary code. This unpickler accepts only
what those files contain — NumPy arrays and dtypes and plain Python containers — and
raises ValueError for anything else.
"""
import _compat_pickle
import importlib
import io
import pickle
import zipfile

import numpy as np

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    # Protocol 0-2 pickles written by Python 3 store bytes as _codecs.encode(text, 'latin1').
    ("_codecs", "encode"),
    ("collections", "OrderedDict"),
}
# Constructors of plain values, which run no code they are given (unlike eval, exec,
# getattr or __import__, which stay refused like every name not listed here).
_PLAIN_BUILTINS = {"bytes", "bytearray", "set", "frozenset", "complex", "slice", "range", "list", "dict",
                   "tuple", "int", "float", "str", "bool"}
_ALLOWED |= {("builtins", name) for name in _PLAIN_BUILTINS}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        # Python 2 names (__builtin__.xrange), as protocols 0-2 write them, checked as Python 3's.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if (module, name) in _ALLOWED:
            return getattr(importlib.import_module(module), name)
        raise ValueError(f"refusing to load {module}.{name} from a data file (only arrays and plain data are "
                         "allowed)")


def safe_unpickle(fileobj, encoding="ASCII"):
    return _RestrictedUnpickler(fileobj, encoding=encoding).load()


def load_npz(path):
    """The arrays of an .npz file as a dict, object arrays unpickled with the restricted unpickler."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            raw = io.BytesIO(archive.read(member))
            version = np.lib.format.read_magic(raw)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(raw)
            if dtype.hasobject:
                array = safe_unpickle(raw, encoding="latin1")
                if not isinstance(array, np.ndarray):
                    raise ValueError(f"{path}: member {member} is not an array")
            else:
                raw.seek(0)
                array = np.lib.format.read_array(raw, allow_pickle=False)
            out[member[:-4]] = array
    return out
