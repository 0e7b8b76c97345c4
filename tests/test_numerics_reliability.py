"""Numerical reliability: integer Embedding indices, NaN propagation through activations and
max pooling, and clear errors for malformed arguments (weights, data, callbacks, utilities)."""
import numpy as np
import pytest

from seqnet import _engine, initializers, metrics
from seqnet import backend as K
from seqnet.callbacks import TerminateOnNaN
from seqnet.layers import Dense, Embedding, Flatten, GlobalMaxPooling1D, Input, MaxPooling1D, MaxPooling2D
from seqnet.models import Sequential
from seqnet.preprocessing.sequence import pad_sequences
from seqnet.utils.np_utils import to_categorical


# ---- 1. Embedding indices stay integral -----------------------------------------------------
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.uint8, np.int16, np.float64])
def test_embedding_layer_accepts_int_and_float_indices(dtype):
    layer = Embedding(10, 3)
    layer.build((None, 4))
    table = layer.get_weights()[0]
    idx = np.array([[1, 2, 2, 9], [0, 0, 1, 5]]).astype(dtype)
    np.testing.assert_array_equal(layer.forward(idx, training=True), table[idx.astype(int)])
    dy = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    layer.backward(dy, need_dx=False)
    expected = np.zeros((10, 3), np.float32)
    np.add.at(expected, idx.astype(int), dy)
    np.testing.assert_array_equal(layer.embeddings.grad, expected)


def test_embedding_engine_index_dtypes_and_errors():
    table = np.arange(12, dtype=np.float32).reshape(6, 2)
    out = np.empty((3, 2), np.float32)
    for dtype in (np.int32, np.int64, np.float32):
        _engine.embedding_forward(np.array([5, 0, 3], dtype), table, out)
        np.testing.assert_array_equal(out, table[[5, 0, 3]])
    # The message quotes the bad index exactly as given.
    for dtype in (np.int32, np.int64):
        with pytest.raises(ValueError, match=r"index 6 at flat position 2 .*input_dim=6"):
            _engine.embedding_forward(np.array([5, 0, 6], dtype), table, out)
        with pytest.raises(ValueError, match=r"index -1 at flat position 1"):
            _engine.embedding_forward(np.array([5, -1, 0], dtype), table, out)
    for bad in (1.5, np.nan, -1.0, 6.0):
        with pytest.raises(ValueError, match="index"):
            _engine.embedding_forward(np.array([0, bad, 1], np.float32), table, out)
    for dtype in (np.float64, np.uint8, np.bool_):
        with pytest.raises(ValueError, match="int32, int64 or float32"):
            _engine.embedding_forward(np.array([0, 1, 1]).astype(dtype), table, out)
    with pytest.raises(ValueError, match="contiguous"):
        _engine.embedding_forward(np.array([0, 9, 1, 9, 2, 9], np.int64)[::2], table, out)
    dtable = np.ones_like(table)
    with pytest.raises(ValueError, match="index 7"):
        _engine.embedding_backward(np.array([0, 7, 1], np.int64), np.ones((3, 2), np.float32), dtable)
    assert np.all(dtable == 1)  # nothing written on a bad index


def test_embedding_table_beyond_float32_exact_integers():
    rows = 2 ** 24 + 3  # float32 cannot tell 2**24 from 2**24 + 1
    table = np.zeros((rows, 1), np.float32)
    table[-3:, 0] = [1.0, 2.0, 3.0]
    out = np.empty((2, 1), np.float32)
    idx = np.array([2 ** 24 + 1, 2 ** 24 + 2], np.int64)
    _engine.embedding_forward(idx, table, out)
    np.testing.assert_array_equal(out[:, 0], [2.0, 3.0])
    dtable = np.empty_like(table)
    _engine.embedding_backward(idx.astype(np.int32), np.array([[5.0], [7.0]], np.float32), dtable)
    assert dtable[2 ** 24 + 1, 0] == 5.0 and dtable[2 ** 24 + 2, 0] == 7.0 and dtable[2 ** 24, 0] == 0.0
    with pytest.raises(ValueError, match=r"index 16777219 at flat position 0 .*input_dim=16777219"):
        _engine.embedding_forward(np.array([rows, 0], np.int64), table, out)
    with pytest.raises(ValueError, match=r"2\*\*24"):
        _engine.embedding_forward(np.array([2 ** 24 + 2, 0], np.float32), table, out)
    layer = Embedding(rows, 1)
    with pytest.raises(ValueError, match=r"2\*\*24"):
        layer.build((None, 1))
        layer.forward(np.array([[2 ** 24 + 1]], np.float64), training=False)


