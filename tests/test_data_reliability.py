"""Data feeding when things go wrong: data workers that die or hang, enqueuers stopped at any
moment under fork and spawn, class_weight checks, the data sets' restricted unpickler, and
dict inputs naming no input layer. Every test checks that no process, thread or file
descriptor is left behind."""
import contextlib
import gc
import io
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import OrderedDict

import numpy as np
import pytest

import seqnet as keras
from seqnet.datasets._safe_load import safe_unpickle
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, WorkerDiedError

X = np.random.RandomState(0).rand(40, 4).astype(np.float32)
Y = keras.utils.to_categorical(np.arange(40) % 3, 3)
BATCH = 8


class ModuleSequence(keras.utils.Sequence):
    """Batch i of X, Y; defined at module level so that spawn can pickle it."""

    def __len__(self):
        return len(X) // BATCH

    def __getitem__(self, i):
        return X[i * BATCH:(i + 1) * BATCH], Y[i * BATCH:(i + 1) * BATCH]


PARENT_STATE = []  # filled by the parent at run time: fork copies it, spawn starts afresh


class StartMethodSequence(ModuleSequence):
    """Batch i, plus whether the worker saw the parent's run-time state (it was forked)."""

    def __getitem__(self, i):
        return super().__getitem__(i) + (np.float32(bool(PARENT_STATE)),)


