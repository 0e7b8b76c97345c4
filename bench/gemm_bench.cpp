// sgemm microbenchmark: GFLOP/s by shape, microkernel and thread count, as a fraction of
// the cores' FP32 peak for the kernel's instruction set measured around each timing
// (seqnet::fma_peak_gflops, a pure multiply-add loop).
//
//   gemm_bench                       default shapes, every kernel, 1 and 2 threads
//   gemm_bench --shapes 1024,128x64x64 --threads 2 --isa avx512
//   gemm_bench --busy                also run with a forked busy-loop child hogging a core
//   gemm_bench --static              one fixed block of C per thread (to compare schedules)
//   gemm_bench --no-prefetch         without the prefetch plans (GemmTuning::prefetch)
//   gemm_bench --compare-prefetch    plans on against off, alternated, operands evicted first
//
// A shape is MxKxN (op(A) is M x K, op(B) is K x N) or a single size S for SxSxS; a
// suffix :tn (t = transposed, n = not, for A then B) picks the transposes.
#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "seqnet/cpu.h"
#include "seqnet/gemm.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
    int64_t m, k, n;
    bool ta = false, tb = false;
    std::string name() const {
        std::string s = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
        if (ta || tb) s += std::string(":") + (ta ? "t" : "n") + (tb ? "t" : "n");
        return s;
    }
};

Shape parse_shape(const std::string& s) {
    Shape sh{};
    std::string dims = s, trans;
    if (auto colon = s.find(':'); colon != std::string::npos) dims = s.substr(0, colon), trans = s.substr(colon + 1);
    long long m = 0, k = 0, n = 0;
    if (std::sscanf(dims.c_str(), "%lldx%lldx%lld", &m, &k, &n) != 3) m = k = n = std::atoll(dims.c_str());
    sh.m = m, sh.k = k, sh.n = n;
    sh.ta = trans.size() > 0 && trans[0] == 't';
    sh.tb = trans.size() > 1 && trans[1] == 't';
    return sh;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

// The FMA peak of t cores now (the engine's fma_peak_gflops, for the active instruction set:
// the best of three short runs, about 0.05 s in all), as the timings are the best of their
// samples. This VM's speed drifts by 1.5-2x within minutes, so each timing is set against the
// peak measured around it.
double peak_now(int t) { return seqnet::fma_peak_gflops(t, 0.05); }

struct Timing {
    double best, mean;  // GFLOP/s: best of 5 samples, and over all of them
};

// 5 samples, each at least ~0.2 s (or 3 calls) of back-to-back products. The mean counts
// every call, so under contention it includes the occasional slow probe on two threads.
Timing time_gemm(const Shape& sh, std::vector<float>& a, std::vector<float>& b, std::vector<float>& c) {
    const int64_t lda = sh.ta ? sh.m : sh.k, ldb = sh.tb ? sh.k : sh.n;
    auto call = [&] {
        seqnet::sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.f, a.data(), lda, b.data(), ldb, 0.f, c.data(), sh.n);
    };
    call();
    auto t0 = Clock::now();
    call();
    const double once = std::max(std::chrono::duration<double>(Clock::now() - t0).count(), 1e-7);
    const int64_t reps = std::max<int64_t>(3, int64_t(0.2 / once));
    const double flops = 2.0 * sh.m * sh.n * sh.k;
    double best = 0, total = 0;
    for (int sample = 0; sample < 5; ++sample) {
        t0 = Clock::now();
        for (int64_t r = 0; r < reps; ++r) call();
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::max(best, flops * reps / s / 1e9);
        total += s;
    }
    return {best, flops * reps * 5 / total / 1e9};
}

// --compare-prefetch: the product with sgemm's prefetch plans on and off (GemmTuning::prefetch),
// alternated call by call in this process (this VM's speed drifts by 2x within minutes), each
// call after writing a 64 MiB buffer, so that the operands come from L3 or memory as in a
// training step (the other layers and the optimizer ran since they were last read). Medians
// in milliseconds over `rounds` pairs.
void compare_prefetch(const Shape& sh, std::vector<float>& a, std::vector<float>& b, std::vector<float>& c,
                      int threads) {
    const int64_t lda = sh.ta ? sh.m : sh.k, ldb = sh.tb ? sh.k : sh.n;
    static std::vector<float> junk(16 << 20);
    seqnet::GemmTuning t = seqnet::gemm_tuning();
    const bool saved = t.prefetch;
    std::vector<double> ms[2];
    const int rounds = 2.0 * sh.m * sh.n * sh.k < 1e8 ? 200 : 30;
    for (int r = 0; r < rounds; ++r)
        for (int on = 1; on >= 0; --on) {
            t.prefetch = on;
            seqnet::set_gemm_tuning(t);
            for (size_t i = 0; i < junk.size(); i += 16) junk[i] += 1.f;
            const auto t0 = Clock::now();
            seqnet::sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.f, a.data(), lda, b.data(), ldb, 0.f, c.data(), sh.n);
            ms[on].push_back(1e3 * std::chrono::duration<double>(Clock::now() - t0).count());
        }
    t.prefetch = saved;
    seqnet::set_gemm_tuning(t);
    for (auto& v : ms) std::sort(v.begin(), v.end());
    const double on = ms[1][rounds / 2], off = ms[0][rounds / 2];
    std::printf("%-16s %-14s %7d %11.3f %11.3f %7.2f\n", sh.name().c_str(), seqnet::gemm_kernel_name(), threads, on, off,
                off / on);
    std::fflush(stdout);
}

