"""The AMX GEMM path (cpp/src/gemm/gemm_amx.cpp): FP32 products on the bf16 tile unit, each
float split exactly into three bf16 parts and six partial products. Against NumPy float64
with the FP32 error bound of tests/test_gemm.py, on shapes around its 32 x 32 blocks and 512
K blocks, all transposes, alpha, beta (NaN in C with beta = 0), bias; infinities and NaN;
bit-identical for 1, 2 and 3 threads; and the switches (set_amx, SEQNET_AMX=0)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from seqnet import _engine
from test_gemm import EPS, assert_close, check_alpha_beta_bias, operands, reference

pytestmark = pytest.mark.skipif(
    not _engine.amx_available(),
    reason="needs AMX-BF16 (an Intel Xeon of the 4th generation or later) and Linux granting the tile state")

# M x K x N, all sent to the tile unit (checked): whole blocks, ragged M, N and K (K past one
# and several K blocks of up to 512, K not a multiple of 32), and the LSTM's input projection and dx.
SHAPES = [(512, 256, 512), (545, 300, 400), (1280, 256, 512), (1280, 512, 256), (700, 1100, 430),
          (2000, 257, 300), (600, 17 * 32 + 5, 443)]


@pytest.fixture
def amx():
    """AMX on (isa avx512) for the test, the previous state restored after."""
    saved_isa, saved_amx = _engine.active_isa(), _engine.amx_active()
    _engine.set_isa("avx512")
    assert _engine.set_amx(True)
    yield
    _engine.set_isa(saved_isa)
    _engine.set_amx(saved_amx)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_float64(amx, shape, ta, tb):
    m, k, n = shape
    assert _engine.gemm_uses_amx(m, n, k)
    rng = np.random.default_rng(m + 7 * k + 11 * n)
    a, b = operands(rng, m, k, n, ta, tb)
    want, mag = reference(a, b, ta, tb)
    assert_close(_engine.matmul(a, b, ta, tb), want, mag, k)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (1.0, 1.0), (-0.5, 0.75), (2.0, -1.0)])
def test_alpha_beta_bias(amx, alpha, beta):
    rng = np.random.default_rng(5)
    for (m, k, n), (ta, tb) in [((545, 300, 400), (False, False)), ((1024, 270, 512), (True, True))]:
        assert _engine.gemm_uses_amx(m, n, k)
        check_alpha_beta_bias(rng, m, k, n, ta, tb, alpha, beta)


def test_as_accurate_as_the_fp32_kernels(amx):
    """The three-way split loses nothing: the error against float64 is no larger than the
    AVX-512 kernels' (relative to sum |a||b|), on a product where FP32 rounding shows."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1024, 2048)).astype(np.float32)
    b = rng.standard_normal((2048, 256)).astype(np.float32)
    assert _engine.gemm_uses_amx(1024, 256, 2048)
    want, mag = reference(a, b, False, False)
    got_amx = _engine.matmul(a, b)
    _engine.set_amx(False)
    got_fp32 = _engine.matmul(a, b)
    _engine.set_amx(True)
    err_amx = (np.abs(got_amx - want) / mag).max()
    err_fp32 = (np.abs(got_fp32 - want) / mag).max()
    assert err_amx <= 1.5 * err_fp32, (err_amx, err_fp32)
    assert err_amx < 4 * EPS


def nan_inf_pattern_matches(got, a, b):
    with np.errstate(invalid="ignore", over="ignore"):
        want = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(want))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


def test_nan_propagates(amx):
    """NaN stays NaN on the tile unit, also one whose payload sits only in the low 16 bits
    (its first part is then infinite, the others NaN)."""
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 1, (1024, 256)).astype(np.float32)
    b = rng.uniform(0.5, 1, (256, 512)).astype(np.float32)
    assert _engine.gemm_uses_amx(1024, 512, 256)
    a[11, 2] = np.array(0x7F800001, np.uint32).view(np.float32)
    b[4, 100] = np.nan
    got = _engine.matmul(a, b)
    nan_inf_pattern_matches(got, a, b)
    assert np.isnan(got[11]).all() and np.isnan(got[:, 100]).all()
    assert np.isfinite(np.delete(np.delete(got, 11, 0), 100, 1)).all()


def test_infinities_take_the_fp32_kernels(amx):
    """An infinite element's parts would be (inf, NaN, NaN), and inf times a zero part of the
    other operand is NaN: an operand holding an infinity sends the product to the FP32
    kernels, bit for bit what they give with AMX off, the beta * C term included."""
    rng = np.random.default_rng(3)
    for side in ("a", "b"):
        a = rng.uniform(0.5, 1, (1024, 256)).astype(np.float32)
        b = rng.choice([0.5, 1.0, 0.75], (256, 512)).astype(np.float32)  # parts 1 and 2 are zero
        assert _engine.gemm_uses_amx(1024, 512, 256)
        if side == "a":
            a[3, 5], a[7, 9] = np.inf, -np.inf
        else:
            b[3, 5], b[7, 9] = np.inf, -np.inf
        c0 = rng.uniform(-1, 1, (1024, 512)).astype(np.float32)
        got = c0.copy()
        _engine.sgemm(a, b, got, False, False, 1.0, 0.5)
        _engine.set_amx(False)
        want = c0.copy()
        _engine.sgemm(a, b, want, False, False, 1.0, 0.5)
        _engine.set_amx(True)
        assert got.tobytes() == want.tobytes()
        nan_inf_pattern_matches(_engine.matmul(a, b), a, b)
        assert np.isinf(got).any() and not np.isnan(got).any()


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("shape", [(1280, 256, 512), (700, 1100, 430), (4000, 256, 256)],
                         ids=lambda s: "x".join(map(str, s)))
