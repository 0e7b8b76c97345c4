"""Noise layers: GaussianNoise, GaussianDropout, AlphaDropout. Their draws come from
seqnet's seeded counter-based generator, so the tests check statistics and identities
(inference is the identity, the gradient is the noise's, seeds reproduce, every step
and every shared call draws afresh), Keras 2.2.4's AlphaDropout formula against float64
NumPy, tf-keras fixtures at inference (tests/fixtures/make_layer_fixtures_basic.py),
config and save/load round trips, masks, and bad arguments."""
import os

import numpy as np
import pytest

import seqnet as keras
from basic_layer_fixtures import FIXTURES, check_predict_fixture, check_round_trip, data, predict_cases
from seqnet.layers import AlphaDropout, Dense, GaussianDropout, GaussianNoise, Input
from seqnet.models import Model, Sequential, load_model

NOISE = ("GaussianNoise", "GaussianDropout", "AlphaDropout")
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def built(layer, shape):
    layer._build_for((None,) + tuple(shape))
    return layer


def normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- tf-keras: the identity at inference -----------------------------------------------------------
@pytest.mark.parametrize("case", predict_cases(NOISE))
def test_predict_matches_tf_keras(case):
    check_predict_fixture(case)


def test_loads_the_noise_layers_of_a_tf_keras_h5():
    model = load_model(os.path.join(FIXTURES, "layers_basic_core.h5"))
    kinds = {type(layer).__name__: layer for layer in model.layers}
    assert kinds["GaussianNoise"].stddev == pytest.approx(0.3)
    assert kinds["GaussianDropout"].rate == pytest.approx(0.2)
    assert kinds["AlphaDropout"].rate == pytest.approx(0.1)
    d = data()
    xs = [d[f"h5_core_x{i}"] for i in range(4)]
    preds = model.predict(xs)
    noise_outputs = [j for j, name in enumerate(model.output_names) if name in {kinds[k].name for k in NOISE}]
    assert len(noise_outputs) == 3
    for j in noise_outputs:
        np.testing.assert_array_equal(preds[j], d[f"h5_core_pred{j}"])
        np.testing.assert_array_equal(preds[j], xs[0])


# ---- GaussianNoise --------------------------------------------------------------------------------
def test_gaussian_noise_adds_zero_mean_noise_of_stddev_in_training_only():
    layer = built(GaussianNoise(0.5, seed=1), (100, 100))
    x = normal((2, 100, 100))
    assert layer.forward(x, False) is x
    noise = layer.forward(x, True) - x
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    dy = normal(x.shape, 1)
    np.testing.assert_array_equal(layer.backward(dy.copy(), True), dy)  # additive noise: d y / d x = 1
    assert not np.array_equal(layer.forward(x, True) - x, noise)  # each step draws afresh


def test_gaussian_noise_with_zero_stddev_is_the_identity():
    x = normal((3, 4))
    assert built(GaussianNoise(0.0), (4,)).forward(x, True) is x


# ---- GaussianDropout ------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_multiplies_by_one_centred_noise(rate):
    layer = built(GaussianDropout(rate, seed=2), (100, 100))
    x = np.random.default_rng(3).uniform(0.5, 1.5, (2, 100, 100)).astype(np.float32)
    assert layer.forward(x, False) is x
    noise = layer.forward(x, True) / x
    assert abs(noise.mean() - 1.0) < 0.02
    assert abs(noise.std() - np.sqrt(rate / (1 - rate))) < 0.02
    dy = normal(x.shape, 4)
    np.testing.assert_allclose(layer.backward(dy.copy(), True), dy * noise, rtol=1e-5, atol=1e-6)


def test_gaussian_dropout_with_rate_zero_is_the_identity():
    x = normal((3, 4))
    assert built(GaussianDropout(0.0), (4,)).forward(x, True) is x


# ---- AlphaDropout ---------------------------------------------------------------------------------
def alpha_reference(x, kept, rate):
    """Keras 2.2.4's AlphaDropout in float64, for a given keep mask."""
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    return a * (x * kept + ALPHA_P * (1 - kept)) + b, a


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_alpha_dropout_follows_keras_224_and_keeps_mean_and_variance(rate):
    layer = built(AlphaDropout(rate, seed=5), (200, 100))
    x = normal((4, 200, 100), 6)
    assert layer.forward(x, False) is x
    y = layer.forward(x, True).copy()
    dropped_value = alpha_reference(np.zeros(1), np.zeros(1), rate)[0][0]
    kept = ~np.isclose(y, dropped_value, rtol=0, atol=1e-6)
    want, a = alpha_reference(x.astype(np.float64), kept, rate)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
    assert abs((1 - kept.mean()) - rate) < 0.01
    # the point of alpha dropout: a standard normal input stays standard normal
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    dy = normal(x.shape, 7)
    np.testing.assert_allclose(layer.backward(dy.copy(), True), a * kept * dy, rtol=1e-5, atol=1e-6)


