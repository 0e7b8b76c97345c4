"""Disk I/O helpers (``seqnet.utils.io_utils``): ``HDF5Matrix``, an HDF5 dataset used
in place of a NumPy array, and ``ask_to_proceed_with_overwrite``."""
import os

import numpy as np


class HDF5Matrix:
    """An HDF5 dataset that reads like a NumPy array, as Keras 2.2.4's.

    ``x = HDF5Matrix('data.h5', 'images')`` opens the dataset (read-only) and reads
    nothing but its first row; ``x[10:42]``, ``x[7]``, ``x[[3, 1, 2]]`` and
    ``x[np.array([...])]`` read just those rows from disk. Index lists may be in any
    order and repeat rows (HDF5 itself needs increasing indices: they are sorted, read
    once each and put back in the order asked). ``np.asarray(x)`` reads everything.

    Arguments:
        datapath: path of the HDF5 file.
        dataset: name of the dataset in the file (e.g. 'images' or 'train/x').
        start, end: use only rows [start, end) of the dataset (default: all).
        normalizer: a function applied to every block of rows read (e.g.
            ``lambda x: x / 255.0``); ``shape`` and ``dtype`` describe its output.

    Open files are shared between the HDF5Matrix objects of a path (``refs``).
    """

    refs = {}

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        import h5py

        key = os.path.abspath(os.fspath(datapath))
        f = self.refs.get(key)
        if f is None or not f.id.valid:
            f = h5py.File(key, "r")
            self.refs[key] = f
        if dataset not in f or not isinstance(f[dataset], h5py.Dataset):
            raise KeyError(f"HDF5Matrix: {datapath} has no dataset {dataset!r}; its top-level entries are "
                           f"{sorted(f.keys())}")
        self.data = f[dataset]
        if self.data.ndim == 0:
            raise ValueError(f"HDF5Matrix: dataset {dataset!r} is a scalar; rows need at least one axis")
        rows = self.data.shape[0]
        self.start = int(start)
        self.end = rows if end is None else int(end)
        if not 0 <= self.start <= self.end <= rows:
            raise ValueError(f"HDF5Matrix: need 0 <= start <= end <= {rows} (the dataset's rows), got "
                             f"start={start}, end={end}")
        self.normalizer = normalizer
        first = self._normalized(self.data[0:1])
        self._base_shape = first.shape[1:]
        self._base_dtype = first.dtype

    def __len__(self):
        return self.end - self.start

    def __getitem__(self, key):
        """Rows by an int, a slice, an integer list or array (any order, repeats
        allowed) or a boolean mask; a tuple indexes further axes of the rows read."""
        if isinstance(key, tuple):
            rows, rest = key[0], key[1:]
            block = self[rows]
            if isinstance(rows, (int, np.integer)):
                return block[rest]
            return block[(slice(None),) + rest]
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return self._normalized(self.data[self.start + self._row(key)])
        if isinstance(key, slice):
            first, stop, step = key.indices(len(self))
            if step > 0:
                return self._normalized(self.data[self.start + first:self.start + max(first, stop):step])
            return self._read_rows(np.arange(first, stop, step))
        return self._read_rows(self._row_indices(key))

    def __array__(self, dtype=None, copy=None):
        values = self[:]
        return values if dtype is None else values.astype(dtype)

    @property
    def shape(self):
        """(rows, ...) as NumPy would give it, after the normalizer."""
        return (len(self),) + tuple(self._base_shape)

    @property
    def dtype(self):
        """The NumPy dtype of the rows read (after the normalizer)."""
        return self._base_dtype

    @property
    def ndim(self):
        """The number of axes."""
        return len(self.shape)

    @property
    def size(self):
        """The number of elements (product of ``shape``)."""
        return int(np.prod(self.shape))

    def _normalized(self, values):
        values = np.asarray(values)
        return values if self.normalizer is None else np.asarray(self.normalizer(values))

    def _row(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"HDF5Matrix: row {index} is out of range for {len(self)} rows")
        return index % len(self) if len(self) else index

    def _row_indices(self, key):
        indices = np.asarray(key)
        if indices.dtype == bool:
            if indices.shape != (len(self),):
                raise IndexError(f"HDF5Matrix: a boolean mask needs {len(self)} entries, got shape {indices.shape}")
            return np.flatnonzero(indices)
        if indices.size == 0:
            return np.zeros(0, dtype=np.int64)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise IndexError(f"HDF5Matrix: rows must be given by an int, a slice, a 1-D list or array of ints "
                             f"or a boolean mask, got {key!r}")
        if indices.min() < -len(self) or indices.max() >= len(self):
            raise IndexError(f"HDF5Matrix: rows {indices.min()}..{indices.max()} are out of range for "
                             f"{len(self)} rows")
        return indices % len(self)

    def _read_rows(self, indices):
        # h5py reads a list of rows only in increasing order without repeats: read each
        # distinct row once, in order, then index that block into the order asked.
        if len(indices) == 0:
            return self._normalized(self.data[self.start:self.start])
        unique, inverse = np.unique(indices, return_inverse=True)
        block = self._normalized(self.data[(unique + self.start).tolist()])
        return block[inverse.reshape(-1)]


def ask_to_proceed_with_overwrite(filepath):
    """Ask on the terminal whether to overwrite ``filepath``; True for yes."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True
