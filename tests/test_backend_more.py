"""seqnet.backend, the ops beyond arithmetic: batch_dot, gather, tile and
repeats, padding, bias_add, l2_normalize, batch_normalization, in_top_k, the
learning-phase switches, random tensors and dropout, and Variable updates.

Values are checked against NumPy float64 references written independently
(np.tensordot, explicit loops), gradients against central finite differences
(test_backend.check_grad)."""
import numpy as np
import pytest

import seqnet.backend as K
from seqnet.backend import Tensor, Variable, vjp
from test_backend import check_grad, uniform


def values_and_gradient(op, reference, x):
    """op(x) equals reference(x) on float64 arrays, stays a plain array, and its
    tape gradient equals the finite-difference one."""
    value = op(x)
    assert isinstance(value, np.ndarray) and not isinstance(value, Tensor)
    np.testing.assert_allclose(value, reference(x), rtol=1e-12, atol=1e-14)
    check_grad(lambda t, p: op(p), x)


# ---------------------------------------------------------------------------
# Reductions: keepdims everywhere

@pytest.mark.parametrize("op,reference", [(K.any, np.any), (K.all, np.all)])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), [1, 2]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logical_reductions_keepdims(op, reference, axis, keepdims):
    x = (uniform(0, 1, (2, 3, 4)) > 0.3).astype(np.float64)
    expected = reference(x.astype(bool), axis=tuple(axis) if isinstance(axis, list) else axis,
                         keepdims=keepdims)
    np.testing.assert_array_equal(op(x, axis=axis, keepdims=keepdims), expected)


# ---------------------------------------------------------------------------
# batch_dot

def batch_dot_reference(x, y, ax, ay):
    out = np.stack([np.tensordot(x[b], y[b], axes=(ax - 1, ay - 1)) for b in range(x.shape[0])])
    return out[:, None] if out.ndim == 1 else out


BATCH_DOT = [
    ((4, 3), (4, 3), 1, (1, 1), (4, 1)),
    ((4, 3), (4, 3), None, (1, 1), (4, 1)),
    ((4, 3), (4, 3), (-1, -1), (1, 1), (4, 1)),
    ((4, 3, 5), (4, 5, 2), None, (2, 1), (4, 3, 2)),
    ((4, 5), (4, 2, 5), (1, 2), (1, 2), (4, 2)),
    ((2, 20, 1), (2, 30, 20), (1, 2), (1, 2), (2, 1, 30)),  # Keras' docstring example
    ((3, 2, 4), (3, 4), (2, 1), (2, 1), (3, 2)),
    ((2, 3, 4), (2, 3, 5), 1, (1, 1), (2, 4, 5)),
    ((2, 3, 4, 5), (2, 5, 6), (3, 1), (3, 1), (2, 3, 4, 6)),
]


@pytest.mark.parametrize("x_shape,y_shape,axes,resolved,out_shape", BATCH_DOT)
def test_batch_dot_values_and_gradients(x_shape, y_shape, axes, resolved, out_shape):
    x, y = uniform(-1, 1, x_shape), uniform(-1, 1, y_shape)
    value = K.batch_dot(x, y, axes=axes)
    assert value.shape == out_shape
    np.testing.assert_allclose(value, batch_dot_reference(x, y, *resolved), rtol=1e-12, atol=1e-14)
    check_grad(lambda t, p: K.batch_dot(p, y, axes=axes), x)
    check_grad(lambda t, p: K.batch_dot(x, p, axes=axes), y)


def test_batch_dot_float32_and_errors():
    x, y = uniform(-1, 1, (3, 4)).astype(np.float32), uniform(-1, 1, (3, 4)).astype(np.float32)
    assert K.batch_dot(x, y, axes=1).dtype == np.float32
    with pytest.raises(ValueError, match="batch axis"):
        K.batch_dot(x, y, axes=0)
    with pytest.raises(ValueError, match="batch sizes"):
        K.batch_dot(x, y[:2], axes=1)
    with pytest.raises(ValueError, match="differ in length"):
        K.batch_dot(x, uniform(-1, 1, (3, 5)), axes=1)
    with pytest.raises(ValueError, match="Multiple|multiple"):
        K.batch_dot(x, y, axes=[[1], [1]])
    with pytest.raises(ValueError, match="rank"):
        K.batch_dot(x[0], y[0], axes=0)


