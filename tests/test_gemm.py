"""seqnet._engine.sgemm / matmul against NumPy float64: shapes around the microkernel
and block edges, all four transposes, alpha/beta (beta = 0 with NaN in C), bias, every
microkernel this CPU can run, and bit-identical results for 1 and 2 threads."""

import os
import subprocess
import sys

import numpy as np
import pytest

from numeric_helpers import AVAILABLE_ISAS as ISAS
from seqnet import _engine

EPS = np.finfo(np.float32).eps

# M x K x N of op(A) @ op(B): 1, primes, sizes around MR (4, 6, 14), NR (8, 16, 32) and
# kc (512 on most CPUs), and the Dense shapes of training.
SHAPES = [
    (1, 1, 1), (1, 7, 1), (3, 1, 5), (13, 17, 31), (14, 33, 32), (15, 2, 33), (29, 64, 47),
    (97, 101, 89), (128, 20, 64), (128, 64, 10), (20, 128, 64), (64, 513, 70), (131, 1030, 37),
    # large enough for the threaded in-place paths (rows, cols, C^T) and several K blocks
    (40, 1100, 300), (700, 600, 13), (1200, 530, 40), (30, 2000, 700),
]


def operands(rng, m, k, n, ta, tb):
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def reference(a, b, ta, tb):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    a64, b64 = (a64.T if ta else a64), (b64.T if tb else b64)
    return a64 @ b64, np.abs(a64) @ np.abs(b64)


def assert_close(got, want, magnitude, k, extra=0.0):
    tol = (k + 4) * EPS * magnitude + extra + 4 * EPS
    err = np.abs(got.astype(np.float64) - want)
    assert np.all(np.isfinite(got)), "non-finite values in C"
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), f"C{worst} = {got[worst]!r}, want {want[worst]!r} (tol {tol[worst]:.3g})"


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matmul_matches_float64(isa, shape, ta, tb):
    m, k, n = shape
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = operands(rng, m, k, n, ta, tb)
    want, mag = reference(a, b, ta, tb)
    assert_close(_engine.matmul(a, b, ta, tb), want, mag, k)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (1.0, 1.0), (-0.5, 0.75), (2.0, -1.0), (0.0, 0.5)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_sgemm_alpha_beta_bias(isa, alpha, beta, ta, tb):
    rng = np.random.default_rng(7)
    for m, k, n in [(37, 45, 53), (128, 64, 10), (200, 600, 70)]:
        check_alpha_beta_bias(rng, m, k, n, ta, tb, alpha, beta)


def check_alpha_beta_bias(rng, m, k, n, ta, tb, alpha, beta):
    """sgemm with alpha, beta (NaN in C with beta = 0: it must not be read) and a bias, against
    float64."""
    a, b = operands(rng, m, k, n, ta, tb)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    if beta == 0.0:
        c0[:] = np.nan
    c = c0.copy()
    _engine.sgemm(a, b, c, ta, tb, alpha, beta, bias)
    prod, mag = reference(a, b, ta, tb)
    cin = np.zeros_like(prod) if beta == 0.0 else c0.astype(np.float64)
    want = alpha * prod + beta * cin + bias
    assert_close(c, want, abs(alpha) * mag, k, extra=(k + 4) * EPS * (np.abs(beta * cin) + np.abs(want)))


