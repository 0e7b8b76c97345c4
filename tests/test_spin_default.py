"""seqnet bounds libgomp's idle spin on import (python/seqnet/__init__.py): long enough to keep
the workers awake across the Python between a training step's kernels, short enough to yield a
shared core; the user's own OpenMP wait settings win."""
import os
import subprocess
import sys

import pytest

PROBE = "import seqnet, os; print(os.environ.get('GOMP_SPINCOUNT'))"


def _spin_after_import(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=clean, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_sets_the_spin():
    assert _spin_after_import() == "10000"


@pytest.mark.parametrize("env,expected", [({"GOMP_SPINCOUNT": "77"}, "77"), ({"OMP_WAIT_POLICY": "passive"}, "None")])
def test_the_users_setting_wins(env, expected):
    assert _spin_after_import(**env) == expected
