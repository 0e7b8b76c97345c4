"""Convolution and pooling: the layers against NumPy float64 references (direct
convolution, window loops), backward against finite differences of those references,
threads and instruction sets bit-identical, bad arguments rejected, and parity with
tf-keras through fixtures written by tests/fixtures/make_conv_fixtures.py."""
import json
import os

import numpy as np
import pytest

import seqnet
import seqnet as keras
from seqnet import _engine as E
from seqnet.layers import (AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, Dense, Flatten,
                           GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                           GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from seqnet.models import Sequential

ISAS = ["generic", "avx2", "avx512"]
AVAILABLE_ISAS = ISAS[:ISAS.index(E.detected_isa()) + 1]
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# ---- NumPy references (float64, channels_last) ------------------------------------------
def same_pads(length, window, stride, dilation, padding):
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return (length - span) // stride + 1, 0, 0
    out = -(-length // stride)
    if padding == "causal":
        return out, span - 1, 0
    total = max((out - 1) * stride + span - length, 0)
    return out, total // 2, total - total // 2


def ref_conv2d(x, w, b, strides, padding, dilation):
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    oh, pt, pb = same_pads(h, kh, strides[0], dilation[0], padding)
    ow, pl, pr = same_pads(wd, kw, strides[1], dilation[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            patch = xp[:, r0:r0 + (oh - 1) * strides[0] + 1:strides[0], c0:c0 + (ow - 1) * strides[1] + 1:strides[1]]
            y += np.einsum("nhwc,cf->nhwf", patch, w[i, j])
    if b is not None:
        y += b.astype(np.float64)
    return y


def ref_conv1d(x, w, b, stride, padding, dilation):
    y = ref_conv2d(x[:, None], w[None], b, (1, stride), "valid" if padding == "valid" else padding, (1, dilation))
    return y[:, 0]


def ref_pool2d(x, pool, strides, padding, mode):
    x = x.astype(np.float64)
    n, h, w, c = x.shape
    oh, pt, _ = same_pads(h, pool[0], strides[0], 1, padding)
    ow, pl, _ = same_pads(w, pool[1], strides[1], 1, padding)
    y = np.zeros((n, oh, ow, c))
    for a in range(oh):
        for b in range(ow):
            h0, w0 = a * strides[0] - pt, b * strides[1] - pl
            win = x[:, max(h0, 0):min(h0 + pool[0], h), max(w0, 0):min(w0 + pool[1], w)]
            y[:, a, b] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


def rng(seed):
    return np.random.default_rng(seed)


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def run_layer(layer, x):
    layer.build((None,) + x.shape[1:])
    return layer.forward(f32(x), training=True)


def to_first(a):
    return np.moveaxis(a, -1, 1)


# ---- forward ------------------------------------------------------------------------
CONV2D_CASES = [  # (h, w, c, f, kernel, strides, padding, dilation)
    (7, 9, 3, 4, (3, 3), (1, 1), "valid", (1, 1)),
    (7, 9, 3, 4, (3, 2), (2, 1), "same", (1, 1)),
    (8, 8, 2, 5, (3, 3), (2, 2), "same", (1, 1)),
    (9, 7, 3, 2, (2, 3), (1, 1), "same", (2, 2)),
    (11, 10, 1, 3, (3, 3), (1, 1), "valid", (2, 3)),
    (6, 5, 4, 3, (1, 1), (1, 1), "valid", (1, 1)),
    (6, 5, 4, 3, (1, 1), (2, 2), "same", (1, 1)),
    (5, 5, 2, 3, (5, 5), (1, 1), "valid", (1, 1)),
    (5, 6, 2, 3, (4, 4), (3, 3), "same", (1, 1)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_forward_matches_direct_convolution(case, data_format):
    h, w, c, f, k, s, p, d = case
    r = rng(1)
    x = r.standard_normal((3, h, w, c))
    layer = Conv2D(f, k, strides=s, padding=p, dilation_rate=d, data_format=data_format,
                   bias_initializer="glorot_uniform")
    y = run_layer(layer, to_first(x) if data_format == "channels_first" else x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == k + (c, f) and bias.shape == (f,)
    ref = ref_conv2d(x, kernel, bias, s, p, d)
    if data_format == "channels_first":
        ref = to_first(ref)
    xin = to_first(x) if data_format == "channels_first" else x
    assert y.shape == ref.shape == layer.compute_output_shape(xin.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


CONV1D_CASES = [  # (length, c, f, k, stride, padding, dilation)
    (10, 3, 4, 3, 1, "valid", 1),
    (11, 2, 3, 3, 2, "same", 1),
    (9, 3, 2, 2, 1, "causal", 1),
    (12, 2, 3, 3, 1, "causal", 2),
    (13, 4, 5, 4, 3, "valid", 1),
    (8, 3, 3, 3, 1, "same", 3),
]


@pytest.mark.parametrize("case", CONV1D_CASES)
def test_conv1d_forward_matches_direct_convolution(case):
    length, c, f, k, s, p, d = case
    x = rng(2).standard_normal((2, length, c))
    layer = Conv1D(f, k, strides=s, padding=p, dilation_rate=d, bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == (k, c, f)
    ref = ref_conv1d(x, kernel, bias, s, p, d)
    assert y.shape == ref.shape == layer.compute_output_shape((2, length, c))
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_conv1d_channels_first():
    x = rng(3).standard_normal((2, 9, 3))
    layer = Conv1D(4, 3, padding="same", data_format="channels_first")
    y = run_layer(layer, np.moveaxis(x, -1, 1))
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.moveaxis(ref_conv1d(x, kernel, bias, 1, "same", 1), -1, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax", "elu", "swish"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_activations(activation, data_format):
    x = rng(4).standard_normal((2, 6, 5, 3))
    layer = Conv2D(4, 3, padding="same", activation=activation, data_format=data_format)
    y = run_layer(layer, to_first(x) if data_format == "channels_first" else x)
    z = ref_conv2d(x, *layer.get_weights(), (1, 1), "same", (1, 1))
    if data_format == "channels_first":
        z = to_first(z)
    fn = {"relu": lambda t: np.maximum(t, 0), "tanh": np.tanh, "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
          "softmax": lambda t: np.exp(t - t.max(-1, keepdims=True)) / np.exp(t - t.max(-1, keepdims=True)).sum(-1, keepdims=True),
          "elu": lambda t: np.where(t > 0, t, np.expm1(t)), "swish": lambda t: t / (1 + np.exp(-t))}[activation]
    ref = fn(z)
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
    if activation in ("softmax", "sigmoid"):
        assert layer.output_activation == activation
        np.testing.assert_allclose(layer.logits, z, rtol=1e-4, atol=1e-5)


# ---- backward: finite differences of the float64 reference -----------------------------
def fd_grad(fn, arr, eps=1e-6):
    g = np.zeros_like(arr)
    it = np.nditer(arr, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = arr[idx]
        arr[idx] = old + eps
        up = fn()
        arr[idx] = old - eps
        down = fn()
        arr[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


BACKWARD_CASES = [  # rank, input shape (no batch), filters, kernel, strides, padding, dilation, data_format
    (2, (5, 6, 2), 3, (3, 3), (1, 1), "valid", (1, 1), "channels_last"),
    (2, (5, 6, 2), 3, (3, 2), (2, 2), "same", (1, 1), "channels_last"),
    (2, (6, 5, 2), 2, (2, 2), (1, 1), "same", (2, 2), "channels_last"),
    (2, (2, 5, 4), 3, (3, 3), (2, 1), "same", (1, 1), "channels_first"),
    (2, (4, 4, 3), 2, (1, 1), (1, 1), "valid", (1, 1), "channels_last"),
    (1, (9, 3), 4, 3, 2, "same", 1, "channels_last"),
    (1, (9, 3), 2, 3, 1, "causal", 2, "channels_last"),
    (1, (3, 8), 2, 2, 1, "valid", 1, "channels_first"),
]


@pytest.mark.parametrize("activation", [None, "tanh"])
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_conv_backward_matches_finite_differences(case, activation):
    rank, shape, f, k, s, p, d, fmt = case
    r = rng(5)
    x = r.standard_normal((2,) + shape)
    cls = Conv2D if rank == 2 else Conv1D
    layer = cls(f, k, strides=s, padding=p, dilation_rate=d, data_format=fmt, activation=activation,
                bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    g = r.standard_normal(y.shape)
    kernel, bias = [w.astype(np.float64) for w in layer.get_weights()]
    act = np.tanh if activation == "tanh" else (lambda t: t)

    def loss():
        xl = np.moveaxis(x, 1, -1) if fmt == "channels_first" else x
        if rank == 2:
            out = ref_conv2d(xl, kernel, bias, s, p, d)
        else:
            out = ref_conv1d(xl, kernel, bias, s, p, d)
        out = np.moveaxis(out, -1, 1) if fmt == "channels_first" else out
        return float((act(out) * g).sum())

    dx = layer.backward(f32(g), need_dx=True)
    np.testing.assert_allclose(dx, fd_grad(loss, x), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, fd_grad(loss, kernel), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, fd_grad(loss, bias), rtol=1e-3, atol=1e-4)


def test_backward_without_dx_still_writes_grads():
    x = rng(6).standard_normal((3, 6, 6, 2))
    layer = Conv2D(3, 3)
    y = run_layer(layer, x)
    assert layer.backward(f32(np.ones_like(y)), need_dx=False) is None
    assert np.abs(layer.kernel.grad).sum() > 0
    np.testing.assert_allclose(layer.bias.grad, np.full(3, y[..., 0].size), rtol=1e-6)


def test_large_batch_uses_several_im2col_chunks(monkeypatch):
    from seqnet.layers.convolutional import base_conv as _base
    x = rng(7).standard_normal((5, 8, 8, 3))
    g = f32(rng(8).standard_normal((5, 8, 8, 4)))
    whole = Conv2D(4, 3, padding="same")
    y_whole = run_layer(whole, x).copy()
    whole.backward(g.copy())
    monkeypatch.setattr(_base, "_COL_BUDGET", 2 * 64 * 27)  # two images per chunk
    chunked = Conv2D(4, 3, padding="same", weights=whole.get_weights())
    y = run_layer(chunked, x)
    assert chunked._col_ws.shape[0] == 2 * 64
    dx = chunked.backward(g.copy())
    np.testing.assert_allclose(y, y_whole, rtol=1e-6)
    np.testing.assert_allclose(chunked.kernel.grad, whole.kernel.grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, whole.backward(g.copy()), rtol=1e-6, atol=1e-7)


def ref_conv2d_grads(x, w, g, strides, padding, dilation):
    """dL/dx and dL/dw of sum(ref_conv2d(x, w) * g), float64 (the adjoint of ref_conv2d)."""
    x, w, g = x.astype(np.float64), w.astype(np.float64), g.astype(np.float64)
    n, h, wd, c = x.shape
    kh, kw = w.shape[:2]
    oh, pt, pb = same_pads(h, kh, strides[0], dilation[0], padding)
    ow, pl, pr = same_pads(wd, kw, strides[1], dilation[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dilation[0], j * dilation[1]
            sl = (slice(None), slice(r0, r0 + (oh - 1) * strides[0] + 1, strides[0]),
                  slice(c0, c0 + (ow - 1) * strides[1] + 1, strides[1]))
            dw[i, j] = np.einsum("nhwc,nhwf->cf", xp[sl], g)
            dxp[sl] += np.einsum("nhwf,cf->nhwc", g, w[i, j])
    return dxp[:, pt:pt + h, pl:pl + wd], dw


def runs_on_threads(make, x, threads, layer_seed, grad_seed):
    """(y, dx, dW, db) of a fresh layer from `make` on x, once per thread count; the last layer
    and the output gradient g used."""
    results = []
    saved = E.get_num_threads()
    try:
        for t in threads:
            E.set_num_threads(t)
            np.random.seed(layer_seed)
            layer = make()
            y = run_layer(layer, x).copy()
            g = f32(rng(grad_seed).standard_normal(y.shape))
            dx = layer.backward(g.copy(), need_dx=True).copy()
            results.append((y, dx, layer.kernel.grad.copy(), layer.bias.grad.copy()))
    finally:
        E.set_num_threads(saved)
    return results, layer, g


BLOCKED_CASES = [  # (x shape, filters, kernel, strides, padding, dilation): several im2col blocks, several dW
    ((6, 40, 37, 5), 7, (3, 3), (1, 1), "valid", (1, 1)),   # partials, dx as a convolution with the flipped kernel
    ((5, 33, 30, 3), 6, (3, 2), (1, 1), "same", (2, 1)),    # padded + dilated flipped kernel
    ((4, 41, 39, 4), 5, (3, 3), (2, 2), "same", (1, 1)),    # stride 2: dx by GEMM + col2im
    ((3, 30, 28, 1), 40, (3, 3), (1, 1), "valid", (1, 1)),  # the flipped kernel's patches outgrow col: col2im
]


@pytest.mark.parametrize("case", BLOCKED_CASES)
def test_blocked_paths_match_reference_and_are_thread_independent(case, monkeypatch):
    from seqnet.layers.convolutional import base_conv as _base
    shape, f, k, st, p, d = case
    r = rng(21)
    x = f32(r.standard_normal(shape))
    if f == 40:  # a col of one image, too small for dx as a convolution of dz
        monkeypatch.setattr(_base, "_COL_BUDGET", 1)
    results, layer, g = runs_on_threads(
        lambda: Conv2D(f, k, strides=st, padding=p, dilation_rate=d, bias_initializer="glorot_uniform"), x, (1, 2),
        layer_seed=3, grad_seed=22)
    kernel, bias = layer.get_weights()
    assert E.conv_dw_partials_size(*results[0][0].shape[:3], *kernel.shape) > 2 * kernel.size  # several dW blocks
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()
    y, dx, dw, db = results[0]
    np.testing.assert_allclose(y, ref_conv2d(x, kernel, bias, st, p, d), rtol=1e-4, atol=1e-4)
    dx_ref, dw_ref = ref_conv2d_grads(x, kernel, g, st, p, d)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(db, g.astype(np.float64).sum(axis=(0, 1, 2)), rtol=1e-4, atol=2e-3)


# A 1-D convolution's image is one output row, so an im2col block spans several images (as
# many as half the col workspace holds): the forward, dx and dW over blocks that cross image
# boundaries match float64 and give the bits of one thread on two and three.
@pytest.mark.parametrize("padding,dilation", [("valid", 1), ("causal", 2)])
def test_conv1d_blocks_span_images(padding, dilation):
    x = f32(rng(31).standard_normal((24, 70, 45)))
    saved_algo = E.set_conv_algo("im2col")
    try:
        results, layer, g = runs_on_threads(
            lambda: Conv1D(40, 3, padding=padding, dilation_rate=dilation, bias_initializer="glorot_uniform"), x,
            (1, 2, 3), layer_seed=5, grad_seed=32)
    finally:
        E.set_conv_algo(saved_algo)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.tobytes() == b.tobytes()
    kernel, bias = layer.get_weights()
    y, dx, dw, db = results[0]
    # causal: (k - 1) * dilation zeros on the left, then 'valid'
    pad = (3 - 1) * dilation if padding == "causal" else 0
    xp = np.pad(x, ((0, 0), (pad, 0), (0, 0)))[:, None]
    k4 = kernel[None]
    np.testing.assert_allclose(y, ref_conv2d(xp, k4, bias, (1, 1), "valid", (1, dilation))[:, 0], rtol=1e-4, atol=1e-4)
    dxp_ref, dw_ref = ref_conv2d_grads(xp, k4, g[:, None], (1, 1), "valid", (1, dilation))
    np.testing.assert_allclose(dx, dxp_ref[:, 0, pad:], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dw, dw_ref[0], rtol=1e-4, atol=2e-3)
    np.testing.assert_allclose(db, g.astype(np.float64).sum(axis=(0, 1)), rtol=1e-4, atol=2e-3)


# ---- pooling ---------------------------------------------------------------------------
POOL2D_CASES = [  # (h, w, pool, strides, padding)
    (6, 7, (2, 2), None, "valid"),
    (7, 7, (3, 3), (2, 2), "same"),
    (5, 8, (2, 3), (1, 2), "same"),
    (6, 6, (3, 2), (1, 1), "valid"),
    (4, 4, (4, 4), None, "valid"),
]


def pool_grad_ref(x, pool, strides, padding, mode, g):
    """dL/dx of sum(pool(x) * g) by the definition (max: first maximum in window order)."""
    n, h, w, c = x.shape
    oh, pt, _ = same_pads(h, pool[0], strides[0], 1, padding)
    ow, pl, _ = same_pads(w, pool[1], strides[1], 1, padding)
    dx = np.zeros_like(x, dtype=np.float64)
    for a in range(oh):
        for b in range(ow):
            h0, w0 = a * strides[0] - pt, b * strides[1] - pl
            hs, ws = slice(max(h0, 0), min(h0 + pool[0], h)), slice(max(w0, 0), min(w0 + pool[1], w))
            win = x[:, hs, ws]
            if mode == "avg":
                dx[:, hs, ws] += g[:, a, b][:, None, None] / (win.shape[1] * win.shape[2])
                continue
            flat = win.reshape(n, -1, c)
            arg = flat.argmax(axis=1)  # first maximum
            for i in range(n):
                for ch in range(c):
                    ih, iw = divmod(arg[i, ch], win.shape[2])
                    dx[i, hs.start + ih, ws.start + iw, ch] += g[i, a, b, ch]
    return dx


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", POOL2D_CASES)
def test_pool2d_forward_backward(case, data_format, mode):
    h, w, pool, strides, padding = case
    x = rng(9).standard_normal((2, h, w, 3))
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    layer = cls(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    first = data_format == "channels_first"
    y = run_layer(layer, to_first(x) if first else x)
    st = strides or pool
    ref = ref_pool2d(x, pool, st, padding, mode)
    np.testing.assert_allclose(y, to_first(ref) if first else ref, rtol=1e-6, atol=1e-6)
    assert y.shape == layer.compute_output_shape((to_first(x) if first else x).shape)
    g = rng(10).standard_normal(ref.shape)
    dx = layer.backward(f32(to_first(g) if first else g))
    dref = pool_grad_ref(f32(x).astype(np.float64), pool, st, padding, mode, g)
    np.testing.assert_allclose(dx, to_first(dref) if first else dref, rtol=1e-5, atol=1e-6)


def test_max_pool_tie_goes_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 1), np.float32)
    layer = MaxPooling2D()
    run_layer(layer, x)
    dx = layer.backward(np.ones((1, 1, 1, 1), np.float32))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("padding,strides", [("valid", None), ("same", 2), ("valid", 1)])
def test_pool1d_forward_backward(mode, padding, strides):
    x = rng(11).standard_normal((3, 11, 4))
    cls = MaxPooling1D if mode == "max" else AveragePooling1D
    layer = cls(3, strides=strides, padding=padding)
    y = run_layer(layer, x)
    st = strides or 3
    ref = ref_pool2d(x[:, None], (1, 3), (1, st), padding, mode)[:, 0]
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    g = rng(12).standard_normal(ref.shape)
    dx = layer.backward(f32(g))
    dref = pool_grad_ref(f32(x)[:, None].astype(np.float64), (1, 3), (1, st), padding, mode, g[:, None])[:, 0]
    np.testing.assert_allclose(dx, dref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,rank,mode", [(GlobalAveragePooling1D, 1, "avg"), (GlobalAveragePooling2D, 2, "avg"),
                                           (GlobalMaxPooling1D, 1, "max"), (GlobalMaxPooling2D, 2, "max")])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling(cls, rank, mode, data_format):
    shape = (3, 5, 4) if rank == 1 else (3, 4, 5, 2)
    x = rng(13).standard_normal(shape)
    first = data_format == "channels_first"
    layer = cls(data_format=data_format)
    y = run_layer(layer, np.moveaxis(x, -1, 1) if first else x)
    axes = tuple(range(1, rank + 1))
    ref = x.max(axis=axes) if mode == "max" else x.mean(axis=axes)
    np.testing.assert_allclose(y, ref, rtol=1e-6, atol=1e-6)
    g = rng(14).standard_normal(ref.shape)
    dx = layer.backward(f32(g))
    if mode == "avg":
        dref = np.broadcast_to(g.reshape((3,) + (1,) * rank + (-1,)) / np.prod(shape[1:-1]), shape)
    else:
        dref = (x == x.max(axis=axes, keepdims=True)) * g.reshape((3,) + (1,) * rank + (-1,))
    np.testing.assert_allclose(dx, np.moveaxis(dref, -1, 1) if first else dref, rtol=1e-5, atol=1e-6)


# ---- threads and instruction sets -------------------------------------------------------
def one_step_outputs(seed=15):
    r = rng(seed)
    x = f32(r.standard_normal((6, 12, 11, 3)))
    layers = [Conv2D(8, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
              MaxPooling2D(), Conv2D(5, (2, 3), strides=(1, 2), dilation_rate=1), AveragePooling2D(padding="same"),
              GlobalMaxPooling2D()]
    np.random.seed(seed)
    shape = (None,) + x.shape[1:]
    outs, h = [], x
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


def test_one_and_two_threads_bit_identical():
    saved = E.get_num_threads()
    try:
        results = []
        for t in (1, 2):
            E.set_num_threads(t)
            results.append(one_step_outputs())
    finally:
        E.set_num_threads(saved)
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


def test_every_isa_agrees():
    saved = E.active_isa()
    try:
        results = {}
        for isa in AVAILABLE_ISAS:
            assert E.set_isa(isa) == isa
            results[isa] = one_step_outputs()
    finally:
        E.set_isa(saved)
    base = results[AVAILABLE_ISAS[0]]
    for isa, outs in results.items():
        for a, b in zip(base, outs):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=isa)


# ---- arguments and bindings -------------------------------------------------------------
def test_kernel_larger_than_input_is_a_clear_error():
    model = Sequential()
    with pytest.raises(ValueError, match="kernel_size"):
        model.add(Conv2D(4, (5, 5), input_shape=(3, 8, 1)))
    with pytest.raises(ValueError, match="pool_size"):
        Sequential([MaxPooling1D(4, input_shape=(3, 2))])


@pytest.mark.parametrize("make,what", [
    (lambda: Conv2D(0, 3), "filters"), (lambda: Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: Conv2D(4, 3, strides=0), "strides"), (lambda: Conv2D(4, 3, padding="full"), "padding"),
    (lambda: Conv2D(4, 3, padding="causal"), "padding"), (lambda: Conv1D(4, 3, dilation_rate=(1, 1)), "dilation_rate"),
    (lambda: Conv2D(4, 3, data_format="nhwc"), "data_format"), (lambda: MaxPooling2D(pool_size=-1), "pool_size"),
    (lambda: AveragePooling1D(2, padding="causal"), "padding"), (lambda: GlobalMaxPooling2D(data_format="x"), "data_format"),
])
def test_bad_arguments_name_themselves(make, what):
    with pytest.raises(ValueError, match=what):
        make()


def test_wrong_input_rank_is_rejected():
    with pytest.raises(ValueError, match="rank 4"):
        Conv2D(3, 2).build((None, 5, 5))


def test_binding_checks_shapes():
    x = np.zeros((2, 5, 5, 3), np.float32)
    w = np.zeros((3, 3, 3, 4), np.float32)
    y = np.zeros((2, 3, 3, 4), np.float32)
    col = np.zeros((9, 27), np.float32)
    E.conv_forward(x, w, None, None, y, col, (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="input channels"):
        E.conv_forward(x, np.zeros((3, 3, 2, 4), np.float32), None, None, y, col, (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="col"):
        E.conv_forward(x, w, None, None, y, np.zeros((8, 27), np.float32), (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="col workspace is required"):
        E.conv_forward(x, w, None, None, y, None, (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="float32"):
        E.conv_forward(x.astype(np.float64), w, None, None, y, col, (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="bias"):
        E.conv_forward(x, w, np.zeros(3, np.float32), None, y, col, (1, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="strides"):
        E.conv_forward(x, w, None, None, y, col, (0, 1), (1, 1), (0, 0), 0)
    with pytest.raises(ValueError, match="argmax"):
        E.max_pool_forward(x, np.zeros((2, 2, 2, 3), np.float32), np.zeros((2, 2, 2, 3), np.int64), (2, 2), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="dy"):
        E.global_avg_pool_backward(np.zeros((2, 4), np.float32), np.zeros((2, 5, 3), np.float32))
    # a hostile argmax cannot reach outside dx
    dx = np.zeros((1, 2, 2, 1), np.float32)
    E.max_pool_backward(np.ones((1, 1, 1, 1), np.float32), np.array([[[[99]]]], np.int32), dx, (2, 2), (2, 2), (0, 0))
    assert not dx.any()


def test_config_round_trip_and_aliases():
    layer = Conv2D(8, (3, 2), strides=2, padding="same", dilation_rate=1, activation="relu", name="c")
    clone = Conv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert keras.layers.Convolution2D is Conv2D and keras.layers.MaxPool2D is MaxPooling2D
    assert keras.layers.GlobalAvgPool1D is GlobalAveragePooling1D
    from seqnet.layers.convolutional import Conv1D as C1
    from seqnet.layers.pooling import GlobalMaxPooling2D as G2
    assert C1 is Conv1D and G2 is GlobalMaxPooling2D
    assert MaxPooling2D(3).strides == (3, 3)
    assert Conv2D(2, 3).name.startswith("conv2d_") and MaxPooling2D().name.startswith("max_pooling2d_")


def test_model_saves_and_loads(tmp_path):
    model = Sequential([Conv1D(4, 3, padding="causal", activation="relu", input_shape=(10, 2)), MaxPooling1D(),
                        Conv1D(3, 2), GlobalAveragePooling1D(), Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    x = rng(16).standard_normal((4, 10, 2)).astype(np.float32)
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


# ---- parity with tf-keras -------------------------------------------------------------
def build_fixture_model(config):
    layers = [getattr(keras.layers, spec["class"])(**spec["kwargs"]) for spec in config["layers"]]
    return Sequential(layers)


PARITY_CASES = ["conv2d_net", "conv1d_net"]


def load_fixture(case):
    path = os.path.join(FIXTURES, f"conv_{case}.npz")
    data = np.load(path)
    return data, json.loads(str(data["config"]))


@pytest.mark.parametrize("case", PARITY_CASES)
def test_predict_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = build_fixture_model(config)
    model.set_weights([data[f"w0_{i}"] for i in range(config["n_weights"])])
    np.testing.assert_allclose(model.predict(data["x"]), data["predict"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", PARITY_CASES)
def test_training_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = build_fixture_model(config)
    n = config["n_weights"]
    model.set_weights([data[f"w0_{i}"] for i in range(n)])
    model.compile(optimizer=keras.optimizers.SGD(**config["optimizer"]), loss=config["loss"])
    losses = [float(np.ravel(model.train_on_batch(data["x"], data["y"]))[0]) for _ in range(config["steps"])]
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"w_final_{i}"], rtol=1e-3, atol=1e-5)
