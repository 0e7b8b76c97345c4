"""seqnet._engine kernels against independent references: activations, Dense,
losses, optimizers, random numbers, dropout and gather_rows against NumPy
float64 formulas, gradients against float64 central differences, losses and
accuracies against the tf-keras fixture, determinism across threads and
instruction sets, and the bindings' argument checks."""
import math
import os

import numpy as np
import pytest

from numeric_helpers import AVAILABLE_ISAS, assert_close, bits, rng
from seqnet import _engine as E

F32 = np.float32
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# ---------------------------------------------------------------------------
# Activations: float64 references
# ---------------------------------------------------------------------------
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def sigmoid_ref(v):
    return np.exp(-np.logaddexp(0.0, -v))


def softmax_ref(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def gelu_ref(v):
    # erfc rather than 1 + erf: the latter cancels to 0 in the negative tail even in float64
    return 0.5 * v * _erfc(-v / math.sqrt(2.0))


# name: (code, float64 reference, points where the derivative (or for elu and
# softsign the second derivative) jumps, which finite differences must not straddle)
ACTIVATIONS = {
    "linear": (0, lambda v: v, ()),
    "relu": (1, lambda v: np.maximum(v, 0.0), (0.0,)),
    "sigmoid": (2, sigmoid_ref, ()),
    "hard_sigmoid": (3, lambda v: np.clip(0.2 * v + 0.5, 0.0, 1.0), (-2.5, 2.5)),
    "tanh": (4, np.tanh, ()),
    "softmax": (5, softmax_ref, ()),
    "softplus": (6, lambda v: np.logaddexp(0.0, v), ()),
    "softsign": (7, lambda v: v / (1.0 + np.abs(v)), (0.0,)),
    "elu": (8, lambda v: np.where(v > 0, v, np.expm1(v)), (0.0,)),
    "selu": (9, lambda v: SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(v)), (0.0,)),
    "exponential": (10, np.exp, ()),
    "swish": (11, lambda v: v * sigmoid_ref(v), ()),
    "gelu": (12, gelu_ref, ()),
}
UNARY = [a for a in ACTIVATIONS if a != "softmax"]
NEEDS_X = ("swish", "gelu")

TINY = np.array([s * 10.0 ** -k for k in (3, 5, 8, 12, 20, 30) for s in (1, -1)])


def wide_inputs():
    """(29, 37) float32 spanning [-20, 20]: a grid plus random points (29*37 = 1073)."""
    x = np.concatenate([np.linspace(-20, 20, 801), rng(1).uniform(-20, 20, 272)])
    return x.astype(F32).reshape(29, 37)


def forward(code, x):
    y = np.full_like(x, np.nan)
    E.activation_forward(code, x, y)
    return y


def forward_rtol(name, x):
    # gelu's tail is exp(-x^2/2): the float32 rounding of x^2/2 (half an ulp) comes
    # out multiplied by x^2/2, so the attainable relative accuracy falls as x^2.
    # Likewise softmax's exp(x - max): the float32 difference's rounding is scaled by it.
    if name == "gelu":
        return 1e-6 + 1.2e-7 * x.astype(np.float64) ** 2
    if name == "softmax":
        return 1e-6 + 1.2e-7 * (x.max(axis=-1, keepdims=True) - x).astype(np.float64)
    return 1e-6


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forward_matches_float64(name, isa):
    code, ref, _ = ACTIVATIONS[name]
    x = wide_inputs()
    want = ref(x.astype(np.float64))
    # hard_sigmoid's 0.2 x + 0.5 cancels near x = -2.5: float32 rounding of 0.2 x
    # is absolute (a few 1e-8), as in Keras' own float32 formula.
    atol = 1e-7 if name == "hard_sigmoid" else 1e-30
    assert_close(forward(code, x), want, forward_rtol(name, x), atol, name)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_forward_tiny_inputs_relative(name, isa):
    """Near 0 each activation keeps relative accuracy (no absolute tolerance)."""
    code, ref, _ = ACTIVATIONS[name]
    x = TINY.astype(F32).reshape(2, 6)
    assert_close(forward(code, x), ref(x.astype(np.float64)), 1e-6, 0.0, name)


def test_softmax_rows_are_independent_and_shift_invariant(isa):
    x = rng(2).uniform(-5, 5, (6, 19)).astype(F32)
    y = forward(5, x)
    shifted = forward(5, (x + np.arange(6, dtype=F32)[:, None] * 10).astype(F32))
    assert_close(y.sum(axis=1), np.ones(6), 1e-6, 0, "row sums")
    assert_close(shifted, y, 1e-5, 1e-7, "shift")
    assert_close(forward(5, x[2:3].copy()), y[2:3], 0, 0, "one row alone")


def test_activations_agree_across_isas(restore_isa):
    x = wide_inputs()
    for name in ACTIVATIONS:
        code = ACTIVATIONS[name][0]
        outs = []
        for which in AVAILABLE_ISAS:
            E.set_isa(which)
            y = forward(code, x)
            dx = np.empty_like(x)
            E.activation_backward(code, x, y, np.ones_like(x), dx)
            outs.append((y, dx))
        for y, dx in outs[1:]:
            assert_close(y, outs[0][0], forward_rtol(name, x), 1e-30, name)
            assert_close(dx, outs[0][1], 1e-6, 1e-7, name + " backward")


def derivative_fd(ref, kinks, x):
    """f'(x) by float64 central differences, with steps that never cross a kink."""
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    for k in kinks:
        h = np.minimum(h, 0.5 * np.abs(x - k))
    return (ref(x + h) - ref(x - h)) / (2 * h)


@pytest.mark.parametrize("name", UNARY)
def test_activation_backward_matches_finite_differences(name, isa):
    code, ref, kinks = ACTIVATIONS[name]
    x = np.concatenate([wide_inputs().ravel(), TINY.astype(F32)])
    for k in kinks:  # keep off the kinks themselves, where the derivative is a convention
        x = x[np.abs(x - k) > 1e-6 * max(1.0, abs(k))]
    dy = rng(3).uniform(0.5, 1.5, x.shape).astype(F32) * np.where(np.arange(x.size) % 3, 1, -1).astype(F32)
    y = forward(code, x)
    dx = np.full_like(x, np.nan)
    E.activation_backward(code, x, y, dy, dx)
    want = derivative_fd(ref, kinks, x.astype(np.float64)) * dy
    # The gradient comes from the float32 output y (e.g. sigmoid's y (1 - y), elu's
    # y + 1), which cancels where f' is tiny: an absolute error of a few ulp of 1.
    assert_close(dx, want, 1e-5, 4e-7 * np.abs(dy), name)
    if name not in NEEDS_X:  # x is optional: the same bits without it
        dx2 = np.full_like(x, np.nan)
        E.activation_backward(code, None, y, dy, dx2)
        np.testing.assert_array_equal(bits(dx2), bits(dx))


