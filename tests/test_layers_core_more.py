"""Core layers beyond Dense/Dropout: Reshape, Permute, RepeatVector, ActivityRegularization
and SpatialDropout1D/2D/3D. Forward and backward against float64 NumPy references and
central finite differences, parity with tf-keras (tests/fixtures/make_layer_fixtures_basic.py:
predict, training steps, a tf-keras-saved .h5), config and save/load round trips, masks as
Keras 2.2.4, and bad arguments."""
import numpy as np
import pytest

import seqnet as keras
from basic_layer_fixtures import (check_gradient, check_predict_fixture, check_round_trip, check_tf_keras_h5,
                                  check_train_fixture, predict_cases, train_cases)
from seqnet.layers import (LSTM, ActivityRegularization, Dense, Embedding, Input, Permute, RepeatVector, Reshape,
                           SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from seqnet.models import Model, Sequential

CORE = ("Reshape", "Permute", "RepeatVector", "ActivityRegularization", "SpatialDropout1D", "SpatialDropout2D",
        "SpatialDropout3D")


def rng(seed=0):
    return np.random.default_rng(seed)


# ---- tf-keras parity ----------------------------------------------------------------------
@pytest.mark.parametrize("case", predict_cases(CORE))
def test_predict_matches_tf_keras(case):
    check_predict_fixture(case)


@pytest.mark.parametrize("case", train_cases(CORE))
def test_training_steps_match_tf_keras(case):
    check_train_fixture(case)


def test_loads_a_tf_keras_h5_with_the_core_layers():
    model = check_tf_keras_h5("core")
    kinds = {type(layer).__name__: layer for layer in model.layers}
    assert kinds["Reshape"].target_shape == (3, -1)
    assert kinds["Permute"].dims == (2, 1)
    assert kinds["RepeatVector"].n == 3
    assert (kinds["ActivityRegularization"].l1, kinds["ActivityRegularization"].l2) == (0.01, 0.02)
    assert kinds["SpatialDropout1D"].rate == pytest.approx(0.4)


# ---- forward / backward against NumPy -------------------------------------------------------
@pytest.mark.parametrize("target, want", [((3, -1), (3, 8)), ((-1,), (24,)), ((2, 2, 6), (2, 2, 6)),
                                          ((4, -1, 2), (4, 3, 2))])
def test_reshape_forward_backward(target, want):
    layer = Reshape(target)
    x = rng().standard_normal((2, 4, 6))
    assert layer.compute_output_shape((None, 4, 6)) == (None,) + want
    check_gradient(layer, x, lambda a: a.reshape((a.shape[0],) + want))


def test_reshape_with_an_undefined_input_axis_leaves_the_minus_one_undefined():
    assert Reshape((-1, 3)).compute_output_shape((None, None, 6)) == (None, None, 3)
    assert Reshape((2, 3)).compute_output_shape((None, None, 6)) == (None, 2, 3)


@pytest.mark.parametrize("dims, shape", [((2, 1), (3, 4)), ((3, 1, 2), (2, 3, 4)), ((1, 2), (3, 4))])
def test_permute_forward_backward(dims, shape):
    layer = Permute(dims)
    x = rng(1).standard_normal((2,) + shape)
    assert layer.compute_output_shape((None,) + shape) == (None,) + tuple(shape[d - 1] for d in dims)
    check_gradient(layer, x, lambda a: np.transpose(a, (0,) + dims))


def test_repeat_vector_forward_backward():
    layer = RepeatVector(4)
    x = rng(2).standard_normal((3, 5))
    assert layer.compute_output_shape((None, 5)) == (None, 4, 5)
    check_gradient(layer, x, lambda a: np.repeat(a[:, None, :], 4, axis=1))


def test_activity_regularization_is_the_identity_and_adds_keras_224_penalty():
    """Loss = mse + l1 * sum|h| + l2 * sum(h^2) over the batch (2.2.4, not divided by the
    batch size), and its gradient reaches the Dense weights (SGD(lr=1) deltas against
    central finite differences of the float64 loss)."""
    layer = ActivityRegularization(l1=0.03, l2=0.05)
    x = rng(3).standard_normal((4, 3))
    check_gradient(layer, x, lambda a: a)
    model = Sequential([Dense(2, input_shape=(3,)), ActivityRegularization(l1=0.03, l2=0.05)])
    model.compile(keras.optimizers.SGD(lr=1.0), "mse")
    x = x.astype(np.float32)
    y = rng(4).standard_normal((4, 2)).astype(np.float32)
    w0 = [w.astype(np.float64) for w in model.get_weights()]

    def loss_of(kernel, bias):
        h = x.astype(np.float64) @ kernel + bias
        return np.mean((h - y) ** 2) + 0.03 * np.abs(h).sum() + 0.05 * (h ** 2).sum()

    assert model.evaluate(x, y, verbose=0) == pytest.approx(loss_of(*w0), rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(loss_of(*w0), rel=1e-5)
    grads = [a - b for a, b in zip(w0, model.get_weights())]
    for i, w in enumerate(w0):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus, minus = [v.copy() for v in w0], [v.copy() for v in w0]
            plus[i][idx] += 1e-6
            minus[i][idx] -= 1e-6
            numeric[idx] = (loss_of(*plus) - loss_of(*minus)) / 2e-6
        np.testing.assert_allclose(grads[i], numeric, rtol=1e-3, atol=1e-5)


# ---- SpatialDropout ---------------------------------------------------------------------------
SPATIAL = [(SpatialDropout1D, {}, (6, 5), (1,)),
           (SpatialDropout2D, {"data_format": "channels_last"}, (4, 3, 5), (1, 2)),
           (SpatialDropout2D, {"data_format": "channels_first"}, (5, 4, 3), (2, 3)),
           (SpatialDropout3D, {"data_format": "channels_last"}, (2, 3, 2, 5), (1, 2, 3)),
           (SpatialDropout3D, {"data_format": "channels_first"}, (5, 2, 3, 2), (2, 3, 4))]


@pytest.mark.parametrize("cls, kwargs, shape, spatial", SPATIAL)
def test_spatial_dropout_drops_whole_channels(cls, kwargs, shape, spatial):
    rate = 0.4
    layer = cls(rate, seed=7, **kwargs)
    x = rng(5).uniform(0.5, 1.5, (200,) + shape).astype(np.float32)  # no zeros: a zero output means dropped
    layer._build_for((None,) + shape)
    y = layer.forward(x, True).copy()
    scale = y / x
    # one value per (sample, channel), 0 or 1 / (1 - rate)
    assert np.allclose(scale, scale.max(axis=spatial, keepdims=True), atol=1e-6)
    values = np.unique(np.round(scale, 5))
    np.testing.assert_allclose(values, [0.0, round(1 / (1 - rate), 5)], rtol=1e-5)
    dropped = np.mean(scale.max(axis=spatial) == 0)
    assert abs(dropped - rate) < 0.05  # 1000 channel draws
    dy = rng(6).standard_normal(x.shape).astype(np.float32)
    dx = layer.backward(dy.copy(), True)
    np.testing.assert_allclose(dx, dy * scale, rtol=1e-5, atol=1e-6)
    # a new training step draws a new mask; inference is the identity (the very input)
    assert not np.array_equal(layer.forward(x, True), y)
    assert layer.forward(x, False) is x


def test_spatial_dropout_is_reproducible_with_a_seed():
    x = np.ones((4, 3, 8), np.float32)
    a, b = SpatialDropout1D(0.5, seed=3), SpatialDropout1D(0.5, seed=3)
    for layer in (a, b):
        layer._build_for((None, 3, 8))
    np.testing.assert_array_equal(a.forward(x, True), b.forward(x, True))
    keras.utils.set_random_seed(11)
    c = SpatialDropout1D(0.5)
    keras.utils.set_random_seed(11)
    d = SpatialDropout1D(0.5)
    np.testing.assert_array_equal(c.forward(x, True), d.forward(x, True))


def test_spatial_dropout_trains_in_a_model_and_predicts_the_identity():
    model = Sequential([SpatialDropout2D(0.5, input_shape=(4, 4, 3)), keras.layers.Flatten(), Dense(1)])
    model.compile(keras.optimizers.SGD(lr=0.01), "mse")
    x = rng(7).standard_normal((8, 4, 4, 3)).astype(np.float32)
    model.train_on_batch(x, np.zeros((8, 1), np.float32))
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x), x.reshape(8, -1) @ kernel + bias, rtol=1e-5, atol=1e-5)


