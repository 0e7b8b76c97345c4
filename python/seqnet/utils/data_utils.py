"""Feeding batches from Python generators and Sequences (``seqnet.utils.data_utils``).

``Sequence`` is Keras' indexable batch source: order is kept and every batch is given once
per epoch, with threads or processes. The enqueuers run a source in background workers
that fill a bounded queue (``max_queue_size`` batches: constant memory however large the
data set), hand the batches to the training loop in order, pass a worker's exception on to
the caller, and leave no thread, process or file descriptor behind when stopped.
"""
import multiprocessing
import queue
import random
import sys
import threading
import traceback
import warnings

from seqnet.utils.file_utils import get_file  # noqa: F401,E402 (Keras 2.2 path: utils.data_utils.get_file)

__all__ = ["Sequence", "OrderedEnqueuer", "GeneratorEnqueuer", "iter_batches", "get_file"]


class Sequence:
    """Base class for a data set served in batches: implement ``__getitem__(index)``
    (batch ``index``, as ``(x, y)`` or ``(x, y, sample_weight)``) and ``__len__`` (batches
    per epoch); ``on_epoch_end`` runs after every epoch (e.g. to reshuffle)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]


def iter_batches(source, workers=1, use_multiprocessing=False, max_queue_size=10, shuffle=False):
    """An endless iterator over a Sequence's batches (epoch after epoch) or a generator's
    items, and the enqueuer running it (None on the main thread, with ``workers=0``)."""
    if isinstance(source, Sequence):
        if workers > 0:
            enqueuer = OrderedEnqueuer(source, use_multiprocessing=use_multiprocessing, shuffle=shuffle)
            enqueuer.start(workers=workers, max_queue_size=max_queue_size)
            return enqueuer.get(), enqueuer
        return _sequence_forever(source, shuffle), None
    if workers > 0:
        enqueuer = GeneratorEnqueuer(source, use_multiprocessing=use_multiprocessing)
        enqueuer.start(workers=workers, max_queue_size=max_queue_size)
        return enqueuer.get(), enqueuer
    return iter(source), None


def _sequence_forever(sequence, shuffle):
    while True:
        order = list(range(len(sequence)))
        if shuffle:
            random.shuffle(order)
        for index in order:
            yield sequence[index]
        sequence.on_epoch_end()


class _WorkerError:
    """A worker's exception, carried through a queue: re-raised in the caller with the
    worker's traceback attached."""

    def __init__(self, exc):
        self.exc = exc
        self.trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self):
        if sys.version_info >= (3, 11):
            self.exc.add_note("In a data worker:\n" + self.trace)
        raise self.exc


def _fork_context():
    # fork passes the source to the workers without pickling (user classes defined in a
    # script work), as in Keras; Python >= 3.12 warns about forking a threaded process.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _quiet_fork(start):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        return start()


# ---- Sequence -------------------------------------------------------------------------------
_WORKER_SEQUENCE = None  # in a worker process: its copy of the sequence


def _init_sequence_worker(sequence):
    global _WORKER_SEQUENCE
    _WORKER_SEQUENCE = sequence


def _get_item(index):
    return _WORKER_SEQUENCE[index]


_END_OF_EPOCH = object()
_END_OF_DATA = "seqnet-end-of-data"  # a string: it must survive pickling through a process queue


class OrderedEnqueuer:
    """Runs ``sequence[i]`` in worker threads or processes, up to ``max_queue_size``
    batches ahead, and yields the batches in index order (shuffled per epoch when
    ``shuffle``). After each pass, once its batches are consumed, it calls
    ``on_epoch_end``; a process pool is rebuilt each pass so workers see that state."""

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.shuffle = shuffle
        self._thread = None
        self._stop = threading.Event()
        self._consumed = threading.Event()

    def start(self, workers=1, max_queue_size=10):
        if workers < 1:
            raise ValueError(f"OrderedEnqueuer: workers must be >= 1, got {workers}")
        self.workers = workers
        self.queue = queue.Queue(max(1, max_queue_size))
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="seqnet-sequence-feeder", daemon=True)
        self._thread.start()

    def is_running(self):
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def _make_pool(self):
        if self.use_multiprocessing:
            ctx = _fork_context()
            pool = _quiet_fork(lambda: ctx.Pool(self.workers, initializer=_init_sequence_worker,
                                                initargs=(self.sequence,)))
            return pool, _get_item
        from multiprocessing.pool import ThreadPool
        return ThreadPool(self.workers), self.sequence.__getitem__

    def _run(self):
        try:
            while not self._stop.is_set():
                order = list(range(len(self.sequence)))
                if self.shuffle:
                    random.shuffle(order)
                pool, get_item = self._make_pool()
                try:
                    for index in order:
                        if not self._put(pool.apply_async(get_item, (index,))):
                            return
                    # The pass is queued; its batches must reach the consumer before the
                    # pool goes and on_epoch_end changes the sequence.
                    self._consumed.clear()
                    if not self._put(_END_OF_EPOCH):
                        return
                    while not self._consumed.wait(0.1):
                        if self._stop.is_set():
                            return
                finally:
                    pool.terminate()
                    pool.join()
                self.sequence.on_epoch_end()
        except Exception as exc:  # noqa: BLE001 (handed to the consumer)
            self._put(_WorkerError(exc))

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self):
        """Yields the batches in order, pass after pass, until stop()."""
        while True:
            item = self.queue.get()
            if item is _END_OF_EPOCH:
                self._consumed.set()
                continue
            if isinstance(item, _WorkerError):
                item.reraise()
            try:
                batch = item.get()
            except Exception as exc:  # noqa: BLE001 (the exception of the worker's __getitem__)
                error = _WorkerError(exc)
            else:
                yield batch
                continue
            # Raised without the worker's frames (kept as text in a note): they would tie the
            # pool, and its pipes, to the exception the caller holds.
            del item
            error.exc.__traceback__ = None
            error.reraise()

    def stop(self, timeout=None):
        """Stops the feeder and its workers; returns once they are gone."""
        self._stop.set()
        self._consumed.set()
        if self._thread is not None:
            while self._thread.is_alive():
                _drain(self.queue)  # a feeder blocked on a full queue sees the stop
                self._thread.join(0.05)
            _drain(self.queue)
        self._thread = None