def test_bit_identical_for_1_2_3_threads(amx, restore_threads, shape, ta, tb):
    m, k, n = shape
    assert _engine.gemm_uses_amx(m, n, k)
    rng = np.random.default_rng(4)
    a, b = operands(rng, m, k, n, ta, tb)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    results = []
    for t in (1, 2, 3):
        _engine.set_num_threads(t)
        c = c0.copy()
        _engine.sgemm(a, b, c, ta, tb, 0.75, 0.5, bias)
        results.append(c.tobytes())
    assert results[0] == results[1] == results[2]


def test_switches(amx):
    assert "amx" in _engine.gemm_kernel_name()
    assert _engine.gemm_uses_amx(1024, 1024, 1024)
    assert not _engine.gemm_uses_amx(128, 10, 784)  # too small to repay the packing
    assert not _engine.gemm_uses_amx(784, 512, 128)  # a short sum (mnist_mlp's dW)
    assert _engine.set_amx(False) is False
    assert "amx" not in _engine.gemm_kernel_name()
    assert not _engine.gemm_uses_amx(1024, 1024, 1024)
    assert _engine.set_amx(True) is True
    _engine.set_isa("avx2")  # AMX serves only under avx512
    assert not _engine.amx_active()
    assert "amx" not in _engine.gemm_kernel_name()
    _engine.set_isa("avx512")
    assert _engine.amx_active()


def test_environment_turns_it_off():
    code = "from seqnet import _engine; print(_engine.amx_available(), _engine.amx_active())"
    for value, active in (("0", "False"), ("1", "True")):
        env = dict(os.environ, SEQNET_AMX=value)
        env.pop("SEQNET_ISA", None)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split() == ["True", active], out.stdout + out.stderr


@pytest.mark.parametrize("rows", [(256, 128), (250, 134)])
def test_stacked_rows_count_together(amx, restore_threads, rows):
    """The LSTM's dW = X^T dG and dU = H^T dG (256 and 128 rows by 512, K = 1280): apart too
    small for the tile unit, together not. Each element gets the bits of one product on the
    rows stacked, whatever the panel boundaries, and for any thread count."""
    m1, m2 = rows
    k, n = 1280, 512
    assert not _engine.gemm_uses_amx(m1, n, k) and _engine.gemm_uses_amx(m1 + m2, n, k)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((k, m1)).astype(np.float32)
    h = rng.standard_normal((k, m2)).astype(np.float32)
    dg = rng.standard_normal((k, n)).astype(np.float32)
    whole = _engine.matmul(np.ascontiguousarray(np.concatenate([x, h], axis=1)), dg, True, False)
    for threads in (1, 2, 3):
        _engine.set_num_threads(threads)
        dw, du = np.empty((m1, n), np.float32), np.empty((m2, n), np.float32)
        _engine.sgemm_stacked([x, h], dg, [dw, du], True, False)
        assert dw.tobytes() == whole[:m1].tobytes() and du.tobytes() == whole[m1:].tobytes()
    want, mag = reference(x, dg, True, False)
    assert_close(dw, want, mag, k)


def test_dense_layer_with_fused_activation(amx):
    """A Dense forward large enough for the tile unit (batch 1024, 784 -> 512): the bias and
    the activation run as the GEMM's epilogue on each finished block, as on the FP32 path."""
    assert _engine.gemm_uses_amx(1024, 512, 784)
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (1024, 784)).astype(np.float32)
    w = rng.uniform(-0.1, 0.1, (784, 512)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, 512).astype(np.float32)
    z = np.empty((1024, 512), np.float32)
    y = np.empty((1024, 512), np.float32)
    _engine.dense_forward(x, w, b, z, y, _engine.Activation.relu)
    want_z, mag = reference(x, w, False, False)
    want_z += b
    assert_close(z, want_z, mag, 784, extra=4 * EPS * np.abs(want_z))
    np.testing.assert_array_equal(y, np.maximum(z, 0))
    fused = np.empty_like(y)  # no z kept: the activation itself runs in the epilogue
    _engine.dense_forward(x, w, b, None, fused, _engine.Activation.relu)
    np.testing.assert_array_equal(fused, y)


@pytest.fixture
def high_precision():
    """MatmulPrecision::High ("bf16x3") for the test, 'highest' after."""
    import seqnet.backend as K
    assert K.matmul_precision() == "highest"
    K.set_matmul_precision("high")
    yield K
    K.set_matmul_precision("highest")


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
def test_high_precision_keeps_three_products(amx, high_precision, restore_threads, ta, tb):
    """'high' drops the three smallest partial products: an error of about 2^-16 of sum |ab|
    (each dropped term is below 2^-16 |ab|), far above FP32's yet bounded; the same bits for
    any thread count; and back at 'highest', the FP32-accurate bits again."""
    assert "bf16x3" in _engine.gemm_kernel_name()
    m, k, n = 1280, 256, 512
    rng = np.random.default_rng(9)
    a, b = operands(rng, m, k, n, ta, tb)
    want, mag = reference(a, b, ta, tb)
    results = []
    for threads in (1, 2, 3):
        _engine.set_num_threads(threads)
        results.append(_engine.matmul(a, b, ta, tb))
    assert results[0].tobytes() == results[1].tobytes() == results[2].tobytes()
    err = (np.abs(results[0] - want) / mag).max()
    assert 2.0**-20 < err < 3 * 2.0**-16 + (k + 4) * EPS, err
    high_precision.set_matmul_precision("highest")
    assert_close(_engine.matmul(a, b, ta, tb), want, mag, k)
