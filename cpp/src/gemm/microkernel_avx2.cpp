// AVX2 + FMA microkernel: an MR x NR tile of C held in ymm registers, NR/8 vectors per row.
// Compiled with -mavx2 -mfma; reached only through run-time dispatch (gemm.cpp).
#include "gemm_kernels.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace seqnet {
namespace gemm {
namespace {

// 6 x 16: 12 accumulators + 2 B vectors + 1 broadcast of the 16 ymm registers, the
// classic Haswell shape (BLIS, OpenBLAS): 12 FMAs per step of k hide the FMA latency on
// two pipes, against 2 loads and 6 broadcasts.
constexpr int kMR = 6;
constexpr int kNV = 2;  // ymm vectors per row: NR = 16

// acc += A B over k steps. kPackedA: A's MR values of a step are adjacent (a packed panel,
// or transposed A in place), so the broadcasts use constant offsets; otherwise A is
// row-major in place (the small path) and each row is its own stream.
template <int MR, int NV, bool kPackedA>
inline __attribute__((always_inline)) void accumulate(int64_t k, const float* a, int64_t a_rs,
                                                      int64_t a_cs, const float* b, int64_t b_rs,
                                                      __m256 (&acc)[MR][NV]) {
    for (int64_t p = 0; p < k; ++p, a += a_cs, b += b_rs) {
        __m256 bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i) {
            const __m256 ai = _mm256_set1_ps(kPackedA ? a[i] : a[i * a_rs]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
}

template <int MR, int NV>
void kernel(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t b_rs,
            float* c, int64_t ldc, float alpha, float beta, int64_t /*cols*/) {
    __m256 acc[MR][NV];
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
    if (a_rs == 1) accumulate<MR, NV, true>(k, a, 1, a_cs, b, b_rs, acc);
    else accumulate<MR, NV, false>(k, a, a_rs, a_cs, b, b_rs, acc);

    const __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0.f) {
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) _mm256_storeu_ps(c + i * ldc + 8 * v, _mm256_mul_ps(acc[i][v], va));
    } else {
        const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
                float* cp = c + i * ldc + 8 * v;
                _mm256_storeu_ps(cp, _mm256_fmadd_ps(vb, _mm256_loadu_ps(cp), _mm256_mul_ps(acc[i][v], va)));
            }
    }
}

// Every variant up to kMR x kNV, for edge tiles.
template <int R>
void add_variants(MicroKernel& mk) {
    mk.variant[R - 1][0] = &kernel<R, 1>;
    mk.variant[R - 1][1] = &kernel<R, 2>;
    if constexpr (R > 1) add_variants<R - 1>(mk);
}

MicroKernel make_kernel() {
    MicroKernel mk{"avx2 6x16", kMR, 8 * kNV, 8, false, {}};
    add_variants<kMR>(mk);
    return mk;
}

}  // namespace

const MicroKernel* microkernel_avx2() {
    static const MicroKernel mk = make_kernel();
    return &mk;
}

}  // namespace gemm
}  // namespace seqnet

#else

namespace seqnet {
namespace gemm {
const MicroKernel* microkernel_avx2() { return nullptr; }
}  // namespace gemm
}  // namespace seqnet

#endif
