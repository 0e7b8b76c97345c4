// sgemm against a float64 reference: random shapes around the microkernel and block
// boundaries, all four transposes, padded leading dimensions, alpha/beta (beta = 0 with NaN
// in C), the bias + row_fn epilogue, every microkernel this CPU can run, and bit-identical
// results for 1 and 2 threads. Exit status 0 when everything passes.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "seqnet/cpu.h"
#include "seqnet/gemm.h"

using seqnet::GemmEpilogue;

namespace {

int g_failures = 0;
int g_checks = 0;

#define CHECK(cond, ...)                                           \
    do {                                                           \
        ++g_checks;                                                \
        if (!(cond)) {                                             \
            if (++g_failures <= 20) {                              \
                std::printf("FAIL %s:%d: ", __FILE__, __LINE__);   \
                std::printf(__VA_ARGS__);                          \
                std::printf("\n");                                 \
            }                                                      \
        }                                                          \
    } while (0)

const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
    bool ta, tb;
    int64_t m, n, k;
    float alpha, beta;
    bool bias, row_fn;
    int64_t pad;  // extra elements per row in A, B and C (read-only NaN / sentinel)
};

// Row function for the epilogue: a leaky ReLU that also counts how often each element
// of C is visited, to prove the epilogue runs exactly once per element.
struct RowCtx {
    const float* c;
    int64_t ldc;
    std::vector<int>* visits;
};
void leaky_relu_counting(float* row, int64_t len, const void* ctx) {
    const RowCtx& r = *static_cast<const RowCtx*>(ctx);
    for (int64_t j = 0; j < len; ++j) {
        row[j] = row[j] < 0.f ? 0.125f * row[j] : row[j];
        ++(*r.visits)[row + j - r.c];
    }
}
double leaky_relu(double x) { return x < 0 ? 0.125 * x : x; }

std::string describe(const Case& t) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s ta=%d tb=%d m=%lld n=%lld k=%lld alpha=%g beta=%g bias=%d row_fn=%d pad=%lld",
                  seqnet::gemm_kernel_name(), t.ta, t.tb, (long long)t.m, (long long)t.n, (long long)t.k,
                  t.alpha, t.beta, t.bias, t.row_fn, (long long)t.pad);
    return buf;
}

// Runs one case, checks it against float64, and returns C (for the thread comparison).
std::vector<float> run_case(const Case& t, std::mt19937& rng, bool check = true) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    const int64_t a_rows = t.ta ? t.k : t.m, a_cols = t.ta ? t.m : t.k;
    const int64_t b_rows = t.tb ? t.n : t.k, b_cols = t.tb ? t.k : t.n;
    const int64_t lda = a_cols + t.pad, ldb = b_cols + t.pad, ldc = t.n + t.pad;
    // Padding of A and B holds NaN: reading it into the result would show.
    std::vector<float> a(std::max<int64_t>(a_rows * lda, 1), kNaN), b(std::max<int64_t>(b_rows * ldb, 1), kNaN);
    for (int64_t i = 0; i < a_rows; ++i)
        for (int64_t j = 0; j < a_cols; ++j) a[i * lda + j] = u(rng);
    for (int64_t i = 0; i < b_rows; ++i)
        for (int64_t j = 0; j < b_cols; ++j) b[i * ldb + j] = u(rng);
    std::vector<float> bias(t.n);
    for (auto& x : bias) x = u(rng);
    const float sentinel = 12345.f;
    std::vector<float> c(std::max<int64_t>(t.m * ldc, 1), sentinel), c0;
    for (int64_t i = 0; i < t.m; ++i)
        for (int64_t j = 0; j < t.n; ++j) c[i * ldc + j] = t.beta == 0.f ? kNaN : u(rng);
    c0 = c;

    std::vector<int> visits(c.size(), 0);
    RowCtx ctx{c.data(), ldc, &visits};
    GemmEpilogue ep;
    if (t.bias) ep.bias = bias.data();
    if (t.row_fn) ep.row_fn = &leaky_relu_counting, ep.ctx = &ctx;
    seqnet::sgemm(t.ta, t.tb, t.m, t.n, t.k, t.alpha, a.data(), lda, b.data(), ldb, t.beta, c.data(), ldc,
                  (t.bias || t.row_fn) ? &ep : nullptr);
    if (!check) return c;

    const double eps = std::numeric_limits<float>::epsilon();
    int bad = 0;
    for (int64_t i = 0; i < t.m && bad < 3; ++i) {
        for (int64_t j = 0; j < t.n && bad < 3; ++j) {
            double sum = 0, mag = 0;
            for (int64_t p = 0; p < t.k; ++p) {
                const double x = t.ta ? a[p * lda + i] : a[i * lda + p];
                const double y = t.tb ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y, mag += std::fabs(x * y);
            }
            const double cin = t.beta == 0.f ? 0.0 : c0[i * ldc + j];
            double want = double(t.alpha) * sum + double(t.beta) * cin;
            double tol = (t.k + 4) * eps * (std::fabs(t.alpha) * mag + std::fabs(t.beta * cin)) + 4 * eps;
            if (t.bias) want += bias[j], tol += 2 * eps * std::fabs(want);
            if (t.row_fn) want = leaky_relu(want);
            const float got = c[i * ldc + j];
            const bool ok = std::isfinite(got) && std::fabs(got - want) <= tol;
            CHECK(ok, "%s: C(%lld,%lld) = %.9g, want %.9g (tol %.3g)", describe(t).c_str(), (long long)i,
                  (long long)j, got, want, tol);
            if (!ok) ++bad;
            if (t.row_fn)
                CHECK(visits[i * ldc + j] == 1, "%s: row_fn visited C(%lld,%lld) %d times", describe(t).c_str(),
                      (long long)i, (long long)j, visits[i * ldc + j]);
        }
    }
    // Nothing outside the m x n window of C is written.
    for (int64_t i = 0; i < t.m; ++i)
        for (int64_t j = t.n; j < ldc; ++j)
            CHECK(c[i * ldc + j] == sentinel, "%s: wrote C padding (%lld,%lld)", describe(t).c_str(), (long long)i,
                  (long long)j);
    return c;
}

