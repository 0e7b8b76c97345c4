"""The Sequential API (structure, input arguments, predict, summary, layers and weights,
to_categorical) against independent expectations: NumPy float64 forward passes of the same
weights, hand-computed parameter counts and Keras 2.2.4's summary table."""
import numpy as np
import pytest

import seqnet
import seqnet.backend as K
from seqnet.layers import Activation, Dense, Dropout
from seqnet.models import Sequential
from seqnet.utils import to_categorical

RNG = np.random.default_rng(20240601)


@pytest.fixture(autouse=True)
def fresh_session():
    """Layer names restart at dense_1, activation_1, ... in every test."""
    K.clear_session()
    yield
    K.clear_session()


# ---- float64 reference ----------------------------------------------------------------
def np_act(name, z):
    if name in (None, "linear"):
        return z
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise AssertionError(name)


def np_forward(spec, weights, x):
    """spec: ('dense', act) | ('act', act) | ('dropout',); weights: Keras-order arrays."""
    h = np.asarray(x, dtype=np.float64)
    it = iter(weights)
    for item in spec:
        if item[0] == "dense":
            kernel, bias = np.float64(next(it)), np.float64(next(it))
            h = np_act(item[1], h @ kernel + bias)
        elif item[0] == "act":
            h = np_act(item[1], h)
        # dropout: the identity outside training
    return h


def random_weights(model, scale=0.5):
    """Random kernels and non-zero biases in the model's own shapes."""
    return [RNG.normal(0.0, scale, w.shape).astype(np.float32) for w in model.get_weights()]


def mlp_list_model():
    return Sequential([Dense(32, input_shape=(784,)), Activation("relu"), Dense(10), Activation("softmax")])


def capture_summary(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


# ---- structure --------------------------------------------------------------------------
def test_list_and_add_build_the_same_structure():
    from_list = mlp_list_model()
    list_summary = capture_summary(from_list)
    K.clear_session()
    added = Sequential()
    added.add(Dense(32, input_shape=(784,)))
    added.add(Activation("relu"))
    added.add(Dense(10))
    added.add(Activation("softmax"))
    assert [type(l) for l in from_list.layers] == [type(l) for l in added.layers] == [Dense, Activation,
                                                                                      Dense, Activation]
    assert [l.name for l in from_list.layers] == [l.name for l in added.layers]
    assert from_list.input_shape == added.input_shape == (None, 784)
    assert from_list.output_shape == added.output_shape == (None, 10)
    assert [w.shape for w in from_list.get_weights()] == [w.shape for w in added.get_weights()]
    assert from_list.count_params() == added.count_params() == 784 * 32 + 32 + 32 * 10 + 10
    assert capture_summary(added) == list_summary
    # same weights -> same function
    weights = random_weights(from_list, scale=0.05)
    from_list.set_weights(weights)
    added.set_weights(weights)
    x = RNG.random((7, 784)).astype(np.float32)
    np.testing.assert_array_equal(from_list.predict(x), added.predict(x))


def test_layers_is_the_ordered_list_of_layers():
    d1, a1, d2 = Dense(4, input_dim=3), Activation("tanh"), Dense(2)
    model = Sequential([d1, a1, d2])
    assert model.layers == [d1, a1, d2]
    model.layers.append(Dense(9))  # a copy: the model is unchanged
    assert len(model.layers) == 3


@pytest.mark.parametrize("not_a_layer", [42, "dense", None, np.zeros(3), Dense])
def test_adding_a_non_layer_is_a_type_error(not_a_layer):
    model = Sequential()
    with pytest.raises(TypeError):
        model.add(not_a_layer)
    with pytest.raises(TypeError):
        Sequential([Dense(2, input_dim=2), not_a_layer])


# ---- input arguments --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, expected", [
    (dict(input_shape=(784,)), (None, 784)),
    (dict(input_dim=784), (None, 784)),
    (dict(batch_input_shape=(None, 784)), (None, 784)),
    (dict(batch_size=32, input_shape=(784,)), (32, 784)),
    (dict(batch_size=32, input_shape=(6, 8)), (32, 6, 8)),
    (dict(batch_input_shape=(32, 6, 8)), (32, 6, 8)),
    (dict(input_shape=(6, 8)), (None, 6, 8)),
])
def test_input_arguments(kwargs, expected):
    model = Sequential()
    model.add(Dense(32, **kwargs))
    assert model.input_shape == expected
    assert model.output_shape == expected[:-1] + (32,)
    assert model.count_params() == expected[-1] * 32 + 32