# Shapes whose op(B) is packed from a transposed B by every path that does so (rows: the
# whole of it; cols: a chunk per K block; packed; C^T does not pack it): K and N off the
# 16 x 16 (AVX-512) and 8 x 8 (AVX2) transpose blocks, and panels with a single column.
TRANSPOSED_B_SHAPES = [(3, 1, 1), (5, 15, 17), (14, 17, 33), (128, 31, 100), (128, 512, 512), (128, 513, 785),
                       (70, 300, 1500), (300, 700, 257), (1200, 530, 40)]


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("shape", TRANSPOSED_B_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_transposed_b_gives_the_bits_of_a_transposed_copy(isa, shape, ta):
    # Packing a transposed B (vectorised per instruction set) only moves elements: every
    # element of C then sees the operations it sees with B^T copied beforehand, in any path.
    m, k, n = shape
    rng = np.random.default_rng(m + 7 * k + 13 * n)
    a, b = operands(rng, m, k, n, ta, True)
    got = _engine.matmul(a, b, ta, True)
    assert got.tobytes() == _engine.matmul(a, np.ascontiguousarray(b.T), ta, False).tobytes()
    want, mag = reference(a, b, ta, True)
    assert_close(got, want, mag, k)


def test_empty_and_degenerate():
    a = np.ones((0, 5), np.float32)
    b = np.ones((5, 3), np.float32)
    assert _engine.matmul(a, b).shape == (0, 3)
    # k == 0: C = beta * C (+ bias), and A, B are never touched.
    a, b = np.ones((4, 0), np.float32), np.ones((0, 3), np.float32)
    c = np.full((4, 3), 2.0, np.float32)
    _engine.sgemm(a, b, c, False, False, 1.0, 0.5, np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(c, np.tile([1.0, 2.0, 3.0], (4, 1)).astype(np.float32))


# Besides the packed path, shapes that take the threaded in-place paths: rows (convolution
# im2col, K over several blocks), cols (few rows, long K: a Dense layer on a small batch;
# with B transposed and small enough for rows, on one thread rows and on two cols: dX on a
# batch), C^T (few rows with B transposed; narrow C with A transposed) and, for a product
# products the packed path takes on one thread and cols on two (each thread's columns one
# chunk; or, wider, the rows split and the columns in chunks), and one whose columns the packed
# path splits into narrower blocks of B on one thread only.
@pytest.mark.parametrize("shape", [(301, 700, 257), (128, 64, 64), (64, 128, 10), (517, 300, 96),
                                   (1849, 576, 64), (9604, 27, 32), (32, 1500, 2000), (20, 1030, 777),
                                   (2000, 700, 10), (3528, 32, 256), (128, 512, 512), (32, 512, 520),
                                   (600, 700, 300), (700, 600, 1200), (600, 1024, 700), (600, 1024, 1600)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True), (False, True), (True, False)])
def test_one_and_two_threads_bit_identical(isa, shape, ta, tb):
    m, k, n = shape
    rng = np.random.default_rng(3)
    a, b = operands(rng, m, k, n, ta, tb)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    threads = _engine.get_num_threads()
    results = []
    try:
        for t in (1, 2):
            _engine.set_num_threads(t)
            c = c0.copy()
            _engine.sgemm(a, b, c, ta, tb, 0.75, 0.5, bias)
            results.append(c)
    finally:
        _engine.set_num_threads(threads)
    assert results[0].tobytes() == results[1].tobytes()


def check_part_of_larger(part, whole, ta, tb, take):
    """part and whole are (a, b, c, bias) of two products whose C overlap: the smaller one's C must
    hold, bit for bit, take(the larger one's C) (with alpha, beta and a bias), since rows and
    columns of C are independent and every path gives an element the same operations; and the
    smaller one, with beta = 0 into NaN (which must not be read), must match float64."""
    a, b, c, bias = part
    _engine.sgemm(a, b, c, ta, tb, 0.75, 0.5, bias)
    wa, wb, wc, wbias = whole
    _engine.sgemm(wa, wb, wc, ta, tb, 0.75, 0.5, wbias)
    assert c.tobytes() == np.ascontiguousarray(take(wc)).tobytes()
    want, mag = reference(a, b, ta, tb)
    fresh = np.full(c.shape, np.nan, np.float32)
    _engine.sgemm(a, b, fresh, ta, tb, 1.0, 0.0)
    assert_close(fresh, want, mag, a.shape[0] if ta else a.shape[1])


def uniform(rng, *shape):
    return rng.uniform(-1, 1, shape).astype(np.float32)


# The streaming path (at most 8 rows of C, 4 on AVX2, against op(B) read in place, or 4
# columns of C as C^T against a transposed A): K across several blocks and with remainders of
# its passes over 4 (or 2) rows of B, N across several column chunks of 1024 and off the
# vector width.
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("k,n", [(1, 33), (7, 100), (513, 70), (1100, 257), (130, 2600)])
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_streaming_path_gives_the_bits_of_the_tile_paths(isa, m, k, n, ta, threads, restore_threads):
    """The m-row product (streamed) against the first m rows of the same product on 9 rows (the
    register-tile paths); likewise its C^T form, m <= 4 columns of C = A^T B, against the first m
    of 5 columns."""
    _engine.set_num_threads(threads)
    rng = np.random.default_rng(m * 100 + k + n)
    # m rows: op(A) m x k, B k x n
    a9, b = operands(rng, 9, k, n, ta, False)
    a = np.ascontiguousarray(a9[:, :m] if ta else a9[:m])
    bias, c9 = uniform(rng, n), uniform(rng, 9, n)
    check_part_of_larger((a, b, c9[:m].copy(), bias), (a9, b, c9, bias), ta, False, lambda c: c[:m])
    if m > 4:
        return
    # m columns: C (n x m) = A^T B, A k x n, B k x m
    at, bt5, bias5, ct5 = uniform(rng, k, n), uniform(rng, k, 5), uniform(rng, 5), uniform(rng, n, 5)
    part = (at, np.ascontiguousarray(bt5[:, :m]), np.ascontiguousarray(ct5[:, :m]), np.ascontiguousarray(bias5[:m]))
    check_part_of_larger(part, (at, bt5, ct5, bias5), True, False, lambda c: c[:, :m])


# The dot path (at most 4 columns of C against a row-major op(A), or 4 rows against a transposed
# B): lanes across several groups of 16 and chunks of 64, K across blocks and off 16.
@pytest.mark.parametrize("few", [1, 2, 3, 4])
@pytest.mark.parametrize("k,big", [(1, 5), (7, 100), (513, 70), (1100, 257), (33, 300)])
@pytest.mark.parametrize("other_t", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_dot_path_gives_the_bits_of_the_tile_paths(isa, few, k, big, other_t, threads, restore_threads):
    """As the streaming test: `few` columns of C = op(A) op(B) (A row-major; op(B) plain or
    transposed: other_t) against the first `few` columns of the 5-column product; `few` rows of
    C = op(A) B^T (op(A) plain or transposed) against the first rows of 5."""
    _engine.set_num_threads(threads)
    rng = np.random.default_rng(few * 1000 + k + big)
    bias5 = uniform(rng, 5)
    # few columns: A big x k, op(B) k x few
    a = uniform(rng, big, k)
    b5 = uniform(rng, *((5, k) if other_t else (k, 5)))
    b = np.ascontiguousarray(b5[:few] if other_t else b5[:, :few])
    c5 = uniform(rng, big, 5)
    part = (a, b, np.ascontiguousarray(c5[:, :few]), np.ascontiguousarray(bias5[:few]))
    check_part_of_larger(part, (a, b5, c5, bias5), False, other_t, lambda c: c[:, :few])
    # few rows: op(A) few x k, B big x k (transposed)
    a5 = uniform(rng, *((k, 5) if other_t else (5, k)))
    af = np.ascontiguousarray(a5[:, :few] if other_t else a5[:few])
    bt, bias, r5 = uniform(rng, big, k), uniform(rng, big), uniform(rng, 5, big)
    check_part_of_larger((af, bt, r5[:few].copy(), bias), (a5, bt, r5, bias), other_t, True, lambda c: c[:few])


def test_kernel_name_follows_isa():
    before = _engine.active_isa()
    try:
        for isa in ISAS:
            _engine.set_isa(isa)
            assert _engine.gemm_kernel_name().startswith(isa)
    finally:
        _engine.set_isa(before)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True)])
