// Portable microkernel: plain C++ that any compiler vectorizes for its baseline (SSE2 on
// x86-64, NEON on ARM). The fallback for CPUs without AVX2 and the reference the
// intrinsics kernels are tested against.
#include <cmath>
#include <cstring>

#include "gemm_kernels.h"

namespace seqnet {
namespace gemm {
namespace {

// 4 x 8: 32 accumulators fit the 16 xmm registers of baseline x86-64 as 8 vectors.
constexpr int kMR = 4;
constexpr int kVec = 4;  // an SSE / NEON register of floats
constexpr int kNV = 2;   // NR = 8

// GCC/Clang vector extensions: plain C++ that maps to SSE on x86-64 and NEON on ARM. (Scalar
// loops here were vectorised along k with gathers by GCC, at a tenth of this speed.)
typedef float vfloat __attribute__((vector_size(16)));

inline vfloat load(const float* p) {
    vfloat v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// `segments` runs of seg_len steps of k, run s at a + s * seg_stride (SegmentedKernelFn; a
// plain tile is one run).
template <int R, int V>
void tile(int64_t segments, int64_t seg_len, int64_t seg_stride, const float* a, int64_t a_rs, int64_t a_cs,
          const float* b, int64_t b_rs, float* c, int64_t ldc, float alpha, float beta) {
    constexpr int W = V * kVec;
    vfloat vacc[R][V];
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < V; ++v) vacc[i][v] = vfloat{0.f, 0.f, 0.f, 0.f};
    for (int64_t s = 0; s < segments; ++s) {
        const float* as = a + s * seg_stride;
        for (int64_t p = 0; p < seg_len; ++p, as += a_cs, b += b_rs) {
            vfloat bv[V];
            for (int v = 0; v < V; ++v) bv[v] = load(b + v * kVec);
            for (int i = 0; i < R; ++i) {
                const float ai = as[i * a_rs];
                const vfloat av = {ai, ai, ai, ai};
                for (int v = 0; v < V; ++v) vacc[i][v] += av * bv[v];
            }
        }
    }
    float acc[R][W];
    for (int i = 0; i < R; ++i)
        for (int v = 0; v < V; ++v) std::memcpy(&acc[i][v * kVec], &vacc[i][v], sizeof(vfloat));
    // t = alpha * acc rounded on its own, then beta * c + t with one rounding: exactly what
    // the driver does with a scratch tile. The barrier stops the compiler from fusing the
    // two (it may, where FMA is baseline, e.g. ARM), which would change the bits.
    // (The barrier is on a copy: taking acc's address would keep it out of registers.)
    float t[R][W];
    for (int i = 0; i < R; ++i)
        for (int j = 0; j < W; ++j) t[i][j] = acc[i][j] * alpha;
#if defined(__GNUC__)
    asm("" : "+m"(t));
#endif
    for (int i = 0; i < R; ++i) {
        float* ci = c + i * ldc;
        if (beta == 0.f)
            for (int j = 0; j < W; ++j) ci[j] = t[i][j];
        else if (beta == 1.f)
            for (int j = 0; j < W; ++j) ci[j] += t[i][j];
        else
            for (int j = 0; j < W; ++j) ci[j] = std::fma(beta, ci[j], t[i][j]);
    }
}

template <int R, int V>
void kernel(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t b_rs,
            float* c, int64_t ldc, float alpha, float beta, int64_t /*cols*/) {
    tile<R, V>(1, k, 0, a, a_rs, a_cs, b, b_rs, c, ldc, alpha, beta);
}

template <int R, int V>
void segmented_kernel(int64_t segments, int64_t seg_len, int64_t seg_stride, const float* a, int64_t a_rs,
                      const float* b, int64_t b_rs, float* c, int64_t ldc, const float* bias, bool relu,
                      int64_t /*cols*/) {
    tile<R, V>(segments, seg_len, seg_stride, a, a_rs, 1, b, b_rs, c, ldc, 1.f, 0.f);
    for (int i = 0; i < R; ++i) {
        float* ci = c + i * ldc;
        if (bias)
            for (int j = 0; j < V * kVec; ++j) ci[j] += bias[j];
        if (relu)
            for (int j = 0; j < V * kVec; ++j) ci[j] = ci[j] <= 0.f ? 0.f : ci[j];
    }
}

template <int R>
void add_variants(MicroKernel& mk) {
    mk.variant[R - 1][0] = &kernel<R, 1>;
    mk.variant[R - 1][1] = &kernel<R, 2>;
    mk.segmented[R - 1][0] = &segmented_kernel<R, 1>;
    mk.segmented[R - 1][1] = &segmented_kernel<R, 2>;
    if constexpr (R > 1) add_variants<R - 1>(mk);
}

MicroKernel make_kernel() {
    MicroKernel mk{"generic 4x8", kMR, kVec * kNV, kVec, false, {}};
    add_variants<kMR>(mk);
    return mk;
}

}  // namespace

const MicroKernel* microkernel_generic() {
    static const MicroKernel mk = make_kernel();
    return &mk;
}

}  // namespace gemm
}  // namespace seqnet
