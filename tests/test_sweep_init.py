"""Initializers, regularizers and constraints against Keras 2.2.4 / tf-keras: training steps
with penalties and constraints against tf-keras fixtures (tests/fixtures/
make_sweep_init_fixtures.py), the statistics of the random initializers over 10^6 draws
(6-sigma bounds: they cannot flake, and the draws are seeded), fans as Keras 2.2.4, the
Keras 2.2.4 and tf-keras names, and constraints over a list of axes."""
import json
import math
import os

import numpy as np
import pytest

from basic_layer_fixtures import set_packed_weights
from seqnet import constraints, initializers, layers, optimizers, regularizers
from seqnet.models import Sequential

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
N = 10 ** 6
TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated at +-2


def fixture():
    npz = np.load(os.path.join(FIXTURES, "sweep_init.npz"))
    data = {k: npz[k] for k in npz.files}
    data["config"] = json.loads(str(npz["config"]))
    return data


def build(spec):
    built = []
    for i, (cls, kwargs) in enumerate(spec["layers"]):
        kwargs = dict(kwargs)
        if i == 0:
            kwargs["input_shape"] = tuple(spec["input_shape"])
        built.append(getattr(layers, cls)(**kwargs))
    model = Sequential(built)
    for i in spec["frozen"]:
        model.layers[i].trainable = False
    return model


# ---- training steps against tf-keras ------------------------------------------------------
@pytest.mark.parametrize("case", ["frozen", "conv_axes", "unit_axes"])
def test_training_steps_with_penalties_and_constraints_match_tf_keras(case):
    d = fixture()
    model = build(d["config"]["cases"][case])
    set_packed_weights(model, d[f"{case}_w"])
    model.compile(optimizers.SGD(lr=0.1), "mse")
    losses = [float(model.train_on_batch(x, y)) for x, y in zip(d[f"{case}_x"], d[f"{case}_y"])]
    np.testing.assert_allclose(losses, d[f"{case}_loss"], rtol=1e-4, atol=1e-6)
    after = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(after, d[f"{case}_after_w"], rtol=1e-4, atol=1e-6)


def test_a_frozen_layers_penalties_are_in_the_loss_and_its_weights_stay():
    rng = np.random.default_rng(0)
    model = Sequential([layers.Dense(3, input_shape=(4,), kernel_regularizer=regularizers.l2(0.5),
                                     bias_regularizer=regularizers.l1(0.25)), layers.Dense(2)])
    model.layers[0].trainable = False
    model.compile(optimizers.SGD(lr=0.1), "mse")
    x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 2)).astype(np.float32)
    model.layers[0].set_weights([rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (3,))])
    kernel, bias = (w.astype(np.float64) for w in model.layers[0].get_weights())
    penalty = 0.5 * np.sum(kernel ** 2) + 0.25 * np.sum(np.abs(bias))
    mse = np.mean((model.predict(x).astype(np.float64) - y) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + penalty, rel=1e-5)
    assert float(model.train_on_batch(x, y)) == pytest.approx(mse + penalty, rel=1e-5)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], kernel.astype(np.float32))


# ---- regularizer names ----------------------------------------------------------------------
def test_tf_keras_serialized_regularizers_deserialize_with_their_penalty():
    d = fixture()
    for entry in d["config"]["serialized"]:
        reg = regularizers.deserialize(entry["config"])
        assert reg(d["reg_x"]) == pytest.approx(entry["penalty"], rel=1e-5), entry["config"]
        assert regularizers.get(entry["config"])(d["reg_x"]) == pytest.approx(entry["penalty"], rel=1e-5)


