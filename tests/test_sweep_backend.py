"""seqnet.backend against tf_keras.backend, the discrepancies a sweep found: integer
reductions that widened to int64 (and K.mean of integers that became float64), Python
int lists taken as int64, K.arange of a float bound, batch_flatten of an empty batch,
the cross-entropies of an output made by the other activation (or along another axis),
and errors that did not name the op and the shapes.

tf-keras values come from fixtures/sweep_backend.npz (written by
fixtures/make_sweep_backend_fixtures.py, which states where 2.2.4 and tf-keras differ);
the rest is checked against NumPy float64 references and finite differences
(test_backend.check_grad)."""
import os

import numpy as np
import pytest

import seqnet.backend as K
from seqnet.backend import Tensor
from test_backend import check_grad, sigmoid_ref, softmax_ref

FIXTURE = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "sweep_backend.npz"))


# ---------------------------------------------------------------------------
# Integer reductions keep the input's dtype, as TensorFlow's

@pytest.mark.parametrize("op", ["sum", "prod", "cumsum", "cumprod", "mean"])
@pytest.mark.parametrize("axis", [0, 1])
def test_integer_reductions_keep_int32_as_tf_keras(op, axis):
    got = getattr(K, op)(FIXTURE["int_x"], axis=axis)
    want = FIXTURE[f"int_{op}_axis{axis}"]
    assert got.dtype == want.dtype == np.int32
    np.testing.assert_array_equal(got, want)


def test_integer_mean_truncates_toward_zero_and_sums_wide():
    # TF's integer mean: a wide sum divided with truncation toward zero (-6 / 3, -5 / 2).
    assert K.mean(np.array([-3, -2], np.int32)) == -2
    np.testing.assert_array_equal(K.mean(np.array([[-7, 0, 1], [5, 5, 6]], np.int32), axis=1,
                                         keepdims=True), [[-2], [5]])
    assert K.mean(FIXTURE["int_u8"]) == FIXTURE["int_mean_u8"]
    assert K.mean(FIXTURE["int_u8"]).dtype == np.uint8
    assert K.sum(FIXTURE["int_u8"]) == FIXTURE["int_sum_u8"]  # wraps, as tf.reduce_sum


def test_var_and_std_of_integers_are_float():
    x = np.array([[1, 2, 4], [3, 3, 9]], np.int32)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(K.var(x, axis=axis), np.var(x.astype(np.float64), axis=axis), rtol=1e-6)
        np.testing.assert_allclose(K.std(x, axis=axis), np.std(x.astype(np.float64), axis=axis), rtol=1e-6)
    assert K.var(x).dtype == np.float32


def test_python_ints_are_int32_unless_they_need_64_bits():
    assert K.sum([1, 2, 3]).dtype == np.int32
    assert K.sum(3).dtype == np.int32
    assert K.cumsum([1, 2, 2 ** 40]).dtype == np.int64
    assert K.sum([1.0, 2.0]).dtype == np.float32


def test_arange_of_a_float_bound_is_float32():
    got = K.arange(2.5)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, FIXTURE["arange_float"])
    assert K.arange(1, 4.0).dtype == np.float32
    assert K.arange(3).dtype == np.int32 and K.arange(3, dtype="int64").dtype == np.int64


# ---------------------------------------------------------------------------
# Shapes

def test_batch_flatten_of_an_empty_batch():
    assert K.batch_flatten(np.zeros((0, 3, 4), np.float32)).shape == (0, 12)
    check_grad(lambda t, p: K.batch_flatten(p), np.ones((0, 2, 3)))
    check_grad(lambda t, p: K.batch_flatten(p), np.arange(12.0).reshape(2, 3, 2))


def test_squeeze_values_and_gradient():
    x = np.arange(6.0).reshape(2, 1, 3)
    np.testing.assert_array_equal(K.squeeze(x, 1), x[:, 0])
    np.testing.assert_array_equal(K.squeeze(x.reshape(2, 3, 1), -1), x[:, 0])
    check_grad(lambda t, p: K.squeeze(p, -2), x)


# ---------------------------------------------------------------------------
# Cross-entropies of activation outputs: logits only of the matching activation

Z, T, LABELS = FIXTURE["ce_z"].astype(np.float64), FIXTURE["ce_t"], FIXTURE["ce_labels"]

MISMATCHED = [
    ("bce_of_softmax", lambda p: K.binary_crossentropy(T, K.softmax(p)), lambda z: softmax_ref(z)),
    ("cce_of_sigmoid", lambda p: K.categorical_crossentropy(T, K.sigmoid(p)), sigmoid_ref),
    ("scce_of_sigmoid", lambda p: K.sparse_categorical_crossentropy(LABELS, K.sigmoid(p)), sigmoid_ref),
    ("cce_of_softmax_axis0", lambda p: K.categorical_crossentropy(T, K.softmax(p, axis=0)),
     lambda z: softmax_ref(z, axis=0)),
]


