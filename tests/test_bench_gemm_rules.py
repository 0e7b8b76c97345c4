"""bench/bench_gemm.py --rules: the benchmark that times sgemm's path rules on against off runs
end to end (one round, one shape per rule), prints a ratio per shape, and leaves every rule
on and the thread count as it found them."""
import os
import re
import subprocess
import sys

import pytest
from numeric_helpers import load_bench

from seqnet import _engine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def bench_gemm():
    return load_bench("bench_gemm")


def test_rules_benchmark_runs_and_restores(bench_gemm, capsys):
    bench_gemm.RULES = {"threaded_cols": (2, ["600x700x300"]), "shared_l3_blocks": (1, ["600x1024x1600"])}
    threads = _engine.get_num_threads()
    _engine.set_gemm_rule("threaded_cols", False)  # run_rules leaves every rule on
    bench_gemm.run_rules(rounds=2, count=0)
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("threaded_cols ", "shared_l3_blocks "))]
    assert [(r[0], r[1], r[2]) for r in rows] == [("threaded_cols", "2", "600x700x300"),
                                                  ("shared_l3_blocks", "1", "600x1024x1600")]
    for r in rows:
        on, off, ratio = float(r[3]), float(r[4]), float(r[5])
        assert on > 0 and off > 0 and ratio > 0
        assert re.fullmatch(r"\d+\.\d\d-\d+\.\d\d", r[6])
    assert _engine.gemm_rule("threaded_cols") and _engine.gemm_rule("shared_l3_blocks")
    assert _engine.get_num_threads() == threads


@pytest.mark.parametrize("rule,shape,takes", [
    ("threaded_cols", (600, 700, 300, False, False), True),
    ("threaded_cols", (600, 1024, 700, False, False), True),   # rows 4 KiB apart: 12-row tiles
    ("threaded_cols", (1024, 1024, 1024, True, False), False),  # transposed, steps of k 4 KiB apart
    ("threaded_cols", (128, 784, 512, False, False), False),   # A's K block within half of L2: cols anyway
    ("shared_l3_blocks", (600, 1024, 1600, False, False), True),
    ("shared_l3_blocks", (600, 1024, 1500, False, False), False),
    ("packed_a", (128, 784, 512, False, False), True),         # a batch: its K block within half of L2
    ("packed_a", (40, 2304, 512, False, False), True),         # a few rows
    ("packed_a", (128, 512, 784, False, True), False),         # op(B) transposed
    ("packed_a", (128, 784, 512, True, False), False),         # op(A) transposed
    ("packed_a", (32, 4096, 4096, False, False), False),       # op(B) past a quarter of L3
    ("packed_a", (128, 784, 200, False, False), False),        # fewer than eight column tiles
    ("packed_a", (128, 512, 128, False, False), False),        # op(B) in L2: the rows path
    ("packed_a", (600, 784, 512, False, False), False),        # a larger batch: the packed path anyway
    ("packed_a", (4, 784, 512, False, False), False),          # streamed
])
def test_rule_mirror(bench_gemm, rule, shape, takes):
    """The benchmark's mirror of gemm.cpp's rules (for its random shapes), on an L2 of 1 MiB and an L3 of 32."""
    assert bench_gemm.rule_takes(rule, *shape, 1 << 20) is takes


def test_rules_options_are_checked():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "bench_gemm.py"), "--rules", "--rounds", "0"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "--rules needs --rounds >= 1 and --random >= 0, got --rounds 0 and --random 12" in out.stderr


def test_peak_column_is_measured_unless_given():
    """Without --peak the '% peak' column sets each timing against the FMA peak measured around
    it (a number, where it printed '-'); with --peak, against that figure per thread."""
    script = os.path.join(ROOT, "bench", "bench_gemm.py")
    measured = subprocess.run([sys.executable, script, "--threads", "1", "--shapes", "96"],
                              capture_output=True, text=True, timeout=300)
    assert measured.returncode == 0, measured.stderr
    row = next(line for line in measured.stdout.splitlines() if line.startswith("96 "))
    fields = row.split()  # ... seqnet GFLOP/s, % peak, numpy GFLOP/s, ratio, seqnet us, numpy us
    gflops, pct = float(fields[-6]), float(fields[-5])
    assert 0 < pct and 0 < gflops
    fixed = subprocess.run([sys.executable, script, "--threads", "1", "--shapes", "96", "--peak", "1000"],
                           capture_output=True, text=True, timeout=300)
    assert fixed.returncode == 0, fixed.stderr
    fields = next(line for line in fixed.stdout.splitlines() if line.startswith("96 ")).split()
    assert abs(float(fields[-5]) - 100 * float(fields[-6]) / 1000) <= 0.51  # (both printed rounded)
    bad = subprocess.run([sys.executable, script, "--peak", "-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--peak must be" in bad.stderr