def test_sgemm_stacked_equals_separate_calls(isa, ta, tb):
    """Products sharing op(B) in one call: off the AMX path, exactly the separate sgemm calls."""
    rng = np.random.default_rng(11)
    k, n = 300, 70
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    parts = [operands(rng, m, k, n, ta, tb)[0] for m in (37, 5, 130)]
    c0 = [rng.uniform(-1, 1, (p.shape[1] if ta else p.shape[0], n)).astype(np.float32) for p in parts]
    got = [c.copy() for c in c0]
    _engine.sgemm_stacked(parts, b, got, ta, tb, 0.5, 0.25)
    for a, c, g in zip(parts, c0, got):
        want = c.copy()
        _engine.sgemm(a, b, want, ta, tb, 0.5, 0.25)
        assert g.tobytes() == want.tobytes()


def test_sgemm_stacked_checks_its_arguments():
    b = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="same nonzero length, got 1 and 2"):
        _engine.sgemm_stacked([np.ones((2, 4), np.float32)], b, [np.ones((2, 3), np.float32)] * 2)
    with pytest.raises(ValueError, match=r"a\[1\]: op\(a\) has 5 columns, op\(b\) 4 rows"):
        _engine.sgemm_stacked([np.ones((2, 4), np.float32), np.ones((2, 5), np.float32)], b,
                              [np.ones((2, 3), np.float32)] * 2)
    with pytest.raises(ValueError, match=r"c\[0\] must have shape \(2, 3\), got \(3, 3\)"):
        _engine.sgemm_stacked([np.ones((2, 4), np.float32)], b, [np.ones((3, 3), np.float32)])


def test_matmul_precision_switches():
    import seqnet.backend as K
    with pytest.raises(ValueError, match="expected 'highest' or 'high', got 'medium'"):
        K.set_matmul_precision("medium")
    assert K.matmul_precision() == "highest"
    code = "import seqnet.backend as K; print(K.matmul_precision())"  # read at first use
    env = dict(os.environ, SEQNET_MATMUL_PRECISION="high")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["high"], out.stdout + out.stderr


# Shapes whose paths make prefetch plans (gemm.cpp): cols (few rows, a large B: a Dense
# forward on a batch), C^T (few rows, a large transposed B: its dX), rows with a C and an A
# larger than half of L2 (a Dense dW, transposed A; an im2col forward over two K blocks).
@pytest.mark.parametrize("shape,ta,tb", [((32, 1500, 2000), False, False), ((32, 520, 3000), False, True),
                                         ((3528, 32, 256), True, False), ((2000, 1100, 64), False, False)],
                         ids=["cols", "transposed", "rows_dW", "rows_two_k_blocks"])