def test_input_shape_and_input_dim_are_equivalent():
    a = Sequential()
    a.add(Dense(32, input_shape=(784,)))
    b = Sequential()
    b.add(Dense(32, input_dim=784))
    assert a.input_shape == b.input_shape == (None, 784)
    assert [w.shape for w in a.get_weights()] == [w.shape for w in b.get_weights()] == [(784, 32), (32,)]


def test_model_without_input_shape_builds_from_data():
    model = Sequential()
    model.add(Dense(3, activation="tanh"))
    model.add(Dense(2))
    x = RNG.random((5, 4)).astype(np.float32)
    y = model.predict(x)
    assert y.shape == (5, 2)
    assert model.input_shape == (None, 4)
    assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 2), (2,)]
    np.testing.assert_allclose(y, np_forward([("dense", "tanh"), ("dense", None)], model.get_weights(), x),
                               rtol=1e-5, atol=1e-6)


# ---- Dense on 3-D inputs ------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [dict(input_shape=(6, 8)), dict(batch_size=32, input_shape=(6, 8))])
def test_dense_on_3d_input_acts_on_the_last_axis(kwargs):
    model = Sequential([Dense(5, **kwargs)])
    assert model.output_shape == (kwargs.get("batch_size"), 6, 5)
    kernel, bias = random_weights(model)
    assert kernel.shape == (8, 5) and bias.shape == (5,)
    model.set_weights([kernel, bias])
    x = RNG.normal(size=(32, 6, 8)).astype(np.float32)
    expected = np.float64(x) @ np.float64(kernel) + np.float64(bias)
    got = model.predict(x, batch_size=32)
    assert got.shape == (32, 6, 5)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_dense_on_3d_input_with_activation_layers():
    model = Sequential([Dense(7, activation="relu", input_shape=(4, 3)), Dense(2, activation="softmax")])
    model.set_weights(random_weights(model))
    x = RNG.normal(size=(10, 4, 3)).astype(np.float32)
    got = model.predict(x)
    assert got.shape == (10, 4, 2)
    np.testing.assert_allclose(got, np_forward([("dense", "relu"), ("dense", "softmax")], model.get_weights(), x),
                               rtol=1e-5, atol=1e-7)


# ---- predict vs a float64 forward pass --------------------------------------------------------
MODELS = {
    "relu-softmax-layers": (
        lambda: [Dense(16, input_dim=10), Activation("relu"), Dense(12), Activation("tanh"), Dense(6),
                 Activation("softmax")],
        [("dense", None), ("act", "relu"), ("dense", None), ("act", "tanh"), ("dense", None), ("act", "softmax")]),
    "fused-activations-with-dropout": (
        lambda: [Dense(16, activation="relu", input_dim=10), Dropout(0.5), Dense(12, activation="tanh"),
                 Dropout(0.3), Dense(6, activation="softmax")],
        [("dense", "relu"), ("dropout",), ("dense", "tanh"), ("dropout",), ("dense", "softmax")]),
    "sigmoid-output": (
        lambda: [Dense(8, activation="tanh", input_shape=(10,)), Dropout(0.5), Dense(1, activation="sigmoid")],
        [("dense", "tanh"), ("dropout",), ("dense", "sigmoid")]),
    "sigmoid-layer": (
        lambda: [Dense(9, input_dim=10), Activation("sigmoid"), Dense(3), Activation("relu")],
        [("dense", None), ("act", "sigmoid"), ("dense", None), ("act", "relu")]),
    "seed-mlp-softmax": (
        lambda: [Dense(64, activation="relu", input_dim=10), Dropout(0.5), Dense(64, activation="relu"),
                 Dropout(0.5), Dense(10, activation="softmax")],
        [("dense", "relu"), ("dropout",), ("dense", "relu"), ("dropout",), ("dense", "softmax")]),
}


