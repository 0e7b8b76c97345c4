"""The fast paths of 3x3 stride-1 convolutions, Winograd F(2x2,3x3) and F(4x4,3x3) and the direct
path (no im2col matrix), against a float64 NumPy reference, for each pass (forward, input gradient, kernel gradient), with the
bias and activations fused; thread-count independence; the algorithm setting and the measured
choice.

Tolerances. Errors are measured relative to the scale of the terms summed, |x| * |w| (forward),
|dz| * |w| (input gradient), |x| * |dz| (kernel gradient), which bounds any summation order's
rounding. Observed maxima over these cases (float32, unit normal data): im2col and direct ~1e-7,
F(2x2) ~1e-7, F(4x4) ~1e-6 of that scale (its transforms multiply by up to 8 and 1/24, and
cancel). The bounds below leave 4-10x headroom: 2e-6 for im2col, direct and F(2x2), 1e-5 for
F(4x4).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from numeric_helpers import AVAILABLE_ISAS
from seqnet import _engine as E

ALGOS = ("im2col", "direct", "winograd2", "winograd4", "winograd6")
TOLERANCE = {"im2col": 2e-6, "direct": 2e-6, "winograd2": 2e-6, "winograd4": 1e-5, "winograd6": 1e-4}
# Element-wise agreement (between algorithms, or instruction sets) where outputs are ~10: F(6x6)'s
# larger points leave absolute errors near 1e-4 there (about 1e-5 of the output's scale).
AGREE_ATOL = {"winograd6": 1e-3}
# (n, h, w, c, f, pad): tails in every direction (c, f past a vector; oh, ow not a tile multiple),
# one image, one channel, a single tile, 'valid' and 'same', several blocks of tiles.
CASES = [
    (2, 9, 11, 5, 7, 1),
    (3, 10, 10, 32, 32, 0),
    (1, 7, 6, 17, 33, 1),
    (2, 5, 5, 1, 3, 0),
    (1, 3, 3, 4, 2, 0),
    (2, 30, 29, 19, 40, 1),
]


@pytest.fixture
def algo_setting():
    saved = E.conv_algo()
    yield
    E.set_conv_algo(saved)


def conv_ref(x, w, pad, oh, ow):
    """sum_ij x_padded[oh + i, ow + j] w[i, j], float64."""
    n, h, wd, c = x.shape
    xp = np.zeros((n, h + 4, wd + 4, c))
    xp[:, 2:2 + h, 2:2 + wd] = x
    y = np.zeros((n, oh, ow, w.shape[3]))
    for i in range(3):
        for j in range(3):
            y += np.einsum("nhwc,cf->nhwf", xp[:, 2 - pad + i:2 - pad + i + oh, 2 - pad + j:2 - pad + j + ow], w[i, j])
    return y


def grads_ref(x, w, dz, pad):
    """dx and dw of sum(conv(x, w) * dz), float64, with the scales |dz|*|w| and |x|*|dz|."""
    n, h, wd, c = x.shape
    oh, ow = dz.shape[1:3]
    xp = np.zeros((n, h + 4, wd + 4, c))
    xp[:, 2:2 + h, 2:2 + wd] = x
    dxp, dxs = np.zeros_like(xp), np.zeros_like(xp)
    dw, dws = np.zeros(w.shape), np.zeros(w.shape)
    for i in range(3):
        for j in range(3):
            sl = (slice(None), slice(2 - pad + i, 2 - pad + i + oh), slice(2 - pad + j, 2 - pad + j + ow))
            dw[i, j] = np.einsum("nhwc,nhwf->cf", xp[sl], dz)
            dws[i, j] = np.einsum("nhwc,nhwf->cf", np.abs(xp[sl]), np.abs(dz))
            dxp[sl] += np.einsum("nhwf,cf->nhwc", dz, w[i, j])
            dxs[sl] += np.einsum("nhwf,cf->nhwc", np.abs(dz), np.abs(w[i, j]))
    crop = (slice(None), slice(2, 2 + h), slice(2, 2 + wd))
    return dxp[crop], dxs[crop], dw, dws


class Problem:
    def __init__(self, n, h, w, c, f, pad, seed=0):
        r = np.random.default_rng(seed)
        self.pad = pad
        self.oh, self.ow = (h, w) if pad else (h - 2, w - 2)
        self.x = r.standard_normal((n, h, w, c)).astype(np.float32)
        self.k = r.standard_normal((3, 3, c, f)).astype(np.float32)
        self.b = r.standard_normal(f).astype(np.float32)
        self.dy = r.standard_normal((n, self.oh, self.ow, f)).astype(np.float32)
        self.col = np.empty((self.oh * self.ow, 9 * c), np.float32)
        self.partials = np.empty(E.conv_dw_partials_size(n, self.oh, self.ow, 3, 3, c, f), np.float32)

    def forward(self, act=E.Activation.linear, bias=True, keep_z=False):
        y = np.empty(self.dy.shape, np.float32)
        z = np.empty_like(y) if keep_z else None
        E.conv_forward(self.x, self.k, self.b if bias else None, z, y, self.col, (1, 1), (1, 1),
                       (self.pad, self.pad), act)
        return y, z

    def backward(self, y, z=None, act=E.Activation.linear, pre=False, need_dx=True):
        dy = self.dy.copy()
        dx = np.empty_like(self.x) if need_dx else None
        dk, db = np.empty_like(self.k), np.empty_like(self.b)
        E.conv_backward(self.x, self.k, z, y, dy, dx, dk, db, self.col, self.partials, (1, 1), (1, 1),
                        (self.pad, self.pad), act, pre)
        return dx, dk, db, dy


def scaled_error(got, ref, scale):
    return float(np.max(np.abs(got - ref) / (scale + 1e-30)))


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("case", CASES)
def test_every_pass_matches_float64(case, algo, algo_setting):
    E.set_conv_algo(algo)
    p = Problem(*case)
    x, k = p.x.astype(np.float64), p.k.astype(np.float64)
    y, _ = p.forward()
    ref = conv_ref(x, k, p.pad, p.oh, p.ow) + p.b
    scale = conv_ref(np.abs(x), np.abs(k), p.pad, p.oh, p.ow) + np.abs(p.b)
    assert scaled_error(y, ref, scale) < TOLERANCE[algo]
    dx, dk, db, _ = p.backward(y, pre=True)
    dx_ref, dx_scale, dk_ref, dk_scale = grads_ref(x, k, p.dy.astype(np.float64), p.pad)
    assert scaled_error(dx, dx_ref, dx_scale) < TOLERANCE[algo]
    assert scaled_error(dk, dk_ref, dk_scale) < TOLERANCE[algo]
    np.testing.assert_allclose(db, p.dy.astype(np.float64).sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
@pytest.mark.parametrize("algo", ["winograd2", "winograd4", "winograd6"])
def test_large_output_streams_the_same_bits(algo, isa, algo_setting, restore_isa):
    """An output larger than twice L2 leaves the Winograd output transform by streaming stores where
    it starts on a 64-byte boundary (as the layers' workspaces do), and by plain stores 16 bytes
    past one (NumPy's own alignment here): the same bits either way, forward and input gradient,
    with a bias and relu; and within rounding of im2col."""
    c, f = 16, 32
    from seqnet.engine.memory import aligned_empty
    if E.set_isa(isa) != isa:
        pytest.skip(f"this CPU cannot run the {isa} kernels")
    side = 48
    n = max(1, int(np.ceil(3 * E.cache_sizes()["l2"] / (side * side * f * 4))))  # output > 3 x L2
    p = Problem(n, side + 2, side + 2, c, f, 0, seed=4)
    assert p.dy.nbytes > 2 * E.cache_sizes()["l2"]
    runs = []
    for algo_now, offset in ((algo, 0), (algo, 4), ("im2col", 0)):  # offset: floats past a 64-byte boundary
        E.set_conv_algo(algo_now)
        raw = aligned_empty(p.dy.size + 16)
        y = raw[offset:offset + p.dy.size].reshape(p.dy.shape)
        E.conv_forward(p.x, p.k, p.b, None, y, p.col, (1, 1), (1, 1), (0, 0), E.Activation.relu)
        assert (y.ctypes.data % 64 == 0) == (offset == 0)
        raw_dx = aligned_empty(p.x.size + 16)
        dx = raw_dx[offset:offset + p.x.size].reshape(p.x.shape)
        dk, db = np.empty_like(p.k), np.empty_like(p.b)
        E.conv_backward(p.x, p.k, None, y, p.dy.copy(), dx, dk, db, p.col, p.partials, (1, 1), (1, 1), (0, 0),
                        E.Activation.relu, False)
        runs.append((y.copy(), dx.copy(), dk, db))
    for a, b in zip(runs[0], runs[1]):
        assert np.array_equal(a, b)
    for a, b in zip(runs[0], runs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)


def test_winograd_differs_from_im2col_only_by_rounding(algo_setting):
    """The forced setting really switches the algorithm (the results differ in the last bits) and
    the last two differ from im2col by no more than their tolerance."""
    p = Problem(2, 12, 12, 16, 16, 1)
    outs = {}
    for algo in ALGOS:
        E.set_conv_algo(algo)
        outs[algo] = p.forward()[0]
    assert len({outs[a].tobytes() for a in ("im2col", "winograd2", "winograd4", "winograd6")}) == 4
    for algo in ALGOS[1:]:
        np.testing.assert_allclose(outs[algo], outs["im2col"], rtol=1e-4, atol=AGREE_ATOL.get(algo, 1e-4))


@pytest.mark.parametrize("case", [(2, 12, 12, 1, 32, 0), (3, 9, 14, 3, 40, 1), (2, 20, 17, 7, 16, 0),
                                  (1, 5, 30, 2, 9, 1)])
def test_direct_forward_gives_the_bits_of_im2col(case, isa, algo_setting):
    """The direct path sums each patch over all its kernel rows in one chain, in the order of the
    im2col matrix's columns: the same operations as im2col + GEMM, so the same bits (padding rows
    skipped instead of multiplied by zeros), bias and activation included."""
    p = Problem(*case, seed=11)
    outs = {}
    for algo in ("im2col", "direct"):
        E.set_conv_algo(algo)
        outs[algo] = p.forward(act=E.Activation.relu)[0]
    assert outs["direct"].tobytes() == outs["im2col"].tobytes()


@pytest.mark.parametrize("case", [(8, 28, 28, 1, 32, 0), (2, 32, 32, 3, 32, 1), (3, 13, 17, 3, 16, 1),
                                  (2, 9, 40, 2, 64, 0), (1, 6, 150, 3, 32, 1)])
def test_direct_first_layer_shapes_match_float64(case, isa, algo_setting):
    """A first layer's few channels on the direct path, on each instruction set: the forward with its
    bias and relu applied in the kernel's registers, and the kernel gradient as one product of the
    patches and a row of ones (db) by dz, in chunks of output rows over several blocks (the mnist_cnn
    and cifar10_cnn first layers among them), after the relu's backward; against float64."""
    p = Problem(*case, seed=21)
    E.set_conv_algo("direct")
    x, k = p.x.astype(np.float64), p.k.astype(np.float64)
    y, _ = p.forward(act=E.Activation.relu)
    pre = conv_ref(x, k, p.pad, p.oh, p.ow) + p.b
    scale = conv_ref(np.abs(x), np.abs(k), p.pad, p.oh, p.ow) + np.abs(p.b)
    assert scaled_error(y, np.maximum(pre, 0.0), scale) < TOLERANCE["direct"]
    assert (y[pre < -1e-3 * scale] == 0).all()
    _, dk, db, dy_after = p.backward(y, act=E.Activation.relu, need_dx=False)
    # No input gradient (a first layer): dz is formed chunk by chunk in scratch and dy is left as it was.
    np.testing.assert_array_equal(dy_after, p.dy)
    dz_ref = p.dy.astype(np.float64) * (y > 0)
    _, dk2, db2, dz = p.backward(y, act=E.Activation.relu, need_dx=True)  # dz in place, for the input gradient
    np.testing.assert_array_equal(dz, dz_ref.astype(np.float32))
    assert dk.tobytes() == dk2.tobytes() and db.tobytes() == db2.tobytes()
    _, _, dk_ref, dk_scale = grads_ref(x, k, dz_ref, p.pad)
    assert scaled_error(dk, dk_ref, dk_scale) < TOLERANCE["direct"]
    np.testing.assert_allclose(db, dz_ref.sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("algo", ALGOS[1:])
@pytest.mark.parametrize("act", ["relu", "tanh", "elu", "swish", "softmax", "sigmoid"])
def test_fused_bias_and_activation(algo, act, algo_setting):
    """The output transform adds the bias and applies the activation as the im2col epilogue does;
    the backward pass forms dz from z / y the same way."""
    code = getattr(E.Activation, act)
    keep_z = E.activation_backward_needs_input(code) or act in ("softmax", "sigmoid")
    p = Problem(2, 11, 9, 6, 10, 1, seed=3)
    results = {}
    for a in ("im2col", algo):
        E.set_conv_algo(a)
        y, z = p.forward(act=code, keep_z=keep_z)
        dx, dk, db, dz = p.backward(y, z, act=code)
        results[a] = (y, dx, dk, db, dz)
    ref = conv_ref(p.x.astype(np.float64), p.k.astype(np.float64), 1, p.oh, p.ow) + p.b
    expect = np.empty(ref.shape, np.float32)
    E.activation_forward(code, ref.astype(np.float32), expect)
    # atol: the pre-activations sum 54 terms of about 1 (scale ~40), F(4x4) errs by up to 1e-5 of that
    np.testing.assert_allclose(results[algo][0], expect, rtol=1e-4, atol=4e-4)
    for got, want in zip(results[algo][1:], results["im2col"][1:]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_no_bias_and_nan_propagates(algo_setting):
    p = Problem(1, 8, 8, 4, 4, 1)
    E.set_conv_algo("winograd4")
    y, _ = p.forward(bias=False)
    np.testing.assert_allclose(y, conv_ref(p.x.astype(np.float64), p.k.astype(np.float64), 1, 8, 8), atol=1e-4)
    p.x[0, 3, 3, 0] = np.nan
    y, _ = p.forward(act=E.Activation.relu)
    assert np.isnan(y[0, 2:5, 2:5, :]).all()  # the outputs that read it (relu keeps NaN)
    assert not np.isnan(y[0, 6:, 6:]).any()  # another tile stays clean


@pytest.mark.parametrize("algo", ALGOS[1:])
def test_bit_identical_for_any_thread_count(algo, algo_setting, restore_threads):
    p = Problem(4, 37, 35, 24, 20, 1, seed=5)  # several blocks of tiles and several gradient chunks
    E.set_conv_algo(algo)
    results = []
    for threads in (1, 2, 3):
        E.set_num_threads(threads)
        y, _ = p.forward(act=E.Activation.relu)
        results.append((y,) + p.backward(y, act=E.Activation.relu))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("algo", ALGOS[1:])
def test_every_isa_agrees(algo, algo_setting, restore_isa):
    p = Problem(2, 14, 13, 21, 19, 0, seed=7)
    E.set_conv_algo(algo)
    results = {}
    for isa in AVAILABLE_ISAS:
        assert E.set_isa(isa) == isa
        y, _ = p.forward()
        results[isa] = (y,) + p.backward(y)[:3]
    base = results[AVAILABLE_ISAS[0]]
    for isa, outs in results.items():
        for a, b in zip(base, outs):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=AGREE_ATOL.get(algo, 1e-4), err_msg=isa)


def test_tune_measures_once_per_shape_and_pass(algo_setting):
    E.set_conv_algo("tune")
    E.clear_conv_algo_choices()
    p = Problem(4, 24, 24, 32, 32, 1)  # 2.4e7 multiply-adds: measured
    y, _ = p.forward()
    first = p.backward(y)
    choices = E.conv_algo_choices()
    assert sorted(c["pass"] for c in choices) == ["forward", "input_grad", "kernel_grad"]
    for c in choices:
        assert c["input"] == p.x.shape and c["output"] == y.shape and c["pads"] == (1, 1)
        assert c["algo"] in ALGOS
        assert all(c["seconds"][a] > 0 for a in ALGOS)
        assert c["seconds"][c["algo"]] == min(c["seconds"].values()) or c["algo"] != "winograd6"
    # later calls reuse the choice: same results, bit for bit, and nothing measured again
    y2, _ = p.forward()
    assert y2.tobytes() == y.tobytes()
    for a, b in zip(first, p.backward(y2)):
        assert a.tobytes() == b.tobytes()
    assert E.conv_algo_choices() == choices
    # the measured call left the chosen algorithm's results
    fwd = next(c["algo"] for c in choices if c["pass"] == "forward")
    E.set_conv_algo(fwd)
    assert p.forward()[0].tobytes() == y.tobytes()


def test_tune_leaves_small_and_other_shapes_to_im2col(algo_setting):
    E.set_conv_algo("tune")
    E.clear_conv_algo_choices()
    small = Problem(1, 6, 6, 3, 4, 1)
    y, _ = small.forward()
    small.backward(y)
    assert E.conv_algo_choices() == []
    E.set_conv_algo("im2col")
    assert small.forward()[0].tobytes() == y.tobytes()


@pytest.mark.parametrize("shape, expect", [
    ((4, 24, 24, 32, 32, 1), "winograd4"),   # enough channels, maps of >= 6x6 outputs
    ((16, 6, 6, 32, 48, 1), "winograd4"),
    ((32, 4, 5, 32, 64, 1), "winograd2"),    # small maps: F(2x2)
    ((8, 40, 40, 3, 32, 0), "direct"),       # few input channels (a first layer)
    ((1, 6, 6, 3, 4, 1), "im2col"),          # too small to gain
])
def test_auto_is_a_fixed_rule_per_shape(shape, expect, algo_setting):
    """'auto' runs the rule's algorithm, bit for bit, without measuring anything."""
    p = Problem(*shape, seed=3)
    E.set_conv_algo("auto")
    E.clear_conv_algo_choices()
    y, _ = p.forward()
    auto = (y,) + p.backward(y)[:3]
    assert E.conv_algo_choices() == []
    E.set_conv_algo(expect)
    y2, _ = p.forward()
    forced = (y2,) + p.backward(y2)[:3]
    # forward, input and kernel gradients (the input gradient of a first layer is another shape:
    # its filters are the channels, so the rule gives it F(4x4), not the direct path)
    checked = [0, 2] if expect == "direct" else [0, 1, 2]
    for i in checked:
        assert auto[i].tobytes() == forced[i].tobytes()
    # and the engine names it (bench/bench_conv_layers.py labels its 'auto' column with it)
    assert E.conv_algo_rule(p.x, p.k, y, (1, 1), (1, 1), (p.pad, p.pad)) == expect


def test_conv_algo_rule_names_im2col_where_no_fast_path_applies():
    x, y = np.empty((2, 12, 12, 16), np.float32), np.empty((2, 8, 8, 8), np.float32)
    assert E.conv_algo_rule(x, np.empty((5, 5, 16, 8), np.float32), y, (1, 1), (1, 1), (0, 0)) == "im2col"
    y2 = np.empty((2, 5, 5, 8), np.float32)
    assert E.conv_algo_rule(x, np.empty((3, 3, 16, 8), np.float32), y2, (2, 2), (1, 1), (0, 0)) == "im2col"
    with pytest.raises(ValueError, match="conv_algo_rule: kernel .* expects 4 input channels"):
        E.conv_algo_rule(x, np.empty((3, 3, 4, 8), np.float32), y, (1, 1), (1, 1), (0, 0))


def test_setting_names(algo_setting):
    assert E.set_conv_algo("winograd") in ("auto",) + ALGOS
    assert E.conv_algo() == "winograd4"
    assert E.set_conv_algo("winograd2") == "winograd4"
    assert E.set_conv_algo("direct") == "winograd2"
    assert E.set_conv_algo("winograd2") == "direct"
    with pytest.raises(ValueError, match="set_conv_algo: algo must be one of .* got 'fast'"):
        E.set_conv_algo("fast")
    assert E.conv_algo() == "winograd2"


def test_environment_variable_sets_the_algorithm():
    code = "from seqnet import _engine as E; print(E.conv_algo())"
    for value, expect in (("im2col", "im2col"), ("winograd", "winograd4"), ("winograd2", "winograd2"), ("direct", "direct"),
                          ("tune", "tune"),
                          ("nonsense", "auto"), ("", "auto")):
        env = dict(os.environ, SEQNET_CONV_ALGO=value)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expect


def test_conv2d_layer_trains_alike_with_every_algorithm(algo_setting):
    """A Conv2D model's training step with Winograd forced matches im2col to float32 rounding."""
    from seqnet.layers import Conv2D, Dense, Flatten
    from seqnet.models import Sequential

    r = np.random.default_rng(11)
    x = r.standard_normal((8, 10, 10, 3)).astype(np.float32)
    y = r.standard_normal((8, 4)).astype(np.float32)
    results = {}
    for algo in ALGOS:
        E.set_conv_algo(algo)
        np.random.seed(1)
        model = Sequential([Conv2D(8, 3, padding="same", activation="relu", input_shape=(10, 10, 3)),
                            Conv2D(6, 3, activation="tanh"), Flatten(), Dense(4)])
        model.compile("sgd", "mse")
        model.train_on_batch(x, y)
        results[algo] = [model.predict(x)] + model.get_weights()
    for algo in ALGOS[1:]:
        for a, b in zip(results["im2col"], results[algo]):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