# ---------------------------------------------------------------------------
# Shapes, copies and selections

SHAPE_OPS = [
    ("repeat_elements_1", lambda p: K.repeat_elements(p, 3, 1), lambda x: np.repeat(x, 3, axis=1)),
    ("repeat_elements_neg", lambda p: K.repeat_elements(p, 2, -1), lambda x: np.repeat(x, 2, axis=-1)),
    ("tile", lambda p: K.tile(p, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3))),
    ("reverse", lambda p: K.reverse(p, 1), lambda x: x[:, ::-1]),
    ("reverse_axes", lambda p: K.reverse(p, [0, -1]), lambda x: x[::-1, :, ::-1]),
    ("slice", lambda p: K.slice(p, (1, 0, 1), (1, -1, 1)), lambda x: x[1:2, :, 1:2]),
    ("temporal_padding", lambda p: K.temporal_padding(p, (2, 1)),
     lambda x: np.concatenate([np.zeros((2, 2, 2)), x, np.zeros((2, 1, 2))], axis=1)),
    ("stack_last", lambda p: K.stack([p, 2 * p], axis=-1), lambda x: np.stack([x, 2 * x], axis=-1)),
    ("concatenate_neg2", lambda p: K.concatenate([p, p[:, :1]], axis=-2),
     lambda x: np.concatenate([x, x[:, :1]], axis=1)),
    ("permute", lambda p: K.permute_dimensions(p, (2, 0, 1)), lambda x: np.transpose(x, (2, 0, 1))),
    ("squeeze", lambda p: K.squeeze(p[:, :1], 1), lambda x: x[:, 0]),
    ("identity", K.identity, lambda x: x),
]


