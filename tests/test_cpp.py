"""Builds the C++ tests in tests/cpp/ against the kernel library (as a native app links it)
and runs them with ctest."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")
def test_cpp_tests_build_and_pass(tmp_path):
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", ROOT, "-B", str(build), "-DSEQNET_BUILD_TESTS=ON", "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True, text=True, timeout=300)
    made = subprocess.run(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 2)],
                          capture_output=True, text=True, timeout=900)
    assert made.returncode == 0, made.stdout[-4000:] + made.stderr[-4000:]
    for isa in ("avx512", "avx2", "generic"):
        env = dict(os.environ, SEQNET_ISA=isa)
        run = subprocess.run(["ctest", "--output-on-failure"], cwd=build, env=env, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == 0, f"SEQNET_ISA={isa}\n" + run.stdout[-4000:] + run.stderr[-4000:]