def test_embedding_first_model_with_int_input():
    inp = Input((3,), dtype="int32")
    assert K.dtype(inp) == "int32"
    model = Sequential([Embedding(20, 2, input_length=3), Flatten(), Dense(1)])
    x = np.array([[1, 2, 19], [0, 4, 5]], np.int64)
    np.testing.assert_allclose(model.predict(x), model.predict(x.astype(np.float32)), rtol=1e-6)


# ---- 2. NaN propagates through activations and max pooling ----------------------------------
ACTIVATIONS = [a for name, a in _engine.Activation.__members__.items()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=[a.name for a in ACTIVATIONS])
def test_activation_forward_propagates_nan(isa, act):
    # Long enough for the vector loop body and its tail; NaN at several lanes and as a whole row.
    x = np.linspace(-3, 3, 4 * 37, dtype=np.float32).reshape(4, 37)
    x[0, [0, 5, 17, 36]] = np.nan
    x[3, :] = np.nan
    y = np.empty_like(x)
    _engine.activation_forward(act, x, y)
    assert np.all(np.isnan(y[np.isnan(x)])), act.name
    if act.name != "softmax":  # softmax spreads a NaN over its row
        assert np.all(np.isfinite(y[~np.isnan(x)])), act.name
    dy = np.ones_like(x)
    dx = np.empty_like(x)
    _engine.activation_backward(act, x if _engine.activation_backward_needs_input(act) else None, y, dy, dx)
    # Backward never turns a NaN into a zero gradient: NaN, or dy passed on (relu, hard_sigmoid).
    at_nan = dx[np.isnan(x)]
    assert np.all(np.isnan(at_nan) | (at_nan != 0)), act.name


@pytest.mark.parametrize("isa_name", ["generic", "avx2", "avx512"])
def test_relu_keeps_nan_and_zeroes_negatives(restore_isa, isa_name):
    if _engine.set_isa(isa_name) != isa_name:
        pytest.skip(f"{isa_name} not available")
    x = np.array([np.nan, -1.0, -0.0, 0.0, 2.0, np.inf, -np.inf] * 5, np.float32)
    y = np.empty_like(x)
    _engine.activation_forward(_engine.Activation.relu, x, y)
    np.testing.assert_array_equal(y, np.where(np.isnan(x), np.nan, np.maximum(x, 0)))


def test_max_pooling_propagates_nan(isa):
    x = np.random.RandomState(0).randn(2, 4, 4, 3).astype(np.float32)
    x[0, 1, 1, 0] = np.nan   # not the first element of its window
    x[1, 0, 0, 2] = np.nan   # the first element of its window
    layer = MaxPooling2D((2, 2))
    layer.build(x.shape)
    y = layer.forward(x, training=True).copy()
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[1, 0, 0, 2])
    assert np.isnan(y).sum() == 2
    dx = layer.backward(np.ones_like(y), need_dx=True)
    assert dx[0, 1, 1, 0] == 1.0 and dx[1, 0, 0, 2] == 1.0  # the gradient goes to the NaN
    layer1 = MaxPooling1D(2)
    layer1.build((2, 6, 3))
    x1 = np.ones((2, 6, 3), np.float32)
    x1[1, 3, 1] = np.nan
    y1 = layer1.forward(x1, training=False)
    assert np.isnan(y1[1, 1, 1]) and np.isnan(y1).sum() == 1
    g = GlobalMaxPooling1D()
    g.build((2, 6, 3))
    x1[0, 0, 0] = np.nan
    yg = g.forward(x1, training=False)
    assert np.isnan(yg[0, 0]) and np.isnan(yg[1, 1]) and np.isnan(yg).sum() == 2