@pytest.mark.parametrize("name,op,reference", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops_values_and_gradients(name, op, reference):
    values_and_gradient(op, reference, uniform(-1, 1, (2, 3, 2)))


def test_repeat_makes_a_time_axis():
    x = uniform(-1, 1, (2, 3))
    expected = np.stack([x] * 4, axis=1)
    values_and_gradient(lambda p: K.repeat(p, 4), lambda a: expected, x)
    with pytest.raises(ValueError, match="2-D"):
        K.repeat(uniform(-1, 1, (2, 3, 1)), 2)


def test_spatial_padding_both_layouts():
    x = uniform(-1, 1, (1, 2, 3, 2))
    expected = np.zeros((1, 5, 5, 2))
    expected[:, 1:3, 2:5] = x
    values_and_gradient(lambda p: K.spatial_2d_padding(p, ((1, 2), (2, 0))), lambda a: expected, x)
    first = K.spatial_2d_padding(x, ((1, 2), (2, 0)), data_format="channels_first")
    assert first.shape == (1, 2, 6, 4) and np.all(first[:, :, 1:4, 2:4] == x)
    volume = K.spatial_3d_padding(np.ones((1, 1, 1, 1, 1)))
    assert volume.shape == (1, 3, 3, 3, 1) and volume.sum() == 1
    check_grad(lambda t, p: K.spatial_3d_padding(p, ((0, 1), (1, 0), (1, 1)), "channels_first"),
               uniform(-1, 1, (1, 2, 2, 1, 2)))


def test_gather_values_and_scatter_add_gradient():
    reference = uniform(-1, 1, (5, 3))
    indices = np.array([[4, 0], [4, 4]])
    np.testing.assert_array_equal(K.gather(reference, indices), reference[indices])
    grad = check_grad(lambda t, p: K.gather(p, indices), reference)
    ones_grad = vjp(lambda t, p: K.gather(p, indices), 0, reference)[1](np.ones((2, 2, 3)))
    np.testing.assert_array_equal(ones_grad[:, 0], [1, 0, 0, 0, 3])  # row 4 picked three times
    assert grad.shape == reference.shape
    np.testing.assert_array_equal(K.gather(reference, Tensor(np.array([1]))).numpy(), reference[[1]])
    with pytest.raises(IndexError, match=r"\[0, 5\)"):
        K.gather(reference, [5])
    embeddings = K.variable(reference)  # a weight held in a Variable gives plain arrays
    np.testing.assert_array_equal(K.gather(embeddings, [2, 2]), reference[[2, 2]].astype(np.float32))


def test_tile_repeat_errors():
    with pytest.raises(ValueError, match="one repeat count per axis"):
        K.tile(np.ones((2, 2)), 2)
    np.testing.assert_array_equal(K.tile(np.arange(3), 2), np.tile(np.arange(3), 2))
    with pytest.raises(ValueError, match="non-negative integer"):
        K.repeat_elements(np.ones((2, 2)), -1, 0)
    with pytest.raises(ValueError, match="out of range"):
        K.repeat_elements(np.ones((2, 2)), 2, 2)


def test_one_hot_and_arange():
    np.testing.assert_array_equal(K.one_hot(np.array([[1], [3]]), 3),
                                  [[[0, 1, 0]], [[0, 0, 0]]])  # out of range: zeros, as tf.one_hot
    assert K.one_hot(np.array([0, 2]), 3).dtype == np.float32
    np.testing.assert_array_equal(K.arange(4), np.arange(4))
    assert K.arange(4).dtype == np.int32 and K.arange(-3).shape == (0,)
    np.testing.assert_array_equal(K.arange(1, 8, 3, dtype="float32"), [1.0, 4.0, 7.0])


# ---------------------------------------------------------------------------
# Neural-network ops

def test_l2_normalize_matches_the_keras_formula():
    x = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1e-7, 0.0, 0.0]])
    expected = x / np.sqrt(np.maximum(np.sum(x * x, axis=1, keepdims=True), 1e-12))
    np.testing.assert_allclose(K.l2_normalize(x, axis=1), expected, rtol=1e-12)
    np.testing.assert_allclose(K.l2_normalize(x), x / np.sqrt(np.sum(x * x)), rtol=1e-12)
    check_grad(lambda t, p: K.l2_normalize(p, axis=0), uniform(-2, 2))


@pytest.mark.parametrize("x_shape,bias_shape,data_format,reference", [
    ((2, 3), (3,), None, lambda x, b: x + b),
    ((2, 4, 3), (3,), "channels_last", lambda x, b: x + b),
    ((2, 3, 4), (3,), "channels_first", lambda x, b: x + b[None, :, None]),
    ((2, 2, 2, 3), (3,), "channels_last", lambda x, b: x + b),
    ((2, 3, 2, 2), (3,), "channels_first", lambda x, b: x + b[None, :, None, None]),
    ((2, 2, 2, 2, 3), (3,), "channels_last", lambda x, b: x + b),
    ((2, 4, 3), (4, 3), "channels_last", lambda x, b: x + b[None]),
    ((2, 3, 4, 5), (4, 5, 3), "channels_first", lambda x, b: x + np.transpose(b, (2, 0, 1))[None]),
])
def test_bias_add(x_shape, bias_shape, data_format, reference):
    x, bias = uniform(-1, 1, x_shape), uniform(-1, 1, bias_shape)
    np.testing.assert_allclose(K.bias_add(x, bias, data_format), reference(x, bias), rtol=1e-12)
    check_grad(lambda t, p: K.bias_add(x, p, data_format), bias)
    check_grad(lambda t, p: K.bias_add(p, bias, data_format), x)


def test_bias_add_rejects_wrong_ranks_and_layouts():
    with pytest.raises(ValueError, match="rank"):
        K.bias_add(np.zeros((2, 3, 4)), np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="data_format"):
        K.bias_add(np.zeros((2, 3)), np.zeros(3), data_format="nhwc")