def test_l1_and_l2_take_tf_keras_keywords_and_names():
    assert regularizers.l1(l1=0.3).get_config() == {"l1": 0.3, "l2": 0.0}
    assert regularizers.l2(l2=0.2).get_config() == {"l1": 0.0, "l2": 0.2}
    assert regularizers.L1(0.4).get_config() == {"l1": 0.4, "l2": 0.0}
    assert regularizers.L2().get_config() == {"l1": 0.0, "l2": 0.01}
    assert regularizers.get("L2").get_config() == {"l1": 0.0, "l2": 0.01}
    assert regularizers.serialize(regularizers.L1(0.4))["class_name"] == "L1L2"  # 2.2.4's spelling
    with pytest.raises(TypeError, match="l1: unexpected keyword argument.*'l2'"):
        regularizers.l1(l2=0.1)


# ---- initializer names and fans --------------------------------------------------------------
def test_keras_2_2_4_aliases_one_and_zero():
    assert isinstance(initializers.get("one"), initializers.Ones)
    assert isinstance(initializers.get("zero"), initializers.Zeros)
    assert initializers.one is initializers.Ones and initializers.zero is initializers.Zeros
    model = Sequential([layers.Dense(2, kernel_initializer="one", bias_initializer="zero", input_shape=(3,))])
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((3, 2)))


@pytest.mark.parametrize("shape, fans", [((7, 5), (7, 5)), ((3, 4, 5), (12, 15)), ((3, 3, 4, 8), (36, 72)),
                                         ((2, 3, 3, 4, 8), (72, 144)), ((10,), (math.sqrt(10),) * 2),
                                         ((), (1.0, 1.0)), ((2, 2, 2, 2, 2, 3), (math.sqrt(96),) * 2)])
def test_fans_as_keras_2_2_4(shape, fans):
    assert initializers.compute_fans(shape) == pytest.approx(fans)


def test_a_1d_shape_is_scaled_by_the_unrounded_square_root_of_its_size():
    # fan sqrt(1000) = 31.62: limit sqrt(3 / 31.62) = 0.3080, where a rounded fan (31) gives 0.3111.
    limit = math.sqrt(3.0 / math.sqrt(1000))
    values = np.abs(initializers.lecun_uniform(seed=5)((1000,)))
    assert limit * 0.99 < values.max() <= limit * (1 + 1e-6)


# ---- statistics over 10^6 draws ---------------------------------------------------------------
def moments_within(values, mean, std, low=-np.inf, high=np.inf):
    """Sample mean and std within 6 standard errors (std / sqrt(n), and for the std itself
    a generous 6 * std * sqrt(2 / n)), and every value within [low, high]."""
    values = values.astype(np.float64).ravel()
    n = values.size
    assert abs(values.mean() - mean) < 6 * std / math.sqrt(n), (values.mean(), mean)
    assert abs(values.std() - std) < 6 * std * math.sqrt(2.0 / n), (values.std(), std)
    assert values.min() >= low - 1e-6 * abs(low) and values.max() <= high + 1e-6 * abs(high)


def test_random_normal_uniform_and_truncated_normal_statistics():
    moments_within(initializers.RandomNormal(1.0, 2.0, seed=1)((N,)), 1.0, 2.0)
    moments_within(initializers.RandomUniform(-1.0, 3.0, seed=2)((N,)), 1.0, 4.0 / math.sqrt(12), -1.0, 3.0)
    # Keras 2.2.4 / tf-keras TruncatedNormal: the given stddev is the untruncated one, cut at 2 of it.
    moments_within(initializers.TruncatedNormal(1.0, 2.0, seed=3)((N,)), 1.0, 2.0 * TRUNCATED_STD, -3.0, 5.0)


@pytest.mark.parametrize("make, shape, variance", [
    (lambda: initializers.he_normal(seed=1), (5, 5, 200, 200), 2.0 / 5000),
    (lambda: initializers.glorot_normal(seed=2), (5, 5, 100, 400), 1.0 / 6250),
    (lambda: initializers.lecun_normal(seed=3), (1000, 1000), 1.0 / 1000),
    (lambda: initializers.VarianceScaling(3.0, "fan_out", "truncated_normal", seed=4), (4, 250, 1000), 3.0 / 4000),
])
def test_variance_scaling_normal_is_truncated_with_the_corrected_stddev(make, shape, variance):
    # Keras 2.2.4 'normal': a normal cut at 2 stddev whose stddev is divided by 0.8796, so that
    # the truncated draws have exactly the variance scale / fan.
    std = math.sqrt(variance)
    moments_within(make()(shape), 0.0, std, -2 * std / TRUNCATED_STD, 2 * std / TRUNCATED_STD)


