"""seqnet's products under contention: another process keeps one core busy.

    python bench/bench_contention.py

For each square size, times sgemm with 1 and 2 threads, first on an idle machine, then
with a background busy-loop process. The goal (a 2-core machine): 2 threads under load stay
near 1-thread speed instead of collapsing (the OpenMP spin-wait trap). Prints GFLOP/s and
the ratio of loaded 2-thread speed to idle 1-thread speed.
"""
import subprocess
import sys
import time

import numpy as np

import seqnet
from seqnet import _engine


def gflops(n, threads, seconds=1.0):
    seqnet.set_num_threads(threads)
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    c = np.empty((n, n), dtype=np.float32)
    _engine.sgemm(a, b, c)
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:  # mean over all calls, slow ones included
        _engine.sgemm(a, b, c)
        calls += 1
    return 2.0 * n ** 3 * calls / (time.perf_counter() - start) / 1e9


def main(sizes=(256, 512, 1024)):
    idle = {(n, t): gflops(n, t) for n in sizes for t in (1, 2)}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        loaded = {(n, t): gflops(n, t) for n in sizes for t in (1, 2)}
    finally:
        busy.kill()
        busy.wait()
    seqnet.set_num_threads(2)
    print(f"kernel {_engine.gemm_kernel_name()}; mean GFLOP/s over 1 s of calls")
    print("size   idle 1T  idle 2T  busy 1T  busy 2T  busy 2T / idle 1T")
    for n in sizes:
        print(f"{n:5d} {idle[n, 1]:8.1f} {idle[n, 2]:8.1f} {loaded[n, 1]:8.1f} {loaded[n, 2]:8.1f}"
              f"  {loaded[n, 2] / idle[n, 1]:8.2f}")


if __name__ == "__main__":
    main()
