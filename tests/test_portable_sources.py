"""The portable kernels build on any CPU: x86 intrinsics and ISA flags live only in the files
named *_avx2.cpp / *_avx512.cpp / *_amx.cpp, and every reference to those kernels is behind
SEQNET_X86_KERNELS (SEQNET_AMX_KERNELS for the AMX ones), which CMake leaves off away from
x86-64 (or with -DSEQNET_X86_KERNELS=OFF, or a compiler without AMX).
A build with that option was checked by hand to pass the whole suite (README, "Wheels")."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CPP = os.path.join(ROOT, "cpp")

X86_ONLY = re.compile(r"#\s*include\s*<(immintrin|x86intrin|emmintrin|xmmintrin|smmintrin|avxintrin)\.h>"
                      r"|\b_mm(256|512)?_\w+\s*\(|\b__m(128|256|512)[id]?\b|__builtin_ia32_")
ISA_FILE = re.compile(r"_(avx2|avx512|amx)\.(cpp|h|inl)$")


def _sources():
    for folder, _, files in os.walk(CPP):
        for f in files:
            if f.endswith((".cpp", ".h", ".inl")):
                yield os.path.join(folder, f)


def _code(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _unguarded_lines(path, guards):
    """(number, line) of the code lines of `path` outside any `#if` that names one of `guards`."""
    stack = []
    for number, line in enumerate(_code(path).splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#if"):
            stack.append(any(g in stripped for g in guards))
        elif stripped.startswith("#endif") and stack:
            stack.pop()
        elif stripped.startswith(("#else", "#elif")) and stack:
            stack[-1] = False
        elif not any(stack):
            yield number, stripped


def _offenders(pattern, guards, skip):
    return [f"{os.path.relpath(path, ROOT)}:{number}: {line}"
            for path in _sources() if not skip(path)
            for number, line in _unguarded_lines(path, guards) if pattern.search(line)]


def test_x86_intrinsics_only_in_isa_files():
    """Elsewhere only under an x86 architecture test (as gemm.cpp's pause instruction is)."""
    offenders = _offenders(X86_ONLY, ("__x86_64__", "__i386__", "SEQNET_X86_KERNELS"),
                           lambda p: ISA_FILE.search(p))
    assert offenders == [], "x86 intrinsics outside *_avx2/*_avx512/*_amx files:\n" + "\n".join(offenders)


def test_isa_kernels_referenced_only_behind_the_build_switch():
    """Outside the ISA files, a call into the avx2::/avx512:: kernels (or the GEMM microkernels)
    sits inside `#if SEQNET_X86_KERNELS ... #endif`, so a portable build links."""
    call = re.compile(r"\bavx(2|512)::\w+\s*\(|\bmicrokernel_avx(2|512)\s*\(|__builtin_cpu_supports")
    offenders = _offenders(call, ("SEQNET_X86_KERNELS",), lambda p: ISA_FILE.search(p) or p.endswith(".h"))
    assert offenders == [], "ISA kernels referenced outside #if SEQNET_X86_KERNELS:\n" + "\n".join(offenders)


def test_amx_kernels_referenced_only_behind_their_build_switch():
    """The AMX blocks (gemm_amx.cpp) are compiled only where the compiler knows AMX; outside
    that file they are called inside `#if SEQNET_AMX_KERNELS ... #endif`."""
    call = re.compile(r"\bamx_(pack_a|pack_b|block|begin|end|product|task|worth)\s*\(")
    offenders = _offenders(call, ("SEQNET_AMX_KERNELS",), lambda p: ISA_FILE.search(p) or p.endswith(".h"))
    assert offenders == [], "AMX kernels referenced outside #if SEQNET_AMX_KERNELS:\n" + "\n".join(offenders)


def test_cmake_leaves_isa_files_out_of_a_portable_build():
    with open(os.path.join(ROOT, "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = f.read()
    assert re.search(r'option\(SEQNET_X86_KERNELS\b', cmake)
    assert re.search(r'list\(FILTER SEQNET_KERNEL_SOURCES EXCLUDE REGEX "_\(avx2\|avx512\|amx\)', cmake)
    assert re.search(r'list\(FILTER SEQNET_KERNEL_SOURCES EXCLUDE REGEX "_amx', cmake)  # compiler without AMX
    # ISA flags are attached only to the ISA files, inside the SEQNET_X86_KERNELS branch.
    flags = [m.start() for m in re.finditer(r"-mavx", cmake)]
    branch = cmake.index("if(SEQNET_X86_KERNELS)")
    assert flags and all(pos > branch for pos in flags)
