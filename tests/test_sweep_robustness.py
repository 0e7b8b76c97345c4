"""Bad and edge-case input to the training API (fit / evaluate / predict, the batch methods and
the generator methods): a ValueError naming the argument, the weights and optimizer state
unchanged after a refused call, no hang; and the array-likes Keras accepts (pandas objects,
HDF5 datasets, generators yielding lists) give the numbers of the same data as arrays."""
import threading

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Concatenate, Dense, Input
from seqnet.models import Model, Sequential
from seqnet.utils import Sequence

RNG = np.random.RandomState(0)
X = RNG.rand(12, 3).astype(np.float32)
Y = RNG.rand(12, 2).astype(np.float32)


def model():
    keras.utils.set_random_seed(3)
    m = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(2)])
    m.compile("adam", "mse")
    return m


def trained(m):
    """After one step, so that the optimizer has state to lose."""
    m.train_on_batch(X, Y)
    return m


def state(m):
    return [w.copy() for w in m.get_weights()] + [w.copy() for w in m.optimizer.get_weights()]


def assert_unchanged(m, before):
    after = state(m)
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def two_outputs():
    a, b = Input((3,), name="a"), Input((2,), name="b")
    h = Concatenate()([Dense(4)(a), Dense(4)(b)])
    m = Model([a, b], [Dense(2, name="o1")(h), Dense(1, activation="sigmoid", name="o2")(h)])
    m.compile("adam", ["mse", "binary_crossentropy"])
    return m


class EmptySequence(Sequence):
    def __len__(self):
        return 0

    def __getitem__(self, index):
        return X, Y


# ---- pandas objects: converted, as Keras 2.2.4 takes a DataFrame's values ---------------------

