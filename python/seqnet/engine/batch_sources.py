"""Batch sources: what fit, evaluate and predict iterate over, so there is one epoch loop.

An ArrayBatches serves NumPy arrays (and array-likes such as HDF5Matrix, read batch by
batch); a GeneratorBatches serves a Python generator or a Sequence through the enqueuers.
Both yield ``(xs, ys, ws, size)`` per step, already standardized by the model: lists of
float32 arrays per input and output, per-output sample weights (or None).
"""
import inspect
import math
import warnings

import numpy as np

from seqnet import _engine
from seqnet.engine import data as data_utils
from seqnet.utils.data_utils import Sequence, iter_batches


def is_data_source(x):
    """True for what GeneratorBatches consumes: a Sequence, a generator or an iterator."""
    return isinstance(x, Sequence) or inspect.isgenerator(x) or (
        hasattr(x, "__next__") and hasattr(x, "__iter__") and not isinstance(x, np.ndarray))


class ArrayBatches:
    """Batches of `batch_size` rows (the last one smaller), reshuffled every epoch when
    `shuffle` (True, or 'batch' for Keras' batch-wise shuffle). With `steps` (Keras 2.2.4's
    steps_per_epoch on arrays) every step takes all rows.

    With `shard` (the data-parallel hooks of seqnet.distribute), each step is a global batch
    of size() * batch_size rows of which this rank gets a contiguous slice (rank r the rows
    a single process would have at those positions), in the order rank 0 drew; `position`
    then tells the training step where the slice sits in its global batch."""

    count_mode = "samples"
    exhausted = False
    position = None

    def __init__(self, model, xs, ys, ws, batch_size, shuffle=False, steps=None, shard=None):
        self.model, self.xs, self.ys, self.ws = model, xs, ys, ws
        self.n = len(xs[0]) if xs else len(ys[0])
        self.batch_size, self.shuffle, self.steps, self.shard = batch_size, shuffle, steps, shard
        group = batch_size * (shard.size if shard is not None else 1)
        self.steps_per_epoch = steps if steps is not None else math.ceil(self.n / group)
        self._slices = [(s, min(s + group, self.n)) for s in range(0, self.n, group)]

    def params(self):
        return {"batch_size": self.batch_size, "steps": self.steps, "samples": self.n}

    def epoch(self):
        xs, ys, ws = self.xs, self.ys, self.ws
        if self.shard is not None:
            yield from self._sharded_epoch()
            return
        if self.steps is not None:
            for _ in range(self.steps):
                yield [_rows(a, 0, self.n) for a in xs], ys, ws, self.n
            return
        index = _epoch_order(self.n, self.batch_size, self.shuffle)
        if index is None:  # in order: batches are views, no copy
            for start, end in self._slices:
                yield ([_rows(a, start, end) for a in xs], None if ys is None else [a[start:end] for a in ys],
                       None if ws is None else [None if w is None else w[start:end] for w in ws], end - start)
            return
        gather = self.model._gather
        x_keys, y_keys = self._keys("x", xs), self._keys("y", ys)
        w_keys = self._keys("w", ws)
        for start, end in self._slices:
            ids = index[start:end]
            yield ([gather(k, a, ids) for k, a in zip(x_keys, xs)],
                   None if ys is None else [gather(k, a, ids) for k, a in zip(y_keys, ys)],
                   None if ws is None else [None if w is None else gather(k, w, ids) for k, w in zip(w_keys, ws)],
                   end - start)

    def _sharded_epoch(self):
        shard, n = self.shard, self.n
        slices = [(0, n)] * self.steps if self.steps is not None else self._slices
        index = None
        if self.shuffle and self.steps is None:
            index = shard.broadcast_order(_epoch_order(n, self.batch_size * shard.size, self.shuffle))
        gather = self.model._gather
        keys = [self._keys(prefix, arrays) for prefix, arrays in (("x", self.xs), ("y", self.ys), ("w", self.ws))]
        for start, end in slices:
            lo, hi = shard_bounds(end - start, shard.rank, shard.size)
            self.position = (lo, hi - lo, end - start)
            if hi == lo:  # nothing left for this rank: a stand-in sample, whose gradient is dropped
                lo, hi = end - start - 1, end - start
            if index is None:
                parts = [None if arrays is None else
                         [None if a is None else _rows(a, start + lo, start + hi) for a in arrays]
                         for arrays in (self.xs, self.ys, self.ws)]
            else:
                ids = index[start + lo:start + hi]
                parts = [None if arrays is None else
                         [None if a is None else gather(k, a, ids) for k, a in zip(ks, arrays)]
                         for arrays, ks in zip((self.xs, self.ys, self.ws), keys)]
            yield parts[0], parts[1], parts[2], end - start

    @staticmethod
    def _keys(prefix, arrays):
        return [f"{prefix}{i}" for i in range(len(arrays or ()))]

    def stop(self):
        pass


