"""Feeding batches from Python generators and Sequences (``seqnet.utils.data_utils``).

``Sequence`` is Keras' indexable batch source: order is kept and every batch is given once
per epoch, with threads or processes. The enqueuers run a source in background workers
that fill a bounded queue (``max_queue_size`` batches: constant memory however large the
data set), hand the batches to the training loop in order, pass a worker's exception on to
the caller, and leave no thread, process or file descriptor behind when stopped.
"""
import multiprocessing
import multiprocessing.connection
import queue
import random
import signal
import sys
import threading
import time
import traceback
import warnings

from seqnet.utils.file_utils import get_file  # noqa: F401,E402 (Keras 2.2 path: utils.data_utils.get_file)

__all__ = ["Sequence", "OrderedEnqueuer", "GeneratorEnqueuer", "WorkerDiedError", "iter_batches", "get_file"]


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


def _sequence_context():
    # A Sequence can be pickled: a start method the program chose (set_start_method('spawn'))
    # is honoured; otherwise fork, as for generators.
    method = multiprocessing.get_start_method(allow_none=True)
    return multiprocessing.get_context(method) if method else _fork_context()


def _death_cause(proc):
    """'exit code N' or 'killed by signal SIGKILL' for a finished worker process."""
    proc.join(1.0)  # the pipe may report the end before the exit status is collected
    code = proc.exitcode
    if code is None:
        return "closed its pipe"
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _end_processes(procs, grace=0.5):
    """Waits up to `grace` seconds for the processes to exit, then terminates, then kills
    them; returns once all are gone, whatever they were doing."""
    deadline = time.monotonic() + grace
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 1.0
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
    for proc in procs:
        if proc.is_alive():
            proc.kill()
        proc.join()
        proc.close()


def _start_worker(ctx, target, args, worker_end, name):
    """Starts a daemon worker process running target(*args) (without Python's warning about
    forking a threaded process), then closes `worker_end`, the worker's end of its pipe, here:
    only the worker holds it, so its death is an EOF on our end."""
    proc = ctx.Process(target=target, args=args, daemon=True, name=name)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            proc.start()
    finally:
        worker_end.close()
    return proc


# ---- Sequence -------------------------------------------------------------------------------
class WorkerDiedError(RuntimeError):
    """A data worker process ended without handing back what it was given (killed by the
    OOM killer, a signal, or os._exit in user code)."""


def _sequence_process(sequence, conn):
    """A worker process: computes the batches whose indices arrive on `conn`, in order, and
    sends each back (or the exception it raised); ends at None or when the parent closes."""
    try:
        while True:
            try:
                index = conn.recv()
            except (EOFError, OSError):
                return
            if index is None:
                return
            try:
                result = sequence[index]
            except Exception as exc:  # noqa: BLE001 (handed to the consumer)
                result = _WorkerError(exc)
            try:
                conn.send((index, result))
            except (BrokenPipeError, ConnectionResetError, OSError):
                return
            except Exception as exc:  # noqa: BLE001 (a batch or an exception that cannot be pickled)
                conn.send((index, _WorkerError(RuntimeError(
                    f"batch {index} could not be sent from the worker process: {type(exc).__name__}: {exc}"))))
    except KeyboardInterrupt:
        return


