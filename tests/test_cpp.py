"""Builds the kernel library with CMake as a native app uses it: the C++ tests in tests/cpp/
(run with ctest), and an install into a prefix that examples/cpp/mlp_xor finds with
find_package(seqnet). One build of the library per session serves these tests and
tests/test_native_model.py (shared_build)."""
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOBS = str(os.cpu_count() or 2)

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")


def _run(cmd, timeout, **kwargs):
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, " ".join(map(str, cmd)) + "\n" + done.stdout[-4000:] + done.stderr[-4000:]
    return done


def shared_build(tmp_path_factory):
    """The kernel library, the C++ tests and (when HDF5 and nlohmann_json are found) the native
    model runtime, configured and built once per test session (Release), and installed into a
    prefix beside it: (build dir, install prefix). tests/test_native_model.py uses the same one."""
    root = tmp_path_factory.getbasetemp() / "seqnet_cmake"
    build, prefix, done = root / "build", root / "prefix", root / "done"
    if not done.exists():
        root.mkdir(exist_ok=True)
        _run(["cmake", "-S", ROOT, "-B", str(build), "-DSEQNET_BUILD_TESTS=ON", "-DCMAKE_BUILD_TYPE=Release"], 300)
        _run(["cmake", "--build", str(build), "-j", JOBS], 900)
        _run(["cmake", "--install", str(build), "--prefix", str(prefix)], 300)
        done.write_text("ok")
    return build, prefix


@pytest.fixture(scope="module")
def kernel_build(tmp_path_factory):
    return shared_build(tmp_path_factory)[0]


def test_cpp_tests_build_and_pass(kernel_build):
    for isa in ("avx512", "avx2", "generic"):
        env = dict(os.environ, SEQNET_ISA=isa)
        run = subprocess.run(["ctest", "--output-on-failure"], cwd=kernel_build, env=env, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, f"SEQNET_ISA={isa}\n" + run.stdout[-4000:] + run.stderr[-4000:]


def test_installed_package_builds_cpp_example(tmp_path_factory, tmp_path):
    _, prefix = shared_build(tmp_path_factory)
    config = list(prefix.glob("lib*/cmake/seqnet/seqnetConfig.cmake"))
    assert config, "seqnetConfig.cmake was not installed"
    assert (prefix / "include" / "seqnet" / "dense.h").is_file()

    app = tmp_path / "app"
    _run(["cmake", "-S", os.path.join(ROOT, "examples", "cpp", "mlp_xor"), "-B", str(app),
          "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"], 300)
    _run(["cmake", "--build", str(app), "-j", JOBS], 300)
    exe = app / "mlp_xor"
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    losses = [float(v) for v in re.findall(r"^epoch \d+/\d+ - loss: ([0-9.]+)$", run.stdout, re.M)]
    assert len(losses) >= 2 and losses[-1] < losses[0], run.stdout
    accuracy = re.search(r"^accuracy: ([0-9.]+)$", run.stdout, re.M)
    assert accuracy is not None, run.stdout
    assert float(accuracy.group(1)) >= 0.9