def test_terminate_on_nan_stops_training_with_a_nan_weight():
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile("sgd", "mse")
    kernel, bias = model.layers[0].get_weights()
    kernel[0, 0] = np.nan
    model.layers[0].set_weights([kernel, bias])
    x = np.ones((16, 3), np.float32)
    history = model.fit(x, np.ones((16, 1), np.float32), batch_size=4, epochs=3, verbose=0,
                        callbacks=[TerminateOnNaN()])
    assert model.stop_training
    assert len(history.epoch) == 1 and np.isnan(history.history["loss"][0])


# ---- 3. set_weights, K.dot, empty batches ------------------------------------------------------
def test_set_weights_rejects_none_and_strings():
    layer = Dense(2, input_shape=(3,))
    layer.build((None, 3))
    before = [w.copy() for w in layer.get_weights()]
    with pytest.raises(ValueError, match="kernel"):
        layer.set_weights([np.array([[None, 1.0]] * 3, dtype=object), np.zeros(2)])
    with pytest.raises(ValueError, match="bias"):
        layer.set_weights([np.zeros((3, 2)), np.array(["a", "b"])])
    for w, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    layer.set_weights([np.ones((3, 2), dtype=object), np.zeros(2, dtype=np.float64)])  # numbers in objects
    assert layer.get_weights()[0].dtype == np.float32 and np.all(layer.get_weights()[0] == 1)


@pytest.mark.parametrize("shapes", [((3, 0), (0, 4)), ((2, 3, 0), (5, 0, 4)), ((0,), (0, 7)), ((50, 0), (0, 60))])
def test_dot_with_empty_inner_dimension_is_zeros(shapes):
    a, b = (np.full(s, np.nan, np.float32) for s in shapes)
    expected = np.dot(a, b)
    for _ in range(2):
        got = K.dot(a, b)
        assert got.shape == expected.shape and np.all(got == 0)
    with pytest.raises(ValueError, match="not aligned"):
        K.dot(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32))


def test_train_on_batch_with_no_samples_names_x():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="train_on_batch: x contains no samples"):
        model.train_on_batch(np.zeros((0, 3), np.float32), np.zeros((0, 2), np.float32))
    with pytest.raises(ValueError, match="test_on_batch: x contains no samples"):
        model.test_on_batch(np.zeros((0, 3), np.float32), np.zeros((0, 2), np.float32))


# ---- 4. clearer errors -------------------------------------------------------------------------
def test_sequential_layers_must_be_a_list():
    with pytest.raises(TypeError, match="layers must be a list of Layer"):
        Sequential(layers=5)


def test_fit_checks_callbacks_and_scalar_inputs():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32)
    with pytest.raises(TypeError, match=r"callbacks\[0\] is 5"):
        model.fit(x, y, callbacks=[5], verbose=0)
    with pytest.raises(TypeError, match="callbacks must be a list"):
        model.fit(x, y, callbacks=TerminateOnNaN(), verbose=0)
    with pytest.raises(TypeError, match="callbacks"):
        model.evaluate(x, y, callbacks=["x"], verbose=0)
    with pytest.raises(ValueError, match="x: .*0-d array"):
        model.fit(np.array(1.0), y, verbose=0)
    with pytest.raises(ValueError, match="y: .*0-d array"):
        model.fit(x, np.array(1.0), verbose=0)


def test_to_categorical_errors():
    with pytest.raises(ValueError, match="num_classes must be a non-negative integer"):
        to_categorical([], -1)
    with pytest.raises(ValueError, match="num_classes must be a non-negative integer"):
        to_categorical([1, 2], -3)
    with pytest.raises(ValueError, match="num_classes"):
        to_categorical([1, 2], 2.5)
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        to_categorical(["a", "b"])
    assert to_categorical([], 3).shape == (0, 3)


def test_pad_sequences_with_strings():
    with pytest.raises(ValueError, match="non-numeric values .*dtype=object"):
        pad_sequences([["a", "b"], ["c"]])
    with pytest.raises(ValueError, match="position 1 holds non-numeric"):
        pad_sequences([[1, 2], ["c"]])
    np.testing.assert_array_equal(pad_sequences([["a", "b"], ["c"]], dtype=object, value="-"),
                                  np.array([["a", "b"], ["-", "c"]], dtype=object))