# ---- Dropout(noise_shape) (Keras 2.2.4: the draw's shape, None entries taken from the input) -----------
@pytest.mark.parametrize("noise_shape, shared", [((None, 1, 5), (1,)), ((None, 6, 1), (2,)), ((1, None, 5), (0,)),
                                                 ((1, 1, 5), (0, 1)), ((300, 1, 1), (1, 2))])
def test_dropout_noise_shape_shares_the_draw_along_its_unit_axes(noise_shape, shared):
    rate = 0.4
    layer = keras.layers.Dropout(rate, noise_shape=noise_shape, seed=3)
    layer._build_for((None, 6, 5))
    x = rng(8).uniform(0.5, 1.5, (300, 6, 5)).astype(np.float32)  # no zeros: a zero output means dropped
    y = layer.forward(x, True).copy()
    keep = y != 0
    # one keep/drop draw along the shared axes, the dropped share near rate
    np.testing.assert_array_equal(keep, np.broadcast_to(keep.any(axis=shared, keepdims=True), keep.shape))
    draws = keep.any(axis=shared)
    assert abs(np.mean(~draws) - rate) < max(0.05, 3 * np.sqrt(rate * (1 - rate) / draws.size))
    # kept inputs scaled by 1 / (1 - rate) as float32 computes it, the others 0
    scale = np.where(keep.any(axis=shared, keepdims=True), np.float32(1) / (np.float32(1) - np.float32(rate)),
                     np.float32(0)).astype(np.float32)
    np.testing.assert_array_equal(y, x * scale)
    dy = rng(9).standard_normal(x.shape).astype(np.float32)
    np.testing.assert_array_equal(layer.backward(dy.copy(), True), dy * scale)
    assert not np.array_equal(layer.forward(x, True), y)  # a new draw each training step
    assert layer.forward(x, False) is x


