"""Conv3D and 3-D pooling: the layers against NumPy float64 references (direct convolution,
window loops), backward against finite differences of those references (and their adjoint for
the larger, blocked shapes), threads bit-identical and every instruction set agreeing, bad
arguments rejected, and parity with tf-keras through fixtures written by
tests/fixtures/make_conv3d_local_fixtures.py (including a model file tf-keras saved)."""
import json
import os

import numpy as np
import pytest

import seqnet as keras
from numeric_helpers import rng
from seqnet import _engine as E
from seqnet.layers import (AveragePooling3D, Conv3D, Dense, GlobalAveragePooling3D, GlobalMaxPooling3D,
                           MaxPooling3D)
from seqnet.models import Sequential

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# ---- NumPy references (float64, channels_last) ------------------------------------------
def same_pads(length, window, stride, dilation, padding):
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return (length - span) // stride + 1, 0, 0
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return out, total // 2, total - total // 2


def _padded(x, k, strides, padding, dilation):
    """x padded as TensorFlow pads it, the output sizes, and the padding before."""
    geo = [same_pads(x.shape[1 + a], k[a], strides[a], dilation[a], padding) for a in range(3)]
    xp = np.pad(x, ((0, 0),) + tuple((g[1], g[2]) for g in geo) + ((0, 0),))
    return xp, tuple(g[0] for g in geo), tuple(g[1] for g in geo)


def _tap(a, b, c, out, strides, dilation):
    """The slices of the padded input that tap (a, b, c) of the kernel reads for every output."""
    return (slice(None),) + tuple(slice(t * dilation[i], t * dilation[i] + (out[i] - 1) * strides[i] + 1, strides[i])
                                  for i, t in enumerate((a, b, c)))


def ref_conv3d(x, w, b, strides, padding, dilation):
    x, w = x.astype(np.float64), w.astype(np.float64)
    xp, out, _ = _padded(x, w.shape[:3], strides, padding, dilation)
    y = np.zeros((x.shape[0],) + out + (w.shape[4],))
    for a in range(w.shape[0]):
        for bb in range(w.shape[1]):
            for c in range(w.shape[2]):
                y += np.einsum("ndhwc,cf->ndhwf", xp[_tap(a, bb, c, out, strides, dilation)], w[a, bb, c])
    return y if b is None else y + b.astype(np.float64)


def ref_conv3d_grads(x, w, g, strides, padding, dilation):
    """dL/dx and dL/dw of sum(ref_conv3d(x, w) * g), float64 (the adjoint of ref_conv3d)."""
    x, w, g = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    xp, out, before = _padded(x, w.shape[:3], strides, padding, dilation)
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for a in range(w.shape[0]):
        for bb in range(w.shape[1]):
            for c in range(w.shape[2]):
                sl = _tap(a, bb, c, out, strides, dilation)
                dw[a, bb, c] = np.einsum("ndhwc,ndhwf->cf", xp[sl], g)
                dxp[sl] += np.einsum("ndhwf,cf->ndhwc", g, w[a, bb, c])
    d, h, wd = x.shape[1:4]
    return dxp[:, before[0]:before[0] + d, before[1]:before[1] + h, before[2]:before[2] + wd], dw


def ref_pool3d(x, pool, strides, padding, mode):
    x = x.astype(np.float64)
    geo = [same_pads(x.shape[1 + a], pool[a], strides[a], 1, padding) for a in range(3)]
    y = np.zeros((x.shape[0],) + tuple(g[0] for g in geo) + (x.shape[4],))
    for idx in np.ndindex(*y.shape[1:4]):
        win = x[(slice(None),) + _window(idx, x.shape[1:4], pool, strides, geo)]
        y[(slice(None),) + idx] = win.max(axis=(1, 2, 3)) if mode == "max" else win.mean(axis=(1, 2, 3))
    return y


def _window(idx, shape, pool, strides, geo):
    starts = [idx[a] * strides[a] - geo[a][1] for a in range(3)]
    return tuple(slice(max(s, 0), min(s + pool[a], shape[a])) for a, s in enumerate(starts))