class SuicidalSequence(ModuleSequence):
    """Batch 3 kills the worker process computing it, as the OOM killer would."""

    def __getitem__(self, i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__getitem__(i)


def model():
    keras.utils.set_random_seed(3)
    m = Sequential([Dense(5, activation="tanh", input_dim=4), Dense(3, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    return m


def snapshot():
    gc.collect()
    return (sorted(t.name for t in threading.enumerate()), len(multiprocessing.active_children()),
            len(os.listdir("/proc/self/fd")))


@pytest.fixture
def no_leaks():
    from multiprocessing import resource_tracker
    resource_tracker.ensure_running()  # started once per program by spawn: not a leak
    before = snapshot()
    yield
    for _ in range(60):
        if snapshot() == before:
            break
        time.sleep(0.05)
    assert snapshot() == before
    assert multiprocessing.active_children() == []


@contextlib.contextmanager
def deadline(seconds):
    """Fails (TimeoutError in the main thread) instead of hanging when the body takes too long."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def start_method(method):
    saved = multiprocessing.get_start_method(allow_none=True)
    multiprocessing.set_start_method(method, force=True)
    try:
        yield
    finally:
        multiprocessing.set_start_method(saved, force=True)


# ---- 1. a Sequence's worker process dies ------------------------------------------------------
def test_a_dead_sequence_worker_process_is_an_error_naming_the_batch(no_leaks):
    m = model()
    start = time.monotonic()
    with deadline(20):
        with pytest.raises(WorkerDiedError, match=r"killed by signal SIGKILL.*batch 3 of the Sequence"):
            m.fit(SuicidalSequence(), epochs=2, verbose=0, workers=2, use_multiprocessing=True)
    assert time.monotonic() - start < 10


# ---- 2. one of several generator worker processes dies ------------------------------------------
def one_worker_dies(flag_path):
    """Each process worker runs its own copy; the first to create flag_path dies after one item."""
    try:
        os.close(os.open(flag_path, os.O_CREAT | os.O_EXCL))
        doomed = True
    except FileExistsError:
        doomed = False
    yield X[:BATCH], Y[:BATCH]
    if doomed:
        os.kill(os.getpid(), signal.SIGKILL)
    while True:
        yield X[:BATCH], Y[:BATCH]


def test_a_dead_generator_worker_stops_training_even_when_others_live(tmp_path, no_leaks):
    m = model()
    with deadline(20), pytest.warns(UserWarning, match="duplicate your data"):
        with pytest.raises(WorkerDiedError, match=r"generator \(killed by signal SIGKILL\) died"):
            m.fit_generator(one_worker_dies(str(tmp_path / "flag")), steps_per_epoch=20, epochs=5, verbose=0,
                            workers=2, use_multiprocessing=True)


# ---- 3. stop() returns whatever the generator worker is doing ------------------------------------
BIG = np.ones((1 << 18,), np.float32)  # 1 MiB: larger than a pipe's buffer, so sends are in progress


def endless_big():
    while True:
        yield BIG, BIG


def one_then_hang():
    yield BIG, BIG
    time.sleep(60)
    yield BIG, BIG


def one_then_hang_ignoring_sigterm():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    yield BIG, BIG
    time.sleep(60)
    yield BIG, BIG


def one_then_die():
    yield BIG, BIG
    yield BIG, BIG
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("source", [endless_big, one_then_hang, one_then_hang_ignoring_sigterm, one_then_die],
                         ids=["blocked-on-full-queue", "inside-the-generator", "ignoring-sigterm", "dead"])
def test_stopping_a_process_generator_enqueuer_always_returns(source, no_leaks):
    enqueuer = GeneratorEnqueuer(source(), use_multiprocessing=True)
    enqueuer.start(workers=1, max_queue_size=2)
    batches = enqueuer.get()
    with deadline(20):
        next(batches)
        time.sleep(0.3)  # the worker fills the queue, sleeps, or dies
        start = time.monotonic()
        enqueuer.stop()
    assert time.monotonic() - start < 3
    batches.close()


# ---- 4. two process OrderedEnqueuers under fork and spawn ----------------------------------------
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_two_process_ordered_enqueuers_stop(method, no_leaks):
    PARENT_STATE.append(1)
    with start_method(method), deadline(60):
        enqueuers = [OrderedEnqueuer(StartMethodSequence(), use_multiprocessing=True) for _ in range(2)]
        for e in enqueuers:
            e.start(workers=2 if method == "fork" else 1, max_queue_size=2)  # spawn starts slowly
        streams = [e.get() for e in enqueuers]
        for stream in streams:
            for i in range(7):  # past the end of a pass: a new set of workers
                x, _, forked = next(stream)
                assert forked == (method == "fork")  # set_start_method is honoured, as by Keras' Pool
                np.testing.assert_array_equal(x, X[(i % 5) * BATCH:(i % 5 + 1) * BATCH])
        for e in enqueuers:
            start = time.monotonic()
            e.stop()
            assert time.monotonic() - start < 5
        for stream in streams:
            stream.close()
    PARENT_STATE.clear()


# ---- 5. class_weight ----------------------------------------------------------------------------
def test_class_weight_must_cover_every_class_in_the_data(no_leaks):
    m = model()
    with pytest.raises(ValueError, match=r"^`class_weight` must contain all classes in the data\. The classes "
                                         r"\{2\} exist in the data but not in `class_weight`\.$"):
        m.fit(X, Y, epochs=1, verbose=0, class_weight={0: 1.0, 1: 2.0})
    with pytest.raises(ValueError, match=r"The classes \{0, 1, 2\} exist in the data"):
        m.fit(X, Y, epochs=1, verbose=0, class_weight={"cat": 1.0, 7: 2.0})  # keys naming no class
    with pytest.raises(ValueError, match=r"The classes \{1\} exist"):
        m.fit(ModuleSequence(), epochs=1, verbose=0, class_weight={0: 1.0, 2: 1.0})
    # As in Keras 2.2.4, extra keys are ignored once every class in the data has a weight.
    m.fit(X, Y, epochs=1, verbose=0, class_weight={0: 1.0, 1: 2.0, 2: 0.5, 9: 3.0})


# ---- 6. the data sets' restricted unpickler -----------------------------------------------------
class Exploit:
    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_plain_data_pickles_load(protocol):
    data = {b"batch_label": b"training batch 1 of 5", "data": np.arange(12, dtype=np.uint8).reshape(3, 4),
            "labels": [1, 2, 3], "extra": (bytearray(b"ab"), {1, 2}, frozenset({3}), 1 + 2j, slice(1, 5, 2),
                                            range(3), OrderedDict(a=1), 2.5, True, None)}
    loaded = safe_unpickle(io.BytesIO(pickle.dumps(data, protocol=protocol)))
    np.testing.assert_array_equal(loaded.pop("data"), data.pop("data"))
    assert loaded == data
    assert isinstance(loaded["extra"][6], OrderedDict)


@pytest.mark.parametrize("call, args", [
    (os.system, ("true",)), (eval, ("1",)), (exec, ("x = 1",)), (getattr, (str, "join")),
    (__import__, ("os",)), (__import__("subprocess").Popen, (["true"],)), (open, ("/dev/null",)),
    (__import__("builtins").compile, ("1", "f", "eval")),
], ids=["os.system", "eval", "exec", "getattr", "__import__", "subprocess.Popen", "open", "compile"])
@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickles_that_call_code_are_refused(call, args, protocol):
    with pytest.raises(ValueError, match="refusing to load"):
        safe_unpickle(io.BytesIO(pickle.dumps({"data": Exploit(call, *args)}, protocol=protocol)))


# ---- 7. dict inputs with an unknown key ---------------------------------------------------------
def test_a_dict_key_naming_no_input_is_a_value_error_in_fit_predict_and_generators(no_leaks):
    m = model()
    name = m.input_names[0]
    expected = rf"no input layer is named \['wrong'\]; the dict keys must be the input names \['{name}'\]"
    with pytest.raises(ValueError, match=expected):
        m.fit({"wrong": X}, Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=expected):
        m.predict({"wrong": X})
    with pytest.raises(ValueError, match=expected):
        m.fit_generator(iter([({"wrong": X}, Y)] * 3), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=expected):
        m.predict_generator(iter([{"wrong": X}] * 3), steps=2)
    m.fit({name: X}, Y, epochs=1, verbose=0)  # the right key works