def test_prefetch_plans_change_no_bits(isa, shape, ta, tb):
    """The kernel's prefetch steps run inside its k loop: on or off, and on 1 or 2 threads, C
    must come out the same, and match float64 (a step skipped or repeated would not)."""
    m, k, n = shape
    rng = np.random.default_rng(5)
    a, b = operands(rng, m, k, n, ta, tb)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    threads, prefetch = _engine.get_num_threads(), _engine.gemm_prefetch()
    results = []
    try:
        for on in (True, False):
            _engine.set_gemm_prefetch(on)
            for t in (1, 2):
                _engine.set_num_threads(t)
                c = c0.copy()
                _engine.sgemm(a, b, c, ta, tb, 1.0, 0.5)
                results.append(c)
    finally:
        _engine.set_num_threads(threads)
        _engine.set_gemm_prefetch(prefetch)
    assert prefetch  # on by default
    for c in results[1:]:
        assert c.tobytes() == results[0].tobytes()
    want, magnitude = reference(a, b, ta, tb)
    assert_close(results[0], want + 0.5 * c0.astype(np.float64), magnitude + 0.5 * np.abs(c0), k)


# The packed path on one thread (on two, the column path takes these): a row-major A copied
# into panels by the instruction set's transposing copy where it has one, with a last panel of
# fewer rows than the kernel's and K off its 16-step blocks; and a transposed A.
@pytest.mark.parametrize("shape", [(601, 1030, 700), (600, 1024, 1600)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("ta,tb", [(False, False), (False, True), (True, False)])
def test_packed_path_on_one_thread_matches_float64(isa, shape, ta, tb, restore_threads):
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a, b = operands(rng, m, k, n, ta, tb)
    _engine.set_num_threads(1)
    want, mag = reference(a, b, ta, tb)
    assert_close(_engine.matmul(a, b, ta, tb), want, mag, k)


# The path rules (gemm.cpp): 'threaded_cols' moves these products from the packed path to the
# column path on two threads (a chunk of columns a thread; wider, a grid of row parts and
# chunks; A's rows 4 KiB apart, in tiles of at most 12 rows); 'shared_l3_blocks' splits this one's B into narrower blocks on one thread (its
# columns past twice 768); 'packed_a' moves a batch (and a few rows) of the column path to the packed
# path on one thread.
@pytest.mark.parametrize("rule,shape", [("threaded_cols", (600, 700, 300)), ("threaded_cols", (700, 600, 1200)),
                                        ("threaded_cols", (600, 1024, 700)), ("shared_l3_blocks", (600, 1024, 1600)),
                                        ("packed_a", (128, 784, 520)), ("packed_a", (37, 1024, 300)),
                                        ("packed_a", (130, 2048, 300))],
                         ids=["threaded_cols", "threaded_cols_grid", "threaded_cols_4k_rows", "shared_l3_blocks",
                              "packed_a", "packed_a_few_rows", "packed_a_4k_rows"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True), (False, True), (True, False)])
def test_path_rules_change_no_bits(isa, rule, shape, ta, tb):
    """On or off, on 1 or 2 threads, C comes out the same and matches float64."""
    m, k, n = shape
    rng = np.random.default_rng(11)
    a, b = operands(rng, m, k, n, ta, tb)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    threads, saved = _engine.get_num_threads(), _engine.gemm_rule(rule)
    results = []
    try:
        for on in (True, False):
            _engine.set_gemm_rule(rule, on)
            for t in (1, 2):
                _engine.set_num_threads(t)
                c = np.empty((m, n), np.float32)
                _engine.sgemm(a, b, c, ta, tb, 1.0, 0.0, bias)
                results.append(c)
    finally:
        _engine.set_num_threads(threads)
        _engine.set_gemm_rule(rule, saved)
    assert saved  # on by default
    for c in results[1:]:
        assert c.tobytes() == results[0].tobytes()
    want, magnitude = reference(a, b, ta, tb)
    assert_close(results[0], want + bias, magnitude + np.abs(bias), k)


def test_path_rule_names_are_checked():
    with pytest.raises(ValueError, match="name must be 'threaded_cols', 'shared_l3_blocks' or 'packed_a', got 'cols'"):
        _engine.set_gemm_rule("cols", False)
    with pytest.raises(ValueError, match="got 'packed'"):
        _engine.gemm_rule("packed")


def test_amx_tile_product_probe():
    """The tile unit's rate for benchmarks: a positive time per tile product where AMX is
    available (whatever set_amx says), 0.0 where it is not."""
    ns = _engine.amx_tile_product_ns()
    if _engine.amx_available():
        assert 0.0 < ns < 1e4, ns
    else:
        assert ns == 0.0