def pool3d_grad_ref(x, pool, strides, padding, mode, g):
    """dL/dx of sum(pool(x) * g) by the definition (max: the first maximum in (d, h, w) order)."""
    geo = [same_pads(x.shape[1 + a], pool[a], strides[a], 1, padding) for a in range(3)]
    dx = np.zeros_like(x, dtype=np.float64)
    n, c = x.shape[0], x.shape[4]
    for idx in np.ndindex(*g.shape[1:4]):
        sl = _window(idx, x.shape[1:4], pool, strides, geo)
        win = x[(slice(None),) + sl]
        gi = g[(slice(None),) + idx]
        if mode == "avg":
            dx[(slice(None),) + sl] += gi[:, None, None, None] / np.prod(win.shape[1:4])
            continue
        arg = win.reshape(n, -1, c).argmax(axis=1)  # the first maximum
        for i in range(n):
            for ch in range(c):
                a, b, cc = np.unravel_index(arg[i, ch], win.shape[1:4])
                dx[i, sl[0].start + a, sl[1].start + b, sl[2].start + cc, ch] += gi[i, ch]
    return dx


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def run_layer(layer, x):
    layer.build((None,) + x.shape[1:])
    return layer.forward(f32(x), training=True)


def to_first(a):
    return np.moveaxis(a, -1, 1)


