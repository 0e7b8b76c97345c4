// AVX2 + FMA microkernel: an MR x NR tile of C held in ymm registers, NR/8 vectors per row.
// Compiled with -mavx2 -mfma; reached only through run-time dispatch (gemm.cpp).
#include "gemm_kernels.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>

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
// row-major in place (the small path) and each row is its own stream. With a prefetch
// cursor, one line of the driver's plan every other step (a step here is 12 FMAs).
template <int MR, int NV, bool kPackedA, bool kPrefetch = false>
inline __attribute__((always_inline)) void accumulate(int64_t k, const float* a, int64_t a_rs,
                                                      int64_t a_cs, const float* b, int64_t b_rs,
                                                      __m256 (&acc)[MR][NV], PrefetchCursor* cursor = nullptr) {
    for (int64_t p = 0; p < k; ++p, a += a_cs, b += b_rs) {
        if constexpr (kPrefetch)
            if (p & 1) cursor->step();
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

// C = alpha * acc + beta * C.
template <int MR, int NV>
inline __attribute__((always_inline)) void store_tile(__m256 (&acc)[MR][NV], float* c, int64_t ldc, float alpha,
                                                      float beta) {
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

template <int MR, int NV>
inline __attribute__((always_inline)) void zero(__m256 (&acc)[MR][NV]) {
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();
}

template <int MR, int NV>
void kernel(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t b_rs,
            float* c, int64_t ldc, float alpha, float beta, int64_t /*cols*/) {
    __m256 acc[MR][NV];
    zero<MR, NV>(acc);
    PrefetchRows& pf = prefetch_rows();
    if (pf.active()) {
        PrefetchCursor cursor(pf);
        if (a_rs == 1) accumulate<MR, NV, true, true>(k, a, 1, a_cs, b, b_rs, acc, &cursor);
        else accumulate<MR, NV, false, true>(k, a, a_rs, a_cs, b, b_rs, acc, &cursor);
    } else if (a_rs == 1) accumulate<MR, NV, true>(k, a, 1, a_cs, b, b_rs, acc);
    else accumulate<MR, NV, false>(k, a, a_rs, a_cs, b, b_rs, acc);
    store_tile<MR, NV>(acc, c, ldc, alpha, beta);
}

// SegmentedKernelFn: the runs one after another into the same accumulators.
template <int MR, int NV>
void segmented_kernel(int64_t segments, int64_t seg_len, int64_t seg_stride, const float* a, int64_t a_rs,
                      const float* b, int64_t b_rs, float* c, int64_t ldc, const float* bias, bool relu,
                      int64_t /*cols*/) {
    __m256 acc[MR][NV];
    zero<MR, NV>(acc);
    for (int64_t s = 0; s < segments; ++s)
        accumulate<MR, NV, false>(seg_len, a + s * seg_stride, a_rs, 1, b + s * seg_len * b_rs, b_rs, acc);
    __m256 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = bias ? _mm256_loadu_ps(bias + 8 * v) : _mm256_setzero_ps();
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            __m256 x = bias ? _mm256_add_ps(acc[i][v], bv[v]) : acc[i][v];
            // x <= 0 ? 0 : x (ordered compare: NaN is kept).
            if (relu) x = _mm256_blendv_ps(x, zero, _mm256_cmp_ps(x, zero, _CMP_LE_OQ));
            _mm256_storeu_ps(c + i * ldc + 8 * v, x);
        }
}

// Every variant up to kMR x kNV, for edge tiles.
template <int R>
void add_variants(MicroKernel& mk) {
    mk.variant[R - 1][0] = &kernel<R, 1>;
    mk.variant[R - 1][1] = &kernel<R, 2>;
    mk.segmented[R - 1][0] = &segmented_kernel<R, 1>;
    mk.segmented[R - 1][1] = &segmented_kernel<R, 2>;
    if constexpr (R > 1) add_variants<R - 1>(mk);
}

// r[i][j] -> r[j][i]: 32-bit, then 64-bit interleaves within 128-bit lanes (u[4i + c]
// then holds, in lane L, column 4L + c of rows 4i..4i+3), then the lanes swapped across.
inline __attribute__((always_inline)) void transpose8(__m256 (&r)[8]) {
    __m256 t[8], u[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int i = 0; i < 2; ++i) {
        const __m256d t0 = _mm256_castps_pd(t[4 * i]), t1 = _mm256_castps_pd(t[4 * i + 1]),
                      t2 = _mm256_castps_pd(t[4 * i + 2]), t3 = _mm256_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm256_castpd_ps(_mm256_unpacklo_pd(t0, t2));
        u[4 * i + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(t0, t2));
        u[4 * i + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(t1, t3));
        u[4 * i + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(t1, t3));
    }
#pragma GCC unroll 4
    for (int c = 0; c < 4; ++c) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

// A panel of transposed op(B) (MicroKernel::pack_b_trans) in 8 x 8 blocks, as the AVX-512
// kernel's: rows of b past cols are zeros, and a k short of 8 is read through a copy.
void pack_b_trans(const float* b, int64_t ldb, int64_t k, int64_t cols, int64_t nr, float* dst) {
    for (int64_t p0 = 0; p0 < k; p0 += 8) {
        const int64_t pn = std::min<int64_t>(8, k - p0);
        for (int64_t j0 = 0; j0 < nr; j0 += 8) {
            __m256 r[8];
#pragma GCC unroll 8
            for (int i = 0; i < 8; ++i) {
                if (j0 + i >= cols) {
                    r[i] = _mm256_setzero_ps();
                } else if (pn == 8) {
                    r[i] = _mm256_loadu_ps(b + (j0 + i) * ldb + p0);
                } else {
                    alignas(32) float tail[8] = {};
                    for (int64_t p = 0; p < pn; ++p) tail[p] = b[(j0 + i) * ldb + p0 + p];
                    r[i] = _mm256_load_ps(tail);
                }
            }
            transpose8(r);
            float* d = dst + p0 * nr + j0;
            for (int64_t p = 0; p < pn; ++p) _mm256_storeu_ps(d + p * nr, r[p]);
        }
    }
}

// The vector operations of the streaming and dot paths' kernels (stream_rows.inl, dot_lanes.inl):
// 2 rows of B per streaming pass (16 registers); dot blocks of 8 x 8.
struct Vec {
    using T = __m256;
    static constexpr int kWidth = 8, kUnroll = 2;
    static T load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
    static T set1(float x) { return _mm256_set1_ps(x); }
    static T zero() { return _mm256_setzero_ps(); }
    static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
    static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
    static __m256i first(int n) {  // lanes i < n all ones
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    // blk[q] = lanes i < rows of x (row i at x + i * ldx) at column q < pn; zeros elsewhere.
    static void load_block(const float* x, int64_t ldx, int64_t rows, int pn, T (&blk)[8]) {
        const __m256i m = first(pn);
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) blk[i] = i < rows ? _mm256_maskload_ps(x + i * ldx, m) : _mm256_setzero_ps();
        transpose8(blk);
    }
    // out[0..n) = t, or beta * out + t rounded once
    static void store_lanes(float* out, int64_t n, T t, float beta) {
        const __m256i m = first(int(n));
        _mm256_maskstore_ps(out, m, beta == 0.f ? t : _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(out, m), t));
    }
};
#include "stream_rows.inl"
#include "dot_lanes.inl"

MicroKernel make_kernel() {
    MicroKernel mk{"avx2 6x16", kMR, 8 * kNV, 8, false, {}};
    add_variants<kMR>(mk);
    mk.pack_b_trans = &pack_b_trans;
    mk.stream_rows = &stream_rows;
    mk.stream_max_rows = 4;
    mk.dot_lanes = &dot_lanes;
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
