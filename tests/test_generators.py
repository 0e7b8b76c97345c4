"""fit_generator / evaluate_generator / predict_generator and Sequence: same numbers as the
array loops, order and once-per-epoch delivery with threads and processes, errors that reach
the caller, and nothing left behind."""
import gc
import os
import threading
import time

import multiprocessing
import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.optimizers import SGD

X = np.random.RandomState(0).rand(60, 4).astype(np.float32)
Y = keras.utils.to_categorical(np.arange(60) % 3, 3)
BATCH = 16  # 60 = 16 + 16 + 16 + 12: batches of different sizes


def model():
    keras.utils.set_random_seed(7)
    m = Sequential([Dense(6, activation="tanh", input_dim=4), Dense(3, activation="softmax")])
    m.compile(SGD(lr=0.1, momentum=0.5), "categorical_crossentropy", metrics=["accuracy"])
    return m


def looping_generator(with_weights=False):
    while True:
        for s in range(0, len(X), BATCH):
            item = (X[s:s + BATCH], Y[s:s + BATCH])
            yield item + (np.ones(len(item[0])),) if with_weights else item


class Batches(keras.utils.Sequence):
    """Batch i of X, Y; records which indices were asked for and epoch ends."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.epoch_ends = 0

    def __len__(self):
        return (len(X) + BATCH - 1) // BATCH

    def __getitem__(self, i):
        if self.delay:
            time.sleep(self.delay * ((7 * i) % 3))  # later batches may finish first
        return X[i * BATCH:(i + 1) * BATCH], Y[i * BATCH:(i + 1) * BATCH]

    def on_epoch_end(self):
        self.epoch_ends += 1


class Spy(keras.layers.Layer):
    """Identity layer recording the first feature of every training sample it sees."""

    def __init__(self, seen, **kwargs):
        super().__init__(**kwargs)
        self.seen = seen

    def forward(self, x, training):
        if training:
            self.seen.append(x[:, 0].copy())
        return x

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy


def leak_snapshot():
    gc.collect()  # multiprocessing's pools hold reference cycles; count what is really left
    return threading.active_count(), len(multiprocessing.active_children()), len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leaks():
    before = leak_snapshot()
    yield
    for _ in range(50):
        if leak_snapshot() == before:
            break
        time.sleep(0.05)
    assert leak_snapshot() == before


def test_fit_generator_equals_fit_on_the_same_batches(no_leaks):
    reference = model()
    h_ref = reference.fit(X, Y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    m = model()
    h = m.fit_generator(looping_generator(), steps_per_epoch=4, epochs=3, verbose=0)
    assert h.history["loss"] == h_ref.history["loss"]
    assert h.history["accuracy"] == h_ref.history["accuracy"]
    for a, b in zip(m.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("workers, processes", [(0, False), (1, False), (3, False), (2, True)])
def test_sequence_keeps_order_and_gives_each_batch_once_per_epoch(workers, processes, no_leaks):
    seen = []
    m = Sequential([Spy(seen, input_shape=(4,)), Dense(3, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    source = Batches(delay=0.01)
    m.fit_generator(source, epochs=3, verbose=0, workers=workers, use_multiprocessing=processes, shuffle=False)
    order = np.concatenate(seen)
    np.testing.assert_array_equal(order, np.tile(X[:, 0], 3))
    if not processes:  # a process pool works on copies of the sequence
        assert source.epoch_ends >= 2


@pytest.mark.parametrize("workers, processes", [(0, False), (2, False), (2, True)])
def test_shuffled_sequence_still_gives_each_batch_once_per_epoch(workers, processes, no_leaks):
    seen = []
    m = Sequential([Spy(seen, input_shape=(4,)), Dense(3, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    m.fit_generator(Batches(), epochs=2, verbose=0, workers=workers, use_multiprocessing=processes, shuffle=True)
    for epoch in range(2):
        batches = seen[epoch * 4:(epoch + 1) * 4]
        assert sorted(np.concatenate(batches).tolist()) == sorted(X[:, 0].tolist())


def test_fit_accepts_a_sequence_or_generator_as_x_with_validation(no_leaks):
    m = model()
    h = m.fit(Batches(), epochs=2, verbose=0, validation_data=looping_generator(), validation_steps=4)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    loss, acc = m.evaluate(X, Y, batch_size=BATCH, verbose=0)
    assert h.history["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
    h = m.fit(looping_generator(with_weights=True), steps_per_epoch=4, epochs=1, verbose=0,
              validation_data=(X, Y))
    assert h.history["val_loss"][0] == pytest.approx(m.evaluate(X, Y, verbose=0)[0], rel=1e-6)


@pytest.mark.parametrize("workers, processes", [(0, False), (2, False), (2, True)])
def test_evaluate_and_predict_generator_equal_the_array_versions(workers, processes, no_leaks):
    m = model()
    expected = m.evaluate(X, Y, batch_size=BATCH, verbose=0)
    got = m.evaluate_generator(Batches(), workers=workers, use_multiprocessing=processes)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_array_equal(m.predict_generator(Batches(), workers=workers, use_multiprocessing=processes),
                                  m.predict(X))
    np.testing.assert_array_equal(m.predict(Batches()), m.predict(X))
    np.testing.assert_allclose(m.evaluate(looping_generator(), steps=4, verbose=0), expected, rtol=1e-6)


def failing_generator():
    yield X[:16], Y[:16]
    yield X[16:32], Y[16:32]
    raise KeyError("bad record 3")


class FailingSequence(Batches):
    def __getitem__(self, i):
        if i == 2:
            raise KeyError(f"bad batch {i}")
        return super().__getitem__(i)


@pytest.mark.parametrize("workers, processes", [(0, False), (1, False), (1, True)])
def test_a_worker_exception_reaches_the_caller_and_nothing_is_left_behind(workers, processes, no_leaks):
    m = model()
    with pytest.raises(KeyError, match="bad record 3"):
        m.fit_generator(failing_generator(), steps_per_epoch=4, epochs=2, verbose=0, workers=workers,
                        use_multiprocessing=processes)
    with pytest.raises(KeyError, match="bad batch 2"):
        m.fit_generator(FailingSequence(), epochs=1, verbose=0, workers=workers or 1, use_multiprocessing=processes)


def test_malformed_generator_output_and_missing_steps_are_value_errors(no_leaks):
    m = model()

    def bad():
        while True:
            yield X[:4]

    with pytest.raises(ValueError, match=r"tuple `\(x, y, sample_weight\)` or `\(x, y\)`"):
        m.fit_generator(bad(), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        m.fit_generator(looping_generator(), verbose=0)
    with pytest.raises(ValueError, match=r"dense_\d+_input"):
        m.fit_generator(((X[:, :3], Y) for _ in range(3)), steps_per_epoch=2, verbose=0)


def test_an_exhausted_generator_stops_training_with_a_warning(no_leaks):
    m = model()
    finite = ((X[s:s + BATCH], Y[s:s + BATCH]) for s in range(0, 60, BATCH))  # 4 batches
    with pytest.warns(UserWarning, match="ran out of data after 0 of 4 steps"):
        h = m.fit_generator(finite, steps_per_epoch=4, epochs=3, verbose=0)
    assert h.epoch == [0] and len(h.history["loss"]) == 1
    finite = ((X[s:s + BATCH], Y[s:s + BATCH]) for s in range(0, 60, BATCH))
    with pytest.warns(UserWarning, match="ran out of data after 1 of 3 steps"):
        h = m.fit_generator(finite, steps_per_epoch=3, epochs=3, verbose=0)
    assert h.epoch == [0, 1]  # the partial epoch is reported, then training stops


def test_the_queue_bounds_how_far_workers_run_ahead(no_leaks):
    produced = []

    def counting():
        while True:
            produced.append(1)
            yield X[:8], Y[:8]

    class Slow(keras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            time.sleep(0.01)
            # consumed = batch + 1; at most max_queue_size waiting + one being put per worker
            assert len(produced) <= batch + 1 + 3 + 1

    m = model()
    m.fit_generator(counting(), steps_per_epoch=10, epochs=1, verbose=0, max_queue_size=3, workers=1,
                    callbacks=[Slow()])


def test_several_process_workers_on_a_generator_warn_about_duplicates(no_leaks):
    m = model()
    with pytest.warns(UserWarning, match="duplicate your data"):
        m.fit_generator(looping_generator(), steps_per_epoch=3, epochs=1, verbose=0, workers=2,
                        use_multiprocessing=True)


def test_generator_progress_bar_counts_steps(capsys):
    m = model()
    m.fit_generator(looping_generator(), steps_per_epoch=4, epochs=1, verbose=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/1"
    assert out[1].startswith("4/4 [==============================] - ")