def fd_grad(fn, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for idx in np.ndindex(*arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        up = fn()
        arr[idx] = old - eps
        down = fn()
        arr[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


# ---- Conv3D forward ---------------------------------------------------------------------
CONV3D_CASES = [  # (d, h, w, c, f, kernel, strides, padding, dilation)
    (5, 6, 7, 2, 3, (3, 3, 3), (1, 1, 1), "valid", (1, 1, 1)),
    (5, 6, 7, 2, 3, (3, 2, 3), (2, 1, 2), "same", (1, 1, 1)),
    (6, 5, 5, 3, 2, (2, 3, 2), (1, 1, 1), "same", (2, 1, 2)),
    (7, 6, 5, 1, 4, (3, 2, 2), (1, 2, 1), "valid", (2, 2, 1)),
    (4, 5, 6, 3, 2, (1, 3, 3), (1, 1, 1), "same", (1, 1, 1)),   # kd = 1: no depth unfold
    (4, 5, 6, 3, 2, (1, 1, 1), (1, 1, 1), "valid", (1, 1, 1)),  # pointwise: no col either
    (4, 5, 6, 3, 2, (3, 1, 1), (2, 1, 1), "same", (1, 1, 1)),   # depth only
    (5, 5, 5, 2, 3, (5, 5, 5), (1, 1, 1), "valid", (1, 1, 1)),
    (5, 6, 4, 2, 3, (4, 4, 3), (3, 3, 2), "same", (1, 1, 1)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CONV3D_CASES)
def test_conv3d_forward_matches_direct_convolution(case, data_format):
    d, h, w, c, f, k, s, p, dl = case
    x = rng(1).standard_normal((2, d, h, w, c))
    first = data_format == "channels_first"
    layer = Conv3D(f, k, strides=s, padding=p, dilation_rate=dl, data_format=data_format,
                   bias_initializer="glorot_uniform")
    xin = to_first(x) if first else x
    y = run_layer(layer, xin)
    kernel, bias = layer.get_weights()
    assert kernel.shape == k + (c, f) and bias.shape == (f,)
    ref = ref_conv3d(x, kernel, bias, s, p, dl)
    ref = to_first(ref) if first else ref
    assert y.shape == ref.shape == layer.compute_output_shape(xin.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", [CONV3D_CASES[1], CONV3D_CASES[3]])
def test_conv3d_forward_and_backward_under_each_isa(case, isa):
    d, h, w, c, f, k, s, p, dl = case
    r = rng(2)
    x = f32(r.standard_normal((3, d, h, w, c)))
    layer = Conv3D(f, k, strides=s, padding=p, dilation_rate=dl, activation="tanh", bias_initializer="ones")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    z = ref_conv3d(x, kernel, bias, s, p, dl)
    np.testing.assert_allclose(y, np.tanh(z), rtol=1e-5, atol=1e-5)
    g = r.standard_normal(y.shape)
    dx = layer.backward(f32(g))
    dz = g * (1 - np.tanh(z) ** 2)
    dx_ref, dw_ref = ref_conv3d_grads(x, kernel, dz, s, p, dl)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, dw_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, dz.sum(axis=(0, 1, 2, 3)), rtol=1e-4, atol=1e-4)


def softmax(t):
    e = np.exp(t - t.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


ACTIVATIONS = {
    "relu": lambda t: np.maximum(t, 0), "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
    "swish": lambda t: t / (1 + np.exp(-t)),
    "softmax": softmax,
}



@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv3d_activations(activation, data_format):
    x = rng(4).standard_normal((2, 4, 5, 4, 3))
    first = data_format == "channels_first"
    layer = Conv3D(4, 3, padding="same", activation=activation, data_format=data_format)
    y = run_layer(layer, to_first(x) if first else x)
    z = ref_conv3d(x, *layer.get_weights(), (1, 1, 1), "same", (1, 1, 1))
    z = to_first(z) if first else z
    np.testing.assert_allclose(y, ACTIVATIONS[activation](z), rtol=1e-4, atol=1e-5)  # Keras: over the last axis
    if activation in ("softmax", "sigmoid"):
        assert layer.output_activation == activation
        np.testing.assert_allclose(layer.logits, z, rtol=1e-4, atol=1e-5)


# ---- Conv3D backward: finite differences of the float64 reference ----------------------------
BACKWARD_CASES = [  # input shape (no batch), filters, kernel, strides, padding, dilation, data_format
    ((3, 4, 3, 2), 2, (2, 2, 2), (1, 1, 1), "valid", (1, 1, 1), "channels_last"),
    ((4, 3, 4, 2), 2, (3, 2, 2), (2, 1, 2), "same", (1, 1, 1), "channels_last"),
    ((4, 4, 3, 1), 2, (2, 2, 2), (1, 1, 1), "same", (2, 1, 1), "channels_last"),
    ((2, 3, 4, 3), 2, (2, 3, 2), (1, 2, 1), "same", (1, 1, 1), "channels_first"),
    ((3, 3, 3, 2), 3, (1, 1, 1), (1, 1, 1), "valid", (1, 1, 1), "channels_last"),
    ((4, 3, 3, 2), 2, (3, 1, 1), (2, 1, 1), "valid", (1, 1, 1), "channels_first"),
]


FD_ACTIVATIONS = {None: lambda t: t, "tanh": np.tanh, "swish": lambda t: t / (1 + np.exp(-t))}


@pytest.mark.parametrize("activation", list(FD_ACTIVATIONS))
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv3d_backward_matches_finite_differences(case, activation):
    shape, f, k, s, p, dl, fmt = case
    r = rng(5)
    x = r.standard_normal((2,) + shape)
    layer = Conv3D(f, k, strides=s, padding=p, dilation_rate=dl, data_format=fmt, activation=activation,
                   bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    g = r.standard_normal(y.shape)
    kernel, bias = [w.astype(np.float64) for w in layer.get_weights()]
    act = FD_ACTIVATIONS[activation]
    first = fmt == "channels_first"

    def loss():
        out = ref_conv3d(np.moveaxis(x, 1, -1) if first else x, kernel, bias, s, p, dl)
        return float((act(to_first(out) if first else out) * g).sum())

    dx = layer.backward(f32(g), need_dx=True)
    np.testing.assert_allclose(dx, fd_grad(loss, x), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, fd_grad(loss, kernel), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, fd_grad(loss, bias), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv3d_backward_from_the_preactivation_skips_the_activation(data_format):
    x = f32(rng(12).standard_normal((2, 4, 5, 4, 3)))
    x = f32(to_first(x)) if data_format == "channels_first" else x
    check_backward_from_the_preactivation(
        Conv3D(4, 2, activation="softmax", padding="same", data_format=data_format, bias_initializer="ones"),
        Conv3D(4, 2, padding="same", data_format=data_format), x)


def check_backward_from_the_preactivation(soft, linear, x):
    """What a fused softmax + cross-entropy loss does: dL/dz in, the activation not differentiated
    (`linear` is `soft` without its activation)."""
    run_layer(soft, x)
    run_layer(linear, x)
    linear.set_weights(soft.get_weights())
    linear.forward(x, training=True)
    g = f32(rng(13).standard_normal(soft.compute_output_shape(x.shape)))
    dx = soft.backward(g.copy(), dy_is_preactivation=True)
    np.testing.assert_array_equal(dx, linear.backward(g.copy()))
    np.testing.assert_array_equal(soft.kernel.grad, linear.kernel.grad)
    np.testing.assert_array_equal(soft.bias.grad, linear.bias.grad)


def test_conv3d_backward_without_dx_still_writes_grads():
    x = rng(6).standard_normal((2, 4, 4, 4, 2))
    layer = Conv3D(3, 2)
    y = run_layer(layer, x)
    assert layer.backward(f32(np.ones_like(y)), need_dx=False) is None
    assert np.abs(layer.kernel.grad).sum() > 0
    np.testing.assert_allclose(layer.bias.grad, np.full(3, y[..., 0].size), rtol=1e-6)


BLOCKED_CASES = [  # (x shape, filters, kernel, strides, padding, dilation, col budget): several blocks, dW partials
    ((3, 9, 22, 20, 4), 6, (3, 3, 3), (1, 1, 1), "same", (1, 1, 1), None),  # dx: the flipped kernel on the plane
    ((2, 8, 21, 19, 3), 5, (2, 3, 3), (2, 2, 1), "same", (2, 1, 1), None),  # dx: GEMM + col2im, then the fold
    ((2, 6, 20, 21, 3), 4, (1, 3, 3), (1, 1, 1), "valid", (1, 1, 1), None),  # kd = 1: the plane is the input
    ((3, 5, 9, 8, 2), 4, (3, 3, 3), (1, 1, 1), "same", (1, 1, 1), 2 * 72 * 54),  # several col chunks
]


@pytest.mark.parametrize("case", BLOCKED_CASES)
def test_conv3d_blocked_paths_match_reference_and_are_thread_independent(case, monkeypatch):
    from seqnet.layers.convolutional import conv3d as _conv3d
    shape, f, k, st, p, dl, budget = case
    if budget:
        monkeypatch.setattr(_conv3d, "_COL_BUDGET", budget)
    x = f32(rng(21).standard_normal(shape))
    layer, g, y, dx, dw, db = one_step_per_thread_count(
        lambda: Conv3D(f, k, strides=st, padding=p, dilation_rate=dl, bias_initializer="glorot_uniform"), x)
    if budget:
        assert layer._col_ws.shape[0] < y.shape[0] * y.shape[1] * y.shape[2] * y.shape[3]
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, ref_conv3d(x, kernel, bias, st, p, dl), rtol=1e-4, atol=1e-4)
    dx_ref, dw_ref = ref_conv3d_grads(x, kernel, g, st, p, dl)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(db, g.astype(np.float64).sum(axis=(0, 1, 2, 3)), rtol=1e-4, atol=2e-3)


def one_step_per_thread_count(make, x):
    """One forward/backward of a make()'d layer under 1 and under 2 threads (the same initial
    weights), checked bit-identical; returns the layer, the output gradient g, and the first
    run's y, dx and weight gradients."""
    results = []
    saved = E.get_num_threads()
    try:
        for t in (1, 2):
            E.set_num_threads(t)
            np.random.seed(3)
            layer = make()
            y = run_layer(layer, x).copy()
            g = f32(rng(22).standard_normal(y.shape))
            dx = layer.backward(g.copy(), need_dx=True).copy()
            results.append([y, dx] + [w.grad.copy() for w in layer.trainable_weights])
    finally:
        E.set_num_threads(saved)
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()
    return (layer, g, *results[0])


# ---- 3-D pooling ---------------------------------------------------------------------------
POOL3D_CASES = [  # (d, h, w, pool, strides, padding)
    (4, 6, 5, (2, 2, 2), None, "valid"),
    (5, 7, 6, (3, 3, 2), (2, 2, 2), "same"),
    (5, 4, 7, (2, 1, 3), (1, 1, 2), "same"),
    (6, 5, 5, (3, 2, 2), (1, 1, 1), "valid"),
    (3, 4, 4, (3, 4, 4), None, "valid"),
    (4, 5, 6, (1, 2, 2), (1, 2, 2), "same"),
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", POOL3D_CASES)
def test_pool3d_forward_backward(case, data_format, mode):
    d, h, w, pool, strides, padding = case
    x = rng(9).standard_normal((2, d, h, w, 3))
    cls = MaxPooling3D if mode == "max" else AveragePooling3D
    layer = cls(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    first = data_format == "channels_first"
    xin = to_first(x) if first else x
    y = run_layer(layer, xin)
    st = strides or pool
    ref = ref_pool3d(f32(x), pool, st, padding, mode)
    np.testing.assert_allclose(y, to_first(ref) if first else ref, rtol=1e-6, atol=1e-6)
    assert y.shape == layer.compute_output_shape(xin.shape)
    g = rng(10).standard_normal(ref.shape)
    dx = layer.backward(f32(to_first(g) if first else g))
    dref = pool3d_grad_ref(f32(x).astype(np.float64), pool, st, padding, mode, g)
    np.testing.assert_allclose(dx, to_first(dref) if first else dref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool3d_under_each_isa(mode, isa):
    x = f32(rng(11).standard_normal((3, 5, 6, 7, 4)))
    layer = (MaxPooling3D if mode == "max" else AveragePooling3D)(3, strides=2, padding="same")
    y = run_layer(layer, x)
    np.testing.assert_allclose(y, ref_pool3d(x, (3, 3, 3), (2, 2, 2), "same", mode), rtol=1e-6, atol=1e-6)
    g = rng(12).standard_normal(y.shape)
    dx = layer.backward(f32(g))
    np.testing.assert_allclose(dx, pool3d_grad_ref(x.astype(np.float64), (3, 3, 3), (2, 2, 2), "same", mode, g),
                               rtol=1e-5, atol=1e-6)


def test_max_pool3d_tie_goes_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 2, 1), np.float32)
    layer = MaxPooling3D()
    run_layer(layer, x)
    dx = layer.backward(np.ones((1, 1, 1, 1, 1), np.float32))
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0] = 1
    np.testing.assert_array_equal(dx[0, ..., 0], expected)


@pytest.mark.parametrize("cls,mode", [(GlobalAveragePooling3D, "avg"), (GlobalMaxPooling3D, "max")])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling3d(cls, mode, data_format):
    x = rng(13).standard_normal((3, 3, 4, 2, 5))
    first = data_format == "channels_first"
    layer = cls(data_format=data_format)
    xin = to_first(x) if first else x
    y = run_layer(layer, xin)
    ref = x.max(axis=(1, 2, 3)) if mode == "max" else x.mean(axis=(1, 2, 3))
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape(xin.shape) == (3, 5)
    g = rng(14).standard_normal(ref.shape)
    dx = layer.backward(f32(g))
    gb = g.reshape(3, 1, 1, 1, 5)
    dref = np.broadcast_to(gb / 24, x.shape) if mode == "avg" else (x == x.max(axis=(1, 2, 3), keepdims=True)) * gb
    np.testing.assert_allclose(dx, to_first(dref) if first else dref, rtol=1e-5, atol=1e-6)


# ---- threads ------------------------------------------------------------------------------
def one_step_outputs(seed=15):
    r = rng(seed)
    x = f32(r.standard_normal((4, 8, 10, 9, 3)))
    layers = [Conv3D(6, 3, padding="same", activation="relu", kernel_initializer="he_normal"), MaxPooling3D(),
              Conv3D(4, (2, 3, 2), strides=(1, 2, 1)), AveragePooling3D(padding="same"), GlobalMaxPooling3D()]
    np.random.seed(seed)
    shape, outs, h = (None,) + x.shape[1:], [], x
    for layer in layers:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
        h = layer.forward(h, True)
        outs.append(np.array(h))
    dy = f32(r.standard_normal(h.shape))
    for layer in reversed(layers):
        dy = layer.backward(dy.copy(), need_dx=True)
        outs.append(np.array(dy))
        outs += [np.array(w.grad) for w in layer.trainable_weights]
    return outs


def test_one_and_two_threads_bit_identical(restore_threads):
    results = []
    for t in (1, 2):
        E.set_num_threads(t)
        results.append(one_step_outputs())
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


# ---- arguments and bindings -----------------------------------------------------------------
@pytest.mark.parametrize("make,what", [
    (lambda: Conv3D(0, 3), "filters"), (lambda: Conv3D(4, (3, 3)), "kernel_size"),
    (lambda: Conv3D(4, 3, strides=(1, 0, 1)), "strides"), (lambda: Conv3D(4, 3, padding="causal"), "padding"),
    (lambda: Conv3D(4, 3, dilation_rate=(1, 1)), "dilation_rate"), (lambda: Conv3D(4, 3, data_format="ndhwc"),
                                                                      "data_format"),
    (lambda: MaxPooling3D(pool_size=(2, 2)), "pool_size"), (lambda: AveragePooling3D(2, strides=-1), "strides"),
    (lambda: MaxPooling3D(padding="full"), "padding"), (lambda: GlobalMaxPooling3D(data_format="x"), "data_format"),
])
def test_bad_arguments_name_the_layer_and_argument(make, what):
    with pytest.raises(ValueError, match=what) as err:
        make()
    assert "3D" in str(err.value)


def test_bad_input_shapes_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Layer 'c3' .*rank 5.*\(None, 5, 5, 3\)"):
        Conv3D(3, 2, name="c3").build((None, 5, 5, 3))
    with pytest.raises(ValueError, match=r"'c3'.*kernel_size \(2, 4, 2\).*axis 1.*\(None, 5, 3, 5, 1\)"):
        Sequential([Conv3D(4, (2, 4, 2), name="c3", input_shape=(5, 3, 5, 1))])
    with pytest.raises(ValueError, match=r"'p3'.*pool_size \(2, 2, 2\).*\(None, 4, 1, 4, 2\)"):
        Sequential([MaxPooling3D(name="p3", input_shape=(4, 1, 4, 2))])
    with pytest.raises(ValueError, match=r"GlobalAveragePooling3D.*rank 5"):
        GlobalAveragePooling3D().build((None, 4, 4, 2))


def _conv3d_args():
    x = np.zeros((2, 4, 5, 5, 3), np.float32)
    w = np.zeros((3, 3, 3, 3, 4), np.float32)
    y = np.zeros((2, 2, 3, 3, 4), np.float32)
    sizes = E.conv3d_workspace_sizes(x.shape, w.shape, y.shape, (1, 1, 1), (1, 1, 1), (0, 0, 0))
    col = np.zeros((sizes["col_rows"], sizes["col_cols"]), np.float32)
    unfold = np.zeros(sizes["unfold"], np.float32)
    kbuf = np.zeros(sizes["kernel_buffer"], np.float32)
    return x, w, y, col, unfold, kbuf, sizes


def test_conv3d_binding_checks_shapes_and_workspaces():
    x, w, y, col, unfold, kbuf, sizes = _conv3d_args()
    assert sizes["unfold"] == 2 * 2 * 5 * 5 * 3 * 3 and sizes["kernel_buffer"] == 2 * w.size
    geometry = ((1, 1, 1), (1, 1, 1), (0, 0, 0), 0)
    E.conv3d_forward(x, w, None, None, y, col, unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match=r"kernel \(3, 3, 3, 2, 4\) expects 2 input channels.*\(2, 4, 5, 5, 3\)"):
        E.conv3d_forward(x, np.zeros((3, 3, 3, 2, 4), np.float32), None, None, y, col, unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match="col must have shape"):
        E.conv3d_forward(x, w, None, None, y, col[:-1], unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match="col workspace is required"):
        E.conv3d_forward(x, w, None, None, y, None, unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match=r"unfold must hold at least 900 floats, got \(899,\)"):
        E.conv3d_forward(x, w, None, None, y, col, unfold[:-1], kbuf, *geometry)
    with pytest.raises(ValueError, match="kernel_buffer: a workspace of 648 floats is required"):
        E.conv3d_forward(x, w, None, None, y, col, unfold, None, *geometry)
    with pytest.raises(ValueError, match="x: expected a C-contiguous float32 array, got float64"):
        E.conv3d_forward(x.astype(np.float64), w, None, None, y, col, unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match=r"bias: expected shape \(4,\), got \(3,\)"):
        E.conv3d_forward(x, w, np.zeros(3, np.float32), None, y, col, unfold, kbuf, *geometry)
    with pytest.raises(ValueError, match=r"strides must be positive, got \(0, 1, 1\)"):
        E.conv3d_forward(x, w, None, None, y, col, unfold, kbuf, (0, 1, 1), *geometry[1:])
    with pytest.raises(ValueError, match="x: expected 5 dimensions"):
        E.conv3d_forward(x[0], w, None, None, y, col, unfold, kbuf, *geometry)
    dw = np.zeros_like(w)
    with pytest.raises(ValueError, match="dw_partials: a workspace of"):
        E.conv3d_backward(x, w, None, y, y.copy(), None, dw, None, col, None, unfold, kbuf, None, *geometry, False)
    partials = np.zeros(sizes["dw_partials"], np.float32)
    with pytest.raises(ValueError, match=r"dunfold: a workspace of 900 floats"):
        E.conv3d_backward(x, w, None, y, y.copy(), np.zeros_like(x), dw, None, col, partials, unfold, kbuf, None,
                          *geometry, False)
    with pytest.raises(ValueError, match="needs the pre-activation z"):
        E.conv3d_backward(x, w, None, y, y.copy(), None, dw, None, col, partials, unfold, kbuf, None, *geometry[:3],
                          E.Activation.swish, False)
    with pytest.raises(ValueError, match="dkernel is read-only"):
        dw.flags.writeable = False
        E.conv3d_backward(x, w, None, y, y.copy(), None, dw, None, col, partials, unfold, kbuf, None, *geometry, False)


def test_pool3d_binding_checks_shapes():
    x = np.zeros((2, 4, 4, 4, 3), np.float32)
    y = np.zeros((2, 2, 2, 2, 3), np.float32)
    a = np.zeros(y.shape, np.int32)
    mid = np.zeros((2, 4, 2, 2, 3), np.float32)
    mid_a = np.zeros(mid.shape, np.int32)
    args = ((2, 2, 2), (2, 2, 2), (0, 0, 0))
    E.max_pool3d_forward(x, y, a, mid, mid_a, *args)
    with pytest.raises(ValueError, match="argmax: expected a C-contiguous int32 array, got int64"):
        E.max_pool3d_forward(x, y, a.astype(np.int64), mid, mid_a, *args)
    with pytest.raises(ValueError, match=r"mid: expected shape \(2, 4, 2, 2, 3\), got \(2, 2, 2, 2, 3\)"):
        E.max_pool3d_forward(x, y, a, y, mid_a, *args)
    with pytest.raises(ValueError, match=r"y has shape \(2, 2, 2, 2, 4\), inconsistent with x"):
        E.avg_pool3d_forward(x, np.zeros((2, 2, 2, 2, 4), np.float32), mid, *args)
    with pytest.raises(ValueError, match=r"pool_size must be positive"):
        E.avg_pool3d_forward(x, y, mid, (2, 0, 2), *args[1:])
    # a hostile argmax cannot reach outside dx
    dx = np.zeros_like(x)
    a[...] = 10 ** 6
    mid_a[...] = -5
    E.max_pool3d_backward(np.ones_like(y), a, mid_a, np.zeros_like(mid), dx, *args)
    assert not dx.any()


def test_config_round_trip_aliases_and_names():
    layer = Conv3D(8, (3, 2, 1), strides=2, padding="same", activation="relu", name="c")
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2, 1) and config["strides"] == (2, 2, 2)
    assert config["dilation_rate"] == (1, 1, 1) and "rank" not in config
    assert Conv3D.from_config(config).get_config() == config
    pool = MaxPooling3D((1, 2, 3), padding="same", data_format="channels_first")
    assert pool.strides == (1, 2, 3)
    assert MaxPooling3D.from_config(pool.get_config()).get_config() == pool.get_config()
    assert keras.layers.Convolution3D is Conv3D and keras.layers.MaxPool3D is MaxPooling3D
    assert keras.layers.AvgPool3D is AveragePooling3D and keras.layers.GlobalAvgPool3D is GlobalAveragePooling3D
    assert keras.layers.GlobalMaxPool3D is GlobalMaxPooling3D
    from seqnet.layers.convolutional import Conv3D as C3
    from seqnet.layers.pooling import GlobalMaxPooling3D as G3
    assert C3 is Conv3D and G3 is GlobalMaxPooling3D
    assert Conv3D(2, 3).name.startswith("conv3d_") and MaxPooling3D().name.startswith("max_pooling3d_")


def test_model_saves_and_loads(tmp_path):
    model = Sequential([Conv3D(4, 3, padding="same", activation="relu", input_shape=(5, 6, 5, 2)), MaxPooling3D(),
                        Conv3D(3, 2, data_format="channels_last"), AveragePooling3D(1),
                        GlobalAveragePooling3D(), Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x = f32(rng(16).standard_normal((4, 5, 6, 5, 2)))
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


# ---- parity with tf-keras (the checks test_local.py runs too) -------------------------------
def load_fixture(case):
    data = np.load(os.path.join(FIXTURES, f"conv3d_local_{case}.npz"))
    return data, json.loads(str(data["config"]))


def build_fixture_model(config):
    return Sequential([getattr(keras.layers, spec["class"])(**spec["kwargs"]) for spec in config["layers"]])


def check_predict_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = build_fixture_model(config)
    model.set_weights([data[f"w0_{i}"] for i in range(config["n_weights"])])
    np.testing.assert_allclose(model.predict(data["x"]), data["predict"], rtol=1e-4, atol=1e-6)


def check_training_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = build_fixture_model(config)
    n = config["n_weights"]
    model.set_weights([data[f"w0_{i}"] for i in range(n)])
    model.compile(optimizer=keras.optimizers.SGD(**config["optimizer"]), loss=config["loss"])
    losses = [float(np.ravel(model.train_on_batch(data["x"], data["y"]))[0]) for _ in range(config["steps"])]
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"w_final_{i}"], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("case", ["conv3d_last", "conv3d_first"])
def test_predict_and_training_match_tf_keras(case):
    check_predict_matches_tf_keras(case)
    check_training_matches_tf_keras(case)


def test_loads_the_model_tf_keras_saved(tmp_path):
    """A functional model of Conv3D, MaxPooling3D, GlobalAveragePooling3D, LocallyConnected2D
    (channels_first) and LocallyConnected1D that tf-keras trained and saved with its optimizer:
    seqnet predicts the same, continues training the same, and saves a file it reads back."""
    data = np.load(os.path.join(FIXTURES, "conv3d_local_model.npz"))
    xs = [data["xa"], data["xb"], data["xc"]]
    model = keras.models.load_model(os.path.join(FIXTURES, "conv3d_local_model.h5"))
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Conv3D", "MaxPooling3D", "GlobalAveragePooling3D", "LocallyConnected1D", "LocallyConnected2D"} <= kinds
    np.testing.assert_allclose(model.predict(xs), data["predict"], rtol=1e-4, atol=1e-6)
    path = str(tmp_path / "again.h5")
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(again.predict(xs), data["predict"], rtol=1e-4, atol=1e-6)
    losses = [float(np.ravel(model.train_on_batch(xs, data["y"]))[0]) for _ in range(2)]
    np.testing.assert_allclose(losses, data["more_losses"], rtol=1e-3)