@pytest.mark.parametrize("key", sorted(MODELS))
def test_predict_matches_float64_forward(key):
    layers, spec = MODELS[key]
    model = Sequential(layers())
    weights = random_weights(model)
    model.set_weights(weights)
    x = RNG.normal(size=(50, 10)).astype(np.float32)
    expected = np_forward(spec, weights, x)
    for batch_size in (None, 16, 50, 64):  # several batches, a short last one, one big one
        got = model.predict(x, batch_size=batch_size)
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 783), (5, 785), (5, 28, 28), (784,)])
def test_predict_wrong_input_shape_is_a_value_error(shape):
    model = mlp_list_model()
    with pytest.raises(ValueError):
        model.predict(np.zeros(shape, np.float32))


def test_dropout_is_inactive_in_predict():
    with_dropout = Sequential([Dense(32, activation="relu", input_dim=8), Dropout(0.9), Dense(4)])
    without = Sequential([Dense(32, activation="relu", input_dim=8), Dense(4)])
    weights = random_weights(with_dropout)
    with_dropout.set_weights(weights)
    without.set_weights(weights)
    x = RNG.normal(size=(40, 8)).astype(np.float32)
    first = with_dropout.predict(x)
    np.testing.assert_array_equal(first, with_dropout.predict(x))
    np.testing.assert_array_equal(first, without.predict(x))