class GeneratorBatches:
    """`steps` items per epoch from a generator or Sequence, run by the enqueuers.
    `kind` is 'train'/'validation'/'test' (items are (x, y[, sample_weight])) or 'predict' (x, or a
    tuple whose first entry is x)."""

    count_mode = "steps"
    position = None

    def __init__(self, model, source, steps, kind, what, workers=1, use_multiprocessing=False, max_queue_size=10,
                 shuffle=False, class_weight=None, shard=None):
        if not is_data_source(source):
            raise ValueError(f"{what}: expected a generator or a seqnet.utils.Sequence, got {type(source).__name__}")
        _check_workers(workers, max_queue_size)
        # Data-parallel training shards a Sequence by batch index; a plain generator is read per rank.
        self._sharded = shard is not None and isinstance(source, Sequence)
        if self._sharded:
            seed = shard.broadcast_seed() if shuffle else None
            source, shuffle = ShardedSequence(source, shard.rank, shard.size, seed), False
        self.model, self.kind, self.what, self.class_weight = model, kind, what, class_weight
        step_name = {"train": "steps_per_epoch", "validation": "validation_steps"}.get(kind, "steps")
        self.steps_per_epoch = self.steps = _steps(source, steps, step_name)
        self.exhausted = False
        self._batches, self._enqueuer = iter_batches(source, workers, use_multiprocessing, max_queue_size,
                                                     shuffle=bool(shuffle) and isinstance(source, Sequence))

    def params(self):
        return {"steps": self.steps, "samples": None}

    def epoch(self):
        for step in range(self.steps):
            try:
                item = next(self._batches)
            except StopIteration:
                warnings.warn(f"{self.what} ran out of data after {step} of {self.steps} steps; stopping. Make "
                              "sure it can produce at least steps * epochs batches (a generator should loop "
                              "forever).", UserWarning, stacklevel=3)
                self.exhausted = True
                return
            if self.kind == "predict":
                x = item[0] if isinstance(item, tuple) and len(item) in (1, 2, 3) else item
                xs = data_utils.in_memory(self.model._standardize_x(x))
                yield xs, None, None, len(xs[0])
            else:
                real = True
                if self._sharded:
                    item, real = item
                x, y, w = unpack(item, self.what)
                xs, ys, ws = self.model._standardize_xy(x, y, w, self.class_weight)
                xs = data_utils.in_memory(xs)
                if self._sharded:
                    self.position = (None, len(xs[0]) if real else 0, None)
                yield xs, ys, ws, len(xs[0])

    def stop(self):
        if self._enqueuer is not None:
            self._enqueuer.stop()
            self._enqueuer = None


