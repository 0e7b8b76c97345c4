// seqnet::DenormalsMode and seqnet::FlushScope (seqnet/cpu.h): subnormals flushed on the calling
// thread and on its OpenMP workers inside a scope, each thread's own mode back after it. The same
// source checks x86 (MXCSR's DAZ and FTZ) and AArch64 (FPCR.FZ; cross-built and run under
// qemu-aarch64 when that port changed). Exit status 0 when everything passes.
#include <omp.h>

#include <cstdio>

#include "seqnet/cpu.h"

using seqnet::DenormalsMode;
using seqnet::FlushScope;

namespace {

volatile float g_tiny = 3e-39f, g_half = 0.5f;  // 3e-39: subnormal (below 2^-126)
int g_failures = 0;

bool flushes() { return g_tiny * g_half == 0.0f; }

// The caller and every thread of a 4-thread region compute with (want) or without subnormals.
void expect_everywhere(bool want, const char* what) {
    int wrong = 0;
#pragma omp parallel num_threads(4) reduction(+ : wrong)
    wrong += flushes() != want;
    if (flushes() != want || wrong) {
        std::printf("FAIL %s: caller %s, %d of the region's threads wrong\n", what, flushes() ? "flushes" : "keeps", wrong);
        ++g_failures;
    }
}

}  // namespace

int main() {
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
    expect_everywhere(false, "before any scope");
    if (DenormalsMode::current() != DenormalsMode::kKeep) {
        std::puts("FAIL current() before any scope");
        ++g_failures;
    }
    {
        const DenormalsMode mode(DenormalsMode::kFlush);
        if (!flushes() || DenormalsMode::current() != DenormalsMode::kFlush) {
            std::puts("FAIL DenormalsMode(kFlush)");
            ++g_failures;
        }
    }
    if (flushes()) {
        std::puts("FAIL DenormalsMode restores the caller's mode");
        ++g_failures;
    }
    {
        const FlushScope scope(FlushScope::kPoolKeeps);
        expect_everywhere(true, "inside a kPoolKeeps scope");
        {
            const FlushScope nested(FlushScope::kPoolKeeps);  // does nothing: already flushing
            expect_everywhere(true, "inside a nested scope");
        }
        expect_everywhere(true, "after a nested scope");
    }
    expect_everywhere(false, "after a kPoolKeeps scope");
    {
        const FlushScope scope(FlushScope::kPoolFlushes);
        expect_everywhere(true, "inside a kPoolFlushes scope");
    }
    if (flushes()) {
        std::puts("FAIL the caller's mode after a kPoolFlushes scope");
        ++g_failures;
    }
#else
    std::puts("no floating-point control register known on this CPU: the modes do nothing");
#endif
    std::printf("%s\n", g_failures ? "FAILED" : "all passed");
    return g_failures ? 1 : 0;
}
