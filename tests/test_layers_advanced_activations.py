"""Advanced activations: LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU. Forward
against float64 NumPy references (Keras 2.2.4's K.relu / K.elu / softmax formulas),
backward (and PReLU's alpha gradient) against central finite differences, parity with
tf-keras (tests/fixtures/make_layer_fixtures_basic.py: predict, training steps, a
tf-keras-saved .h5), config and save/load round trips, masks, and bad arguments."""
import numpy as np
import pytest

import seqnet as keras
from basic_layer_fixtures import (check_gradient, check_predict_fixture, check_round_trip, check_tf_keras_h5,
                                  check_train_fixture, numeric_gradient, predict_cases, train_cases)
from seqnet.layers import ELU, Dense, Input, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from seqnet.models import Sequential

ADVANCED = ("LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU")


def normal(shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).standard_normal(shape)


# ---- tf-keras parity ----------------------------------------------------------------------------
@pytest.mark.parametrize("case", predict_cases(ADVANCED))
def test_predict_matches_tf_keras(case):
    check_predict_fixture(case)


@pytest.mark.parametrize("case", train_cases(ADVANCED))
def test_training_steps_match_tf_keras(case):
    check_train_fixture(case)


def test_loads_a_tf_keras_h5_with_the_advanced_activations():
    model = check_tf_keras_h5("advanced")
    kinds = {type(layer).__name__: layer for layer in model.layers}
    assert kinds["LeakyReLU"].alpha == pytest.approx(0.2)
    assert kinds["PReLU"].shared_axes == [1] and kinds["PReLU"].get_weights()[0].shape == (1, 6)
    assert kinds["Softmax"].axis == 1
    relu = kinds["ReLU"]
    assert (relu.max_value, relu.negative_slope, relu.threshold) == pytest.approx((1.0, 0.1, 0.2))


# ---- forward / backward against float64 references ----------------------------------------------------
def keras_relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Keras 2.2.4's K.relu (TensorFlow backend) in float64."""
    if alpha != 0 and max_value is None and threshold == 0:
        return np.where(x > 0, x, alpha * x)
    negative = np.maximum(threshold - x, 0.0)
    y = x * (x > threshold)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    return y - alpha * negative


@pytest.mark.parametrize("alpha", [0.3, 0.0, 1.5, -0.2])
def test_leaky_relu(alpha):
    check_gradient(LeakyReLU(alpha), normal((3, 4, 5)), lambda x: np.where(x > 0, x, alpha * x))


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu(alpha):
    check_gradient(ELU(alpha), normal((3, 7), 1, 2.0), lambda x: np.where(x > 0, x, alpha * np.expm1(x)))


@pytest.mark.parametrize("theta", [1.0, 0.0, 0.4])
def test_thresholded_relu(theta):
    check_gradient(ThresholdedReLU(theta), normal((3, 7), 2, 2.0), lambda x: x * (x > theta))


@pytest.mark.parametrize("kwargs", [
    {}, {"max_value": 1.0}, {"max_value": 6.0}, {"negative_slope": 0.2}, {"threshold": 0.5},
    {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}, {"negative_slope": 0.3, "threshold": -0.5},
    {"max_value": 1.0, "threshold": -0.5},  # 2.2.4's cap clips to [0, max_value]: (-0.5, 0) gives 0
])
def test_relu(kwargs):
    reference = {"alpha": kwargs.get("negative_slope", 0.0), "max_value": kwargs.get("max_value"),
                 "threshold": kwargs.get("threshold", 0.0)}
    check_gradient(ReLU(**kwargs), normal((4, 6), 3, 3.0), lambda x: keras_relu(x, **reference))


def softmax_reference(x, axes):
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    return e / e.sum(axis=axes, keepdims=True)


@pytest.mark.parametrize("axis, shape, axes", [(-1, (3, 5), (1,)), (-1, (2, 3, 4), (2,)), (1, (2, 3, 4), (1,)),
                                               (2, (2, 3, 4), (2,)), ((1, 2), (2, 3, 4), (1, 2)),
                                               (-2, (2, 3, 4, 2), (2,))])
def test_softmax(axis, shape, axes):
    check_gradient(Softmax(axis), normal(shape, 4, 2.0), lambda x: softmax_reference(x, axes))


def test_softmax_over_the_last_axis_exposes_its_logits_for_a_fused_loss():
    assert Softmax().output_activation == "softmax"
    assert Softmax(axis=1).output_activation is None
    layer = Softmax(axis=2)
    layer._build_for((None, 3, 4))  # axis 2 is the last one here
    assert layer.output_activation == "softmax"
    model = Sequential([Dense(4, input_shape=(3,)), Softmax()])
    model.compile(keras.optimizers.SGD(lr=0.1), "categorical_crossentropy")
    x = normal((5, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]]
    kernel, bias = [w.astype(np.float64) for w in model.get_weights()]
    p = softmax_reference(x @ kernel + bias, (1,))
    assert model.train_on_batch(x, y) == pytest.approx(-np.mean(np.log((p * y).sum(1))), rel=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], bias - 0.1 * (p - y).mean(0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shared_axes, shape, alpha_shape", [(None, (3, 4), (3, 4)), ([1, 2], (3, 4, 2), (1, 1, 2)),
                                                             (1, (3, 4), (1, 4)), ((2,), (3, 4, 2), (3, 1, 2))])
