"""Orthogonal: an orthogonal matrix (QR of a normal draw, R's diagonal made positive), and its
QR run on one OpenBLAS thread so that no OpenBLAS worker spins on the cores the engine trains
on afterwards (initializers._numpy_blas_on_one_thread)."""
import os
import threading
import time

import numpy as np
import pytest

from seqnet import initializers


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (5, 5), (2, 3, 8), (64, 256)])
def test_orthogonal_rows_or_columns(shape):
    w = initializers.Orthogonal(gain=1.5, seed=3)(shape)
    assert w.shape == shape and w.dtype == np.float32
    flat = w.reshape(-1, shape[-1]).astype(np.float64) / 1.5
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-6)
    again = initializers.Orthogonal(gain=1.5, seed=3)(shape)
    assert np.array_equal(w, again)  # seeded: the same matrix


def _blas_calls():
    calls = initializers._openblas_thread_calls()
    if not calls:
        pytest.skip("NumPy's OpenBLAS (its thread-count calls) not found in this process")
    return calls


def test_blas_thread_count_restored():
    get, set_ = _blas_calls()
    before = get()
    with initializers._numpy_blas_on_one_thread():
        assert get() == 1
    assert get() == before
    with pytest.raises(RuntimeError):
        with initializers._numpy_blas_on_one_thread():
            raise RuntimeError("inside")
    assert get() == before


def _other_threads_cpu_s():
    me, total = str(threading.get_native_id()), 0
    for task in os.listdir("/proc/self/task"):
        if task == me:
            continue
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def test_no_openblas_worker_spins_after_orthogonal():
    get, _ = _blas_calls()
    if get() < 2:
        pytest.skip("NumPy's OpenBLAS runs on one thread here: it has no workers to spin")
    initializers.Orthogonal(seed=1)((128, 512))
    time.sleep(0.3)
    start = _other_threads_cpu_s()
    time.sleep(0.25)  # what the process's other threads take anyway (none of them ours to stop)
    before = _other_threads_cpu_s()
    initializers.Orthogonal(seed=2)((256, 1024))  # threaded, a QR this size kept a worker spinning ~0.1 s
    time.sleep(0.25)
    assert (_other_threads_cpu_s() - before) - (before - start) < 0.05
