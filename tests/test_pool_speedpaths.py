"""The window pooling kernels (vectorised per instruction set, a 2x2 path, a write-once backward
when windows tile the input) against a NumPy reference of Keras/TensorFlow semantics: max and
mean over the valid elements of each window, ties to the first maximum in row-major order, NaN
propagated; every ISA and thread count gives the same bits."""
import numpy as np
import pytest

from numeric_helpers import AVAILABLE_ISAS
from seqnet import _engine as E

# (n, h, w, c), pool, strides, pads: 2x2 tiles, channel tails, odd sizes, padding, overlaps, 1-D.
CASES = [
    ((2, 8, 8, 32), (2, 2), (2, 2), (0, 0)),
    ((2, 9, 7, 19), (2, 2), (2, 2), (0, 0)),
    ((1, 7, 9, 3), (2, 2), (2, 2), (1, 1)),
    ((2, 6, 6, 17), (3, 3), (3, 3), (0, 0)),
    ((1, 7, 8, 33), (3, 3), (2, 2), (1, 1)),
    ((2, 5, 6, 16), (2, 3), (1, 2), (0, 1)),
    ((3, 1, 11, 5), (1, 2), (1, 2), (0, 0)),
    ((1, 1, 10, 40), (1, 3), (1, 1), (0, 1)),
    ((1, 4, 4, 1), (4, 4), (4, 4), (0, 0)),
]


def out_size(length, pool, stride, pad):
    # pads as pad_before() chooses them: 'valid' (pad 0) or 'same' (ceil(length / stride) outputs)
    return -(-length // stride) if pad else (length - pool) // stride + 1


def reference(x, pool, strides, pads):
    n, h, w, c = x.shape
    oh, ow = (out_size(h, pool[0], strides[0], pads[0]), out_size(w, pool[1], strides[1], pads[1]))
    ymax = np.zeros((n, oh, ow, c), np.float32)
    amax = np.full((n, oh, ow, c), -1, np.int32)
    yavg = np.zeros((n, oh, ow, c), np.float32)
    dmax = np.zeros(x.shape, np.float64)
    davg = np.zeros(x.shape, np.float64)
    windows = {}
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * strides[0] - pads[0], j * strides[1] - pads[1]
            rows = range(max(h0, 0), min(h0 + pool[0], h))
            cols = range(max(w0, 0), min(w0 + pool[1], w))
            pos = [(r, q) for r in rows for q in cols]
            windows[i, j] = pos
            if not pos:
                continue
            for b in range(n):
                for ch in range(c):
                    best, arg = x[b, pos[0][0], pos[0][1], ch], pos[0][0] * w + pos[0][1]
                    for r, q in pos[1:]:
                        v = x[b, r, q, ch]
                        if v > best or np.isnan(v):
                            best, arg = v, r * w + q
                    ymax[b, i, j, ch], amax[b, i, j, ch] = best, arg
                s = np.zeros(c, np.float32)
                for r, q in pos:
                    s = s + x[b, r, q]
                yavg[b, i, j] = s / np.float32(len(pos))
    return ymax, amax, yavg, windows


def run_all(x, dy, pool, strides, pads):
    n, h, w, c = x.shape
    oh, ow = dy.shape[1:3]
    y = np.empty((n, oh, ow, c), np.float32)
    a = np.empty((n, oh, ow, c), np.int32)
    ya = np.empty_like(y)
    dx = np.full(x.shape, np.nan, np.float32)  # every element must be written
    dxa = np.full(x.shape, np.nan, np.float32)
    E.max_pool_forward(x, y, a, pool, strides, pads)
    E.avg_pool_forward(x, ya, pool, strides, pads)
    E.max_pool_backward(dy, a, dx, pool, strides, pads)
    E.avg_pool_backward(dy, dxa, pool, strides, pads)
    return y, a, ya, dx, dxa


def make(shape, pool, strides, pads, seed, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    if ties:
        x = np.round(x).astype(np.float32)  # many equal maxima
    n, h, w, c = shape
    oh, ow = out_size(h, pool[0], strides[0], pads[0]), out_size(w, pool[1], strides[1], pads[1])
    dy = rng.standard_normal((n, oh, ow, c)).astype(np.float32)
    dy[..., 0] = -0.0  # signed zeros must come back as the scatter into zeros made them
    return x, dy


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) + str(c[1]) + str(c[2]) for c in CASES])
def test_pool_kernels_match_reference(case, ties, isa):
    shape, pool, strides, pads = case
    x, dy = make(shape, pool, strides, pads, 1, ties)
    if not ties:
        x.flat[::37] = np.nan
    y, a, ya, dx, dxa = run_all(x, dy, pool, strides, pads)
    ymax, amax, yavg, windows = reference(x, pool, strides, pads)
    np.testing.assert_array_equal(y, ymax)
    np.testing.assert_array_equal(a, amax)
    np.testing.assert_array_equal(ya, yavg)
    # backward references: scatter in output order into float32 zeros
    n, h, w, c = shape
    rmax = np.zeros(shape, np.float32)
    ravg = np.zeros(shape, np.float32)
    for (i, j), pos in windows.items():
        for b in range(n):
            for ch in range(c):
                p = amax[b, i, j, ch]
                if p >= 0:
                    rmax[b, p // w, p % w, ch] += dy[b, i, j, ch]
            for r, q in pos:
                ravg[b, r, q] += dy[b, i, j] / np.float32(len(pos))
    assert dx.tobytes() == rmax.tobytes()
    assert dxa.tobytes() == ravg.tobytes()


def test_pool_bits_same_for_every_isa_and_thread_count(restore_isa, restore_threads):
    x, dy = make((4, 24, 22, 48), (2, 2), (2, 2), (0, 0), 2)
    x[0, 0, 0, :] = np.nan
    results = []
    for isa in AVAILABLE_ISAS:
        assert E.set_isa(isa) == isa
        for threads in (1, 2, 3):
            E.set_num_threads(threads)
            results.append([r.tobytes() for r in run_all(x, dy, (2, 2), (2, 2), (0, 0))])
    assert all(r == results[0] for r in results)