def test_prelu_weight_layout_and_gradients(shared_axes, shape, alpha_shape):
    layer = PReLU(alpha_initializer="glorot_uniform", shared_axes=shared_axes)
    layer._build_for((None,) + shape)
    (alpha,) = layer.get_weights()
    assert alpha.shape == alpha_shape and layer.weights[0].name.endswith("/alpha:0")
    x = normal((2,) + shape, 5)
    a64 = alpha.astype(np.float64)
    _, _, dy = check_gradient(layer, x, lambda v: np.maximum(v, 0) - a64 * np.maximum(-v, 0))
    numeric = numeric_gradient(lambda a: np.maximum(x, 0) - a * np.maximum(-x, 0), a64, dy)
    np.testing.assert_allclose(layer.alpha.grad, numeric, rtol=1e-4, atol=1e-5)


def test_prelu_default_is_a_relu_and_learns_a_slope():
    model = Sequential([PReLU(input_shape=(3,))])
    model.compile(keras.optimizers.SGD(lr=0.5), "mse")
    x = -np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(model.predict(x), np.zeros((4, 3)))
    model.train_on_batch(x, -np.ones((4, 3), np.float32))
    assert np.all(model.get_weights()[0] > 0)


# ---- masks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU])
def test_masks_pass_through(layer):
    mask = np.array([[True, False]])
    assert layer().supports_masking and layer().compute_mask(np.zeros((1, 2, 3)), mask) is mask


# ---- configs, save / load -----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    lambda: LeakyReLU(0.1), lambda: ELU(0.5), lambda: ThresholdedReLU(0.3), lambda: Softmax(axis=1),
    lambda: Softmax(axis=[1, 2]), lambda: ReLU(max_value=2.0, negative_slope=0.1, threshold=0.3),
    lambda: PReLU(alpha_initializer="ones", alpha_regularizer="l2", alpha_constraint="non_neg", shared_axes=[1]),
])
def test_config_and_save_load_round_trip(layer, tmp_path):
    check_round_trip(layer(), (3, 4), tmp_path)


def test_configs_hold_keras_keys():
    def keys(layer):
        return {k: v for k, v in layer.get_config().items() if k not in ("name", "trainable", "dtype")}

    assert keys(LeakyReLU()) == {"alpha": 0.3}
    assert keys(ELU()) == {"alpha": 1.0}
    assert keys(ThresholdedReLU()) == {"theta": 1.0}
    assert keys(Softmax()) == {"axis": -1}
    assert keys(ReLU()) == {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}
    assert keys(PReLU(shared_axes=2)) == {"alpha_initializer": {"class_name": "Zeros", "config": {}},
                                          "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": [2]}


# ---- bad arguments ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: LeakyReLU(None), r"LeakyReLU '.*': alpha must be a finite number, got None"),
    (lambda: ELU("1"), r"ELU '.*': alpha must be a finite number"),
    (lambda: ThresholdedReLU(-1.0), r"ThresholdedReLU '.*': theta must be a non-negative number, got -1.0"),
    (lambda: Softmax(axis="last"), r"Softmax '.*': axis must be an integer"),
    (lambda: ReLU(max_value=-1.0), r"ReLU '.*': max_value must be None or a non-negative number, got -1.0"),
    (lambda: ReLU(negative_slope=-0.1), r"ReLU '.*': negative_slope must be a non-negative number"),
    (lambda: ReLU(threshold=None), r"ReLU '.*': threshold must be a number"),
    (lambda: PReLU(shared_axes=0), r"PReLU '.*': shared_axes must be positive integers"),
])
def test_bad_arguments_raise_valueerror(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layer, shape, match", [
    (lambda: Softmax(axis=3), (4, 5), r"Softmax '.*': axis 3 is out of range for an input of shape \(None, 4, 5\)"),
    (lambda: Softmax(axis=(1, -2)), (4, 5), r"Softmax '.*': axis \[1, -2\] names an axis twice"),
    (lambda: PReLU(shared_axes=3), (4, 5), r"PReLU '.*': shared_axes \[3\] do not exist in inputs of shape "
                                           r"\(None, 4, 5\)"),
    (lambda: PReLU(shared_axes=2), (None, 5), r"PReLU '.*': every axis that is not shared must be defined"),
])
def test_bad_input_shapes_raise_valueerror(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer()(Input(shape=shape))


def test_softmax_refuses_rank_one_and_prelu_a_wrong_input():
    with pytest.raises(ValueError, match=r"Softmax '.*': cannot apply softmax to an input of rank 1"):
        Softmax().compute_output_shape((None,))
    layer = PReLU()
    layer._build_for((None, 3))
    with pytest.raises(ValueError, match=r"PReLU '.*': alpha has shape \(3,\).*input has shape \(2, 4\)"):
        layer.forward(np.zeros((2, 4), np.float32), True)