def test_dropout_noise_shape_trains_saves_and_checks_its_input():
    model = Sequential([keras.layers.Dropout(0.5, noise_shape=(None, 1, 3), input_shape=(4, 3)),
                        keras.layers.Flatten(), Dense(1)])
    model.compile(keras.optimizers.SGD(lr=0.01), "mse")
    x = rng(10).standard_normal((8, 4, 3)).astype(np.float32)
    model.train_on_batch(x, np.zeros((8, 1), np.float32))
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x), x.reshape(8, -1) @ kernel + bias, rtol=1e-5, atol=1e-5)
    again = Sequential.from_config(model.get_config())
    assert again.layers[0].noise_shape == (None, 1, 3)
    layer = keras.layers.Dropout(0.5, noise_shape=(None, 2, 3))
    with pytest.raises(ValueError, match=r"Dropout '.*': noise_shape \(None, 2, 3\) does not broadcast to the "
                                         r"input shape \(8, 4, 3\)"):
        layer.forward(x, True)
    for bad in ((None, 0, 3), (None, 1.5, 3), "abc", ()):
        with pytest.raises(ValueError, match="noise_shape must"):
            keras.layers.Dropout(0.5, noise_shape=bad)


# ---- masks (Keras 2.2.4) ------------------------------------------------------------------------
def masked_sequence():
    tokens = Input(shape=(5,))
    return tokens, Embedding(6, 4, mask_zero=True)(tokens)


@pytest.mark.parametrize("layer", [lambda: Reshape((20,)), lambda: Permute((2, 1))])
def test_reshape_and_permute_refuse_a_mask(layer):
    _, h = masked_sequence()
    with pytest.raises(TypeError, match="does not support masking"):
        layer()(h)


@pytest.mark.parametrize("layer", [lambda: ActivityRegularization(l1=0.01), lambda: SpatialDropout1D(0.3)])
def test_activity_regularization_and_spatial_dropout_pass_the_mask_on(layer):
    """Row 0 is [1, 2] padded with zeros: with the mask passed on, the LSTM skips the
    padding and ends where the same layers end on the unpadded [1, 2]."""
    middle = layer()
    padded, short = Input(shape=(5,)), Input(shape=(2,))
    model = Model(padded, LSTM(3)(middle(Embedding(6, 4, mask_zero=True)(padded))))
    reference = Model(short, LSTM(3)(Embedding(6, 4)(short)))
    reference.set_weights(model.get_weights())
    ids = np.array([[1, 2, 0, 0, 0], [3, 4, 0, 0, 0]], np.float32)
    np.testing.assert_allclose(model.predict(ids), reference.predict(ids[:, :2]), rtol=1e-5, atol=1e-6)
    assert middle.compute_mask(None, ids != 0) is not None
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    model.train_on_batch(ids, np.zeros((2, 3), np.float32))