@pytest.mark.parametrize("name,loss,activation", MISMATCHED, ids=[m[0] for m in MISMATCHED])
def test_cross_entropy_of_the_other_activation_is_the_loss_of_its_probabilities(name, loss, activation):
    # On the tape (training) as on arrays (metrics), and as Keras 2.2.4: tf-keras would
    # take the other activation's logits and compute a different function.
    on_tape = loss(Tensor(Z.astype(np.float32), requires_grad=True)).value
    np.testing.assert_allclose(on_tape, FIXTURE[name], rtol=1e-5)
    np.testing.assert_allclose(loss(Z.astype(np.float32)), FIXTURE[name], rtol=1e-5)
    check_grad(lambda t, p: loss(p), Z, rtol=1e-5, atol=1e-7)


def test_bce_of_softmax_float64_reference():
    p = np.clip(softmax_ref(Z), 1e-7, 1 - 1e-7)
    want = -(T * np.log(p + 1e-7) + (1 - T) * np.log(1 - p + 1e-7))
    np.testing.assert_allclose(K.binary_crossentropy(T, K.softmax(Tensor(Z))).value, want, rtol=1e-10)


def test_matching_activation_still_uses_the_logits():
    # Saturated: from the logits the loss is exact (30), not the clipped probability's 16.1.
    z = np.array([[30.0, -30.0]])
    sig = K.binary_crossentropy(np.array([[0.0, 1.0]]), K.sigmoid(Tensor(z, requires_grad=True)))
    np.testing.assert_allclose(sig.value, [[30.0, 30.0]], rtol=1e-6)
    z = np.array([[60.0, 0.0], [0.0, 60.0]])
    for axis in (-1, 1):
        cce = K.categorical_crossentropy(np.eye(2)[::-1], K.softmax(Tensor(z, requires_grad=True), axis=axis),
                                         axis=-1)
        np.testing.assert_allclose(cce.value, [60.0, 60.0], rtol=1e-6)
    scce = K.sparse_categorical_crossentropy(np.array([1, 1]), K.softmax(Tensor(z.T.copy()), axis=0), axis=0)
    np.testing.assert_allclose(scce.value, [60.0, 0.0], atol=1e-6)


# ---------------------------------------------------------------------------
# Errors name the op, the argument and the shapes

@pytest.mark.parametrize("call,message", [
    (lambda: K.squeeze(np.ones((2, 3, 4)), 1), r"squeeze: axis 1 of x \(shape \(2, 3, 4\)\) must have length 1, got 3"),
    (lambda: K.squeeze(np.ones((2, 3)), 2), r"squeeze: axis 2 is out of range for a tensor of rank 2"),
    (lambda: K.bias_add(np.ones((2, 3, 4)), np.ones(3)),
     r"bias_add: bias of shape \(3,\) does not match the 4 channels of x"),
    (lambda: K.bias_add(np.ones((2, 3, 4, 5)), np.ones(4), data_format="channels_first"),
     r"bias_add: bias of shape \(4,\) does not match the 3 channels of x \(shape \(2, 3, 4, 5\), channels_first\)"),
    (lambda: K.bias_add(np.ones((2, 3, 4, 5)), np.ones((3, 4, 2)), data_format="channels_last"),
     r"bias_add: bias of shape \(3, 4, 2\) does not fit x of shape \(2, 3, 4, 5\) \(channels_last\); "
     r"a full-rank bias has shape \(3, 4, 5\)"),
    (lambda: K.switch(np.ones(3, bool), np.ones((2, 3, 4)), np.zeros((2, 3, 4))),
     r"switch: condition of shape \(3,\) .* does not broadcast against then_expression \(2, 3, 4\)"),
    (lambda: K.switch(np.ones((2, 3, 4), bool), np.ones((2, 3)), np.zeros((2, 3))),
     r"switch: the rank of condition \(3"),
    (lambda: K.one_hot(np.array([0, 1]), -1), r"one_hot: num_classes must be a non-negative integer, got -1"),
    (lambda: K.sparse_categorical_crossentropy(np.zeros((2, 3)), np.full((2, 3, 4), 0.25), axis=3),
     r"sparse_categorical_crossentropy: axis 3 is out of range for a tensor of rank 3"),
    (lambda: K.batch_flatten(np.float32(1.0)), r"batch_flatten: x needs a batch axis"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sparse_crossentropy_axis_is_not_wrapped_around():
    # axis=3 of a rank-3 output used to wrap to axis 0 and silently give a loss.
    p = np.full((4, 3, 4), 0.25)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        K.sparse_categorical_crossentropy(np.zeros((3, 4)), p, axis=3)


def test_full_rank_bias_broadcasts_and_channels_first_bias_is_transposed():
    x = np.zeros((2, 3, 4, 5))
    np.testing.assert_array_equal(K.bias_add(x, np.arange(5.0).reshape(1, 1, 5)), x + np.arange(5.0))
    b = np.arange(60.0).reshape(4, 5, 3)  # channels last, as Keras stores it
    np.testing.assert_array_equal(K.bias_add(x, b, data_format="channels_first"),
                                  x + np.transpose(b, (2, 0, 1))[None])
