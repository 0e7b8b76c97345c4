"""DepthwiseConv2D, SeparableConv1D/2D and Conv2DTranspose: the layers against NumPy float64
references (a direct depthwise convolution, the pointwise product, the transposed convolution
as the scatter of each input pixel times the kernel), backward against finite differences of
those references, every instruction set and thread count, bad arguments rejected, and parity
with tf-keras through fixtures written by tests/fixtures/make_conv_extra_fixtures.py."""
import json
import os
import re

import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine as E
from seqnet import constraints, regularizers
from seqnet.layers import Conv2DTranspose, Dense, DepthwiseConv2D, Flatten, SeparableConv1D, SeparableConv2D
from seqnet.models import Sequential, load_model
from seqnet.optimizers import SGD

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# ---- NumPy references (float64, channels_last) ------------------------------------------
def conv_pads(length, window, stride, dilation, padding):
    """(output length, pad before, pad after) of a convolution, TensorFlow's rule."""
    span = (window - 1) * dilation + 1
    if padding == "valid":
        return (length - span) // stride + 1, 0, 0
    out = -(-length // stride)
    if padding == "causal":
        return out, span - 1, 0
    total = max((out - 1) * stride + span - length, 0)
    return out, total // 2, total - total // 2


def windows(xp, i, j, out, strides, dilation):
    r0, c0 = i * dilation[0], j * dilation[1]
    return (slice(None), slice(r0, r0 + (out[0] - 1) * strides[0] + 1, strides[0]),
            slice(c0, c0 + (out[1] - 1) * strides[1] + 1, strides[1]))


def ref_depthwise(x, w, b, strides, padding, dilation):
    """x (n, h, w, c), w (kh, kw, c, m) -> (n, oh, ow, c*m), channel ci*m + k."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, h, wd, c = x.shape
    kh, kw, _, m = w.shape
    oh, pt, pb = conv_pads(h, kh, strides[0], dilation[0], padding)
    ow, pl, pr = conv_pads(wd, kw, strides[1], dilation[1], padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = np.zeros((n, oh, ow, c, m))
    for i in range(kh):
        for j in range(kw):
            y += xp[windows(xp, i, j, (oh, ow), strides, dilation)][..., None] * w[i, j]
    y = y.reshape(n, oh, ow, c * m)
    return y if b is None else y + b


def ref_separable(x, dk, pk, b, strides, padding, dilation):
    t = ref_depthwise(x, dk, None, strides, padding, dilation)
    y = np.einsum("nhwc,cf->nhwf", t, np.asarray(pk, np.float64).reshape(pk.shape[-2:]))
    return y if b is None else y + b


def transpose_length(length, k, s, padding, output_padding, d):
    """The Keras 2.2.4 / tf-keras docstring's output size of a transposed convolution."""
    span = (k - 1) * d + 1
    if output_padding is None:
        return length * s + max(span - s, 0) if padding == "valid" else length * s
    pad = span // 2 if padding == "same" else 0
    return (length - 1) * s + span - 2 * pad + output_padding


def ref_transpose(x, w, b, strides, padding, output_padding, dilation):
    """x (n, h, w, cin), w (kh, kw, f, cin): every input pixel adds its kernel-weighted patch to
    the output (the adjoint of the convolution output -> input), cropped by the conv's padding."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    n, h, wd, _ = x.shape
    kh, kw, f, _ = w.shape
    op = output_padding or (None, None)
    size = [transpose_length(ln, k, s, padding, p, d)
            for ln, k, s, p, d in zip((h, wd), (kh, kw), strides, op, dilation)]
    pads = [conv_pads(ln, k, s, d, padding)[1] for ln, k, s, d in zip(size, (kh, kw), strides, dilation)]
    full = np.zeros((n, max(size[0] + pads[0], (h - 1) * strides[0] + (kh - 1) * dilation[0] + 1),
                     max(size[1] + pads[1], (wd - 1) * strides[1] + (kw - 1) * dilation[1] + 1), f))
    for i in range(kh):
        for j in range(kw):
            full[windows(full, i, j, (h, wd), strides, dilation)] += np.einsum("nhwc,fc->nhwf", x, w[i, j])
    y = full[:, pads[0]:pads[0] + size[0], pads[1]:pads[1] + size[1]]
    return y if b is None else y + b


def rng(seed):
    return np.random.default_rng(seed)


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


def first(a):
    return np.moveaxis(a, -1, 1)


def last(a):
    return np.moveaxis(a, 1, -1)


def run_layer(layer, x):
    layer.build((None,) + x.shape[1:])
    return layer.forward(f32(x), training=True)


def reference(layer, x, weights=None):
    """The float64 output of `layer` (built) on channels_last or channels_first x."""
    ws = [np.asarray(w, np.float64) for w in (weights or layer.get_weights())]
    cf = layer.data_format == "channels_first"
    xl = last(x) if cf else x
    b = ws[-1] if layer.use_bias else None
    if isinstance(layer, DepthwiseConv2D):
        y = ref_depthwise(xl, ws[0], b, layer.strides, layer.padding, layer.dilation_rate)
    elif isinstance(layer, Conv2DTranspose):
        y = ref_transpose(xl, ws[0], b, layer.strides, layer.padding, layer.output_padding, layer.dilation_rate)
    elif layer.rank == 2:
        y = ref_separable(xl, ws[0], ws[1], b, layer.strides, layer.padding, layer.dilation_rate)
    else:
        y = ref_separable(xl[:, None], ws[0][None], ws[1][None], b, (1,) + layer.strides, layer.padding,
                          (1,) + layer.dilation_rate)[:, 0]
    return first(y) if cf else y


# ---- forward ------------------------------------------------------------------------------
DEPTHWISE_CASES = [  # (h, w, c, kernel, strides, padding, depth_multiplier, dilation)
    (7, 9, 3, (3, 3), (1, 1), "valid", 1, (1, 1)),
    (7, 9, 3, (3, 2), (2, 1), "same", 2, (1, 1)),
    (8, 8, 5, (3, 3), (2, 2), "same", 3, (1, 1)),
    (9, 7, 4, (2, 3), (1, 1), "same", 1, (2, 2)),
    (11, 10, 2, (3, 3), (1, 1), "valid", 2, (2, 3)),
    (6, 5, 40, (1, 1), (1, 1), "valid", 1, (1, 1)),
    (6, 7, 37, (5, 5), (3, 3), "same", 1, (1, 1)),
    (5, 6, 70, (4, 4), (1, 1), "same", 1, (1, 1)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", DEPTHWISE_CASES)
def test_depthwise_forward_matches_direct_convolution(case, data_format):
    h, w, c, k, s, p, m, d = case
    x = rng(1).standard_normal((3, h, w, c))
    x = first(x) if data_format == "channels_first" else x
    layer = DepthwiseConv2D(k, strides=s, padding=p, depth_multiplier=m, dilation_rate=d, data_format=data_format,
                            bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == k + (c, m) and bias.shape == (c * m,)
    ref = reference(layer, x)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


SEPARABLE_CASES = [  # (rank, input shape, filters, kernel, strides, padding, depth_multiplier, dilation)
    (2, (7, 9, 3), 4, (3, 3), (1, 1), "valid", 1, (1, 1)),
    (2, (8, 7, 3), 5, (3, 2), (2, 2), "same", 2, (1, 1)),
    (2, (9, 9, 2), 3, (3, 3), (1, 1), "same", 3, (2, 1)),
    (2, (5, 6, 33), 7, (1, 1), (1, 1), "valid", 1, (1, 1)),
    (1, (12, 3), 4, 3, 1, "valid", 1, 1),
    (1, (11, 2), 3, 3, 2, "same", 2, 1),
    (1, (10, 3), 4, 3, 1, "causal", 2, 2),
]


@pytest.mark.parametrize("case,data_format", [(case, fmt) for case in SEPARABLE_CASES
                                               for fmt in ("channels_last", "channels_first")
                                               if case[5] != "causal" or fmt == "channels_last"])
def test_separable_forward_matches_reference(case, data_format):
    rank, shape, f, k, s, p, m, d = case
    x = rng(2).standard_normal((2,) + shape)
    x = first(x) if data_format == "channels_first" else x
    cls = SeparableConv2D if rank == 2 else SeparableConv1D
    layer = cls(f, k, strides=s, padding=p, depth_multiplier=m, dilation_rate=d, data_format=data_format,
                bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    dk, pk, b = layer.get_weights()
    c = shape[-1]
    assert dk.shape == layer.kernel_size + (c, m) and pk.shape == (1,) * rank + (c * m, f) and b.shape == (f,)
    ref = reference(layer, x)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


TRANSPOSE_CASES = [  # (h, w, c, filters, kernel, strides, padding, output_padding, dilation)
    (3, 4, 2, 3, (3, 3), (1, 1), "valid", None, (1, 1)),
    (3, 4, 2, 3, (3, 3), (2, 2), "same", None, (1, 1)),
    (4, 3, 3, 2, (3, 2), (2, 1), "valid", None, (1, 1)),
    (4, 4, 2, 3, (3, 3), (2, 2), "same", (1, 1), (1, 1)),
    (3, 5, 2, 2, (4, 4), (2, 3), "same", (1, 2), (1, 1)),
    (3, 3, 2, 2, (2, 2), (3, 3), "valid", None, (1, 1)),   # kernel smaller than the stride: gaps
    (3, 4, 2, 2, (1, 2), (3, 2), "valid", (2, 1), (1, 1)),
    (4, 5, 3, 2, (3, 3), (1, 1), "same", None, (2, 2)),
    (4, 5, 2, 3, (2, 3), (1, 1), "valid", (0, 0), (3, 1)),
    (5, 4, 6, 4, (1, 1), (1, 1), "valid", None, (1, 1)),   # pointwise: one GEMM
    (5, 4, 3, 4, (1, 1), (2, 2), "same", None, (1, 1)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_transpose_forward_matches_scatter_reference(case, data_format):
    h, w, c, f, k, s, p, op, d = case
    x = rng(3).standard_normal((3, h, w, c))
    x = first(x) if data_format == "channels_first" else x
    layer = Conv2DTranspose(f, k, strides=s, padding=p, output_padding=op, dilation_rate=d, data_format=data_format,
                            bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    assert kernel.shape == k + (f, c) and bias.shape == (f,)
    ref = reference(layer, x)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_transpose_output_sizes_follow_tf_keras():
    # (input, kernel, stride, padding, output_padding, dilation) -> tf-keras' output length
    for (n, k, s, p, op, d), want in [((4, 3, 2, "same", None, 1), 8), ((4, 3, 2, "valid", None, 1), 9),
                                      ((4, 2, 3, "valid", None, 1), 12), ((4, 3, 2, "same", 1, 1), 8),
                                      ((4, 3, 2, "valid", 1, 1), 10), ((4, 3, 1, "valid", None, 2), 8),
                                      ((5, 4, 2, "same", 1, 1), 9), ((3, 1, 3, "valid", 2, 1), 9)]:
        layer = Conv2DTranspose(1, (k, 1), strides=(s, 1), padding=p, output_padding=None if op is None else (op, 0),
                                dilation_rate=(d, 1))
        assert layer.compute_output_shape((None, n, 2, 1)) == (None, want, 2, 1)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax", "elu", "swish"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("make", [lambda a, fmt: DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation=a,
                                                                 data_format=fmt),
                                  lambda a, fmt: SeparableConv2D(4, 3, padding="same", activation=a, data_format=fmt),
                                  lambda a, fmt: Conv2DTranspose(4, 3, strides=2, activation=a, data_format=fmt)])
def test_activations(make, activation, data_format):
    x = rng(4).standard_normal((2, 5, 6, 3))
    x = first(x) if data_format == "channels_first" else x
    layer = make(activation, data_format)
    y = run_layer(layer, x)
    z = reference(layer, x)
    fn = {"relu": lambda t: np.maximum(t, 0), "tanh": np.tanh, "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
          "softmax": lambda t: np.exp(t - t.max(-1, keepdims=True)) / np.exp(t - t.max(-1, keepdims=True)).sum(
              -1, keepdims=True),
          "elu": lambda t: np.where(t > 0, t, np.expm1(t)), "swish": lambda t: t / (1 + np.exp(-t))}[activation]
    np.testing.assert_allclose(y, fn(z), rtol=1e-4, atol=1e-5)
    if activation in ("softmax", "sigmoid"):
        assert layer.output_activation == activation
        np.testing.assert_allclose(layer.logits, z, rtol=1e-4, atol=1e-5)


# ---- backward: finite differences of the float64 reference ---------------------------------
def fd_grad(fn, arr, eps=1e-6):
    g = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + eps
        up = fn()
        arr[idx] = old - eps
        down = fn()
        arr[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


BACKWARD_CASES = [  # (make layer, input shape without batch)
    (lambda fmt: DepthwiseConv2D(3, data_format=fmt), (5, 6, 2)),
    (lambda fmt: DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, data_format=fmt), (5, 6, 2)),
    (lambda fmt: DepthwiseConv2D(2, padding="same", dilation_rate=2, depth_multiplier=3, data_format=fmt), (5, 4, 2)),
    (lambda fmt: SeparableConv2D(3, 3, padding="same", depth_multiplier=2, data_format=fmt), (4, 5, 2)),
    (lambda fmt: SeparableConv2D(2, (2, 3), strides=(2, 1), data_format=fmt), (5, 6, 3)),
    (lambda fmt: SeparableConv1D(3, 3, strides=2, padding="same", depth_multiplier=2, data_format=fmt), (9, 2)),
    (lambda fmt: SeparableConv1D(2, 2, padding="causal" if fmt == "channels_last" else "valid", dilation_rate=2,
                                 data_format=fmt), (8, 3)),
    (lambda fmt: Conv2DTranspose(3, 3, data_format=fmt), (3, 4, 2)),
    (lambda fmt: Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1, data_format=fmt), (3, 3, 2)),
    (lambda fmt: Conv2DTranspose(2, (2, 3), strides=(3, 2), data_format=fmt), (2, 3, 2)),
    (lambda fmt: Conv2DTranspose(2, 3, padding="same", dilation_rate=2, data_format=fmt), (3, 4, 2)),
    (lambda fmt: Conv2DTranspose(3, 1, data_format=fmt), (3, 3, 2)),
]


@pytest.mark.parametrize("activation", [None, "tanh"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", range(len(BACKWARD_CASES)))
def test_backward_matches_finite_differences(case, data_format, activation):
    make, shape = BACKWARD_CASES[case]
    r = rng(5 + case)
    x = r.standard_normal((2,) + shape)
    x = first(x) if data_format == "channels_first" else x
    layer = make(data_format)
    layer = type(layer).from_config({**layer.get_config(), "name": None, "activation": activation,
                                     "bias_initializer": "glorot_uniform"})
    y = run_layer(layer, x)
    g = r.standard_normal(y.shape)
    weights = [w.astype(np.float64) for w in layer.get_weights()]
    act = np.tanh if activation == "tanh" else (lambda t: t)

    def loss():
        return float((act(reference(layer, x, weights)) * g).sum())

    dx = layer.backward(f32(g), need_dx=True)
    np.testing.assert_allclose(dx, fd_grad(loss, x), rtol=1e-3, atol=1e-4)
    for weight, value in zip(layer.weights, weights):
        np.testing.assert_allclose(weight.grad, fd_grad(loss, value), rtol=1e-3, atol=1e-4, err_msg=weight.name)


def test_backward_without_dx_still_writes_grads():
    for layer in (DepthwiseConv2D(3), SeparableConv2D(2, 3), Conv2DTranspose(2, 3, strides=2)):
        y = run_layer(layer, rng(6).standard_normal((3, 6, 6, 2)))
        assert layer.backward(f32(np.ones_like(y)), need_dx=False) is None
        assert all(np.abs(w.grad).sum() > 0 for w in layer.weights)
        np.testing.assert_allclose(layer.bias.grad, np.full(layer.bias.value.shape, y[..., 0].size), rtol=1e-6)


@pytest.mark.parametrize("make", [lambda: DepthwiseConv2D(3, padding="same", activation="sigmoid"),
                                  lambda: Conv2DTranspose(3, 3, strides=2, activation="softmax"),
                                  lambda: SeparableConv2D(3, 3, activation="softmax")])
def test_backward_from_the_preactivation_gradient(make):
    layer = make()
    x = rng(7).standard_normal((2, 6, 5, 3))
    run_layer(layer, x)
    g = rng(8).standard_normal(layer.logits.shape)
    weights = [w.astype(np.float64) for w in layer.get_weights()]
    dx = layer.backward(f32(g), need_dx=True, dy_is_preactivation=True)
    np.testing.assert_allclose(dx, fd_grad(lambda: float((reference(layer, x, weights) * g).sum()), x),
                               rtol=1e-3, atol=1e-4)


# ---- larger shapes: blocked paths, every instruction set, threads ---------------------------
LARGE_CASES = [  # several dW blocks; depthwise channel blocks with tails; dx by the flipped kernel or gathers
    lambda: DepthwiseConv2D(3, padding="same", bias_initializer="glorot_uniform"),
    lambda: DepthwiseConv2D((3, 5), strides=(2, 1), depth_multiplier=2, bias_initializer="glorot_uniform"),
    lambda: SeparableConv2D(9, 3, padding="same", depth_multiplier=2, dilation_rate=2),
    lambda: Conv2DTranspose(7, 3, strides=2, padding="same", output_padding=1, bias_initializer="glorot_uniform"),
    lambda: Conv2DTranspose(5, (2, 3), bias_initializer="glorot_uniform"),
]


def large_step(make, shape=(5, 23, 41, 37)):
    np.random.seed(3)
    layer = make()
    x = f32(rng(21).standard_normal(shape))
    y = run_layer(layer, x).copy()
    g = f32(rng(22).standard_normal(y.shape))
    dx = layer.backward(g.copy(), need_dx=True).copy()
    return layer, x, g, [y, dx] + [w.grad.copy() for w in layer.weights]


@pytest.mark.parametrize("make", LARGE_CASES)
def test_large_shapes_match_reference_under_each_isa(make, isa):
    layer, x, g, (y, dx, *grads) = large_step(make)
    weights = layer.get_weights()
    np.testing.assert_allclose(y, reference(layer, x), rtol=1e-4, atol=1e-4)
    # the gradients are linear in g: dx and dW of sum(y * g) by the reference's own adjoint (finite
    # differences would be too slow here), checked through the directional derivative
    direction = rng(23).standard_normal(x.shape)
    eps = 1e-3
    up = (reference(layer, x + eps * direction, weights) * g).sum()
    down = (reference(layer, x - eps * direction, weights) * g).sum()
    np.testing.assert_allclose((dx * direction).sum(), (up - down) / (2 * eps), rtol=1e-3)
    for k, grad in enumerate(grads):
        dw = rng(24 + k).standard_normal(weights[k].shape)
        plus = [w.astype(np.float64) + (eps * dw if i == k else 0) for i, w in enumerate(weights)]
        minus = [w.astype(np.float64) - (eps * dw if i == k else 0) for i, w in enumerate(weights)]
        numeric = ((reference(layer, x, plus) - reference(layer, x, minus)) * g).sum() / (2 * eps)
        np.testing.assert_allclose((grad * dw).sum(), numeric, rtol=1e-3)
    if isinstance(layer, DepthwiseConv2D) and layer.strides == (1, 1):
        n, oh, ow, _ = y.shape
        kh, kw, c, m = weights[0].shape
        assert E.depthwise_dw_partials_size(n, oh, ow, kh, kw, c, m) > 3 * weights[0].size  # several blocks


@pytest.mark.parametrize("make", LARGE_CASES)
def test_one_and_two_threads_bit_identical(make, restore_threads):
    results = []
    for t in (1, 2):
        E.set_num_threads(t)
        results.append(large_step(make)[3])
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


# ---- arguments -------------------------------------------------------------------------
@pytest.mark.parametrize("make,what", [
    (lambda: DepthwiseConv2D(-3), "kernel_size"), (lambda: DepthwiseConv2D(3, strides=0), "strides"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=1.5), "depth_multiplier"),
    (lambda: DepthwiseConv2D(3, padding="causal"), "padding"),
    (lambda: DepthwiseConv2D(3, data_format="x"), "data_format"),
    (lambda: DepthwiseConv2D(3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: SeparableConv2D(-1, 3), "filters"), (lambda: SeparableConv2D(2, (3, -3)), "kernel_size"),
    (lambda: SeparableConv1D(2, 3, depth_multiplier=-2), "depth_multiplier"),
    (lambda: SeparableConv1D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: SeparableConv2D(2, 3, padding="full"), "padding"),
    (lambda: Conv2DTranspose(0, 3), "filters"), (lambda: Conv2DTranspose(2, -1), "kernel_size"),
    (lambda: Conv2DTranspose(2, 3, output_padding=1), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, strides=(2, 1), output_padding=(1, 1)), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=-1), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=(1, 1, 1)), "output_padding"),
    (lambda: Conv2DTranspose(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: Conv2DTranspose(2, 3, padding="causal"), "padding"),
])
def test_bad_arguments_name_themselves(make, what):
    with pytest.raises(ValueError, match=what):
        make()


def test_bad_arguments_name_the_layer_and_values():
    with pytest.raises(ValueError, match=r"Layer 'up'.*strides \(2, 2\) must be greater than output_padding \(2, 1\)"):
        Conv2DTranspose(2, 3, strides=2, output_padding=(2, 1), name="up")
    with pytest.raises(ValueError, match=r"Layer 'dw'.*depth_multiplier must be a positive integer, got 0"):
        DepthwiseConv2D(3, depth_multiplier=0, name="dw")


@pytest.mark.parametrize("make", [lambda: DepthwiseConv2D((5, 5), name="big"),
                                  lambda: SeparableConv2D(2, (2, 5), dilation_rate=(1, 2), name="big"),
                                  lambda: SeparableConv1D(2, 9, name="big")])
def test_kernel_larger_than_the_input_is_a_clear_error(make):
    layer = make()
    shape = (4, 3) if layer.rank == 1 else (3, 8, 1)
    with pytest.raises(ValueError, match=r"Layer 'big'.*kernel_size.*larger than the input.*valid.*input shape"):
        Sequential([layer.__class__.from_config({**layer.get_config(), "input_shape": shape})])
    # at run time too, with a defined channel axis only
    layer.build((None, None, 2) if layer.rank == 1 else (None, None, None, 1))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        layer.forward(np.zeros((1, 4, 2) if layer.rank == 1 else (1, 3, 8, 1), np.float32), True)


@pytest.mark.parametrize("make,shape", [(lambda: DepthwiseConv2D(3), (None, 5, 5)),
                                        (lambda: SeparableConv2D(2, 3), (None, 5, 5, 5, 1)),
                                        (lambda: SeparableConv1D(2, 3), (None, 5, 5, 1)),
                                        (lambda: Conv2DTranspose(2, 3), (None, 5, 5))])
def test_wrong_input_rank_is_rejected(make, shape):
    layer = make()
    with pytest.raises(ValueError, match=rf"Layer '{layer.name}'.*rank {layer.rank + 2}.*{re.escape(str(shape))}"):
        layer.build(shape)


def test_undefined_channels_are_rejected():
    for layer in (DepthwiseConv2D(3), SeparableConv1D(2, 3), Conv2DTranspose(2, 3)):
        with pytest.raises(ValueError, match="channel axis"):
            layer.build((None, 6, None) if layer.rank == 1 else (None, 6, 6, None))


def test_transpose_output_that_no_convolution_maps_back_is_refused():
    # 'same' with an even kernel and output_padding 0: TensorFlow fails at run time, seqnet at build
    with pytest.raises(ValueError, match=r"Layer 'tr'.*output of 6.*input's 4.*\(None, 4, 4, 2\)"):
        Sequential([Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=0, name="tr",
                                    input_shape=(4, 4, 2))])


def test_binding_checks_shapes():
    x = np.zeros((2, 5, 5, 3), np.float32)
    w = np.zeros((3, 3, 3, 2), np.float32)
    y = np.zeros((2, 3, 3, 6), np.float32)
    ex = np.zeros(E.depthwise_expanded_size(2, 5, 5, 3, 2), np.float32)
    lin = E.Activation.linear
    E.depthwise_forward(x, w, None, None, y, ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match=r"depthwise_kernel \(3, 3, 2, 2\) expects 2 input channels"):
        E.depthwise_forward(x, np.zeros((3, 3, 2, 2), np.float32), None, None, y, ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match=r"y has shape \(2, 3, 3, 5\)"):
        E.depthwise_forward(x, w, None, None, np.zeros((2, 3, 3, 5), np.float32), ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match="float32"):
        E.depthwise_forward(x.astype(np.float64), w, None, None, y, ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match="bias"):
        E.depthwise_forward(x, w, np.zeros(3, np.float32), None, y, ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match="strides"):
        E.depthwise_forward(x, w, None, None, y, ex, (0, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match="padding"):
        E.depthwise_forward(x, w, None, None, y, ex, (1, 1), (1, 1), (-1, 0), lin)
    with pytest.raises(ValueError, match="non-contiguous"):
        E.depthwise_forward(np.asfortranarray(x), w, None, None, y, ex, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match=f"expanded workspace of {ex.size} floats is required"):
        E.depthwise_forward(x, w, None, None, y, None, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match=f"expanded must hold at least {ex.size} floats"):
        E.depthwise_forward(x, w, None, None, y, ex[1:], (1, 1), (1, 1), (0, 0), lin)
    frozen = y.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        E.depthwise_forward(x, w, None, None, frozen, ex, (1, 1), (1, 1), (0, 0), lin)
    need = E.depthwise_dw_partials_size(2, 3, 3, 3, 3, 3, 2)
    dw, partials = np.zeros_like(w), np.zeros(need, np.float32)
    tail = (ex, (1, 1), (1, 1), (0, 0))
    with pytest.raises(ValueError, match=f"dw_partials must hold at least {need} floats"):
        E.depthwise_backward(x, w, None, y, y.copy(), None, dw, None, partials[1:], *tail, lin, False)
    with pytest.raises(ValueError, match="ddepthwise_kernel"):
        E.depthwise_backward(x, w, None, y, y.copy(), None, dw[:2], None, partials, *tail, lin, False)
    with pytest.raises(ValueError, match="pre-activation z"):
        E.depthwise_backward(x, w, None, y, y.copy(), None, dw, None, partials, *tail, E.Activation.swish, False)
    with pytest.raises(ValueError, match="expanded workspace"):
        E.depthwise_backward(x, w, None, y, y.copy(), None, dw, None, partials, None, *tail[1:], lin, False)
    # transposed: x (2, 3, 3, 6) -> y (2, 5, 5, 4) with kernel (3, 3, 4, 6)
    xt, kt = np.zeros((2, 3, 3, 6), np.float32), np.zeros((3, 3, 4, 6), np.float32)
    yt, col = np.zeros((2, 5, 5, 4), np.float32), np.zeros((9, 36), np.float32)
    geometry = ((1, 1), (1, 1), (0, 0), lin)
    E.conv_transpose_forward(xt, kt, None, None, yt, col, *geometry)
    with pytest.raises(ValueError, match=r"kernel \(3, 3, 4, 5\) expects 5 input channels"):
        E.conv_transpose_forward(xt, np.zeros((3, 3, 4, 5), np.float32), None, None, yt, col, *geometry)
    with pytest.raises(ValueError, match="col must have shape"):
        E.conv_transpose_forward(xt, kt, None, None, yt, col[:8], (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match="col workspace is required"):
        E.conv_transpose_forward(xt, kt, None, None, yt, None, (1, 1), (1, 1), (0, 0), lin)
    with pytest.raises(ValueError, match=r"y has shape \(2, 5, 5, 3\)"):
        E.conv_transpose_forward(xt, kt, None, None, np.zeros((2, 5, 5, 3), np.float32), col, *geometry)
    with pytest.raises(ValueError, match="dw_partials workspace"):
        E.conv_transpose_backward(xt, kt, None, yt, yt.copy(), None, np.zeros_like(kt), None, col, None, (1, 1), (1, 1),
                                  (0, 0), lin, False)
    with pytest.raises(ValueError, match="dilation_rate"):
        E.conv_transpose_forward(xt, kt, None, None, yt, col, (1, 1), (1, 0), (0, 0), lin)


def test_binding_is_memory_safe_for_odd_geometry():
    # pads and output sizes that no layer would pass still stay inside the arrays
    x = f32(rng(9).standard_normal((1, 4, 4, 2)))
    w = f32(rng(10).standard_normal((3, 3, 2, 1)))
    y = np.full((1, 6, 7, 2), np.nan, np.float32)
    E.depthwise_forward(x, w, None, None, y, None, (1, 1), (1, 1), (9, 2), E.Activation.linear)
    assert np.isfinite(y).all() and not y[:, :3].any()
    yt = np.full((1, 2, 9, 3), np.nan, np.float32)
    E.conv_transpose_forward(x, f32(np.ones((2, 2, 3, 2))), None, None, yt, np.zeros((16, 12), np.float32), (2, 2),
                             (1, 1), (5, 0), E.Activation.linear)
    assert np.isfinite(yt).all()


# ---- configuration, saving -------------------------------------------------------------------
def test_config_round_trip_and_keras_names():
    dw = DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, activation="relu", name="d",
                         depthwise_regularizer=regularizers.l2(0.1), depthwise_constraint="non_neg")
    sep = SeparableConv2D(4, 3, depth_multiplier=3, dilation_rate=2, pointwise_initializer="he_normal", name="s")
    tr = Conv2DTranspose(4, 3, strides=2, output_padding=(1, 0), data_format="channels_first", name="t")
    for layer in (dw, sep, SeparableConv1D(3, 5, padding="causal"), tr):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    config = dw.get_config()
    assert "filters" not in config and "kernel_initializer" not in config
    assert config["depth_multiplier"] == 2 and config["depthwise_constraint"]["class_name"] == "NonNeg"
    assert {"pointwise_initializer", "depthwise_regularizer", "dilation_rate"} <= set(sep.get_config())
    assert "kernel_initializer" not in sep.get_config()
    assert tr.get_config()["output_padding"] == (1, 0) and Conv2DTranspose(2, 3).get_config()["output_padding"] is None
    assert keras.layers.Deconvolution2D is Conv2DTranspose and keras.layers.SeparableConvolution2D is SeparableConv2D
    assert DepthwiseConv2D(3).name.startswith("depthwise_conv2d_")
    assert Conv2DTranspose(2, 3).name.startswith("conv2d_transpose_")
    assert SeparableConv1D(2, 3).name.startswith("separable_conv1d_")


def test_model_saves_and_loads(tmp_path):
    model = Sequential([DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu",
                                        input_shape=(6, 5, 3)),
                        SeparableConv2D(4, 3, strides=2, data_format="channels_last", use_bias=False),
                        Conv2DTranspose(2, 3, strides=2, output_padding=1, data_format="channels_first",
                                        activation="tanh"),
                        Flatten(), Dense(1, activation="sigmoid")])
    model.compile(SGD(lr=0.1, momentum=0.9), "binary_crossentropy")
    x = f32(rng(11).standard_normal((4, 6, 5, 3)))
    model.train_on_batch(x, np.array([[0], [1], [1], [0]], np.float32))
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = load_model(path)
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    assert loaded.get_config() == model.get_config()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_regularizers_and_constraints_act_on_the_new_weights():
    x = f32(rng(12).standard_normal((4, 5, 5, 2)))
    y = f32(rng(13).standard_normal((4, 1)))
    layers = [DepthwiseConv2D(3, depthwise_regularizer=regularizers.l2(0.1), depthwise_constraint="non_neg",
                              input_shape=(5, 5, 2)),
              SeparableConv2D(2, 2, pointwise_regularizer=regularizers.l1(0.2), depthwise_regularizer="l2",
                              pointwise_constraint=constraints.max_norm(0.5)),
              Conv2DTranspose(2, 2, strides=2, kernel_regularizer=regularizers.l2(0.3), bias_regularizer="l1"),
              Flatten(), Dense(1)]
    model = Sequential(layers)
    model.compile(SGD(lr=0.01), "mse")
    ws = model.get_weights()
    plain = Sequential([type(la).from_config({k: v for k, v in la.get_config().items()
                                              if not k.endswith(("regularizer", "constraint"))}) for la in layers])
    plain.compile(SGD(lr=0.01), "mse")
    plain.set_weights(ws)
    penalty = (0.1 * np.square(ws[0]).sum() + 0.01 * np.square(ws[2]).sum() + 0.2 * np.abs(ws[3]).sum()
               + 0.3 * np.square(ws[5]).sum() + 0.01 * np.abs(ws[6]).sum())
    assert model.test_on_batch(x, y) == pytest.approx(plain.test_on_batch(x, y) + penalty, rel=1e-5)
    model.train_on_batch(x, y)
    after = model.get_weights()
    assert (after[0] >= 0).all()
    assert (np.abs(after[3]) <= 0.5 + 1e-6).all()  # max_norm's default axis 0 has length 1 here


# ---- parity with tf-keras ------------------------------------------------------------------
PARITY_CASES = ["depthwise", "depthwise_first", "separable2d", "separable1d", "transpose", "transpose_first"]


def load_fixture(case):
    data = np.load(os.path.join(FIXTURES, f"conv_extra_{case}.npz"))
    return data, json.loads(str(data["config"]))


def fixture_model(data, config):
    model = Sequential([getattr(keras.layers, spec["class"])(**spec["kwargs"]) for spec in config["layers"]])
    model.set_weights([data[f"w0_{i}"] for i in range(config["n_weights"])])
    return model


@pytest.mark.parametrize("case", PARITY_CASES)
def test_predict_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = fixture_model(data, config)
    np.testing.assert_allclose(model.predict(data["x"]), data["predict"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", PARITY_CASES)
def test_training_matches_tf_keras(case):
    data, config = load_fixture(case)
    model = fixture_model(data, config)
    model.compile(optimizer=SGD(**config["optimizer"]), loss=config["loss"])
    losses = [float(np.ravel(model.train_on_batch(data["x"], data["y"]))[0]) for _ in range(config["steps"])]
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"w_final_{i}"], rtol=1e-3, atol=1e-5)


def test_loads_a_tf_keras_h5_and_keeps_training_alike():
    data = np.load(os.path.join(FIXTURES, "conv_extra_h5.npz"))
    model = load_model(os.path.join(FIXTURES, "conv_extra_tfkeras.h5"))
    kinds = {layer.name: type(layer) for layer in model.layers}
    assert kinds["dw"] is DepthwiseConv2D and kinds["sep2d"] is SeparableConv2D
    assert kinds["up"] is Conv2DTranspose and kinds["sep1d"] is SeparableConv1D
    assert model.get_layer("up").output_padding == (1, 1)
    x = [data["xa"], data["xb"]]
    np.testing.assert_allclose(model.predict(x), data["predict"], rtol=1e-4, atol=1e-6)
    losses = [float(np.ravel(model.train_on_batch(x, data["y"]))[0]) for _ in range(3)]
    np.testing.assert_allclose(losses, data["more_losses"], rtol=1e-3)
    np.testing.assert_allclose(model.predict(x), data["more_predict"], rtol=1e-3, atol=1e-5)