def test_repeat_vector_refuses_a_mask():
    # Keras 2.2.4's RepeatVector does not support masking
    layer = RepeatVector(2)
    with pytest.raises(TypeError, match="does not support masking"):
        layer.compute_mask(np.zeros((2, 3)), np.ones((2,), bool))


# ---- configs, save / load ---------------------------------------------------------------------
@pytest.mark.parametrize("layer, shape", [
    (lambda: Reshape((2, -1)), (4, 3)),
    (lambda: Permute((3, 1, 2)), (2, 3, 4)),
    (lambda: RepeatVector(3), (4,)),
    (lambda: ActivityRegularization(l1=0.1, l2=0.2), (4,)),
    (lambda: SpatialDropout1D(0.2, seed=4), (3, 4)),
    (lambda: SpatialDropout2D(0.3, data_format="channels_first"), (2, 3, 4)),
    (lambda: SpatialDropout3D(0.3, data_format="channels_last"), (2, 2, 2, 3)),
])
def test_config_and_save_load_round_trip(layer, shape, tmp_path):
    loaded = check_round_trip(layer(), shape, tmp_path)
    assert loaded.layers[-1].get_config() == {**layer().get_config(), "name": loaded.layers[-1].name,
                                               "batch_input_shape": (None,) + shape}


def test_configs_hold_keras_keys():
    assert Reshape((2, -1)).get_config()["target_shape"] == (2, -1)
    assert Permute([2, 1]).get_config()["dims"] == (2, 1)
    assert ActivityRegularization(0.1).get_config()["l2"] == 0.0
    config = SpatialDropout2D(0.5, data_format="channels_first").get_config()
    assert {k: config[k] for k in ("rate", "noise_shape", "seed", "data_format")} == {
        "rate": 0.5, "noise_shape": None, "seed": None, "data_format": "channels_first"}
    assert "data_format" not in SpatialDropout1D(0.5).get_config()
    assert ActivityRegularization(0.1).activity_regularizer.get_config() == {"l1": 0.1, "l2": 0.0}


# ---- bad arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: Reshape((2, -1, -1)), r"Reshape .*at most one unknown dimension"),
    (lambda: Reshape((0, 3)), r"Reshape .*target_shape must hold positive integers"),
    (lambda: Reshape((2, -2)), r"Reshape .*target_shape"),
    (lambda: Reshape(3), r"Reshape .*target_shape must be a tuple"),
    (lambda: Permute((1, 1)), r"Permute .*dims must be a permutation of 1..2"),
    (lambda: Permute((0, 1)), r"Permute .*dims must be a permutation"),
    (lambda: RepeatVector(0), r"RepeatVector .*n must be a positive integer, got 0"),
    (lambda: RepeatVector(-2), r"RepeatVector .*n must be a positive integer"),
    (lambda: ActivityRegularization(l1=-0.1), r"ActivityRegularization .*l1 must be a non-negative number"),
    (lambda: ActivityRegularization(l2="x"), r"ActivityRegularization .*l2"),
    (lambda: SpatialDropout1D(1.5), r"SpatialDropout1D: rate must be a number in \[0, 1\)"),
    (lambda: SpatialDropout2D(0.5, data_format="nhwc"), r"SpatialDropout2D .*data_format"),
    (lambda: SpatialDropout3D(0.5, noise_shape=(1, 1, 1, 1, 1)), r"SpatialDropout3D: noise_shape"),
])
def test_bad_arguments_raise_valueerror(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: Reshape((5, -1)), (4, 6), r"Reshape '.*': total size .*\(5, -1\).*\(None, 4, 6\)"),
    (lambda: Reshape((5, 5)), (4, 6), r"Reshape '.*': total size .*\(None, 4, 6\)"),
    (lambda: Permute((2, 1)), (4, 6, 2), r"Permute '.*'.*rank 3.*\(None, 4, 6, 2\)"),
    (lambda: RepeatVector(2), (4, 6), r"RepeatVector '.*'.*rank 2.*\(None, 4, 6\)"),
    (lambda: SpatialDropout1D(0.5), (4, 6, 2), r"SpatialDropout1D '.*'.*rank 3.*\(None, 4, 6, 2\)"),
    (lambda: SpatialDropout2D(0.5), (4, 6), r"SpatialDropout2D '.*'.*rank 4.*\(None, 4, 6\)"),
])
def test_wrong_input_shapes_raise_valueerror_with_the_shapes(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(Input(shape=shape))