def test_bias_add_follows_image_data_format():
    x, bias = uniform(-1, 1, (2, 3, 4)), uniform(-1, 1, (3,))
    try:
        K.set_image_data_format("channels_first")
        np.testing.assert_allclose(K.bias_add(x, bias), x + bias[None, :, None], rtol=1e-12)
    finally:
        K.set_image_data_format("channels_last")


def test_batch_normalization():
    x = uniform(-1, 1, (4, 3))
    mean, var = uniform(-0.5, 0.5, (3,)), uniform(0.5, 1.5, (3,))
    beta, gamma = uniform(-1, 1, (3,)), uniform(0.5, 2, (3,))
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    values_and_gradient(lambda p: K.batch_normalization(p, mean, var, beta, gamma),
                        lambda a: expected, x)
    check_grad(lambda t, p: K.batch_normalization(x, mean, var, beta, p), gamma)
    images = uniform(-1, 1, (2, 3, 2, 2))  # channels first: statistics along axis 1
    got = K.batch_normalization(images, mean, var, None, None, axis=1, epsilon=0.1)
    np.testing.assert_allclose(got, (images - mean[:, None, None]) / np.sqrt(var[:, None, None] + 0.1),
                               rtol=1e-12)


def test_in_top_k_counts_ties_as_in():
    predictions = np.array([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1], [np.nan, 1.0, 0.0, 0.0]])
    targets = np.array([2, 3, 1])
    expected = [sum(p > p[t]) < 1 for p, t in zip(predictions[:2], targets[:2])] + [False]
    np.testing.assert_array_equal(K.in_top_k(predictions, targets, 1), expected)
    np.testing.assert_array_equal(K.in_top_k(predictions, targets, 4), [True, True, False])
    with pytest.raises(ValueError, match="batch"):
        K.in_top_k(predictions, np.array([1, 2]), 1)


# ---------------------------------------------------------------------------
# Learning phase

def test_in_train_phase_and_in_test_phase():
    calls = []

    def train():
        calls.append("train")
        return 1.0

    def test():
        calls.append("test")
        return 2.0

    assert K.in_train_phase(train, test, training=True) == 1.0
    assert K.in_train_phase(train, test, training=0) == 2.0
    assert calls == ["train", "test"]  # only the chosen branch runs
    assert K.in_test_phase(3.0, 4.0, training=False) == 3.0
    assert K.in_test_phase(3.0, 4.0, training=1) == 4.0
    try:
        assert K.in_train_phase(5.0, 6.0) == 6.0  # learning_phase() is 0 by default
        K.set_learning_phase(1)
        assert K.in_train_phase(5.0, 6.0) == 5.0 and K.in_test_phase(5.0, 6.0) == 6.0
    finally:
        K.clear_session()
    x = uniform(-1, 1, (2, 3))
    np.testing.assert_array_equal(K.in_train_phase(x, -x, training=np.array([True, False])),
                                  np.where([[True], [False]], x, -x))
    check_grad(lambda t, p: K.in_train_phase(lambda: p * p, lambda: -p, training=True), x)


# ---------------------------------------------------------------------------
# Random tensors and dropout

def test_random_tensors_shapes_dtypes_and_seeds():
    for fn, args in ((K.random_uniform, (-1.0, 2.0)), (K.random_normal, (1.0, 0.5)),
                     (K.truncated_normal, (1.0, 0.5)), (K.random_binomial, (0.3,))):
        a = fn((200, 50), *args, seed=7)
        assert a.shape == (200, 50) and a.dtype == np.float32
        np.testing.assert_array_equal(a, fn((200, 50), *args, seed=7))
        assert not np.array_equal(a, fn((200, 50), *args, seed=8))
        assert fn((3,), *args, dtype="float64").dtype == np.float64
    u = K.random_uniform((10000,), -1.0, 2.0, seed=1)
    assert u.min() >= -1.0 and u.max() < 2.0 and abs(u.mean() - 0.5) < 0.05
    n = K.random_normal((10000,), 1.0, 0.5, seed=1)
    assert abs(n.mean() - 1.0) < 0.03 and abs(n.std() - 0.5) < 0.03
    t = K.truncated_normal((10000,), 1.0, 0.5, seed=1)
    assert t.min() >= 0.0 and t.max() <= 2.0
    assert abs(K.random_binomial((10000,), 0.3, seed=1).mean() - 0.3) < 0.03
    v = K.random_uniform_variable((2, 3), 0.0, 1.0, name="w", seed=3)
    assert isinstance(v, Variable) and v.name == "w" and v.shape == (2, 3)
    assert isinstance(K.random_normal_variable((4,), 0.0, 1.0), Variable)


