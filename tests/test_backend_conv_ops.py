"""The backend's convolution, pooling and resizing functions and the small Keras 2 helpers
(cast_to_floatx, random_bernoulli, learning_phase_scope, name_scope, map_fn, foldl, foldr).

References: tf_keras.backend's outputs (tests/fixtures/backend_conv.npz, written by
tests/fixtures/make_backend_conv_fixtures.py) for values, central finite differences in
float64 for the tape gradients (the float32 engine path's gradients against the float64
NumPy path's), and the built-in Conv2D + MaxPooling2D for a custom layer built on K.conv2d +
K.pool2d."""
import json
import os

import numpy as np
import pytest

import seqnet
from seqnet import backend as K
from seqnet import layers as L
from seqnet.backend.tensor import Tensor, backpropagate
from seqnet.engine.base_layer import Layer
from seqnet.models import Model, Sequential

FIXTURE = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "backend_conv.npz"))
CASES = json.loads(str(FIXTURE["cases"]))
RNG = np.random.RandomState(7)


def _inputs(case):
    return [FIXTURE[case + "/x"]] + ([FIXTURE[case + "/kernel"]] if case + "/kernel" in FIXTURE else [])


@pytest.mark.parametrize("case,function,kwargs", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_tf_keras(case, function, kwargs, dtype):
    """float32 runs the engine kernels where they fit (conv1d/2d, pool2d), float64 the NumPy path."""
    y = getattr(K, function)(*[a.astype(dtype) for a in _inputs(case)], **kwargs)
    expected = FIXTURE[case + "/y"]
    assert y.shape == expected.shape and y.dtype == dtype
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=2e-6)


def _tape_grads(function, arrays, kwargs, cotangent=None):
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = getattr(K, function)(*leaves, **kwargs)
    assert isinstance(out, Tensor)
    if cotangent is None:
        cotangent = RNG.uniform(0.5, 1.5, size=out.shape)
    grads = backpropagate(out, cotangent.astype(out.dtype))
    return [grads[id(leaf)] for leaf in leaves], cotangent


def _finite_difference(function, arrays, kwargs, cotangent, eps=1e-6):
    grads = []
    for i, a in enumerate(arrays):
        grad = np.zeros_like(a)
        for index in np.ndindex(*a.shape):
            shifted = [b.copy() for b in arrays]
            shifted[i][index] += eps
            up = np.sum(getattr(K, function)(*shifted, **kwargs) * cotangent)
            shifted[i][index] -= 2 * eps
            down = np.sum(getattr(K, function)(*shifted, **kwargs) * cotangent)
            grad[index] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


# Max pooling's finite difference is exact away from ties, which random inputs do not have.
@pytest.mark.parametrize("case,function,kwargs", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_finite_differences(case, function, kwargs):
    arrays = [a.astype(np.float64) for a in _inputs(case)]
    grads, cotangent = _tape_grads(function, arrays, kwargs)
    for grad, expected in zip(grads, _finite_difference(function, arrays, kwargs, cotangent)):
        np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)


ENGINE_CASES = [c for c in CASES if c[1] in ("conv1d", "conv2d", "pool2d")]


@pytest.mark.parametrize("case,function,kwargs", ENGINE_CASES, ids=[c[0] for c in ENGINE_CASES])
def test_engine_path_gradients_match_float64(case, function, kwargs):
    grads32, cotangent = _tape_grads(function, _inputs(case), kwargs)
    grads64, _ = _tape_grads(function, [a.astype(np.float64) for a in _inputs(case)], kwargs, cotangent)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5)


def test_foldl_foldr_map_fn_values_and_gradients():
    x = RNG.uniform(-1, 1, size=(4, 3))
    np.testing.assert_allclose(K.map_fn(lambda row: K.sum(K.square(row)), x), (x ** 2).sum(axis=1))
    np.testing.assert_allclose(K.foldl(lambda acc, row: acc * 2 + row, x), ((x[0] * 2 + x[1]) * 2 + x[2]) * 2 + x[3])
    np.testing.assert_allclose(K.foldr(lambda acc, row: acc * 2 + row, x, initializer=np.zeros(3)),
                               ((x[3] * 2 + x[2]) * 2 + x[1]) * 2 + x[0])
    pairs = K.map_fn(lambda ab: ab[0] * ab[1], (x, x + 1))
    np.testing.assert_allclose(pairs, x * (x + 1))
    assert K.map_fn(lambda row: K.sum(row), x, dtype="float32").dtype == np.float32

    def loss(_, pred):
        mapped = K.map_fn(lambda row: K.sum(K.square(row)), pred)
        return K.foldl(lambda acc, row: acc * 0.5 + K.sin(row), pred) * K.sum(mapped)

    value, pullback = K.vjp(loss, np.zeros_like(x), x)
    cot = RNG.uniform(0.5, 1.5, size=value.shape)
    grad, eps, expected = pullback(cot), 1e-6, np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        expected[index] = np.sum((loss(None, up) - loss(None, down)) * cot) / (2 * eps)
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="initializer"):
        K.foldl(lambda a, b: a + b, np.zeros((0, 2)))