def shard_bounds(count, rank, size):
    """The rows [lo, hi) of a global batch of `count` rows that `rank` of `size` trains on:
    contiguous, as even as possible (the first count % size ranks get one more)."""
    base, extra = divmod(count, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


class ShardedSequence(Sequence):
    """One rank's view of a Sequence in data-parallel training: global step k is the
    Sequence's batches k * size .. k * size + size - 1 (in a shuffled order when `seed` is
    given: the same on every rank, redrawn each epoch), and this rank reads the one at
    k * size + rank. Items are (item, is_real): a rank left without a batch at the last step
    gets the step's first batch as a stand-in (is_real False), trained on with no weight."""

    def __init__(self, sequence, rank, size, seed=None):
        self.sequence, self.rank, self.size, self.seed = sequence, rank, size, seed
        self.epoch = 0
        self._order = (None, None)

    def __len__(self):
        return math.ceil(len(self.sequence) / self.size)

    def __getitem__(self, index):
        n = len(self.sequence)
        order = None
        if self.seed is not None:
            if self._order[0] != (self.epoch, n):
                rng = np.random.RandomState((self.seed + self.epoch) % 2 ** 32)
                self._order = ((self.epoch, n), rng.permutation(n))
            order = self._order[1]
        position = index * self.size + self.rank
        real = position < n
        position = position if real else index * self.size
        return self.sequence[int(order[position]) if order is not None else position], real

    def on_epoch_end(self):
        self.epoch += 1
        self.sequence.on_epoch_end()


def unpack(item, what):
    """(x, y, sample_weight) from a generator's output, or ValueError naming what was found.
    A list [x, y] counts as a tuple, as in Keras 2.2.4 and tf-keras."""
    if isinstance(item, (tuple, list)) and len(item) in (2, 3):
        return tuple(item) if len(item) == 3 else (item[0], item[1], None)
    found = f"a {type(item).__name__}" + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
    raise ValueError(f"Output of {what} should be a tuple `(x, y, sample_weight)` or `(x, y)`. Found: {found}")


def gather_rows(data, ids, buf):
    """Rows `ids` of `data` into `buf`: one engine call for arrays, a read for array-likes."""
    if isinstance(data, np.ndarray):
        _engine.gather_rows(data, ids, buf)
    else:
        buf[...] = _read_rows(data, ids)
    return buf


def _rows(a, start, end):
    return a[start:end] if isinstance(a, np.ndarray) else np.ascontiguousarray(a[start:end], dtype=np.float32)


def _read_rows(data, ids):
    order = np.argsort(ids, kind="stable")
    rows = np.asarray(data[ids[order].tolist()], dtype=np.float32)
    out = np.empty_like(rows)
    out[order] = rows
    return out


def _steps(source, steps, name):
    if isinstance(source, Sequence) and len(source) == 0:  # no batch to give: reading one would spin forever
        raise ValueError(f"{name}: {type(source).__name__} has length 0; expected a Sequence with at least one "
                         "batch")
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"{name} must be a positive integer, got {steps!r}")
        return int(steps)
    if isinstance(source, Sequence):
        return len(source)
    raise ValueError(f"`{name}=None` is only valid for a generator based on the `seqnet.utils.Sequence` class. "
                     f"Please specify `{name}` or use the `seqnet.utils.Sequence` class.")


def _check_workers(workers, max_queue_size):
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, (int, np.integer)) or max_queue_size < 1:
        raise ValueError(f"max_queue_size must be a positive integer, got {max_queue_size!r}")


def _epoch_order(n, batch_size, shuffle):
    """The sample order of an epoch (None: in order), drawn from NumPy's global generator."""
    if not shuffle:
        return None
    if shuffle == "batch":  # shuffle whole batches, then within each batch (Keras' batch_shuffle)
        batch_count = n // batch_size
        index = np.arange(n, dtype=np.int64)
        head = index[:batch_count * batch_size].reshape(batch_count, batch_size)
        np.random.shuffle(head)
        return np.concatenate([head.ravel(), index[batch_count * batch_size:]])
    return np.random.permutation(n).astype(np.int64)