def test_predict_after_training_matches_float64_forward():
    """Weights changed by fit are the ones predict uses."""
    model = Sequential([Dense(8, activation="relu", input_dim=5), Dropout(0.5), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = RNG.normal(size=(64, 5)).astype(np.float32)
    y = to_categorical(RNG.integers(0, 3, size=64), num_classes=3)
    before = model.get_weights()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    np.testing.assert_allclose(model.predict(x), np_forward([("dense", "relu"), ("dropout",), ("dense", "softmax")],
                                                            after, x), rtol=1e-5, atol=1e-6)


# ---- summary ------------------------------------------------------------------------------------
SUMMARY_LIST_MODEL = [
    "_________________________________________________________________",
    "Layer (type)                 Output Shape              Param #   ",
    "=================================================================",
    "dense_1 (Dense)              (None, 32)                25120     ",
    "_________________________________________________________________",
    "activation_1 (Activation)    (None, 32)                0         ",
    "_________________________________________________________________",
    "dense_2 (Dense)              (None, 10)                330       ",
    "_________________________________________________________________",
    "activation_2 (Activation)    (None, 10)                0         ",
    "=================================================================",
    "Total params: 25,450",
    "Trainable params: 25,450",
    "Non-trainable params: 0",
    "_________________________________________________________________",
]


def test_summary_is_keras_table():
    model = mlp_list_model()
    assert 784 * 32 + 32 == 25120 and 32 * 10 + 10 == 330
    assert capture_summary(model) == SUMMARY_LIST_MODEL


def test_summary_prints_to_stdout_by_default(capsys):
    mlp_list_model().summary()
    assert capsys.readouterr().out.splitlines() == SUMMARY_LIST_MODEL


def test_summary_of_seed_mlp_with_dropout_and_3d():
    model = Sequential()
    model.add(Dense(64, activation="relu", input_dim=20))
    model.add(Dropout(0.5))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    lines = capture_summary(model)
    total = (20 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)
    assert lines[3:12] == [
        "dense_1 (Dense)              (None, 64)                1344      ",
        "_________________________________________________________________",
        "dropout_1 (Dropout)          (None, 64)                0         ",
        "_________________________________________________________________",
        "dense_2 (Dense)              (None, 64)                4160      ",
        "_________________________________________________________________",
        "dropout_2 (Dropout)          (None, 64)                0         ",
        "_________________________________________________________________",
        "dense_3 (Dense)              (None, 10)                650       ",
    ]
    assert lines[-4:-1] == [f"Total params: {total:,}", f"Trainable params: {total:,}", "Non-trainable params: 0"]
    assert total == 6154

    K.clear_session()
    model = Sequential([Dense(32, batch_size=32, input_shape=(6, 8))])
    assert capture_summary(model)[3] == "dense_1 (Dense)              (32, 6, 32)               288       "


def test_summary_counts_non_trainable_layers():
    model = Sequential([Dense(32, input_dim=784, trainable=False), Dense(10)])
    lines = capture_summary(model)
    assert lines[-4:-1] == ["Total params: 25,450", "Trainable params: 330", "Non-trainable params: 25,120"]


def test_layer_names_are_numbered_per_class_and_reset_by_clear_session():
    model = Sequential([Dense(3, input_dim=2), Activation("relu"), Dropout(0.1), Dense(2), Activation("relu"),
                        Dense(1, name="out")])
    assert [l.name for l in model.layers] == ["dense_1", "activation_1", "dropout_1", "dense_2", "activation_2",
                                              "out"]
    assert Dense(1).name == "dense_3"
    K.clear_session()
    assert Dense(1).name == "dense_1"


# ---- get_layer ---------------------------------------------------------------------------
def test_get_layer():
    model = mlp_list_model()
    d1, a1, d2, a2 = model.layers
    assert model.get_layer(name="dense_2") is d2
    assert model.get_layer("activation_1") is a1
    assert model.get_layer(index=0) is d1
    assert model.get_layer(index=3) is a2
    # index wins when both are given
    assert model.get_layer(name="dense_1", index=2) is d2


@pytest.mark.parametrize("kwargs", [dict(name="dense_9"), dict(name="nope"), dict(index=4), dict(index=100),
                                    dict(), dict(name="dense_1", index=4)])
def test_get_layer_errors(kwargs):
    model = mlp_list_model()
    with pytest.raises(ValueError):
        model.get_layer(**kwargs)


# ---- weights ----------------------------------------------------------------------------------
def test_get_weights_keras_order_and_shapes():
    model = mlp_list_model()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(784, 32), (32,), (32, 10), (10,)]
    assert all(w.dtype == np.float32 for w in weights)
    # Keras defaults: glorot_uniform kernels, zero biases
    for kernel, (fan_in, fan_out) in ((weights[0], (784, 32)), (weights[2], (32, 10))):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.all(np.abs(kernel) <= limit) and kernel.std() > limit / 4
    assert not weights[1].any() and not weights[3].any()
    assert [w.shape for w in model.get_layer("dense_1").get_weights()] == [(784, 32), (32,)]
    assert model.get_layer("activation_1").get_weights() == []


def test_set_weights_round_trip_and_copies():
    model = mlp_list_model()
    new = random_weights(model)
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    got = model.get_weights()
    got[0][...] = 0.0  # get_weights returns copies
    np.testing.assert_array_equal(model.get_weights()[0], new[0])
    new[1][...] = 123.0  # set_weights copies too
    assert not np.any(model.get_weights()[1] == 123.0)
    # a layer's set_weights reaches the model
    kernel = RNG.normal(size=(32, 10)).astype(np.float32)
    model.get_layer("dense_2").set_weights([kernel, np.ones(10, np.float32)])
    np.testing.assert_array_equal(model.get_weights()[2], kernel)
    np.testing.assert_array_equal(model.get_weights()[3], np.ones(10))


def test_set_weights_accepts_float64_and_predict_uses_it():
    model = Sequential([Dense(3, input_dim=2)])
    kernel = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    bias = np.array([0.5, -0.5, 1.0])
    model.set_weights([kernel, bias])
    x = np.array([[1.0, 1.0], [2.0, -1.0]])
    np.testing.assert_allclose(model.predict(x), x @ kernel + bias, rtol=1e-6)


@pytest.mark.parametrize("bad", [
    "too_few", "too_many", "kernel_transposed", "bias_2d", "empty",
])
def test_set_weights_errors(bad):
    model = mlp_list_model()
    good = model.get_weights()
    weights = {
        "too_few": good[:3],
        "too_many": good + [np.zeros(10, np.float32)],
        "kernel_transposed": [good[0].T] + good[1:],
        "bias_2d": good[:3] + [good[3].reshape(1, 10)],
        "empty": [],
    }[bad]
    with pytest.raises(ValueError):
        model.set_weights(weights)


def test_failed_set_weights_changes_nothing():
    """Keras 2 assigns all arrays in one batch_set_value, so a bad shape in a later layer
    leaves the earlier layers untouched too."""
    model = mlp_list_model()
    before = model.get_weights()
    bad = [w + 1.0 for w in before[:3]] + [np.zeros((1, 10), np.float32)]
    with pytest.raises(ValueError):
        model.set_weights(bad)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_layer_set_weights_errors():
    model = mlp_list_model()
    layer = model.get_layer("dense_1")
    with pytest.raises(ValueError):
        layer.set_weights([np.zeros((784, 32), np.float32)])
    with pytest.raises(ValueError):
        layer.set_weights([np.zeros((32, 784), np.float32), np.zeros(32, np.float32)])


def test_count_params():
    assert mlp_list_model().count_params() == 784 * 32 + 32 + 32 * 10 + 10
    model = Sequential([Dense(5, input_shape=(6, 8)), Dense(2, use_bias=False)])
    assert model.count_params() == (8 * 5 + 5) + 5 * 2
    assert [w.shape for w in model.get_weights()] == [(8, 5), (5,), (5, 2)]
    assert model.get_layer(index=1).count_params() == 10


def test_count_params_of_an_unbuilt_model_is_a_value_error():
    model = Sequential([Dense(3)])
    with pytest.raises(ValueError):
        model.count_params()


# ---- pop ------------------------------------------------------------------------------------
def test_pop():
    model = mlp_list_model()
    d1, a1, d2, _ = model.layers
    model.pop()
    assert model.layers == [d1, a1, d2]
    assert model.output_shape == (None, 10)
    model.pop()
    assert model.layers == [d1, a1]
    assert model.output_shape == (None, 32)
    assert model.count_params() == 784 * 32 + 32
    assert len(model.get_weights()) == 2
    # the popped model still predicts, with the remaining weights
    x = RNG.random((4, 784)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), np_forward([("dense", None), ("act", "relu")],
                                                            model.get_weights(), x), rtol=1e-5, atol=1e-6)
    # and takes a new head
    model.add(Dense(3, activation="softmax"))
    assert model.output_shape == (None, 3)
    assert model.predict(x).shape == (4, 3)
    assert model.count_params() == 784 * 32 + 32 + 32 * 3 + 3


