"""Helpers shared by the kernel tests: the instruction sets to run under, and comparisons."""
import numpy as np

from seqnet import _engine

ISAS = ["generic", "avx2", "avx512"]
AVAILABLE_ISAS = ISAS[:ISAS.index(_engine.detected_isa()) + 1]


def rng(seed):
    return np.random.default_rng(seed)


def bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


def assert_close(got, want, rtol, atol, what=""):
    """|got - want| <= atol + rtol |want| elementwise (atol may be an array)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[:5]
        raise AssertionError("%s: %d of %d differ; got %s want %s" % (
            what, bad.sum(), bad.size, got.ravel()[i], want.ravel()[i]))