def test_dataframe_inputs_train_as_their_values_whatever_their_index():
    pd = pytest.importorskip("pandas")
    # a shuffled index: the rows must still be taken by position, never by label
    index = RNG.permutation(len(X))
    df_x, df_y = pd.DataFrame(X, index=index, columns=list("abc")), pd.DataFrame(Y, index=index)
    reference, m = model(), model()
    np.random.seed(1)
    reference.fit(X, Y, batch_size=5, epochs=2, verbose=0)
    np.random.seed(1)
    m.fit(df_x, df_y, batch_size=5, epochs=2, verbose=0, sample_weight=pd.Series(np.ones(len(X)), index=index))
    for a, b in zip(m.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(m.predict_on_batch(df_x), reference.predict_on_batch(X))
    np.testing.assert_allclose(m.train_on_batch(df_x, df_y), reference.train_on_batch(X, Y))
    np.testing.assert_allclose(m.test_on_batch(df_x, df_y), reference.test_on_batch(X, Y))


def test_a_series_input_is_read_by_position():
    pd = pytest.importorskip("pandas")
    x = X[:, :1]
    series = pd.Series(x[:, 0], index=np.arange(len(x))[::-1])
    reference, m = (Sequential([Dense(2, input_shape=(1,))]) for _ in range(2))
    m.set_weights(reference.get_weights())
    for net in (reference, m):
        net.compile("sgd", "mse")
    np.random.seed(2)
    reference.fit(x, Y, batch_size=4, verbose=0)
    np.random.seed(2)
    m.fit(series, Y, batch_size=4, verbose=0)
    for a, b in zip(m.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- lazy arrays (HDF5) in the batch methods ---------------------------------------------------

def test_batch_methods_read_an_hdf5_dataset_whole(tmp_path):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"], f["y"], f["s"] = X, Y, np.array([b"a"] * X.size).reshape(X.shape)
    with h5py.File(tmp_path / "d.h5", "r") as f:
        reference, m = model(), model()
        np.testing.assert_array_equal(m.predict_on_batch(f["x"]), reference.predict_on_batch(X))
        np.testing.assert_allclose(m.test_on_batch(f["x"], f["y"]), reference.test_on_batch(X, Y))
        np.testing.assert_allclose(m.train_on_batch(f["x"], f["y"]), reference.train_on_batch(X, Y))
        np.testing.assert_array_equal(m.predict_generator(iter([f["x"]]), steps=1), reference.predict(X))
        before = state(m)
        with pytest.raises(ValueError, match=r"input 'dense_\d+_input': expected numeric data, got .*S1"):
            m.fit(f["s"], f["y"], verbose=0)
        assert_unchanged(m, before)


# ---- Sequences and generators -------------------------------------------------------------------

def test_an_empty_sequence_is_refused_before_training_and_never_spins():
    m = trained(model())
    before = state(m)
    for call in (lambda: m.fit_generator(EmptySequence(), verbose=0),
                 lambda: m.fit(X, Y, validation_data=EmptySequence(), verbose=0),
                 lambda: m.evaluate_generator(EmptySequence()),
                 lambda: m.predict_generator(EmptySequence())):
        with pytest.raises(ValueError, match="EmptySequence has length 0"):
            call()
    assert_unchanged(m, before)

    # with steps given, reading a batch of an empty Sequence looped forever
    errors = []

    def run():
        try:
            m.fit_generator(EmptySequence(), steps_per_epoch=1, verbose=0, workers=0)
        except ValueError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "fit_generator on an empty Sequence hung"
    assert errors and "steps_per_epoch" in str(errors[0])
    assert_unchanged(m, before)


def test_a_generator_may_yield_lists_as_keras():
    reference, m = model(), model()
    reference.fit_generator(iter([(X, Y, np.full(len(X), 2.0))] * 2), steps_per_epoch=2, verbose=0)
    m.fit_generator(iter([[X, Y, np.full(len(X), 2.0)]] * 2), steps_per_epoch=2, verbose=0)
    for a, b in zip(m.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert m.evaluate_generator(iter([[X, Y]]), steps=1) == reference.evaluate(X, Y, verbose=0)


# ---- weights and the other fit arguments ----------------------------------------------------------

@pytest.mark.parametrize("weights, pattern", [
    (np.array(["1"] * len(X)), "sample_weight: expected numeric data, got an array of dtype <U1"),
    (np.array(["a"] * len(X)), "sample_weight: expected numeric data"),
    (np.ones(len(X), dtype=object), "sample_weight: expected numeric data, got an array of dtype object"),
])
def test_sample_weight_must_be_numbers(weights, pattern):
    m = trained(model())
    before = state(m)
    with pytest.raises(ValueError, match=pattern):
        m.train_on_batch(X, Y, sample_weight=weights)
    with pytest.raises(ValueError, match=pattern):
        m.fit(X, Y, sample_weight=weights, verbose=0)
    assert_unchanged(m, before)


@pytest.mark.parametrize("weight", [None, "a", [1.0]])
def test_class_weight_values_must_be_numbers(weight):
    m = Sequential([Dense(3, activation="softmax", input_shape=(3,))])
    m.compile("adam", "sparse_categorical_crossentropy")
    labels = np.arange(len(X)) % 3
    m.train_on_batch(X, labels)
    before = state(m)
    with pytest.raises(ValueError, match=r"class_weight: the weights must be numbers, got \{0: "):
        m.fit(X, labels, class_weight={0: weight, 1: 1.0, 2: 1.0}, verbose=0)
    assert_unchanged(m, before)


def test_an_empty_sample_weight_list_means_no_weights_as_keras_224():
    reference, m = model(), model()
    assert m.train_on_batch(X, Y, sample_weight=[]) == reference.train_on_batch(X, Y)


@pytest.mark.parametrize("split", ["0.2", None, [0.2]])
def test_validation_split_must_be_a_number(split):
    m = trained(model())
    before = state(m)
    if split is None:  # None means no split, as 0.0
        m.fit(X, Y, validation_split=split, verbose=0)
        return
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\), got "):
        m.fit(X, Y, validation_split=split, verbose=0)
    assert_unchanged(m, before)


def test_several_outputs_name_the_unknown_class_weight_output_and_the_target_arrays():
    m = two_outputs()
    xs = [RNG.rand(6, 3), RNG.rand(6, 2)]
    ys = [RNG.rand(6, 2), np.arange(6)[:, None] % 2]
    m.train_on_batch(xs, ys)
    before = state(m)
    with pytest.raises(ValueError, match=r"class_weight: unknown output name\(s\) \['zz'\]; the outputs are "
                                         r"\['o1', 'o2'\]"):
        m.train_on_batch(xs, ys, class_weight={"o2": {0: 1.0, 1: 2.0}, "zz": {0: 1.0}})
    with pytest.raises(ValueError, match=r"All target arrays \(y\) should have the same number of samples"):
        m.train_on_batch(xs, [ys[0], ys[1][:5]])
    assert_unchanged(m, before)