def test_pop_empty_model_is_a_type_error():
    model = Sequential([Dense(2, input_dim=2)])
    model.pop()
    assert model.layers == []
    with pytest.raises(TypeError):
        model.pop()
    with pytest.raises(TypeError):
        Sequential().pop()


# ---- to_categorical -------------------------------------------------------------------------------
def test_to_categorical_matches_eye_indexing():
    labels = RNG.integers(0, 10, size=(1000, 1))
    one_hot = to_categorical(labels, num_classes=10)
    assert one_hot.shape == (1000, 10) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot, np.eye(10)[labels[:, 0]])
    flat = to_categorical(labels[:, 0], num_classes=10)
    np.testing.assert_array_equal(flat, one_hot)


def test_to_categorical_num_classes():
    labels = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(to_categorical(labels), np.eye(3)[labels])  # inferred: max + 1
    wide = to_categorical(labels, num_classes=6)
    assert wide.shape == (4, 6)
    np.testing.assert_array_equal(wide, np.eye(6)[labels])
    np.testing.assert_array_equal(to_categorical([[1], [0]], 2), [[0, 1], [1, 0]])


def test_to_categorical_keeps_leading_axes():
    labels = RNG.integers(0, 4, size=(3, 5))
    out = to_categorical(labels, 4)
    assert out.shape == (3, 5, 4)
    np.testing.assert_array_equal(out, np.eye(4)[labels])


def test_to_categorical_is_reachable_as_in_keras():
    import seqnet as keras
    labels = np.array([[1], [3]])
    np.testing.assert_array_equal(keras.utils.to_categorical(labels, num_classes=4), np.eye(4)[[1, 3]])
    np.testing.assert_array_equal(keras.utils.np_utils.to_categorical(labels, 4), np.eye(4)[[1, 3]])


@pytest.mark.parametrize("labels, num_classes", [
    (np.array([0, 1, 10]), 10),      # out of range
    (np.array([[0], [-1]]), 3),      # negative
    (np.array([-2, 0]), None),       # negative, inferred classes
    (np.array([0.5, 1.0]), 2),       # not integers
])
def test_to_categorical_bad_labels(labels, num_classes):
    with pytest.raises(ValueError):
        to_categorical(labels, num_classes=num_classes)