# ---- 5. top-k metrics are batch means ------------------------------------------------------------
def test_top_k_metrics_return_the_batch_mean():
    y_pred = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6], [0.4, 0.35, 0.25]], np.float32)
    labels = np.array([2, 1, 2, 2])
    got = metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k=2)
    # Hits: row 0 class 2 second (in), row 1 class 1 third (out), row 2 first (in), row 3 third (out).
    assert np.ndim(got) == 0 and got == pytest.approx(0.5)
    one_hot = np.eye(3, dtype=np.float32)[labels]
    assert metrics.top_k_categorical_accuracy(one_hot, y_pred, k=2) == pytest.approx(0.5)
    assert metrics.top_k_categorical_accuracy(one_hot, y_pred, k=3) == pytest.approx(1.0)


def test_top_k_metric_in_compile():
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    model.compile("sgd", "categorical_crossentropy", metrics=["top_k_categorical_accuracy"])
    rng = np.random.RandomState(1)
    x = rng.randn(20, 2).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.randint(0, 3, 20)]
    loss, top_k = model.evaluate(x, y, batch_size=7, verbose=0)
    assert top_k == pytest.approx(metrics.top_k_categorical_accuracy(y, model.predict(x), k=5))
    w = np.linspace(0.0, 2.0, 20).astype(np.float32)
    model.compile("sgd", "categorical_crossentropy", weighted_metrics=["top_k_categorical_accuracy"])
    assert np.isfinite(model.evaluate(x, y, sample_weight=w, verbose=0)[1])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert "loss" in history.history


# ---- 6. Identity on rectangles (Keras 2.2.4) ---------------------------------------------------
def test_identity_initializer_rectangles():
    init = initializers.Identity(gain=2.0)
    np.testing.assert_array_equal(init((3, 3)), 2 * np.eye(3))
    np.testing.assert_array_equal(init((6, 3)), 2 * np.concatenate([np.eye(3)] * 2, axis=0))
    np.testing.assert_array_equal(init((2, 6)), 2 * np.concatenate([np.eye(2)] * 3, axis=1))
    assert init((2, 6)).dtype == np.float32
    for bad in ((3, 4), (4, 6), (0, 3)):
        with pytest.raises(ValueError, match="multiple of short side"):
            init(bad)
    with pytest.raises(ValueError, match="2D"):
        init((2, 2, 2))


# ---- 7, 8. K.dtype of symbolic tensors, K.backend() -----------------------------------------------
def test_dtype_of_symbolic_tensors_and_backend_name():
    assert K.dtype(Input((3,))) == "float32"
    assert K.dtype(Input((3,), dtype="int32")) == "int32"
    assert K.dtype(Dense(2)(Input((3,)))) == "float32"
    assert K.backend() == "seqnet" and type(K.backend()) is str
    assert "tensorflow" in K.backend.__doc__


def test_integer_inputs_of_an_embedding_stay_integral_through_the_model():
    """Rows 2**24 and 2**24 + 1 are one float32 number: a model must read both exactly."""
    from seqnet.layers import Embedding, Flatten, Input
    from seqnet.models import Model, Sequential
    rows = 2 ** 24 + 3
    emb = Embedding(rows, 1, embeddings_initializer="zeros", input_length=2)
    model = Sequential([emb, Flatten()])
    table = emb.embeddings.value
    table[2 ** 24, 0], table[2 ** 24 + 1, 0] = 1.0, 2.0
    ids = np.array([[2 ** 24, 2 ** 24 + 1]], dtype=np.int64)
    np.testing.assert_array_equal(model.predict(ids), [[1.0, 2.0]])
    x = Input((2,), dtype="int32")
    functional = Model(x, Flatten()(emb(x)))
    np.testing.assert_array_equal(functional.predict(ids), [[1.0, 2.0]])
    assert model._standardize_x(ids)[0].dtype == np.int32  # fits int32: kept integral, not float32
    model.compile("sgd", "mse")
    np.random.seed(0)
    model.fit(np.repeat(ids, 4, axis=0), np.zeros((4, 2)), batch_size=2, verbose=0)  # shuffled gather of ints
    table = emb.embeddings.value  # fit moved the weights into the flat parameter buffer
    assert table[2 ** 24, 0] < 1.0 and table[2 ** 24 + 1, 0] < 2.0 and table[2 ** 24 + 2, 0] == 0.0
