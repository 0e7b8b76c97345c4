// The FP32 multiply-add rate of the cores (seqnet/cpu.h, fma_peak_gflops): the ceiling any
// kernel can reach, measured now, since a VM's cores run faster or slower from one minute to
// the next. The profiler sets its GFLOP/s against it.
#include <omp.h>

#include <algorithm>
#include <chrono>

#include "fma_peak_kernels.h"
#include "seqnet/cpu.h"

namespace seqnet {
namespace generic {

double fma_chains(int64_t iters) {
    // No FMA unit assumed: a multiply and a dependent add per step, which the compiler may
    // run on the baseline's 4-float vectors. 48 chains (12 such vectors) cover the two
    // multiply and two add pipes over both latencies.
    constexpr int kChains = 48;
    float acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = float(c);
    const float x = 1.0000001f, y = 1e-7f;
    for (int64_t it = 0; it < iters; ++it)
        for (int c = 0; c < kChains; ++c) acc[c] = acc[c] * x + y;
    float sum = 0.0f;
    for (int c = 0; c < kChains; ++c) sum += acc[c];
    volatile float sink = sum;
    (void)sink;
    return 2.0 * kChains * double(iters);
}

}  // namespace generic

namespace {

double chains(int64_t iters) {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::fma_chains(iters);
        case Isa::Avx2: return avx2::fma_chains(iters);
#endif
        default: return generic::fma_chains(iters);
    }
}

// `threads` threads each running `iters` rounds at once: all their FLOPs, and the wall time
// from the region's start to its last thread's end.
struct Run {
    double flops, seconds;
    double gflops() const { return seconds > 0.0 ? flops / seconds / 1e9 : 0.0; }
};

Run run(int threads, int64_t iters) {
    double flops = 0.0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    flops += chains(iters);
    return {flops, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

}  // namespace

double fma_peak_gflops(int threads, double seconds) {
    threads = std::max(1, threads);
    // Rounds enough for each of three timed runs to take about a third of `seconds` (from a
    // probe long enough, 2 ms, that starting the threads does not dominate it); the best of
    // the three is the peak, as each loses only to interruptions.
    int64_t iters = 4096;
    Run probe = run(threads, iters);
    while (probe.seconds < 2e-3 && iters < (int64_t(1) << 40)) probe = run(threads, iters *= 4);
    if (probe.seconds > 0.0) iters = std::max<int64_t>(1, int64_t(double(iters) * seconds / 3.0 / probe.seconds));
    double best = 0.0;
    for (int r = 0; r < 3; ++r) best = std::max(best, run(threads, iters).gflops());
    return best;
}

}  // namespace seqnet