// A child process that spins forever, keeping one core busy (the contention case).
pid_t start_busy_child() {
    pid_t pid = fork();
    if (pid == 0) {
        volatile uint64_t x = 0;
        for (;;) x = x + 1;
    }
    return pid;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> shape_args = {"128x20x64", "128x64x64", "128x64x10", "128x10x64:nt",
                                           "128x64x20:nt", "20x128x64:tn", "64x128x64:tn", "256",
                                           "512", "1024", "2048"};
    std::vector<int> threads = {1, 2};
    std::vector<std::string> isas = {"avx512", "avx2", "generic"};
    bool busy = false, static_split = false, no_prefetch = false, compare = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (arg == "--shapes") shape_args = split(next());
        else if (arg == "--threads") { threads.clear(); for (auto& t : split(next())) threads.push_back(std::atoi(t.c_str())); }
        else if (arg == "--isa") isas = split(next());
        else if (arg == "--busy") busy = true;
        else if (arg == "--static") static_split = true;
        else if (arg == "--no-prefetch") no_prefetch = true;  // GemmTuning::prefetch off
        else if (arg == "--compare-prefetch") compare = true;
        else if (arg == "--blocking") {  // mc,kc,nc (0 = automatic)
            auto v = split(next());
            seqnet::GemmTuning t;
            if (v.size() == 3) t.mc = std::atoll(v[0].c_str()), t.kc = std::atoll(v[1].c_str()), t.nc = std::atoll(v[2].c_str());
            seqnet::set_gemm_tuning(t);
        }
        else { std::fprintf(stderr, "usage: %s [--shapes S,..] [--threads 1,2] [--isa avx512,avx2,generic] [--busy] [--static] [--no-prefetch] [--compare-prefetch] [--blocking mc,kc,nc]\n", argv[0]); return 2; }
    }
    const double peak = peak_now(1);
    const auto& cs = seqnet::cache_sizes();
    std::printf("# caches L1d %ld KiB, L2 %ld KiB, L3 %ld KiB; one-core FMA peak %.1f GFLOP/s%s%s\n", cs.l1d >> 10,
                cs.l2 >> 10, cs.l3 >> 10, peak, busy ? "; busy child on one core" : "",
                static_split ? "; static split" : "");
    if (static_split || no_prefetch) {
        seqnet::GemmTuning t = seqnet::gemm_tuning();
        t.static_split = static_split;
        t.prefetch = !no_prefetch;
        seqnet::set_gemm_tuning(t);
    }
    const auto tuning = seqnet::gemm_tuning();
    std::printf("# blocking of %s: mc %lld, kc %lld, nc %lld\n", seqnet::gemm_kernel_name(), (long long)tuning.mc,
                (long long)tuning.kc, (long long)tuning.nc);
    if (compare)
        std::printf("%-16s %-14s %7s %11s %11s %7s\n", "shape", "kernel", "threads", "ms prefetch", "ms none", "ratio");
    else
        std::printf("%-16s %-14s %7s %9s %7s %9s %9s\n", "shape", "kernel", "threads", "GFLOP/s", "%peak", "mean",
                    "peak now");

    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const auto& isa_name : isas) {
        seqnet::Isa want = isa_name == "avx512" ? seqnet::Isa::Avx512 : isa_name == "avx2" ? seqnet::Isa::Avx2 : seqnet::Isa::Generic;
        if (seqnet::set_isa(want) != want) continue;  // not on this CPU
        for (const auto& s : shape_args) {
            const Shape sh = parse_shape(s);
            std::vector<float> a(sh.m * sh.k), b(sh.k * sh.n), c(sh.m * sh.n);
            for (auto& x : a) x = u(rng);
            for (auto& x : b) x = u(rng);
            for (int t : threads) {
                omp_set_num_threads(t);
                if (compare) {
                    compare_prefetch(sh, a, b, c, t);
                    continue;
                }
                pid_t child = busy ? start_busy_child() : 0;
                // %peak against the FMA peak of t cores measured just before and just after
                // (the better; not with a busy child, which would take a core from it).
                const double before = !busy ? peak_now(t) : peak * t;
                const Timing tm = time_gemm(sh, a, b, c);
                const double local = !busy ? std::max(before, peak_now(t)) : peak * t;
                if (child > 0) kill(child, SIGKILL), waitpid(child, nullptr, 0);
                std::printf("%-16s %-14s %7d %9.1f %6.0f%% %9.1f %9.1f\n", sh.name().c_str(), seqnet::gemm_kernel_name(),
                            t, tm.best, local > 0 ? 100 * tm.best / local : 0.0, tm.mean, local);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
