"""Helpers shared by the kernel tests: the instruction sets to run under, and comparisons; and
loading a script of bench/ as a module."""
import importlib.util
import os

import numpy as np

from seqnet import _engine

ISAS = ["generic", "avx2", "avx512"]
AVAILABLE_ISAS = ISAS[:ISAS.index(_engine.detected_isa()) + 1]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_bench(name):
    """bench/<name>.py imported as a module (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "bench", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