def test_activation_backward_needs_x_for_swish_and_gelu():
    x = np.linspace(-2, 2, 8).astype(F32)
    for name in NEEDS_X:
        code = ACTIVATIONS[name][0]
        y = forward(code, x)
        with pytest.raises(ValueError, match="needs x"):
            E.activation_backward(code, None, y, np.ones_like(x), np.empty_like(x))


def test_softmax_backward_is_the_jacobian_vector_product(isa):
    x = rng(4).uniform(-6, 6, (7, 13)).astype(F32)
    x[0] = np.linspace(-20, 20, 13)
    dy = rng(5).standard_normal(x.shape).astype(F32)
    y = forward(5, x)
    dx = np.full_like(x, np.nan)
    E.activation_backward(5, None, y, dy, dx)
    xd, h = x.astype(np.float64), 1e-6
    want = np.zeros_like(xd)
    for r in range(x.shape[0]):
        for k in range(x.shape[1]):  # column k of the Jacobian, dotted with dy
            e = np.zeros(x.shape[1])
            e[k] = h
            col = (softmax_ref(xd[r] + e) - softmax_ref(xd[r] - e)) / (2 * h)
            want[r, k] = col @ dy[r]
    assert_close(dx, want, 1e-5, 1e-7 * np.abs(dy).max(), "softmax backward")


@pytest.mark.parametrize("name", ["relu", "tanh", "softmax", "gelu", "elu"])
def test_activation_in_place(name):
    """activation.h allows y aliasing x and dx aliasing dy."""
    code = ACTIVATIONS[name][0]
    x = wide_inputs()
    y = forward(code, x)
    inplace = x.copy()
    E.activation_forward(code, inplace, inplace)
    np.testing.assert_array_equal(bits(inplace), bits(y))
    dy = rng(6).standard_normal(x.shape).astype(F32)
    dx = np.empty_like(x)
    E.activation_backward(code, x, y, dy, dx)
    E.activation_backward(code, x, y, dy, dy)
    np.testing.assert_array_equal(bits(dy), bits(dx))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_large_arrays_thread_independent(name, restore_threads):
    """Above 65536 elements the work is split over threads; each value must not
    depend on the split: same bits for 1 and 2 threads and as small calls."""
    code = ACTIVATIONS[name][0]
    x = rng(7).uniform(-8, 8, (301, 257)).astype(F32)  # 77357 elements
    dy = rng(8).standard_normal(x.shape).astype(F32)
    results = []
    for n in (1, 2):
        E.set_num_threads(n)
        y = forward(code, x)
        dx = np.empty_like(x)
        E.activation_backward(code, x, y, dy, dx)
        results.append((y, dx))
    for a, b in zip(results[0], results[1]):
        np.testing.assert_array_equal(bits(a), bits(b))
    rows = slice(150, 153)
    small = forward(code, x[rows].copy())
    np.testing.assert_array_equal(bits(small), bits(results[0][0][rows]))


# ---------------------------------------------------------------------------
# Dense
# ---------------------------------------------------------------------------
def dense_ref(x, w, b, name):
    z = x @ w + (0 if b is None else b)
    return z, ACTIVATIONS[name][1](z)


def dense_case(seed, x_shape=(6, 11), out=9):
    r = rng(seed)
    x = r.uniform(-1, 1, x_shape).astype(F32)
    w = r.uniform(-0.5, 0.5, (x_shape[-1], out)).astype(F32)
    b = r.uniform(-0.5, 0.5, out).astype(F32)
    return x, w, b


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_dense_forward(name):
    code = ACTIVATIONS[name][0]
    x, w, b = dense_case(10)
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    for bias in (b, None):
        z_want, y_want = dense_ref(x64, w64, None if bias is None else b64, name)
        y = np.full((6, 9), np.nan, F32)
        E.dense_forward(x, w, bias, None, y, code)
        assert_close(y, y_want, 1e-5, 1e-6, name)
        z, y2 = np.full_like(y, np.nan), np.full_like(y, np.nan)
        E.dense_forward(x, w, bias, z, y2, code)
        assert_close(z, z_want, 1e-5, 1e-6, name + " z")
        assert_close(y2, y_want, 1e-5, 1e-6, name + " y (keeping z)")


@pytest.mark.parametrize("name", ["relu", "softmax", "linear"])
def test_dense_forward_3d_applies_to_last_axis(name):
    code = ACTIVATIONS[name][0]
    x, w, b = dense_case(11, (3, 4, 11), 5)
    _, want = dense_ref(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), name)
    y = np.full((3, 4, 5), np.nan, F32)
    E.dense_forward(x, w, b, None, y, code)
    assert_close(y, want, 1e-5, 1e-6, name)


@pytest.mark.parametrize("name", ["tanh", "softmax", "gelu"])
def test_dense_large_several_k_blocks_and_threads(name, restore_threads):
    """in = 700 spans more than one K block of the GEMM (the activation epilogue must
    see finished sums), and the result is bit-identical for 1 and 2 threads."""
    code = ACTIVATIONS[name][0]
    x, w, b = dense_case(17, (70, 700), 300)
    w *= F32(0.2)
    _, want = dense_ref(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), name)
    dy = rng(18).standard_normal((70, 300)).astype(F32)
    outs = []
    for threads in (1, 2):
        E.set_num_threads(threads)
        z, y = np.empty((70, 300), F32), np.empty((70, 300), F32)
        E.dense_forward(x, w, b, z, y, code)
        y_fused = np.empty_like(y)
        E.dense_forward(x, w, b, None, y_fused, code)
        dz = dy.copy()
        dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
        E.dense_backward(x, w, z, y, dz, dx, dw, db, code, False)
        outs.append((y, y_fused, dz, dx, dw, db))
    y, y_fused, dz, dx, dw, db = outs[0]
    assert_close(y, want, 1e-5, 1e-5, name)
    assert_close(y_fused, want, 1e-5, 1e-5, name + " fused epilogue")
    # the products, against NumPy float64 on the kernel's own dL/dz
    dz64 = dz.astype(np.float64)
    assert_close(dw, x.astype(np.float64).T @ dz64, 1e-5, 1e-5, name + " dkernel")
    assert_close(dx, dz64 @ w.astype(np.float64).T, 1e-5, 1e-5, name + " dx")
    assert_close(db, dz64.sum(axis=0), 1e-5, 1e-5, name + " dbias")
    for a, b_ in zip(*outs):
        np.testing.assert_array_equal(bits(a), bits(b_))


