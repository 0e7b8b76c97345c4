"""sgemm on the Dense products of the benchmark models (forward X W, dX = dY W^T,
dW = X^T dY) against NumPy float64, and bit-identical for 1, 2 and 3 threads, with every
microkernel this CPU can run. The shapes reach each path of the driver: few rows and large
weights (cols), B transposed and packed (the cache-blocked transpose), transposed A read in
place or copied per row tile (lda * 4 a multiple of 4 KiB), C^T, short K."""

import numpy as np
import pytest

from seqnet import _engine

EPS = np.finfo(np.float32).eps

# (M, K, N, trans_a, trans_b): the model layers, with the seed VGG's 30976 features cut
# to 8192 (same paths, a quarter of the time).
MODEL_SHAPES = [
    # seed VGG Dense(256), batch 32
    (32, 8192, 256, False, False), (32, 256, 8192, False, True), (8192, 32, 256, True, False),
    # mnist_mlp Dense(512) on 784 and on 512, batch 128
    (128, 784, 512, False, False), (128, 512, 784, False, True), (784, 128, 512, True, False),
    (128, 512, 512, False, True), (512, 128, 512, True, False),
    # mnist_cnn Dense(128) on 9216, batch 128
    (128, 9216, 128, False, False), (128, 128, 9216, False, True), (9216, 128, 128, True, False),
    # cifar10 Dense(512) on 2304, batch 32
    (32, 2304, 512, False, False), (32, 512, 2304, False, True), (2304, 32, 512, True, False),
]

# Edges of the new code: ragged rows and columns, K not a multiple of the transpose's
# 16-row blocks nor of 8, several K blocks, A transposed with lda a multiple of 1024.
EDGE_SHAPES = [
    (45, 1030, 77, False, True), (131, 77, 1000, False, True), (200, 1100, 50, False, True),
    (1024, 100, 70, True, False), (1000, 1100, 33, True, False), (97, 64, 1024, True, False),
    (3000, 65, 40, True, True),
    # a batch of rows with large weights (the in-place-A column path), A and/or B transposed
    (100, 1100, 601, True, False), (100, 1100, 601, True, True), (150, 700, 1001, False, False),
    # a weight gradient over a long K (an LSTM's dW over batch x steps rows): packed, one task a thread
    (256, 2600, 600, True, False),
]

ALL = MODEL_SHAPES + EDGE_SHAPES


def shape_id(s):
    m, k, n, ta, tb = s
    return f"{m}x{k}x{n}:{'t' if ta else 'n'}{'t' if tb else 'n'}"


def operands(rng, m, k, n, ta, tb):
    a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def with_threads(t, fn):
    saved = _engine.get_num_threads()
    try:
        _engine.set_num_threads(t)
        return fn()
    finally:
        _engine.set_num_threads(saved)


@pytest.mark.parametrize("shape", ALL, ids=shape_id)
def test_matches_float64(isa, shape):
    m, k, n, ta, tb = shape
    rng = np.random.default_rng(m + 7 * k + 13 * n)
    a, b = operands(rng, m, k, n, ta, tb)
    bias = rng.uniform(-1, 1, n).astype(np.float32)
    c = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    a64, b64 = (a64.T if ta else a64), (b64.T if tb else b64)
    want = 0.75 * (a64 @ b64) + 0.5 * c.astype(np.float64) + bias
    magnitude = 0.75 * (np.abs(a64) @ np.abs(b64)) + 0.5 * np.abs(c) + np.abs(bias)
    _engine.sgemm(a, b, c, ta, tb, 0.75, 0.5, bias)
    tol = (k + 6) * EPS * magnitude + 4 * EPS
    err = np.abs(c.astype(np.float64) - want)
    worst = np.unravel_index(np.argmax(err - tol), err.shape)
    assert np.all(err <= tol), f"C{worst} = {c[worst]!r}, want {want[worst]!r} (tol {tol[worst]:.3g})"


@pytest.mark.parametrize("shape", ALL, ids=shape_id)
def test_bit_identical_for_1_2_3_threads(isa, shape):
    m, k, n, ta, tb = shape
    rng = np.random.default_rng(11)
    a, b = operands(rng, m, k, n, ta, tb)
    c0 = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    results = []
    for t in (1, 2, 3):
        for beta in (0.0, 1.0):
            c = c0.copy()
            with_threads(t, lambda: _engine.sgemm(a, b, c, ta, tb, 1.0, beta))
            results.append(c)
    for t in (1, 2):  # each beta against the 1-thread result
        assert results[2 * t].tobytes() == results[0].tobytes(), f"beta=0: {t + 1} threads differ from 1"
        assert results[2 * t + 1].tobytes() == results[1].tobytes(), f"beta=1: {t + 1} threads differ from 1"