def test_cast_to_floatx_random_bernoulli_and_scopes():
    assert K.cast_to_floatx([1, 2]).dtype == np.float32
    t = K.cast_to_floatx(Tensor(np.arange(3.0), requires_grad=True))
    assert isinstance(t, Tensor) and t.dtype == np.float32
    draws = K.random_bernoulli((2000,), p=0.3, seed=5)
    assert draws.dtype == np.float32 and set(np.unique(draws)) <= {0.0, 1.0}
    assert abs(draws.mean() - 0.3) < 0.05
    np.testing.assert_array_equal(draws, K.random_bernoulli((2000,), p=0.3, seed=5))
    with pytest.raises(ValueError, match="p must be in"):
        K.random_bernoulli((2,), p=1.5)
    assert K.learning_phase() == 0
    with K.learning_phase_scope(1):
        assert K.learning_phase() == 1
        with K.learning_phase_scope(0):
            assert K.learning_phase() == 0
        assert K.learning_phase() == 1
    assert K.learning_phase() == 0 and not K.session.learning_phase_is_set()
    with pytest.raises(ValueError, match="0 or 1"):
        K.learning_phase_scope(2)
    with K.name_scope("block") as name:
        assert name == "block"


@pytest.mark.parametrize("call,message", [
    (lambda: K.conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 2, 1)), padding="causal"), "padding must be one of"),
    (lambda: K.conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 3, 1))), "expects 3 input channels"),
    (lambda: K.conv2d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 2, 1)), strides=(0, 1)), "strides must be"),
    (lambda: K.conv1d(np.zeros((1, 4, 2)), np.zeros((3, 2, 1)), data_format="NCW"), "data_format must be"),
    (lambda: K.conv2d(np.zeros((1, 2, 2, 2)), np.zeros((3, 3, 2, 1))), "smaller than the kernel"),
    (lambda: K.conv3d(np.zeros((1, 4, 4, 2)), np.zeros((3, 3, 3, 2, 1))), "x must have 5 dimensions"),
    (lambda: K.conv2d_transpose(np.zeros((1, 3, 3, 2)), np.zeros((3, 3, 4, 2)), (1, 9, 9, 4)),
     "output_shape"),
    (lambda: K.pool2d(np.zeros((1, 4, 4, 2)), (2, 2), pool_mode="min"), "pool_mode must be"),
    (lambda: K.pool3d(np.zeros((1, 4, 4, 4, 2)), (2, 2)), "pool_size must be"),
    (lambda: K.resize_images(np.zeros((1, 2, 2, 1)), 2, 2, "channels_last", "bicubic"), "interpolation must be"),
    (lambda: K.resize_volumes(np.zeros((1, 2, 2, 2, 1)), 0, 1, 1, "channels_last"), "depth_factor"),
])
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


class ConvPool(Layer):
    """A Keras-style custom layer: relu(conv2d(x, kernel) + bias), max-pooled 2x2."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(3, 3, input_shape[-1], self.filters),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
        super().build(input_shape)

    def call(self, x):
        y = K.relu(K.bias_add(K.conv2d(x, self.kernel, padding="same"), self.bias))
        return K.pool2d(y, (2, 2), strides=(2, 2), pool_mode="max")


def test_custom_layer_trains_as_builtin_conv_and_pool():
    x = RNG.uniform(-1, 1, size=(4, 6, 6, 2)).astype(np.float32)
    y = RNG.uniform(-1, 1, size=(4, 3)).astype(np.float32)
    seqnet.utils.set_random_seed(3)
    custom = Sequential([ConvPool(3, input_shape=(6, 6, 2)), L.Flatten(), L.Dense(3)])
    builtin = Sequential([L.Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
                          L.MaxPooling2D(), L.Flatten(), L.Dense(3)])
    assert custom.layers[0].output_shape == (None, 3, 3, 3)
    weights = [w + RNG.uniform(-0.1, 0.1, size=w.shape).astype(np.float32) for w in builtin.get_weights()]
    custom.set_weights(weights)
    builtin.set_weights(weights)
    np.testing.assert_allclose(custom.predict(x), builtin.predict(x), rtol=1e-5, atol=1e-6)
    for model in (custom, builtin):
        model.compile(optimizer=seqnet.optimizers.SGD(lr=0.1), loss="mse")
        model.train_on_batch(x, y)
    for a, b, start in zip(custom.get_weights(), builtin.get_weights(), weights):
        assert not np.allclose(a, start)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_resize_images_on_a_model_tensor():
    inp = L.Input((3, 4, 2))
    out = K.resize_images(L.Dense(2)(inp), 2, 2, "channels_last", interpolation="bilinear")
    model = Model(inp, out)
    assert model.output_shape == (None, 6, 8, 2)
    x = RNG.uniform(-1, 1, size=(2, 3, 4, 2)).astype(np.float32)
    kernel, bias = model.layers[1].get_weights()
    hidden = x @ kernel + bias
    np.testing.assert_allclose(model.predict(x),
                               K.resize_images(hidden, 2, 2, "channels_last", "bilinear"), rtol=1e-5, atol=1e-6)