def test_dense_forward_matches_keras_fixture():
    d = np.load(os.path.join(FIXTURES, "activations.npz"))
    for name in ACTIVATIONS:
        y = np.empty_like(d[name + "_predict"])
        E.dense_forward(d["x"], d[name + "_kernel"], d[name + "_bias"], None, y, ACTIVATIONS[name][0])
        assert_close(y, d[name + "_predict"], 1e-5, 1e-6, name)
    y = np.empty_like(d["dense3d_predict"])
    E.dense_forward(d["dense3d_x"], d["dense3d_kernel"], d["dense3d_bias"], None, y, 1)
    assert_close(y, d["dense3d_predict"], 1e-5, 1e-6, "dense3d")


def numeric_grad(loss, arrays, h=1e-6):
    """d loss(*arrays) / d each array, by float64 central differences."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + h
            plus = loss(*arrays)
            a[i] = keep - h
            minus = loss(*arrays)
            a[i] = keep
            g[i] = (plus - minus) / (2 * h)
        grads.append(g)
    return grads


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("x_shape", [(6, 11), (2, 3, 11)])
def test_dense_backward_matches_finite_differences(name, x_shape):
    code = ACTIVATIONS[name][0]
    x, w, b = dense_case(12, x_shape)
    out_shape = x_shape[:-1] + (9,)
    R = rng(13).standard_normal(out_shape).astype(F32)
    z, y = np.empty(out_shape, F32), np.empty(out_shape, F32)
    E.dense_forward(x, w, b, z, y, code)

    def loss(x64, w64, b64):
        return np.sum(dense_ref(x64, w64, b64, name)[1] * R)

    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    dx_want, dw_want, db_want = numeric_grad(loss, [x64, w64, b64])
    # dL/dz, elementwise through the activation (the full product for softmax)
    dz_want = numeric_grad(lambda z64: np.sum(ACTIVATIONS[name][1](z64) * R), [z.astype(np.float64)])[0]

    dy = R.copy()
    dx, dw, db = (np.full(a.shape, np.nan, F32) for a in (x, w, b))
    E.dense_backward(x, w, z, y, dy, dx, dw, db, code, False)
    assert_close(dx, dx_want, 1e-4, 1e-5, name + " dx")
    assert_close(dw, dw_want, 1e-4, 1e-5, name + " dkernel")
    assert_close(db, db_want, 1e-4, 1e-5, name + " dbias")
    assert_close(dy, dz_want, 1e-4, 1e-5, name + " dy overwritten with dL/dz")

    # without dx (the first layer) and without db: the same bits for the rest
    dy2 = R.copy()
    dw2 = np.full_like(dw, np.nan)
    E.dense_backward(x, w, z, y, dy2, None, dw2, None, code, False)
    np.testing.assert_array_equal(bits(dw2), bits(dw))
    np.testing.assert_array_equal(bits(dy2), bits(dy))


def test_dense_backward_preactivation_gradient():
    """dy_is_preactivation: dy already is dL/dz (a fused loss), the activation is skipped."""
    x, w, b = dense_case(14)
    G = rng(15).standard_normal((6, 9)).astype(F32)
    z, y = np.empty((6, 9), F32), np.empty((6, 9), F32)
    E.dense_forward(x, w, b, z, y, ACTIVATIONS["sigmoid"][0])
    x64, w64, b64 = (a.astype(np.float64) for a in (x, w, b))
    dx_want, dw_want, db_want = numeric_grad(lambda a, c, d: np.sum((a @ c + d) * G), [x64, w64, b64])
    dy = G.copy()
    dx, dw, db = (np.full(a.shape, np.nan, F32) for a in (x, w, b))
    E.dense_backward(x, w, None, y, dy, dx, dw, db, ACTIVATIONS["sigmoid"][0], True)
    assert_close(dx, dx_want, 1e-4, 1e-5, "dx")
    assert_close(dw, dw_want, 1e-4, 1e-5, "dkernel")
    assert_close(db, db_want, 1e-4, 1e-5, "dbias")
    np.testing.assert_array_equal(dy, G)


def test_dense_backward_needs_z_for_gelu():
    x, w, b = dense_case(16)
    y = np.empty((6, 9), F32)
    E.dense_forward(x, w, b, None, y, 12)
    with pytest.raises(ValueError, match="pre-activation z"):
        E.dense_backward(x, w, None, y, np.ones_like(y), None, np.empty_like(w), None, 12, False)


# ---------------------------------------------------------------------------
# Losses: tf-keras formulas in float64
# ---------------------------------------------------------------------------
EPS = 1e-7
CCE, SCCE, BCE, MSE, MAE = range(5)
# tf-keras clips in float32: the bounds are float32(1e-7) and float32(1 - 1e-7) = 1 - 2^-23
CLIP_LO, CLIP_HI = float(F32(EPS)), float(F32(1) - F32(EPS))


def clip(p):
    return np.clip(p, CLIP_LO, CLIP_HI)


def logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def per_sample_ref(code, y, p, z=None):
    """Row losses L_i as tf-keras computes them on probabilities p, or on logits z."""
    if code == CCE:
        if z is not None:
            return np.sum(y * (logsumexp(z)[:, None] - z), axis=-1)
        q = p / p.sum(axis=-1, keepdims=True)
        return -np.sum(y * np.log(clip(q)), axis=-1)
    if code == SCCE:
        rows, lab = np.arange(len(y)), y.astype(np.int64)
        if z is not None:
            return logsumexp(z) - z[rows, lab]
        c = clip(p)
        return np.log(c.sum(axis=-1)) - np.log(c[rows, lab])
    if code == BCE:
        if z is not None:
            return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=-1)
        c = clip(p)
        return -np.mean(y * np.log(c + EPS) + (1 - y) * np.log(1 - c + EPS), axis=-1)
    if code == MSE:
        return np.mean((p - y) ** 2, axis=-1)
    return np.mean(np.abs(p - y), axis=-1)


def weighted_mean(per_sample, w):
    """Keras 2: sum w_i L_i / count(w_i != 0) (plain mean without weights)."""
    if w is None:
        return per_sample.mean()
    nonzero = np.count_nonzero(w)
    return np.sum(w * per_sample) / nonzero if nonzero else 0.0


def loss_case(code, seed, rows=7, cols=5):
    """(y_true, y_pred, logits) float32, kept off the clip boundaries and |d| = 0."""
    r = rng(seed)
    z = r.normal(0, 1.5, (rows, cols)).astype(F32)
    if code in (CCE, SCCE):
        p = softmax_ref(z.astype(np.float64)).astype(F32)
        if code == CCE:
            y = r.uniform(0, 1, (rows, cols))  # soft targets, rows not summing to 1
            y[:3] = np.eye(cols)[r.integers(0, cols, 3)]
        else:
            y = r.integers(0, cols, rows)
    elif code == BCE:
        p = sigmoid_ref(z.astype(np.float64)).astype(F32)
        y = (r.uniform(size=(rows, cols)) < 0.5).astype(np.float64)
        y[0] = r.uniform(0, 1, cols)  # soft targets too
    else:
        y = r.standard_normal((rows, cols))
        d = r.standard_normal((rows, cols))
        p = y + np.where(np.abs(d) < 0.01, 0.01, d)
        z = None
    return y.astype(F32), p.astype(F32), z


WEIGHTS = {
    "unweighted": None,
    "weighted": np.array([0.5, 0.0, 2.0, 1.0, 0.0, 3.0, 0.25], F32),
}
LOSS_PATHS = [(c, False) for c in range(5)] + [(c, True) for c in (CCE, SCCE, BCE)]


@pytest.mark.parametrize("weights", list(WEIGHTS))
@pytest.mark.parametrize("code,fused", LOSS_PATHS)
def test_loss_value_and_gradient(code, fused, weights):
    y, p, z = loss_case(code, 20 + code)
    w = WEIGHTS[weights]
    logits = z if fused else None
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    z64 = z.astype(np.float64) if fused else None

    grad = np.full_like(p, np.nan)
    per = np.full(len(p), np.nan, F32)
    value = E.loss(code, y, p, logits, w, grad, per)

    want_per = per_sample_ref(code, y64, p64, z64)
    assert_close(per, want_per, 2e-6, 1e-7, "per_sample")
    assert_close(value, weighted_mean(want_per, w), 2e-6, 1e-7, "batch loss")
    assert E.loss(code, y, p, logits, w, None, None) == value

    if fused:  # d/dlogits, through softmax or sigmoid
        def batch(z_):
            return weighted_mean(per_sample_ref(code, y64, None, z_), w)
        want = numeric_grad(batch, [z64.copy()])[0]
    else:
        def batch(p_):
            return weighted_mean(per_sample_ref(code, y64, p_), w)
        want = numeric_grad(batch, [p64.copy()])[0]
    assert_close(grad, want, 1e-4, 1e-6, "grad")


@pytest.mark.parametrize("code,fused", LOSS_PATHS)
def test_loss_all_zero_weights(code, fused):
    y, p, z = loss_case(code, 30 + code)
    grad = np.full_like(p, np.nan)
    assert E.loss(code, y, p, z if fused else None, np.zeros(len(p), F32), grad, None) == 0.0
    np.testing.assert_array_equal(grad, 0.0)


def test_fused_logits_exact_where_probabilities_saturate():
    """tf-keras on a sigmoid output uses the logits: logit 30 with label 0 costs 30,
    and the gradient is (p - y) / rows, not the clipped 0."""
    z = np.array([[30.0], [-30.0]], F32)
    p = sigmoid_ref(z.astype(np.float64)).astype(F32)
    y = np.array([[0.0], [0.0]], F32)
    grad = np.empty_like(p)
    value = E.loss(BCE, y, p, z, None, grad, None)
    assert_close(value, (30.0 + np.log1p(np.exp(-30.0)) + np.log1p(np.exp(-30.0))) / 2, 1e-6, 0, "value")
    assert_close(grad, (p.astype(np.float64) - y) / 2, 1e-6, 1e-12, "grad")


def test_sparse_labels_must_be_class_indices():
    p = np.full((3, 4), 0.25, F32)
    for bad in (4.0, -1.0, 1.5, np.nan):
        with pytest.raises(ValueError, match="sparse label"):
            E.loss(SCCE, np.array([0.0, bad, 1.0], F32), p, None, None, None, None)
    with pytest.raises(ValueError, match="one entry per row"):
        E.loss(SCCE, np.zeros(4, F32), p, None, None, None, None)


LOSS_FIXTURE = {  # fixture key: (code, y_true key, y_pred key)
    "categorical_crossentropy": (CCE, "cat_true", "cat_pred"),
    "sparse_categorical_crossentropy": (SCCE, "cat_labels", "cat_pred"),
    "binary_crossentropy": (BCE, "bin_true", "bin_pred"),
    "mean_squared_error": (MSE, "reg_true", "reg_pred"),
    "mean_absolute_error": (MAE, "reg_true", "reg_pred"),
}


@pytest.fixture(scope="module")
def losses_npz():
    return np.load(os.path.join(FIXTURES, "losses.npz"))


@pytest.mark.parametrize("name", list(LOSS_FIXTURE))
def test_losses_match_tf_keras(name, losses_npz):
    """Including the saturated rows (clipping, p rounding to 1, ties)."""
    d = losses_npz
    code, kt, kp = LOSS_FIXTURE[name]
    y, p = d[kt].astype(F32), d[kp]
    grad, per = np.full_like(p, np.nan), np.full(len(p), np.nan, F32)
    value = E.loss(code, y, p, None, None, grad, per)
    assert_close(per, d[name], 1e-6, 1e-7, name)
    assert_close(value, d[name].astype(np.float64).mean(), 1e-6, 1e-7, name + " batch")
    assert_close(grad, d[name + "_grad"], 1e-6, 1e-7, name + " grad")
    # the same formulas in float64 give the same numbers (the reference above is tf-keras')
    assert_close(per_sample_ref(code, y.astype(np.float64), p.astype(np.float64)), d[name], 1e-5, 1e-6,
                 name + " float64 reference")


def test_binary_crossentropy_is_tf_keras_not_keras224(losses_npz):
    """bce_keras224 (no second epsilon) agrees in the middle and differs near 0/1 (row 0)."""
    d = losses_npz
    per = np.empty(8, F32)
    E.loss(BCE, d["bin_true"], d["bin_pred"], None, None, None, per)
    assert_close(per[1:], d["bce_keras224"][1:], 2e-5, 1e-6, "unsaturated rows")
    assert abs(per[0] - d["bce_keras224"][0]) > 0.1
    assert_close(per[0], d["binary_crossentropy"][0], 1e-6, 0, "row 0")


@pytest.mark.parametrize("kind,name,kt,kp", [
    (0, "binary_accuracy", "bin_true", "bin_pred"),
    (1, "categorical_accuracy", "cat_true", "cat_pred"),
    (2, "sparse_categorical_accuracy", "cat_labels", "cat_pred"),
])
def test_accuracy_matches_tf_keras(kind, name, kt, kp, losses_npz):
    d = losses_npz
    y, p = d[kt].astype(F32), d[kp]
    want = d[name].astype(np.float64)
    assert_close(E.accuracy_sum(kind, y, p, 0.5), want.sum(), 1e-6, 0, name)
    rows = [E.accuracy_sum(kind, y[i:i + 1], p[i:i + 1], 0.5) for i in range(len(p))]
    assert_close(rows, want, 1e-6, 0, name + " per row")


def test_accuracy_threshold_and_ties():
    y = np.array([[1.0, 0.0, 1.0, 0.0]], F32)
    p = np.array([[0.7, 0.7, 0.5, 0.2]], F32)
    assert E.accuracy_sum(0, y, p, 0.5) == 0.5   # 0.5 is not > 0.5
    assert E.accuracy_sum(0, y, p, 0.6) == 0.5
    assert E.accuracy_sum(0, y, p, 0.1) == 0.5
    assert E.accuracy_sum(0, y, p, 0.8) == 0.5
    assert E.accuracy_sum(0, y, p, 0.45) == 0.75
    ties = np.array([[0.4, 0.4, 0.2], [0.1, 0.45, 0.45]], F32)
    assert E.accuracy_sum(2, np.array([0.0, 1.0], F32), ties) == 2.0  # first maximum wins
    assert E.accuracy_sum(1, np.eye(3, dtype=F32)[[1, 2]], ties) == 0.0


# ---------------------------------------------------------------------------
# Optimizers (tf_keras.optimizers.legacy rules) against float64
# ---------------------------------------------------------------------------
def sgd_ref(p, g, v, lr, momentum, nesterov):
    if v is None:
        return p - lr * g, None
    v = momentum * v - lr * g
    return (p + momentum * v - lr * g if nesterov else p + v), v


def rmsprop_ref(p, g, a, mom, mg, lr, rho, momentum, eps):
    a = rho * a + (1 - rho) * g * g
    if mg is not None:
        mg = rho * mg + (1 - rho) * g
    denom = a - mg * mg if mg is not None else a
    if mom is None:
        return p - lr * g / (np.sqrt(denom) + eps), a, None, mg
    mom = momentum * mom + lr * g / np.sqrt(denom + eps)
    return p - mom, a, mom, mg


SIZES = [37, 70001]  # neither a multiple of 8 or 16; the second takes the threaded path
SGD_VARIANTS = {"plain": (0.0, False, False), "momentum": (0.9, False, True), "nesterov": (0.9, True, True)}
RMS_VARIANTS = {"plain": (False, False), "momentum": (True, False), "centered": (False, True),
                "centered_momentum": (True, True)}


def steps_of_grads(n, steps=5, seed=40):
    r = rng(seed)
    return [r.standard_normal(n).astype(F32) for _ in range(steps)]


def run_sgd(n, variant, lr=0.05):
    momentum, nesterov, has_v = SGD_VARIANTS[variant]
    p = rng(41).standard_normal(n).astype(F32)
    v = np.zeros(n, F32) if has_v else None
    for g in steps_of_grads(n):
        E.sgd_update(p, g, v, lr, momentum, nesterov)
    return p, v


def run_rmsprop(n, variant, lr=0.01, rho=0.9, momentum=0.8, eps=1e-7):
    has_mom, centered = RMS_VARIANTS[variant]
    p = rng(42).standard_normal(n).astype(F32)
    a = np.zeros(n, F32)
    mom = np.zeros(n, F32) if has_mom else None
    mg = np.zeros(n, F32) if centered else None
    for g in steps_of_grads(n):
        E.rmsprop_update(p, g, a, mom, mg, lr, rho, momentum if has_mom else 0.0, eps)
    return p, a, mom, mg


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("variant", list(SGD_VARIANTS))
def test_sgd_update(variant, n, isa):
    momentum, nesterov, has_v = SGD_VARIANTS[variant]
    p, v = run_sgd(n, variant)
    p64 = rng(41).standard_normal(n).astype(F32).astype(np.float64)
    v64 = np.zeros(n) if has_v else None
    for g in steps_of_grads(n):
        p64, v64 = sgd_ref(p64, g.astype(np.float64), v64, np.float64(F32(0.05)), np.float64(F32(momentum)), nesterov)
    assert_close(p, p64, 1e-6, 1e-6, "params")
    if has_v:
        assert_close(v, v64, 1e-5, 1e-7, "moments")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("variant", list(RMS_VARIANTS))
def test_rmsprop_update(variant, n, isa):
    has_mom, centered = RMS_VARIANTS[variant]
    p, a, mom, mg = run_rmsprop(n, variant)
    p64 = rng(42).standard_normal(n).astype(F32).astype(np.float64)
    a64 = np.zeros(n)
    mom64 = np.zeros(n) if has_mom else None
    mg64 = np.zeros(n) if centered else None
    lr, rho, momentum, eps = (np.float64(F32(v)) for v in (0.01, 0.9, 0.8, 1e-7))
    for g in steps_of_grads(n):
        p64, a64, mom64, mg64 = rmsprop_ref(p64, g.astype(np.float64), a64, mom64, mg64, lr, rho, momentum, eps)
    assert_close(p, p64, 1e-5, 1e-6, "params")
    assert_close(a, a64, 1e-5, 1e-12, "accumulators")
    if has_mom:
        assert_close(mom, mom64, 1e-4, 1e-7, "moments")
    if centered:
        assert_close(mg, mg64, 1e-5, 1e-7, "mean_grads")


def test_rmsprop_epsilon_placement():
    """Legacy tf-keras: eps outside the root without momentum, inside with it."""
    p, g, a = np.ones(1, F32), np.full(1, 0.5, F32), np.zeros(1, F32)
    E.rmsprop_update(p, g, a, None, None, 0.1, 0.5, 0.0, 1.0)
    assert_close(p[0], 1 - 0.1 * 0.5 / (math.sqrt(0.125) + 1.0), 1e-6, 0, "eps outside")
    p, a, mom = np.ones(1, F32), np.zeros(1, F32), np.zeros(1, F32)
    E.rmsprop_update(p, g, a, mom, None, 0.1, 0.5, 0.5, 1.0)
    assert_close(p[0], 1 - 0.1 * 0.5 / math.sqrt(0.125 + 1.0), 1e-6, 0, "eps inside")


@pytest.mark.parametrize("variant", list(SGD_VARIANTS))
def test_sgd_bit_identical_for_1_and_2_threads(variant, restore_threads):
    outs = []
    for n in (1, 2):
        E.set_num_threads(n)
        outs.append(run_sgd(70001, variant))
    for a, b in zip(*outs):
        if a is not None:
            np.testing.assert_array_equal(bits(a), bits(b))


@pytest.mark.parametrize("variant", list(RMS_VARIANTS))
def test_rmsprop_bit_identical_for_1_and_2_threads(variant, restore_threads):
    outs = []
    for n in (1, 2):
        E.set_num_threads(n)
        outs.append(run_rmsprop(70001, variant))
    for a, b in zip(*outs):
        if a is not None:
            np.testing.assert_array_equal(bits(a), bits(b))


# ---------------------------------------------------------------------------
# Random numbers and dropout
# ---------------------------------------------------------------------------
FILLS = {"uniform": E.random_uniform, "normal": E.random_normal, "truncated_normal": E.random_truncated_normal}


def draw(kind, n, a, b, key, stream):
    out = np.full(n, np.nan, F32)
    FILLS[kind](out, a, b, key, stream)
    return out


@pytest.mark.parametrize("kind", list(FILLS))
def test_random_is_a_function_of_key_stream_and_position(kind, restore_threads):
    n = 70001
    E.set_num_threads(1)
    one = draw(kind, n, 0.0, 1.0, 123, 7)
    E.set_num_threads(2)
    two = draw(kind, n, 0.0, 1.0, 123, 7)
    np.testing.assert_array_equal(bits(one), bits(two))
    np.testing.assert_array_equal(bits(draw(kind, n, 0.0, 1.0, 123, 7)), bits(two))
    for m in (1, 5, 4097, 65535):  # element i does not depend on the array's size
        np.testing.assert_array_equal(bits(draw(kind, m, 0.0, 1.0, 123, 7)), bits(one[:m]))
    for key, stream in ((124, 7), (123, 8), (123 + (1 << 32), 7), (123, 7 + (1 << 32)), (7, 123)):
        other = draw(kind, 1000, 0.0, 1.0, key, stream)
        assert np.mean(other == one[:1000]) < 0.01, (key, stream)
    assert len(np.unique(one)) > 0.99 * n


def test_random_2d_output_in_flat_order():
    flat = draw("normal", 60, 0.0, 1.0, 5, 6)
    out = np.empty((6, 10), F32)
    E.random_normal(out, 0.0, 1.0, 5, 6)
    np.testing.assert_array_equal(bits(out.ravel()), bits(flat))


def check_moments(x, mean, std):
    n = x.size
    x = x.astype(np.float64)
    assert abs(x.mean() - mean) < 4 * std / math.sqrt(n), (x.mean(), mean)
    # standard error of the sample variance ~ std^2 sqrt(2 / n) (for these near-normal shapes)
    assert abs(x.var() - std ** 2) < 5 * std ** 2 * math.sqrt(2.0 / n), (x.std(), std)


def test_random_uniform_distribution():
    x = draw("uniform", 100000, -2.0, 3.0, 11, 0)
    assert x.min() >= -2.0 and x.max() < 3.0
    check_moments(x, 0.5, 5.0 / math.sqrt(12))
    counts = np.histogram(x, bins=20, range=(-2, 3))[0]
    chi2 = np.sum((counts - 5000.0) ** 2 / 5000.0)
    assert chi2 < 50, chi2  # 19 degrees of freedom: p ~ 1e-4
    lag = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert abs(lag) < 0.015


def test_random_normal_distribution():
    x = draw("normal", 100000, 1.5, 2.0, 12, 3)
    check_moments(x, 1.5, 2.0)
    s = (x.astype(np.float64) - 1.5) / 2.0
    within1 = np.mean(np.abs(s) < 1.0)
    assert abs(within1 - 0.682689) < 4 * math.sqrt(0.68 * 0.32 / x.size)
    for lag in (1, 2):  # Box-Muller pairs are independent
        assert abs(np.corrcoef(s[:-lag], s[lag:])[0, 1]) < 0.015
        assert abs(np.corrcoef(s[:-lag] ** 2, s[lag:] ** 2)[0, 1]) < 0.015


def test_random_truncated_normal_distribution():
    mean, std = -0.5, 0.3
    x = draw("truncated_normal", 100000, mean, std, 13, 4)
    assert x.min() >= mean - 2 * std - 1e-6 and x.max() <= mean + 2 * std + 1e-6
    # a standard normal truncated to [-2, 2]: variance 1 - 2*2*phi(2) / (2 Phi(2) - 1)
    phi2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    var = 1 - 4 * phi2 / math.erf(2 / math.sqrt(2))
    check_moments(x, mean, std * math.sqrt(var))
    s = (x.astype(np.float64) - mean) / std
    assert np.mean(np.abs(s) > 1.9) > 0.005  # the tails up to the cut are populated


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 0.9])
def test_dropout(rate, restore_threads):
    n = 100003
    x = rng(50).standard_normal(n).astype(F32)
    outs = []
    for threads in (1, 2):
        E.set_num_threads(threads)
        y, mask = np.full(n, np.nan, F32), np.full(n, 7, np.uint8)
        E.dropout_forward(x, y, mask, rate, 99, 5)
        outs.append((y, mask))
    (y, mask), (y2, mask2) = outs
    np.testing.assert_array_equal(bits(y), bits(y2))
    np.testing.assert_array_equal(mask, mask2)
    assert set(np.unique(mask)) <= {0, 1}
    keep = mask.astype(bool)
    assert abs(keep.mean() - (1 - rate)) < 4 * math.sqrt(rate * (1 - rate) / n) + 1e-12
    scale = F32(1) / (F32(1) - F32(rate))
    assert_close(y[keep], x[keep].astype(np.float64) / (1 - rate), 1e-6, 0, "kept")
    np.testing.assert_array_equal(y[~keep], 0.0)
    np.testing.assert_array_equal(y[keep], x[keep] * scale)
    # another key or stream gives another mask (rate 0 keeps everything)
    y3, mask3 = np.empty(n, F32), np.empty(n, np.uint8)
    E.dropout_forward(x, y3, mask3, rate, 99, 6)
    if 0 < rate:
        assert np.mean(mask3 != mask) > 0.5 * 2 * rate * (1 - rate)
    # backward: dx = dy * mask / (1 - rate), also in place
    dy = rng(51).standard_normal(n).astype(F32)
    dx = np.full(n, np.nan, F32)
    E.dropout_backward(dy, mask, dx, rate)
    np.testing.assert_array_equal(dx, np.where(keep, dy * scale, F32(0)))
    E.dropout_backward(dy, mask, dy, rate)
    np.testing.assert_array_equal(bits(dy), bits(dx))


def test_dropout_prefix_independent_of_size():
    x = rng(52).standard_normal(1000).astype(F32)
    y, m = np.empty(1000, F32), np.empty(1000, np.uint8)
    E.dropout_forward(x, y, m, 0.3, 1, 2)
    for k in (1, 3, 5, 13):
        yk, mk = np.empty(k, F32), np.empty(k, np.uint8)
        E.dropout_forward(x[:k].copy(), yk, mk, 0.3, 1, 2)
        np.testing.assert_array_equal(mk, m[:k])


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan")])
def test_dropout_rate_outside_range_raises(rate):
    x = np.ones(10, F32)
    with pytest.raises(ValueError, match="rate"):
        E.dropout_forward(x, np.empty_like(x), np.empty(10, np.uint8), rate, 0, 0)
    with pytest.raises(ValueError, match="rate"):
        E.dropout_backward(x, np.ones(10, np.uint8), np.empty_like(x), rate)


# ---------------------------------------------------------------------------
# gather_rows
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape,n", [((10, 7), 25), ((5, 3, 4), 5), ((1000, 300), 1000), ((4, 2), 0)])
def test_gather_rows(shape, n, restore_threads):
    src = rng(60).standard_normal(shape).astype(F32)
    index = rng(61).integers(0, shape[0], n).astype(np.int64)
    for threads in (1, 2):
        E.set_num_threads(threads)
        dst = np.full((n,) + shape[1:], np.nan, F32)
        E.gather_rows(src, index, dst)
        np.testing.assert_array_equal(dst, src[index])


@pytest.mark.parametrize("bad", [-1, 10, 1 << 40])
def test_gather_rows_out_of_range(bad):
    src = rng(62).standard_normal((10, 4)).astype(F32)
    index = np.array([0, 3, bad, 9], np.int64)
    dst = np.full((4, 4), -7.0, F32)
    with pytest.raises(ValueError, match="outside"):
        E.gather_rows(src, index, dst)
    np.testing.assert_array_equal(dst, -7.0)


# ---------------------------------------------------------------------------
# Bindings reject bad input with a ValueError naming the argument
# ---------------------------------------------------------------------------
def f32(*shape):
    return np.zeros(shape, F32)


def readonly(a):
    a.setflags(write=False)
    return a


def noncontig(*shape):
    return np.zeros(shape[:-1] + (2 * shape[-1],), F32)[..., ::2]


BAD_CALLS = {
    "act dtype": (lambda: E.activation_forward(1, np.zeros((2, 3)), f32(2, 3)), "activation_forward: x.*float32"),
    "act noncontig": (lambda: E.activation_forward(1, noncontig(2, 3), f32(2, 3)), "activation_forward: x.*non-contiguous"),
    "act shape": (lambda: E.activation_forward(1, f32(2, 3), f32(3, 2)), "activation_forward: y.*shape"),
    "act readonly": (lambda: E.activation_forward(1, f32(2, 3), readonly(f32(2, 3))), "activation_forward: y is read-only"),
    "act code": (lambda: E.activation_forward(13, f32(2, 3), f32(2, 3)), "unknown activation code 13"),
    "act negative code": (lambda: E.activation_forward(-1, f32(2, 3), f32(2, 3)), "unknown activation code -1"),
    "act bwd dx": (lambda: E.activation_backward(1, None, f32(2, 3), f32(2, 3), f32(2, 4)), "activation_backward: dx.*shape"),
    "act bwd dy dtype": (lambda: E.activation_backward(1, None, f32(2, 3), np.zeros((2, 3)), f32(2, 3)), "activation_backward: dy"),
    "act bwd x shape": (lambda: E.activation_backward(11, f32(3, 3), f32(2, 3), f32(2, 3), f32(2, 3)), "activation_backward: x"),
    "dense kernel dtype": (lambda: E.dense_forward(f32(2, 3), np.zeros((3, 4)), None, None, f32(2, 4), 0), "dense_forward: kernel"),
    "dense kernel 1-D": (lambda: E.dense_forward(f32(2, 3), f32(3), None, None, f32(2, 4), 0), "kernel must be 2-D"),
    "dense in mismatch": (lambda: E.dense_forward(f32(2, 5), f32(3, 4), None, None, f32(2, 4), 0), "dense_forward: input's last axis"),
    "dense out mismatch": (lambda: E.dense_forward(f32(2, 3), f32(3, 4), None, None, f32(2, 5), 0), "dense_forward: output"),
    "dense bias": (lambda: E.dense_forward(f32(2, 3), f32(3, 4), f32(5), None, f32(2, 4), 0), "dense_forward: bias"),
    "dense z": (lambda: E.dense_forward(f32(2, 3), f32(3, 4), None, f32(2, 5), f32(2, 4), 0), "dense_forward: z"),
    "dense y readonly": (lambda: E.dense_forward(f32(2, 3), f32(3, 4), None, None, readonly(f32(2, 4)), 0), "dense_forward: y is read-only"),
    "dense code": (lambda: E.dense_forward(f32(2, 3), f32(3, 4), None, None, f32(2, 4), 99), "unknown activation code 99"),
    "dense bwd dkernel": (lambda: E.dense_backward(f32(2, 3), f32(3, 4), None, f32(2, 4), f32(2, 4), None, f32(4, 3), None, 0, False), "dense_backward: dkernel"),
    "dense bwd dx": (lambda: E.dense_backward(f32(2, 3), f32(3, 4), None, f32(2, 4), f32(2, 4), f32(2, 4), f32(3, 4), None, 0, False), "dense_backward: dx"),
    "dense bwd dbias": (lambda: E.dense_backward(f32(2, 3), f32(3, 4), None, f32(2, 4), f32(2, 4), None, f32(3, 4), f32(3), 0, False), "dense_backward: dbias"),
    "dense bwd dy readonly": (lambda: E.dense_backward(f32(2, 3), f32(3, 4), None, f32(2, 4), readonly(f32(2, 4)), None, f32(3, 4), None, 0, False), "dense_backward: dy is read-only"),
    "loss code": (lambda: E.loss(5, f32(2, 3), f32(2, 3), None, None, None, None), "unknown loss code 5"),
    "loss y_true shape": (lambda: E.loss(3, f32(2, 4), f32(2, 3), None, None, None, None), "loss: y_true"),
    "loss y_pred dtype": (lambda: E.loss(3, f32(2, 3), np.zeros((2, 3)), None, None, None, None), "loss: y_pred"),
    "loss logits": (lambda: E.loss(0, f32(2, 3), f32(2, 3), f32(3, 3), None, None, None), "loss: logits"),
    "loss grad readonly": (lambda: E.loss(3, f32(2, 3), f32(2, 3), None, None, readonly(f32(2, 3)), None), "loss: grad is read-only"),
    "loss grad noncontig": (lambda: E.loss(3, f32(2, 3), f32(2, 3), None, None, noncontig(2, 3), None), "loss: grad"),
    "loss weights": (lambda: E.loss(3, f32(2, 3), f32(2, 3), None, f32(3), None, None), "loss: sample_weight"),
    "loss per_sample": (lambda: E.loss(3, f32(2, 3), f32(2, 3), None, None, None, f32(5)), "loss: per_sample"),
    "loss per_sample readonly": (lambda: E.loss(3, f32(2, 3), f32(2, 3), None, None, None, readonly(f32(2))), "loss: per_sample is read-only"),
    "accuracy code": (lambda: E.accuracy_sum(3, f32(2, 3), f32(2, 3)), "unknown accuracy code 3"),
    "accuracy shape": (lambda: E.accuracy_sum(1, f32(2, 4), f32(2, 3)), "accuracy: y_true"),
    "sgd grads": (lambda: E.sgd_update(f32(5), f32(6), None, 0.1, 0.0, False), "sgd_update: grads"),
    "sgd params readonly": (lambda: E.sgd_update(readonly(f32(5)), f32(5), None, 0.1, 0.0, False), "sgd_update: params is read-only"),
    "sgd params dtype": (lambda: E.sgd_update(np.zeros(5), f32(5), None, 0.1, 0.0, False), "sgd_update: params"),
    "sgd moments": (lambda: E.sgd_update(f32(5), f32(5), f32(4), 0.1, 0.9, False), "sgd_update: moments"),
    "rmsprop accumulators": (lambda: E.rmsprop_update(f32(5), f32(5), f32(4), None, None, 0.1, 0.9, 0.0, 1e-7), "rmsprop_update: accumulators"),
    "rmsprop mean_grads": (lambda: E.rmsprop_update(f32(5), f32(5), f32(5), None, noncontig(5), 0.1, 0.9, 0.0, 1e-7), "rmsprop_update: mean_grads"),
    "rmsprop moments readonly": (lambda: E.rmsprop_update(f32(5), f32(5), f32(5), readonly(f32(5)), None, 0.1, 0.9, 0.9, 1e-7), "rmsprop_update: moments is read-only"),
    "random dtype": (lambda: E.random_uniform(np.zeros(5), 0.0, 1.0, 0, 0), "random: out"),
    "random readonly": (lambda: E.random_normal(readonly(f32(5)), 0.0, 1.0, 0, 0), "random: out is read-only"),
    "dropout mask dtype": (lambda: E.dropout_forward(f32(5), f32(5), np.zeros(5, np.int32), 0.5, 0, 0), "dropout_forward: mask"),
    "dropout mask size": (lambda: E.dropout_forward(f32(5), f32(5), np.zeros(4, np.uint8), 0.5, 0, 0), "dropout_forward: mask"),
    "dropout y shape": (lambda: E.dropout_forward(f32(5), f32(6), np.zeros(5, np.uint8), 0.5, 0, 0), "dropout_forward: y"),
    "dropout dx readonly": (lambda: E.dropout_backward(f32(5), np.zeros(5, np.uint8), readonly(f32(5)), 0.5), "dropout_backward: dx is read-only"),
    "gather index dtype": (lambda: E.gather_rows(f32(4, 2), np.zeros(3, np.int32), f32(3, 2)), "gather_rows: index"),
    "gather dst rows": (lambda: E.gather_rows(f32(4, 2), np.zeros(3, np.int64), f32(2, 2)), "gather_rows: src"),
    "gather row shape": (lambda: E.gather_rows(f32(4, 2), np.zeros(3, np.int64), f32(3, 3)), "gather_rows: rows"),
    "gather dst readonly": (lambda: E.gather_rows(f32(4, 2), np.zeros(3, np.int64), readonly(f32(3, 2))), "gather_rows: dst is read-only"),
    "gather src dtype": (lambda: E.gather_rows(np.zeros((4, 2)), np.zeros(3, np.int64), f32(3, 2)), "gather_rows: src"),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_input_raises_value_error(case):
    call, pattern = BAD_CALLS[case]
    with pytest.raises(ValueError, match=pattern):
        call()
