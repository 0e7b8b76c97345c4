"""bench/ab_builds.py: the summary of two builds' step times (medians, per-pair ratios) against
hand-computed values, its argument checks, and one real pair of processes on a small model."""
import os

import pytest
from numeric_helpers import load_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def ab():
    return load_bench("ab_builds")


def test_summary_pairs_in_order(ab):
    s = ab.summarize([10.0, 12.0, 30.0], [8.0, 12.0, 20.0])
    assert s["old_ms"] == 12.0 and s["new_ms"] == 12.0
    # ratios 1.25, 1.0, 1.5: the pairs, not the medians of each side (12 / 12 = 1.0)
    assert s["ratio"] == 1.25 and s["ratio_min"] == 1.0 and s["ratio_max"] == 1.5


def test_summary_rejects_unequal_or_empty(ab):
    with pytest.raises(ValueError, match="equal, non-empty"):
        ab.summarize([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="equal, non-empty"):
        ab.summarize([], [])


def test_arguments_name_what_is_wrong(ab, tmp_path, capsys):
    with pytest.raises(SystemExit):
        ab.main(["--old", str(tmp_path), "--new", os.path.join(ROOT, "python")])
    assert "--old" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ab.main(["--old", os.path.join(ROOT, "python"), "--new", os.path.join(ROOT, "python"), "--pairs", "0"])
    assert "--pairs" in capsys.readouterr().err


def test_one_pair_of_processes_runs(ab, capsys):
    import seqnet
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(seqnet.__file__)))
    assert ab.main(["--old", package_dir, "--new", package_dir, "--model", "mnist_mlp", "--pairs", "1",
                    "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "pair 1: old" in out and "mnist_mlp: old" in out