# ---- generators ---------------------------------------------------------------------------
def _generator_process(generator, out, stop):
    """A worker process: runs its own copy of the generator into the queue."""
    try:
        for item in generator:
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_END_OF_DATA)
    except Exception as exc:  # noqa: BLE001 (handed to the consumer)
        try:
            out.put(_WorkerError(exc))
        except Exception:  # noqa: BLE001 (an exception that cannot be pickled)
            out.put(_WorkerError(RuntimeError(f"{type(exc).__name__}: {exc}")))


class GeneratorEnqueuer:
    """Runs a generator in ``workers`` background threads (sharing it under a lock, so each
    item is produced once) or processes (each running its own copy, as in Keras: with
    several workers the data is repeated; prefer a Sequence), filling a queue of
    ``max_queue_size`` items."""

    def __init__(self, generator, use_multiprocessing=False):
        self.generator = generator
        self.use_multiprocessing = use_multiprocessing
        self._workers = []

    def start(self, workers=1, max_queue_size=10):
        if workers < 1:
            raise ValueError(f"GeneratorEnqueuer: workers must be >= 1, got {workers}")
        size = max(1, max_queue_size)
        if self.use_multiprocessing:
            if workers > 1:
                warnings.warn("Using a generator with `use_multiprocessing=True` and multiple workers may "
                              "duplicate your data. Please consider using the `seqnet.utils.Sequence` class.",
                              UserWarning, stacklevel=3)
            ctx = _fork_context()
            self.queue = ctx.Queue(size)
            self._stop = ctx.Event()
            for _ in range(workers):
                proc = ctx.Process(target=_generator_process, args=(self.generator, self.queue, self._stop),
                                   daemon=True)
                _quiet_fork(proc.start)
                self._workers.append(proc)
        else:
            self.queue = queue.Queue(size)
            self._stop = threading.Event()
            self._lock = threading.Lock()
            for i in range(workers):
                thread = threading.Thread(target=self._thread_worker, name=f"seqnet-generator-{i}", daemon=True)
                thread.start()
                self._workers.append(thread)

    def is_running(self):
        return any(w.is_alive() for w in self._workers) and not self._stop.is_set()

    def _thread_worker(self):
        while not self._stop.is_set():
            try:
                with self._lock:
                    item = next(self.generator)
            except StopIteration:
                item = _END_OF_DATA
            except Exception as exc:  # noqa: BLE001 (handed to the consumer)
                item = _WorkerError(exc)
            while not self._stop.is_set():
                try:
                    self.queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if item is _END_OF_DATA or isinstance(item, _WorkerError):
                return

    def get(self):
        """Yields the generator's items until it is exhausted (then returns)."""
        finished = 0
        while finished < len(self._workers):
            try:
                item = self.queue.get(timeout=1.0)
            except queue.Empty:
                if not any(w.is_alive() for w in self._workers):
                    raise RuntimeError("the data workers stopped without producing the next batch "
                                       "(a worker process may have been killed)") from None
                continue
            if isinstance(item, str) and item == _END_OF_DATA:
                finished += 1
                continue
            if isinstance(item, _WorkerError):
                item.reraise()
            yield item

    def stop(self, timeout=None):
        """Stops the workers and frees the queue; returns once they are gone."""
        if not self._workers:
            return
        self._stop.set()
        for worker in self._workers:
            while worker.is_alive():
                _drain(self.queue)
                worker.join(0.05)
                if self.use_multiprocessing and worker.is_alive():
                    worker.terminate()
            if self.use_multiprocessing:
                worker.join()
                worker.close()
        _drain(self.queue)
        if self.use_multiprocessing:
            self.queue.close()
            self.queue.join_thread()
        self._workers = []


def _drain(q):
    try:
        while True:
            q.get_nowait()
    except (queue.Empty, OSError, ValueError):
        pass