def test_alpha_dropout_noise_shape_broadcasts_the_draw():
    layer = built(AlphaDropout(0.5, noise_shape=(None, 1, 6), seed=8), (5, 6))
    x = np.ones((40, 5, 6), np.float32)
    y = layer.forward(x, True)
    assert np.array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))  # one draw per (sample, feature)
    assert len(np.unique(y)) == 2
    with pytest.raises(ValueError, match=r"AlphaDropout '.*': noise_shape \(None, 1, 6\) does not broadcast .*"
                                         r"\(40, 5, 7\)"):
        built(AlphaDropout(0.5, noise_shape=(None, 1, 6)), (5, 7)).forward(np.ones((40, 5, 7), np.float32), True)


# ---- all three: seeds, shared calls, models, masks -----------------------------------------------------
LAYERS = [lambda seed=None: GaussianNoise(0.3, seed=seed), lambda seed=None: GaussianDropout(0.3, seed=seed),
          lambda seed=None: AlphaDropout(0.3, seed=seed)]


@pytest.mark.parametrize("make", LAYERS)
def test_seeds_reproduce_and_shared_calls_draw_their_own_noise(make):
    x = normal((4, 8), 9)
    a, b = built(make(seed=3), (8,)), built(make(seed=3), (8,))
    np.testing.assert_array_equal(a.forward(x, True), b.forward(x, True))
    keras.utils.set_random_seed(12)
    c = built(make(), (8,))
    keras.utils.set_random_seed(12)
    d = built(make(), (8,))
    np.testing.assert_array_equal(c.forward(x, True), d.forward(x, True))
    # a layer called twice in a model: each call its own stream
    inp = Input(shape=(8,))
    layer = make()
    model = Model(inp, [layer(inp), layer(inp)])
    first, second = model._steps[0].runner.forward(x, True).copy(), model._steps[1].runner.forward(x, True)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("make", LAYERS)
def test_trains_in_a_model_and_predicts_without_noise(make):
    model = Sequential([Dense(4, input_shape=(3,)), make(), Dense(1)])
    model.compile(keras.optimizers.SGD(lr=0.05), "mse")
    x, y = normal((16, 3), 10), normal((16, 1), 11)
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    assert np.all(np.isfinite(losses))
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model.predict(x), (x @ k1 + b1) @ k2 + b2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make", LAYERS)
def test_masks_pass_through(make):
    mask = np.array([[True, False, True]])
    assert make().compute_mask(np.zeros((1, 3, 2)), mask) is mask


# ---- configs ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [lambda: GaussianNoise(0.2), lambda: GaussianNoise(0.2, seed=3),
                                   lambda: GaussianDropout(0.4), lambda: AlphaDropout(0.25),
                                   lambda: AlphaDropout(0.25, noise_shape=(None, 1, 4), seed=9)])
def test_config_and_save_load_round_trip(layer, tmp_path):
    check_round_trip(layer(), (3, 4), tmp_path)


def test_configs_hold_keras_224_keys_and_accept_tf_keras_ones():
    def keys(layer):
        return set(layer.get_config()) - {"name", "trainable", "dtype"}

    assert keys(GaussianNoise(0.1)) == {"stddev"}
    assert keys(GaussianDropout(0.1)) == {"rate"}
    assert keys(AlphaDropout(0.1)) == {"rate"}
    assert keys(AlphaDropout(0.1, seed=1)) == {"rate", "seed"}
    for cls, arg in ((GaussianNoise, "stddev"), (GaussianDropout, "rate"), (AlphaDropout, "rate")):
        layer = cls.from_config({"name": "n", "trainable": True, "dtype": "float32", arg: 0.2, "seed": None})
        assert getattr(layer, arg) == 0.2 and layer.seed is None


# ---- bad arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: GaussianNoise(-0.1), r"GaussianNoise '.*': stddev must be a non-negative number, got -0.1"),
    (lambda: GaussianNoise("a"), r"GaussianNoise '.*': stddev"),
    (lambda: GaussianDropout(1.0), r"GaussianDropout '.*': rate must be a number in \[0, 1\), got 1.0"),
    (lambda: GaussianDropout(-0.2), r"GaussianDropout '.*': rate"),
    (lambda: AlphaDropout(1.2), r"AlphaDropout '.*': rate must be a number in \[0, 1\)"),
    (lambda: AlphaDropout(0.2, noise_shape=(None, 0)), r"AlphaDropout '.*': noise_shape must hold positive"),
    (lambda: AlphaDropout(0.2, noise_shape=3), r"AlphaDropout '.*': noise_shape must be a tuple"),
])
def test_bad_arguments_raise_valueerror(make, match):
    with pytest.raises(ValueError, match=match):
        make()