// Sizes that straddle tile and block edges of the kernel in use.
std::vector<int64_t> edge_sizes(int64_t tile) {
    return {1, 2, tile - 1, tile, tile + 1, 2 * tile + 3};
}

void test_shapes(std::mt19937& rng) {
    const auto tuning = seqnet::gemm_tuning();
    // One kernel's MR/NR are not public; the edges of all our kernels (4, 6, 8, 14, 16, 32)
    // are covered by these sizes.
    const std::vector<int64_t> ms = {1, 3, 5, 6, 7, 13, 14, 15, 29, 31};
    const std::vector<int64_t> ns = {1, 7, 8, 9, 16, 17, 31, 32, 33, 47};
    const std::vector<int64_t> ks = {1, 2, 17, 64, tuning.kc, tuning.kc + 1};
    std::uniform_int_distribution<size_t> pick(0, 1 << 20);
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            for (int rep = 0; rep < 12; ++rep) {
                Case t{bool(ta), bool(tb), ms[pick(rng) % ms.size()], ns[pick(rng) % ns.size()], ks[pick(rng) % ks.size()],
                       1.f, 0.f, false, false, int64_t(pick(rng) % 3)};
                switch (rep % 4) {
                    case 0: break;
                    case 1: t.beta = 1.f; break;
                    case 2: t.alpha = -0.5f, t.beta = 0.75f, t.bias = true; break;
                    case 3: t.alpha = 2.f, t.bias = true, t.row_fn = true; break;
                }
                run_case(t, rng);
            }
    // Primes, empty and degenerate products, alpha = 0 (A and B not needed).
    for (auto s : std::vector<std::array<int64_t, 3>>{{97, 89, 101}, {0, 5, 7}, {5, 0, 7}, {5, 7, 0}, {1, 1, 1}, {1, 131, 1},
                                                      {131, 1, 37}, {37, 53, 211}})
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) {
                run_case({bool(ta), bool(tb), s[0], s[1], s[2], 1.f, 0.f, true, true, 1}, rng);
                run_case({bool(ta), bool(tb), s[0], s[1], s[2], 0.f, 0.5f, false, false, 0}, rng);
            }
    // The training shapes (batch x features, and the two backward products).
    for (auto s : std::vector<std::array<int64_t, 3>>{{128, 64, 20}, {128, 64, 64}, {128, 10, 64}})
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb) run_case({bool(ta), bool(tb), s[0], s[1], s[2], 1.f, 0.f, true, false, 0}, rng);
    // Packed path: several K blocks, several mc/nc blocks, several tasks.
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
            run_case({bool(ta), bool(tb), 2 * tuning.mc / 3 + 17, 300, 2 * tuning.kc + 5, 0.5f, 1.f, true, true, 3}, rng);
}

// The same product on 1 and 2 threads (and under a tiny forced block size, where the
// tasks and blocks differ most) must give the same bits.
void test_thread_determinism(std::mt19937& rng) {
    const std::vector<Case> cases = {
        {false, false, 301, 257, 700, 1.f, 0.f, true, true, 0},
        {true, false, 200, 333, 129, -1.f, 0.5f, true, false, 2},
        {false, true, 517, 96, 300, 1.f, 1.f, false, false, 0},
        {true, true, 64, 700, 513, 1.f, 0.f, false, true, 1},
        {false, false, 128, 64, 64, 1.f, 0.f, true, false, 0},
    };
    for (const Case& t : cases) {
        std::mt19937 r1 = rng, r2 = rng;
        omp_set_num_threads(1);
        auto c1 = run_case(t, r1, false);
        omp_set_num_threads(2);
        auto c2 = run_case(t, r2, true);
        CHECK(std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) == 0,
              "%s: 1 and 2 threads differ", describe(t).c_str());
        // A fixed split per thread must agree too (only the assignment of blocks differs).
        auto tuning = seqnet::gemm_tuning();
        seqnet::GemmTuning split = tuning;
        split.static_split = true;
        seqnet::set_gemm_tuning(split);
        std::mt19937 r3 = rng;
        auto c3 = run_case(t, r3, false);
        seqnet::set_gemm_tuning(seqnet::GemmTuning{});
        CHECK(std::memcmp(c1.data(), c3.data(), c1.size() * sizeof(float)) == 0,
              "%s: static split differs", describe(t).c_str());
        rng.discard(1);
    }
    omp_set_num_threads(2);
}

}  // namespace

int main() {
    std::mt19937 rng(1234);
    const int max_threads = omp_get_max_threads();
    for (int isa = int(seqnet::detected_isa()); isa >= 0; --isa) {
        seqnet::set_isa(seqnet::Isa(isa));
        const int before = g_failures;
        test_shapes(rng);
        test_thread_determinism(rng);
        omp_set_num_threads(max_threads);
        std::printf("%-14s %s\n", seqnet::gemm_kernel_name(), g_failures == before ? "ok" : "FAILED");
    }
    std::printf("%d checks, %d failures\n", g_checks, g_failures);
    return g_failures ? 1 : 0;
}
