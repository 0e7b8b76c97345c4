"""seqnet.backend: op values against NumPy float64 references, tape gradients
against central finite differences, and the Keras formulas and conventions
(cross-entropy clipping, TF's gradients at kinks, get_uid, get/set_value)."""
import numpy as np
import pytest

import seqnet.backend as K
from seqnet.backend import Tensor, Variable, vjp

RNG = np.random.default_rng(1234)


def numeric_grad(fn, y_true, y_pred, cotangent, h=1e-6):
    """d sum(fn(y_true, y_pred) * cotangent) / d y_pred by central differences,
    evaluating fn on plain arrays (the tape's independent twin)."""
    grad = np.zeros_like(y_pred)
    for i in np.ndindex(y_pred.shape):
        plus, minus = y_pred.copy(), y_pred.copy()
        plus[i] += h
        minus[i] -= h
        grad[i] = (np.sum(fn(y_true, plus) * cotangent)
                   - np.sum(fn(y_true, minus) * cotangent)) / (2 * h)
    return grad


def check_grad(fn, y_pred, y_true=None, rtol=1e-6, atol=1e-7):
    """vjp's value equals the plain evaluation and its pullback equals the
    finite-difference gradient (float64 inputs, so the check is tight)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.zeros_like(y_pred) if y_true is None else y_true
    value, pullback = vjp(fn, y_true, y_pred)
    np.testing.assert_allclose(value, fn(y_true, y_pred), rtol=1e-12, atol=0)
    cotangent = RNG.uniform(0.5, 1.5, size=np.shape(value))
    grad = pullback(cotangent)
    assert grad.shape == y_pred.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, numeric_grad(fn, y_true, y_pred, cotangent),
                               rtol=rtol, atol=atol)
    return grad


def uniform(lo, hi, shape=(3, 4)):
    return RNG.uniform(lo, hi, size=shape)


def sigmoid_ref(x):
    return np.exp(-np.logaddexp(0, -x))


def softmax_ref(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Element-wise ops: value against NumPy float64, gradient against differences

# (name, backend function of y_pred, float64 reference, input domain); the
# domains keep away from kinks (|x| = 0, hard_sigmoid's +-2.5, relu's 0).
UNARY = [
    ("square", K.square, np.square, (-2, 2)),
    ("sqrt", K.sqrt, np.sqrt, (0.1, 3)),
    ("abs", K.abs, np.abs, (0.1, 2)),
    ("abs_negative", K.abs, np.abs, (-2, -0.1)),
    ("exp", K.exp, np.exp, (-2, 2)),
    ("log", K.log, np.log, (0.1, 3)),
    ("sin", K.sin, np.sin, (-2, 2)),
    ("cos", K.cos, np.cos, (-2, 2)),
    ("sigmoid", K.sigmoid, sigmoid_ref, (-4, 4)),
    ("hard_sigmoid", K.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1), (-2.4, 2.4)),
    ("hard_sigmoid_saturated", K.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1), (2.6, 4)),
    ("tanh", K.tanh, np.tanh, (-2, 2)),
    ("softplus", K.softplus, lambda x: np.log(1 + np.exp(x)), (-3, 3)),
    ("softsign", K.softsign, lambda x: x / (1 + np.abs(x)), (-3, 3)),
    ("elu", K.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1), (-2, 2)),
    ("elu_alpha", lambda x: K.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)), (-2, 2)),
    ("relu", K.relu, lambda x: np.maximum(x, 0), (-2, 2)),
    ("relu_leaky", lambda x: K.relu(x, alpha=0.1), lambda x: np.where(x > 0, x, 0.1 * x), (-2, 2)),
    ("relu_max6", lambda x: K.relu(x, max_value=6), lambda x: np.clip(x, 0, 6), (-3, 9)),
    ("relu_max1", lambda x: K.relu(x, max_value=1.0), lambda x: np.clip(x, 0, 1), (-2, 2)),
    ("relu_threshold", lambda x: K.relu(x, threshold=0.5), lambda x: np.where(x > 0.5, x, 0), (-2, 2)),
    ("relu_all", lambda x: K.relu(x, alpha=0.3, max_value=1.5, threshold=0.5),
     lambda x: np.where(x >= 1.5, 1.5, np.where(x > 0.5, x, 0.3 * (x - 0.5))), (-2, 2.5)),
    ("softmax", K.softmax, softmax_ref, (-3, 3)),
    ("softmax_axis0", lambda x: K.softmax(x, axis=0), lambda x: softmax_ref(x, axis=0), (-3, 3)),
    ("pow_int", lambda x: K.pow(x, 3), lambda x: x ** 3, (-2, 2)),
    ("pow_float", lambda x: K.pow(x, 1.5), lambda x: x ** 1.5, (0.2, 2)),
    ("clip", lambda x: K.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), (-2, 2)),
    ("clip_none", lambda x: K.clip(x, None, 0.7), lambda x: np.minimum(x, 0.7), (-2, 2)),
    ("maximum_const", lambda x: K.maximum(x, 0.3), lambda x: np.maximum(x, 0.3), (-2, 2)),
    ("minimum_const", lambda x: K.minimum(x, 0.3), lambda x: np.minimum(x, 0.3), (-2, 2)),
    ("l2_normalize", lambda x: K.l2_normalize(x, axis=-1),
     lambda x: x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True)), (-2, 2)),
    ("l2_normalize_all", K.l2_normalize, lambda x: x / np.sqrt(np.sum(x * x)), (-2, 2)),
    ("cumsum", lambda x: K.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), (-2, 2)),
    ("cumprod", K.cumprod, lambda x: np.cumprod(x, axis=0), (0.5, 2)),
    ("neg", lambda x: -x, np.negative, (-2, 2)),
    ("rsub", lambda x: 1.5 - x, lambda x: 1.5 - x, (-2, 2)),
    ("rdiv", lambda x: 1.5 / x, lambda x: 1.5 / x, (0.5, 2)),
    ("div", lambda x: x / 4, lambda x: x / 4, (-2, 2)),
    ("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, (-2, 2)),
    ("tensor_pow", lambda x: x ** x, lambda x: x ** x, (0.5, 2)),
    ("cast_float", lambda x: K.cast(x, "float64"), lambda x: x, (-2, 2)),
    ("sign_stops_gradient", lambda x: x * K.sign(x), np.abs, (0.2, 2)),
    ("round_stops_gradient", lambda x: x * K.round(x), lambda x: x * np.round(x), (0.6, 1.4)),
]


@pytest.mark.parametrize("name,op,reference,domain", UNARY, ids=[u[0] for u in UNARY])
def test_elementwise_value_and_gradient(name, op, reference, domain):
    x = uniform(*domain)
    value = op(x)
    assert not isinstance(value, Tensor)  # plain arrays in, plain arrays out
    np.testing.assert_allclose(value, reference(x), rtol=1e-12, atol=1e-15)
    check_grad(lambda t, p: op(p), x)


def test_float32_values_stay_float32():
    x = uniform(-2, 2).astype(np.float32)
    for op in (K.square, K.exp, K.sigmoid, K.tanh, K.softmax, K.relu, K.elu,
               K.hard_sigmoid, K.softplus, lambda a: K.clip(a, 0.1, 0.9),
               lambda a: K.maximum(a, 0.5), lambda a: a * 2.5 + 1):
        assert op(x).dtype == np.float32
        assert op(Tensor(x)).dtype == np.float32
    assert K.mean(x).dtype == np.float32


# ---------------------------------------------------------------------------
# Reductions

REDUCTIONS = [
    (K.sum, np.sum), (K.mean, np.mean), (K.max, np.max), (K.min, np.min),
    (K.prod, np.prod), (K.var, np.var), (K.std, np.std),
    (K.logsumexp, lambda x, axis=None, keepdims=False:
        np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
]


@pytest.mark.parametrize("op,reference", REDUCTIONS, ids=[r[1].__name__ for r in REDUCTIONS])
@pytest.mark.parametrize("axis", [None, 0, -1, 1, (0, 2), [0, 1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_value_and_gradient(op, reference, axis, keepdims):
    x = uniform(0.5, 1.5, (2, 3, 2))
    expected = reference(x, axis=tuple(axis) if isinstance(axis, list) else axis,
                         keepdims=keepdims)
    np.testing.assert_allclose(op(x, axis=axis, keepdims=keepdims), expected, rtol=1e-12)
    check_grad(lambda t, p: op(p, axis=axis, keepdims=keepdims), x)


def test_prod_gradient_with_a_zero():
    x = np.array([[2.0, 0.0, 3.0], [1.0, 4.0, 5.0]])
    grad = vjp(lambda t, p: K.prod(p, axis=-1), 0, x)[1](np.ones(2))
    np.testing.assert_allclose(grad, [[0.0, 6.0, 0.0], [20.0, 5.0, 4.0]])


def test_max_ties_share_the_gradient():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    grad = vjp(lambda t, p: K.max(p, axis=-1), 0, x)[1](np.array([1.0, 3.0]))
    np.testing.assert_allclose(grad, [[0.0, 0.5, 0.5], [1.0, 1.0, 1.0]])


def test_logsumexp_does_not_overflow():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(K.logsumexp(x, axis=1), [1000 + np.log(2), -1000 + np.log(2)])


def test_mean_of_bool_is_float():
    flags = np.array([True, False, True, True])
    assert K.mean(flags) == pytest.approx(0.75)
    assert K.mean(flags).dtype == np.float32
    assert K.mean(K.cast(K.equal([1, 2, 3], [1, 0, 3]), K.floatx())) == pytest.approx(2 / 3)
    assert K.var(flags) == pytest.approx(0.1875)


def test_logical_reductions():
    x = np.array([[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(K.any(x, axis=1), [True, False])
    np.testing.assert_array_equal(K.all(x + 1, axis=0), [True, True])
    assert not K.all(x)


# ---------------------------------------------------------------------------
# TensorFlow's gradient conventions at kinks

def grad_of(fn, x):
    return vjp(lambda t, p: fn(p), 0, np.asarray(x, dtype=np.float64))[1](1.0)


def test_clip_passes_gradient_on_its_boundaries():
    x = [-1.0, -0.5, 0.0, 0.7, 1.0]
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.clip(p, -0.5, 0.7)), x),
                                  [0, 1, 1, 1, 0])


def test_clip_with_max_below_min_uses_min():
    np.testing.assert_array_equal(K.clip(np.array([-1.0, 0.5, 2.0]), 1.0, 0.0), [1.0, 1.0, 1.0])


def test_maximum_and_minimum_give_ties_to_x():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.maximum(p, y)), x), [1, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.maximum(y, p)), x), [0, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.minimum(p, y)), x), [1, 0, 1])


def test_abs_and_relu_have_zero_gradient_at_zero():
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.abs(p)), [0.0, 2.0, -2.0]), [0, 1, -1])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.relu(p)), [0.0, 2.0, -2.0]), [0, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.relu(p, max_value=6)), [0.0, 6.0, 3.0]),
                                  [0, 0, 1])


def test_sqrt_clips_negatives_to_zero():
    np.testing.assert_array_equal(K.sqrt(np.array([-4.0, 4.0])), [0.0, 2.0])
    np.testing.assert_array_equal(grad_of(lambda p: K.sum(K.sqrt(p)), [-4.0, 4.0]), [0.0, 0.25])


def test_non_differentiable_ops_stop_gradients():
    x = uniform(-1, 1)
    for op in (lambda p: K.argmax(p), lambda p: K.cast(K.greater(p, 0), "float32"),
               lambda p: K.cast(p, "int32"), K.round, K.sign, K.stop_gradient,
               lambda p: K.equal(p, p), lambda p: p < 0, K.ones_like, K.zeros_like):
        value, pullback = vjp(lambda t, p: op(p), 0, x)
        np.testing.assert_array_equal(pullback(np.ones(np.shape(value))), np.zeros_like(x))


# ---------------------------------------------------------------------------
# Comparisons, casts, argmax

def test_comparisons_return_bool():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    for op, expected in ((K.equal, [0, 1, 0]), (K.not_equal, [1, 0, 1]),
                         (K.greater, [0, 0, 1]), (K.greater_equal, [0, 1, 1]),
                         (K.less, [1, 0, 0]), (K.less_equal, [1, 1, 0])):
        result = op(x, y)
        assert result.dtype == bool
        np.testing.assert_array_equal(result, np.array(expected, dtype=bool))
    t = Tensor(x)
    np.testing.assert_array_equal((t == y).value, [False, True, False])
    np.testing.assert_array_equal((t >= 2).value, [False, True, True])


def test_argmax_argmin_are_int64_on_the_last_axis():
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    np.testing.assert_array_equal(K.argmax(x), [1, 0])
    np.testing.assert_array_equal(K.argmin(x), [0, 1])
    np.testing.assert_array_equal(K.argmax(x, axis=0), [1, 0, 1])
    assert K.argmax(x).dtype == np.int64


def test_cast_and_round():
    x = np.array([0.5, 1.5, 2.5, -0.5, 1.7])
    np.testing.assert_array_equal(K.round(x), [0.0, 2.0, 2.0, -0.0, 2.0])  # half to even
    assert K.cast(x, "int32").dtype == np.int32
    np.testing.assert_array_equal(K.cast(x, "int32"), [0, 1, 2, 0, 1])


# ---------------------------------------------------------------------------
# Broadcasting in the forward pass is summed back in the backward pass

@pytest.mark.parametrize("pred_shape,true_shape", [
    ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (3, 4)), ((1, 4), (3, 4)), ((), (3, 4)),
    ((2, 1, 4), (3, 1)),
])
def test_broadcasting_gradients(pred_shape, true_shape):
    y_pred = uniform(0.5, 1.5, pred_shape)
    y_true = uniform(0.5, 1.5, true_shape)
    for fn in (lambda t, p: p * t, lambda t, p: t / p, lambda t, p: p - t,
               lambda t, p: K.maximum(p, t), lambda t, p: K.pow(p, t)):
        check_grad(fn, y_pred, y_true)


def test_variable_and_scalar_operands():
    y_pred = uniform(0.5, 1.5)
    weight = K.variable(np.array([1.0, 2.0, 3.0, 4.0]))
    cot = np.ones((3, 4))
    np.testing.assert_allclose(vjp(lambda t, p: p * weight + 1.0, 0, y_pred)[1](cot),
                               np.tile([1.0, 2.0, 3.0, 4.0], (3, 1)))
    check_grad(lambda t, p: weight * p / 2, y_pred)


# ---------------------------------------------------------------------------
# Shapes

SHAPE_OPS = [
    ("reshape", lambda p: K.reshape(p, (4, 3)), lambda x: x.reshape(4, 3)),
    ("flatten", K.flatten, lambda x: x.reshape(-1)),
    ("batch_flatten", K.batch_flatten, lambda x: x.reshape(2, -1)),
    ("expand_dims", K.expand_dims, lambda x: x[..., None]),
    ("expand_dims0", lambda p: K.expand_dims(p, 0), lambda x: x[None]),
    ("squeeze", lambda p: K.squeeze(K.expand_dims(p, 1), 1), lambda x: x),
    ("transpose", K.transpose, lambda x: x.transpose(2, 1, 0)),
    ("permute", lambda p: K.permute_dimensions(p, (1, 2, 0)), lambda x: x.transpose(1, 2, 0)),
    ("concatenate", lambda p: K.concatenate([p, 2 * p, p[..., :1]]),
     lambda x: np.concatenate([x, 2 * x, x[..., :1]], axis=-1)),
    ("concatenate_axis0", lambda p: K.concatenate([p, p * p], axis=0),
     lambda x: np.concatenate([x, x * x], axis=0)),
    ("stack", lambda p: K.stack([p, p * p], axis=1), lambda x: np.stack([x, x * x], axis=1)),
    ("getitem_column", lambda p: p[:, 0], lambda x: x[:, 0]),
    ("getitem_slices", lambda p: p[1:, ::2, None], lambda x: x[1:, ::2, None]),
    ("getitem_repeated", lambda p: p[:, [0, 0, 2]], lambda x: x[:, [0, 0, 2]]),
    ("getitem_mask", lambda p: p[p > 1.0], lambda x: x[x > 1.0]),
    ("switch", lambda p: K.switch(p > 1.0, p * p, -p), lambda x: np.where(x > 1.0, x * x, -x)),
    ("switch_low_rank", lambda p: K.switch(np.array([True, False]), p, 3 * p),
     lambda x: np.where(np.array([True, False])[:, None, None], x, 3 * x)),
]


@pytest.mark.parametrize("name,op,reference", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(name, op, reference):
    x = uniform(0.5, 1.5, (2, 3, 2))
    np.testing.assert_array_equal(op(x), reference(x))
    check_grad(lambda t, p: op(p), x)


def test_switch_with_scalar_condition_and_callables():
    assert K.switch(True, lambda: 1.0, lambda: 2.0) == 1.0
    assert K.switch(np.array(False), 1.0, 2.0) == 2.0


def test_shape_queries():
    x = np.zeros((2, 3, 4), dtype=np.float32)
    assert K.int_shape(x) == (2, 3, 4)
    assert K.ndim(x) == 3
    np.testing.assert_array_equal(K.shape(x), [2, 3, 4])
    assert K.dtype(x) == "float32"
    assert K.int_shape(K.variable(np.zeros((5, 2)))) == (5, 2)
    t = Tensor(x)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dtype == np.float32
    assert K.int_shape(t) == (2, 3, 4)


# ---------------------------------------------------------------------------
# dot: the engine's GEMM for 2-D float32, numpy otherwise

@pytest.mark.parametrize("a_shape,b_shape", [
    ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((4,), (4, 5)),
    ((3, 4), (4,)), ((4,), (4,)),
])
def test_dot_matches_numpy_and_has_gradients(a_shape, b_shape):
    a, b = uniform(-1, 1, a_shape), uniform(-1, 1, b_shape)
    np.testing.assert_allclose(K.dot(a, b), np.dot(a, b), rtol=1e-12)
    check_grad(lambda t, p: K.dot(p, b), a)
    check_grad(lambda t, p: K.dot(a, p), b)


def test_dot_float32_uses_the_engine_and_is_accurate():
    a = uniform(-1, 1, (17, 33)).astype(np.float32)
    b = uniform(-1, 1, (33, 9)).astype(np.float32)
    result = K.dot(a, b)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)
    cot = uniform(-1, 1, (17, 9))
    grad = vjp(lambda t, p: K.dot(p, b), 0, a)[1](cot)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, cot @ b.T.astype(np.float64), rtol=1e-5, atol=1e-5)
    grad_b = vjp(lambda t, p: K.dot(a, p), 0, b)[1](cot)
    np.testing.assert_allclose(grad_b, a.T.astype(np.float64) @ cot, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# Cross-entropies: tf-keras' formulas, clipping included

EPS = 1e-7


def bce_ref(t, o):
    o = np.clip(o, EPS, 1 - EPS)
    return -(t * np.log(o + EPS) + (1 - t) * np.log(1 - o + EPS))


def cce_ref(t, o, axis=-1):
    o = o / o.sum(axis=axis, keepdims=True)
    o = np.clip(o, EPS, 1 - EPS)
    return -np.sum(t * np.log(o), axis=axis)


def test_binary_crossentropy_formula_and_clipping():
    t = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.3]])
    o = np.array([[0.9, 0.2, 0.0, 1.0, 1.0, 1e-12]])
    np.testing.assert_allclose(K.binary_crossentropy(t, o), bce_ref(t, o), rtol=1e-12)
    # log(eps + eps) bounds the loss of a confident wrong answer.
    assert K.binary_crossentropy(t, o)[0, 2] == pytest.approx(-np.log(2e-7), rel=1e-9)
    grad = vjp(lambda yt, yp: K.binary_crossentropy(yt, yp), t, o)[1](np.ones_like(o))
    assert np.all(grad[0, 2:] == 0)  # clipped entries get no gradient, as in TF
    check_grad(lambda yt, yp: K.binary_crossentropy(yt, yp), uniform(0.05, 0.95),
               uniform(0, 1))


def test_binary_crossentropy_float32_clips_at_float32_epsilon():
    t = np.array([1.0, 0.0], dtype=np.float32)
    o = np.array([0.0, 1.0], dtype=np.float32)
    loss = K.binary_crossentropy(t, o)
    assert loss.dtype == np.float32
    eps = np.float32(EPS)
    one_minus_eps = np.float32(1) - eps  # what TF computes in float32
    expected = [-np.log(eps + eps), -np.log(np.float32(1) - one_minus_eps + eps)]
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_binary_crossentropy_from_logits():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    t = np.array([1.0, 0.0, 1.0, 0.4, 0.0])
    expected = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(K.binary_crossentropy(t, x, from_logits=True), expected, rtol=1e-12)
    grad = vjp(lambda yt, yp: K.binary_crossentropy(yt, yp, from_logits=True), t, x)[1](np.ones(5))
    np.testing.assert_allclose(grad, sigmoid_ref(x) - t, atol=1e-15)
    check_grad(lambda yt, yp: K.binary_crossentropy(yt, yp, from_logits=True),
               uniform(-3, 3), uniform(0, 1))


def test_categorical_crossentropy_keras_example():
    # The example in tf-keras' docstring.
    a = np.eye(3, dtype=np.float32)
    b = np.array([[.9, .05, .05], [.05, .89, .06], [.05, .01, .94]], dtype=np.float32)
    np.testing.assert_allclose(K.categorical_crossentropy(a, b), [0.10536, 0.11653, 0.06188],
                               atol=1e-5)
    np.testing.assert_allclose(K.categorical_crossentropy(a, a), [0, 0, 0], atol=1e-6)


def test_categorical_crossentropy_normalises_and_clips():
    t = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    o = np.array([[2.0, 0.0, 2.0], [1.0, 2.0, 1.0]])  # unnormalised, with a zero
    np.testing.assert_allclose(K.categorical_crossentropy(t, o), cce_ref(t, o), rtol=1e-12)
    assert K.categorical_crossentropy(t, o)[0] == pytest.approx(-np.log(EPS))
    check_grad(lambda yt, yp: K.categorical_crossentropy(yt, yp), uniform(0.1, 1, (2, 3)), t)
    o3, t3 = uniform(0.1, 1, (2, 3, 2)), uniform(0, 1, (2, 3, 2))
    np.testing.assert_allclose(K.categorical_crossentropy(t3, o3, axis=1),
                               cce_ref(t3, o3, axis=1), rtol=1e-12)
    check_grad(lambda yt, yp: K.categorical_crossentropy(yt, yp, axis=1), o3, t3)
    with pytest.raises(ValueError, match="shape"):
        K.categorical_crossentropy(np.zeros((2, 3)), np.ones((2, 4)))


def test_categorical_crossentropy_from_logits():
    x, t = uniform(-3, 3, (4, 5)), softmax_ref(uniform(-1, 1, (4, 5)))
    log_softmax = x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))
    expected = -np.sum(t * log_softmax, axis=-1)
    np.testing.assert_allclose(K.categorical_crossentropy(t, x, from_logits=True), expected,
                               rtol=1e-12)
    grad = check_grad(lambda yt, yp: K.categorical_crossentropy(yt, yp, from_logits=True), x, t)
    cot_free = vjp(lambda yt, yp: K.categorical_crossentropy(yt, yp, from_logits=True),
                   t, x)[1](np.ones(4))
    np.testing.assert_allclose(cot_free, softmax_ref(x) - t, atol=1e-12)
    assert grad.shape == x.shape


def test_crossentropy_uses_logits_cached_by_softmax_and_sigmoid():
    # As tf-keras: K.softmax/K.sigmoid outputs remember their logits, so a
    # saturated softmax still gives a finite, exact loss.
    x = np.array([[0.0, 100.0, -100.0]])
    t = np.array([[1.0, 0.0, 0.0]])
    value = vjp(lambda yt, yp: K.categorical_crossentropy(yt, K.softmax(yp)), t, x)[0]
    np.testing.assert_allclose(value, [100.0], rtol=1e-12)
    plain = K.categorical_crossentropy(t, K.softmax(x))  # arrays carry no logits
    np.testing.assert_allclose(plain, [-np.log(EPS)], rtol=1e-9)
    value = vjp(lambda yt, yp: K.binary_crossentropy(yt, K.sigmoid(yp)), np.ones(1),
                np.array([-50.0]))[0]
    np.testing.assert_allclose(value, [50.0], rtol=1e-12)
    check_grad(lambda yt, yp: K.sparse_categorical_crossentropy(yt, K.softmax(yp)),
               uniform(-2, 2), np.array([0, 3, 1]))


def test_sparse_categorical_crossentropy():
    o = softmax_ref(uniform(-2, 2, (4, 3)))
    o[0] = [0.0, 1.0, 0.0]
    labels = np.array([[0], [1], [2], [1]])  # Keras passes (batch, 1) targets
    clipped = np.clip(o, EPS, 1 - EPS)
    expected = -np.log(clipped[np.arange(4), labels[:, 0]] / clipped.sum(axis=-1))
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(labels, o), expected, rtol=1e-12)
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(labels[:, 0].astype(np.float32), o),
                               expected, rtol=1e-12)
    check_grad(lambda yt, yp: K.sparse_categorical_crossentropy(yt, yp),
               softmax_ref(uniform(-2, 2, (4, 3))), labels)
    logits = uniform(-2, 2, (4, 3))
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(
        K.sparse_categorical_crossentropy(labels, logits, from_logits=True),
        -log_p[np.arange(4), labels[:, 0]], rtol=1e-12)
    check_grad(lambda yt, yp: K.sparse_categorical_crossentropy(yt, yp, from_logits=True),
               logits, labels)


def test_sparse_categorical_crossentropy_sequences_and_axis():
    logits = uniform(-2, 2, (2, 3, 4))  # (batch, time, classes)
    labels = RNG.integers(0, 4, size=(2, 3))
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    expected = -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(K.sparse_categorical_crossentropy(labels, logits, from_logits=True),
                               expected, rtol=1e-12)
    channels_first = np.moveaxis(logits, -1, 1)  # (batch, classes, time)
    np.testing.assert_allclose(
        K.sparse_categorical_crossentropy(labels, channels_first, from_logits=True, axis=1),
        expected, rtol=1e-12)
    check_grad(lambda yt, yp: K.sparse_categorical_crossentropy(yt, yp, from_logits=True, axis=1),
               channels_first, labels)
    with pytest.raises(ValueError, match="class indices"):
        K.sparse_categorical_crossentropy(np.array([0, 4]), np.ones((2, 4)))


# ---------------------------------------------------------------------------
# Custom losses through vjp, as the training loop uses them

def test_custom_mean_squared_error():
    def my_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    y_true, y_pred = uniform(-1, 1, (5, 3)), uniform(-1, 1, (5, 3))
    value, pullback = vjp(my_mse, y_true, y_pred)
    np.testing.assert_allclose(value, np.mean((y_pred - y_true) ** 2, axis=-1), rtol=1e-12)
    cot = uniform(0, 1, (5,))
    np.testing.assert_allclose(pullback(cot), 2 * (y_pred - y_true) / 3 * cot[:, None],
                               rtol=1e-12)
    check_grad(my_mse, y_pred, y_true)


def test_custom_weighted_crossentropy():
    weights = np.array([1.0, 3.0])

    def weighted_bce(y_true, y_pred):
        y_pred = K.clip(y_pred, K.epsilon(), 1 - K.epsilon())
        loss = -(weights * y_true * K.log(y_pred) + (1 - y_true) * K.log(1 - y_pred))
        return K.mean(loss, axis=-1)

    y_true = RNG.integers(0, 2, (4, 2)).astype(np.float64)
    y_pred = uniform(0.05, 0.95, (4, 2))
    p = np.clip(y_pred, EPS, 1 - EPS)
    expected = np.mean(-(weights * y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), axis=-1)
    np.testing.assert_allclose(vjp(weighted_bce, y_true, y_pred)[0], expected, rtol=1e-12)
    check_grad(weighted_bce, y_pred, y_true)


def test_vjp_float32_in_float32_gradient_out():
    y_true = RNG.integers(0, 2, (6, 1)).astype(np.float32)
    y_pred = uniform(0.1, 0.9, (6, 1)).astype(np.float32)
    value, pullback = vjp(lambda t, p: K.mean(K.binary_crossentropy(t, p), axis=-1), y_true, y_pred)
    assert value.dtype == np.float32 and value.shape == (6,)
    grad = pullback(np.full(6, 1 / 6, dtype=np.float32))
    assert grad.dtype == np.float32 and grad.shape == (6, 1)
    y64, t64 = y_pred.astype(np.float64), y_true.astype(np.float64)
    expected = (-(t64 / (y64 + EPS)) + (1 - t64) / (1 - y64 + EPS)) / 6
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


def test_vjp_scalar_value_and_broadcast_cotangent():
    y = uniform(-1, 1, (3, 2))
    value, pullback = vjp(lambda t, p: K.sum(p * p), 0, y)
    assert np.shape(value) == ()
    np.testing.assert_allclose(pullback(2.0), 4 * y)
    np.testing.assert_allclose(pullback(2.0), pullback(np.array(2.0)))  # reusable
    value, pullback = vjp(lambda t, p: p * 3, 0, y)
    np.testing.assert_allclose(pullback(np.array([1.0, 2.0])), np.tile([3.0, 6.0], (3, 1)))
    with pytest.raises(ValueError, match="cotangent"):
        pullback(np.ones(5))


def test_vjp_of_a_function_independent_of_y_pred_is_zero():
    y_true = uniform(0, 1, (3, 2))
    value, pullback = vjp(lambda t, p: K.mean(t, axis=-1), y_true, uniform(0, 1, (3, 2)))
    np.testing.assert_allclose(value, y_true.mean(axis=-1))
    np.testing.assert_array_equal(pullback(np.ones(3)), np.zeros((3, 2)))


def test_vjp_rejects_functions_that_leave_the_tape():
    with pytest.raises(TypeError, match="seqnet.backend ops"):
        vjp(lambda t, p: np.mean(np.asarray(p) - t, axis=-1), np.zeros(3), np.ones(3))
    with pytest.raises(TypeError, match="seqnet.backend ops"):
        vjp(lambda t, p: K.mean(p).numpy(), np.zeros(3), np.ones(3))


def test_metric_functions_on_plain_arrays_return_numpy():
    def mean_pred(y_true, y_pred):
        return K.mean(y_pred)

    y = np.array([[0.2, 0.8], [0.4, 0.6]], dtype=np.float32)
    result = mean_pred(None, y)
    assert isinstance(result, np.floating) and result == pytest.approx(0.5)
    acc = K.mean(K.equal(K.argmax(y), K.argmax(np.array([[0, 1], [1, 0]]))))
    assert isinstance(acc, np.floating) and acc == pytest.approx(0.5)


def test_deep_chain_does_not_hit_recursion_limit():
    def long_loss(t, p):
        for _ in range(3000):
            p = p * 1.0001
        return K.sum(p)

    grad = vjp(long_loss, 0, np.ones(2))[1](1.0)
    np.testing.assert_allclose(grad, [1.0001 ** 3000] * 2, rtol=1e-9)


# ---------------------------------------------------------------------------
# Creation

def test_constants_and_creation():
    assert K.ones((2, 3)).dtype == np.float32 and np.all(K.ones((2, 3)) == 1)
    assert K.zeros((2,), dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(K.ones_like(np.arange(3)), [1, 1, 1])
    assert K.zeros_like(np.ones(2, np.float32)).dtype == np.float32
    np.testing.assert_array_equal(K.constant(2.5, shape=(2, 2)), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(K.constant([1, 2, 3, 4], shape=(2, 2)), [[1, 2], [3, 4]])
    assert K.constant([1, 2]).dtype == np.float32
    with pytest.raises(ValueError):
        K.constant([1, 2, 3], shape=(2, 2))
    np.testing.assert_array_equal(K.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(K.eval(K.variable([1, 2])), [1.0, 2.0])


# ---------------------------------------------------------------------------
# Variables

def test_variable_get_and_set_value():
    lr = K.variable(0.01, name="lr")
    assert isinstance(lr, Variable) and lr.name == "lr"
    assert lr.dtype == np.float32 and lr.shape == ()
    value = K.get_value(lr)
    assert isinstance(value, np.float32) and value == np.float32(0.01)
    K.set_value(lr, 0.5)
    assert float(lr) == 0.5 and K.get_value(lr) == 0.5
    assert value == np.float32(0.01)  # get_value gave a copy
    lr.assign(0.25)
    assert K.eval(lr) == 0.25
    with pytest.raises(ValueError, match="shape"):
        K.set_value(lr, [0.1, 0.2])
    with pytest.raises(TypeError, match="Variable"):
        K.set_value(0.01, 0.5)
    with pytest.raises(TypeError, match="Variable"):
        K.get_value("lr")


def test_variable_is_updated_in_place_and_copies_its_input():
    source = np.array([1.0, 2.0], dtype=np.float32)
    v = K.variable(source)
    source[0] = 9.0
    view = np.asarray(v)
    K.set_value(v, [3.0, 4.0])
    np.testing.assert_array_equal(view, [3.0, 4.0])  # same buffer, new contents
    np.testing.assert_array_equal(K.get_value(v), [3.0, 4.0])
    K.batch_set_value([(v, [5.0, 6.0])])
    assert [list(x) for x in K.batch_get_value([v])] == [[5.0, 6.0]]


def test_variable_arithmetic_gives_numpy_values():
    v = K.variable(0.5)
    assert v * 2 == 1.0 and 2 * v == 1.0 and v + 1 == 1.5 and 1 - v == 0.5
    assert v / 2 == 0.25 and 1 / v == 2.0 and v ** 2 == 0.25 and -v == -0.5
    assert isinstance(v * 2, np.floating)
    assert (v > 0.1) and (v <= 0.5) and not (v < 0.5)
    assert v != K.variable(0.5) and v == v  # identity, as Keras 2.2.4 variables
    assert len({v, K.variable(0.5)}) == 2
    assert f"{v:.3f}" == "0.500"
    assert "0.5" in repr(v) and "float32" in repr(v)
    assert int(K.variable(3, dtype="int64")) == 3
    assert K.variable(np.zeros(3), dtype="float64").dtype == np.float64


# ---------------------------------------------------------------------------
# Session state

def test_get_uid_counts_per_prefix_and_resets():
    K.reset_uids()
    assert [K.get_uid("dense"), K.get_uid("dense"), K.get_uid("conv2d"), K.get_uid("dense")] \
        == [1, 2, 1, 3]
    assert K.get_uid() == 1
    K.reset_uids()
    assert K.get_uid("dense") == 1
    K.get_uid("dense")
    K.clear_session()
    assert K.get_uid("dense") == 1


def test_floatx_epsilon_image_data_format():
    assert K.floatx() == "float32" and K.epsilon() == 1e-7
    assert K.image_data_format() == "channels_last"
    try:
        K.set_floatx("float64")
        assert K.floatx() == "float64" and K.ones((1,)).dtype == np.float64
        K.set_epsilon(1e-4)
        assert K.epsilon() == 1e-4
        assert K.binary_crossentropy(np.array([1.0]), np.array([0.0]))[0] == \
            pytest.approx(-np.log(2e-4))
        K.set_image_data_format("channels_first")
        assert K.image_data_format() == "channels_first"
        with pytest.raises(ValueError):
            K.set_floatx("float8")
        with pytest.raises(ValueError):
            K.set_image_data_format("nchw")
    finally:
        K.set_floatx("float32")
        K.set_epsilon(1e-7)
        K.set_image_data_format("channels_last")


def test_learning_phase():
    try:
        assert K.learning_phase() == 0
        K.set_learning_phase(1)
        assert K.learning_phase() == 1
        with pytest.raises(ValueError):
            K.set_learning_phase(2)
        K.clear_session()
        assert K.learning_phase() == 0
    finally:
        K.clear_session()