class _SequencePool:
    """Worker processes, each with its own pipe: batch indices go out round-robin and come
    back in the order sent. A pipe ends (EOF) when its process dies, so a lost batch is an
    error naming its index rather than a wait that never returns (multiprocessing.Pool
    silently replaces a dead worker and loses its task)."""

    def __init__(self, ctx, workers, sequence):
        self._procs, self._conns = [], []
        self._next = 0
        try:
            for i in range(workers):
                parent, child = ctx.Pipe(duplex=True)
                proc = _start_worker(ctx, _sequence_process, (sequence, child), child, f"seqnet-sequence-worker-{i}")
                self._procs.append(proc)
                self._conns.append(parent)
        except BaseException:
            self.terminate()
            raise

    def apply_async(self, index):
        w = self._next
        self._next = (w + 1) % len(self._procs)
        try:
            self._conns[w].send(index)
        except OSError:  # the worker is gone; the result's get() says so
            pass
        return _PendingBatch(self, w, index)

    def terminate(self):
        for conn in self._conns:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        # Closing our ends unblocks a worker stuck sending a batch nobody will read.
        _end_processes(self._procs, grace=0.5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns = [], []

    def join(self):
        pass


class _PendingBatch:
    """Batch `index` on its way back from worker `w` of a _SequencePool."""

    def __init__(self, pool, w, index):
        self.pool, self.w, self.index = pool, w, index

    def get(self):
        conn, proc = self.pool._conns[self.w], self.pool._procs[self.w]
        try:
            index, result = conn.recv()  # EOF as soon as the worker is gone
        except (EOFError, OSError):
            raise WorkerDiedError(
                f"A data worker process ({_death_cause(proc)}) died while computing batch {self.index} of the "
                "Sequence, so that batch was lost. If it ran out of memory, lower `workers` or `max_queue_size`, "
                "or use threads (use_multiprocessing=False).") from None
        if index != self.index:  # cannot happen: each pipe is first in, first out
            raise RuntimeError(f"data worker returned batch {index} instead of batch {self.index}")
        return result


_END_OF_EPOCH = object()
_END_OF_DATA = "seqnet-end-of-data"  # a string: it must survive pickling through a process queue


class OrderedEnqueuer:
    """Runs ``sequence[i]`` in worker threads or processes, up to ``max_queue_size``
    batches ahead, and yields the batches in index order (shuffled per epoch when
    ``shuffle``). After each pass, once its batches are consumed, it calls
    ``on_epoch_end``; a process pool is rebuilt each pass so workers see that state.
    Processes start by the method the program chose (``set_start_method``), else fork; a
    worker process that dies raises ``WorkerDiedError`` naming the lost batch."""

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
            pool = _SequencePool(_sequence_context(), self.workers, self.sequence)
            return pool, pool.apply_async
        from multiprocessing.pool import ThreadPool
        pool = ThreadPool(self.workers)
        return pool, lambda index: pool.apply_async(self.sequence.__getitem__, (index,))

    def _run(self):
        try:
            while not self._stop.is_set():
                order = list(range(len(self.sequence)))
                if self.shuffle:
                    random.shuffle(order)
                pool, get_item = self._make_pool()
                try:
                    for index in order:
                        if not self._put(get_item(index)):
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
            except WorkerDiedError:
                raise
            except Exception as exc:  # noqa: BLE001 (the exception of the worker's __getitem__)
                error = _WorkerError(exc)
            else:
                if isinstance(batch, _WorkerError):  # raised in a worker process
                    batch.reraise()
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
def _generator_process(generator, conn, slots):
    """A worker process: runs its own copy of the generator into its pipe, taking a queue
    slot (``slots``, shared by the workers: max_queue_size items in flight) per item. It
    ends when the consumer closes the pipe (its next send fails)."""
    try:
        for item in generator:
            slots.acquire()
            conn.send(item)
        conn.send(_END_OF_DATA)
    except (BrokenPipeError, ConnectionResetError):  # the consumer has stopped
        return
    except Exception as exc:  # noqa: BLE001 (handed to the consumer)
        try:
            conn.send(_WorkerError(exc))
        except (BrokenPipeError, ConnectionResetError):
            return
        except Exception:  # noqa: BLE001 (an exception that cannot be pickled)
            conn.send(_WorkerError(RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


class GeneratorEnqueuer:
    """Runs a generator in ``workers`` background threads (sharing it under a lock, so each
    item is produced once) or processes (each running its own copy, as in Keras: with
    several workers the data is repeated; prefer a Sequence), with up to
    ``max_queue_size`` items waiting.

    With processes, a worker that dies (killed by a signal or the OOM killer) raises
    ``WorkerDiedError`` in ``get()`` as soon as its pipe ends, even if other workers are
    still producing: going on with the survivors would silently change the data. stop()
    returns within a couple of seconds whatever the workers are doing (blocked on a full
    queue, inside the generator, dead): they get half a second to see the stop, then are
    terminated."""

    def __init__(self, generator, use_multiprocessing=False):
        self.generator = generator
        self.use_multiprocessing = use_multiprocessing
        self._workers = []
        self._conns = []

    def start(self, workers=1, max_queue_size=10):
        if workers < 1:
            raise ValueError(f"GeneratorEnqueuer: workers must be >= 1, got {workers}")
        size = max(1, max_queue_size)
        if self.use_multiprocessing:
            if workers > 1:
                warnings.warn("Using a generator with `use_multiprocessing=True` and multiple workers may "
                              "duplicate your data. Please consider using the `seqnet.utils.Sequence` class.",
                              UserWarning, stacklevel=3)
            ctx = _fork_context()  # a generator cannot be pickled: fork is the only way
            self._slots = ctx.Semaphore(size)
            self._stop = None
            try:
                for i in range(workers):
                    reader, writer = ctx.Pipe(duplex=False)
                    proc = _start_worker(ctx, _generator_process, (self.generator, writer, self._slots), writer,
                                         f"seqnet-generator-worker-{i}")
                    self._workers.append(proc)
                    self._conns.append(reader)
            except BaseException:
                self.stop()
                raise
        else:
            self.queue = queue.Queue(size)
            self._stop = threading.Event()
            self._lock = threading.Lock()
            for i in range(workers):
                thread = threading.Thread(target=self._thread_worker, name=f"seqnet-generator-{i}", daemon=True)
                thread.start()
                self._workers.append(thread)

    def is_running(self):
        if self.use_multiprocessing:
            return any(w.is_alive() for w in self._workers) and any(not c.closed for c in self._conns)
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
        if self.use_multiprocessing:
            yield from self._get_from_processes()
            return
        finished = 0
        while finished < len(self._workers):
            try:
                item = self.queue.get(timeout=1.0)
            except queue.Empty:
                if not any(w.is_alive() for w in self._workers):
                    raise RuntimeError("the data workers stopped without producing the next batch") from None
                continue
            if isinstance(item, str) and item == _END_OF_DATA:
                finished += 1
                continue
            if isinstance(item, _WorkerError):
                item.reraise()
            yield item

    def _get_from_processes(self):
        live = dict(zip(self._conns, self._workers))
        while live:
            for conn in multiprocessing.connection.wait(list(live), timeout=1.0):
                try:
                    item = conn.recv()
                except (EOFError, OSError):  # the pipe ended without the end-of-data mark
                    proc = live.pop(conn)
                    raise WorkerDiedError(
                        f"A data worker process running the generator ({_death_cause(proc)}) died; stopping "
                        "rather than going on with the other workers. If it ran out of memory, lower `workers` "
                        "or `max_queue_size`, or use threads (use_multiprocessing=False).") from None
                if isinstance(item, str) and item == _END_OF_DATA:
                    del live[conn]
                    continue
                self._slots.release()
                if isinstance(item, _WorkerError):
                    item.reraise()
                yield item

    def stop(self, timeout=None):
        """Stops the workers and frees the queue; returns once they are gone."""
        if not self._workers and not self._conns:
            return
        if not self.use_multiprocessing:
            self._stop.set()
            for worker in self._workers:
                while worker.is_alive():
                    _drain(self.queue)
                    worker.join(0.05)
            _drain(self.queue)
            self._workers = []
            return
        # Closing our ends makes a worker's next send fail (EPIPE); the extra slots wake the
        # workers waiting for one. A worker inside the generator is terminated after the grace.
        for conn in self._conns:
            conn.close()
        for _ in self._workers:
            self._slots.release()
        _end_processes(self._workers, grace=0.5)
        self._workers, self._conns = [], []


def _drain(q):
    try:
        while True:
            q.get_nowait()
    except (queue.Empty, OSError, ValueError, EOFError):
        pass