@pytest.mark.parametrize("make, shape, variance", [
    (lambda: initializers.he_uniform(seed=1), (5, 5, 200, 200), 2.0 / 5000),
    (lambda: initializers.glorot_uniform(seed=2), (5, 5, 100, 400), 1.0 / 6250),
    (lambda: initializers.lecun_uniform(seed=3), (3, 500, 666), 1.0 / 1500),
    (lambda: initializers.VarianceScaling(0.5, "fan_avg", "uniform", seed=4), (1000, 1000), 0.5 / 1000),
])
def test_variance_scaling_uniform_limits_use_the_receptive_field(make, shape, variance):
    limit = math.sqrt(3.0 * variance)
    moments_within(make()(shape), 0.0, math.sqrt(variance), -limit, limit)


def test_untruncated_normal_statistics():
    values = initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=7)((1000, 1000))
    moments_within(values, 0.0, math.sqrt(2.0 / 1000))
    assert np.abs(values).max() > 3 * math.sqrt(2.0 / 1000)  # not truncated


def test_seeds_make_draws_reproducible():
    for make in (lambda s: initializers.RandomUniform(seed=s), lambda s: initializers.TruncatedNormal(seed=s),
                 lambda s: initializers.glorot_normal(seed=s), lambda s: initializers.Orthogonal(seed=s)):
        np.testing.assert_array_equal(make(11)((6, 4)), make(11)((6, 4)))
        assert not np.array_equal(make(11)((6, 4)), make(12)((6, 4)))
    np.random.seed(3)
    first = initializers.glorot_uniform()((6, 4))
    np.random.seed(3)
    np.testing.assert_array_equal(initializers.glorot_uniform()((6, 4)), first)


def test_bad_variance_scaling_arguments_name_the_argument_and_the_choices():
    with pytest.raises(ValueError, match="distribution must be 'normal', 'uniform'.*got 'gaussian'"):
        initializers.VarianceScaling(distribution="gaussian")
    with pytest.raises(ValueError, match="mode must be.*got 'fan'"):
        initializers.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="scale must be positive, got -1"):
        initializers.VarianceScaling(scale=-1)


# ---- constraints over a list of axes ---------------------------------------------------------
def norms(w, axis):
    return np.sqrt(np.sum(np.square(w.astype(np.float64)), axis=axis, keepdims=True))


@pytest.mark.parametrize("axis", [[0, 1, 2], (0, 1, 2), [0, 1], 3])
def test_constraints_take_a_list_of_axes_as_keras_documents(axis):
    w = np.random.default_rng(0).standard_normal((3, 3, 2, 4)).astype(np.float32)
    ax = tuple(axis) if isinstance(axis, list) else axis
    n = norms(w, ax)
    np.testing.assert_allclose(constraints.MaxNorm(1.5, axis=axis)(w), w * np.minimum(n, 1.5) / (1e-7 + n),
                               rtol=1e-6)
    np.testing.assert_allclose(constraints.UnitNorm(axis=axis)(w), w / (1e-7 + n), rtol=1e-6)
    want = w * (0.3 * np.clip(n, 0.5, 2.0) + 0.7 * n) / (1e-7 + n)
    np.testing.assert_allclose(constraints.MinMaxNorm(0.5, 2.0, rate=0.3, axis=axis)(w), want, rtol=1e-6)
    restored = constraints.deserialize(constraints.serialize(constraints.MaxNorm(1.5, axis=axis)))
    np.testing.assert_allclose(restored(w), constraints.MaxNorm(1.5, axis=axis)(w))