def test_random_tensors_follow_the_global_numpy_seed():
    np.random.seed(123)
    first = K.random_normal((5,))
    np.random.seed(123)
    np.testing.assert_array_equal(K.random_normal((5,)), first)


def test_dropout_keeps_the_expectation_and_masks_the_gradient():
    x = uniform(0.5, 1.5, (400, 50))
    y = K.dropout(x, 0.3, seed=5)
    kept = y != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-12)
    grad = vjp(lambda t, p: K.dropout(p, 0.3, seed=5), 0, x)[1](np.ones_like(x))
    np.testing.assert_allclose(grad, kept / 0.7, rtol=1e-12)
    check_grad(lambda t, p: K.dropout(p, 0.3, seed=5), x[:3, :4])  # a fixed seed: a fixed mask
    np.testing.assert_array_equal(K.dropout(x, 0.0), x)
    assert K.dropout(x.astype(np.float32), 0.5, seed=1).dtype == np.float32


def test_dropout_noise_shape_broadcasts_the_mask():
    x = uniform(0.5, 1.5, (4, 6, 5))
    y = K.dropout(x, 0.5, noise_shape=(None, 1, 5), seed=2)
    dropped = y == 0
    assert np.all(dropped == dropped[:, :1, :])  # the same features at every time step
    assert 0 < dropped.mean() < 1
    with pytest.raises(ValueError, match="noise_shape"):
        K.dropout(x, 0.5, noise_shape=(4, 2, 5))
    with pytest.raises(ValueError, match="level"):
        K.dropout(x, 1.0)


# ---------------------------------------------------------------------------
# Variables and introspection

def test_update_ops_change_variables_in_place():
    v = K.variable([1.0, 2.0])
    view = np.asarray(v)
    assert K.update(v, [3.0, 4.0]) is v
    K.update_add(v, np.array([1.0, 1.0]))
    K.update_sub(v, K.variable([0.5, 0.5]))
    np.testing.assert_array_equal(view, [3.5, 4.5])
    with pytest.raises(ValueError, match="shape"):
        K.update(v, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Variable"):
        K.update_add(np.zeros(2), 1.0)


def test_count_params_shapes_and_keras_tensors():
    w = K.variable(np.zeros((3, 4)))
    assert K.count_params(w) == 12 and isinstance(K.count_params(w), int)
    assert K.count_params(np.zeros(())) == 1
    assert K.get_variable_shape(w) == (3, 4)

    class Symbolic:  # what Input(...) returns carries _keras_history and _keras_shape
        _keras_history = (None, 0, 0)
        _keras_shape = (None, 5, 2)
        dtype = "float64"

    assert K.is_keras_tensor(Symbolic())
    assert K.int_shape(Symbolic()) == (None, 5, 2) and K.ndim(Symbolic()) == 3
    assert K.dtype(Symbolic()) == "float64"
    for not_symbolic in (np.zeros(2), w, Tensor(np.zeros(2)), 1.0):
        assert not K.is_keras_tensor(not_symbolic)
    assert not K.is_sparse(np.zeros(2))


def test_print_tensor_prints_and_passes_the_value(capsys):
    x = np.array([1.0, 2.0])
    assert K.print_tensor(x, message="x = ") is x
    assert "x = [1. 2.]" in capsys.readouterr().out
    check_grad(lambda t, p: K.print_tensor(p * 2), uniform(-1, 1, (2,)))
