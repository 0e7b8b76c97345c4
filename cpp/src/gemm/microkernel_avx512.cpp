// AVX-512 microkernel: an MR x NR tile of C held in zmm registers, NR/16 vectors per row.
// Compiled with -mavx512f...; reached only through run-time dispatch (gemm.cpp).
#include "gemm_kernels.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "transpose_avx512.h"

namespace seqnet {
namespace gemm {
namespace {

// Columns past `cols` are masked off in the last vector (free on full tiles: all-ones
// mask), so ragged edges need neither a padded copy of B nor a scratch tile.
//
// 14 x 32: 28 accumulators + 2 B vectors + 1 broadcast of the 32 zmm registers. Per step
// of k: 28 FMAs against 2 loads and 14 broadcasts, so the FMA pipes, not the loads, bound it.
constexpr int kMR = 14;
constexpr int kNV = 2;  // zmm vectors per row: NR = 32
constexpr int kWideRows = 9;  // tiles of at most this many rows also come 48 columns wide

// acc += A B over k steps. kPackedA: A's MR values of a step are adjacent (a packed panel,
// or transposed A in place), so the broadcasts use constant offsets; otherwise A is
// row-major in place (the small path) and each row is its own stream. With a prefetch
// cursor, one line of the driver's plan per step.
template <int MR, int NV, bool kPackedA, bool kPrefetch = false>
inline __attribute__((always_inline)) void accumulate(int64_t k, const float* a, int64_t a_rs,
                                                      int64_t a_cs, const float* b, int64_t b_rs,
                                                      __mmask16 last, __m512 (&acc)[MR][NV],
                                                      PrefetchCursor* cursor = nullptr) {
    for (int64_t p = 0; p < k; ++p, a += a_cs, b += b_rs) {
        if constexpr (kPrefetch) cursor->step();
        __m512 bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV - 1; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
        bv[NV - 1] = _mm512_maskz_loadu_ps(last, b + 16 * (NV - 1));
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i) {
            const __m512 ai = _mm512_set1_ps(kPackedA ? a[i] : a[i * a_rs]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
}

// C = alpha * acc + beta * C on the tile's `last`-masked columns.
template <int MR, int NV>
inline __attribute__((always_inline)) void store_tile(__m512 (&acc)[MR][NV], float* c, int64_t ldc, float alpha,
                                                      float beta, __mmask16 last) {
    const __m512 va = _mm512_set1_ps(alpha);
    auto mask = [&](int v) { return v == NV - 1 ? last : __mmask16(0xFFFF); };
    if (beta == 0.f) {
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
                _mm512_mask_storeu_ps(c + i * ldc + 16 * v, mask(v), _mm512_mul_ps(acc[i][v], va));
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 64
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
                float* cp = c + i * ldc + 16 * v;
                const __m512 old = _mm512_maskz_loadu_ps(mask(v), cp);
                _mm512_mask_storeu_ps(cp, mask(v), _mm512_fmadd_ps(vb, old, _mm512_mul_ps(acc[i][v], va)));
            }
    }
}

// The C tile is written only after the k loop: ask for its lines now (for writing), so a C
// far larger than the caches (k short, C many megabytes) does not stall the stores on their
// misses. Free when the tile is already cached. Then zero the accumulators.
template <int MR, int NV>
inline __attribute__((always_inline)) void start_tile(float* c, int64_t ldc, __m512 (&acc)[MR][NV]) {
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i) {
        _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_ET0);
        if (NV > 1) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + 16 * NV - 1), _MM_HINT_ET0);
    }
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
}

inline __mmask16 last_mask(int64_t cols, int nv) {
    const int64_t tail = cols - 16 * (nv - 1);  // 1..16 columns in the last vector
    return tail >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << tail) - 1);
}

template <int MR, int NV>
void kernel(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b, int64_t b_rs,
            float* c, int64_t ldc, float alpha, float beta, int64_t cols) {
    const __mmask16 last = last_mask(cols, NV);
    __m512 acc[MR][NV];
    start_tile<MR, NV>(c, ldc, acc);
    PrefetchRows& pf = prefetch_rows();
    if (pf.active()) {
        PrefetchCursor cursor(pf);
        if (a_rs == 1) accumulate<MR, NV, true, true>(k, a, 1, a_cs, b, b_rs, last, acc, &cursor);
        else accumulate<MR, NV, false, true>(k, a, a_rs, a_cs, b, b_rs, last, acc, &cursor);
    } else if (a_rs == 1) accumulate<MR, NV, true>(k, a, 1, a_cs, b, b_rs, last, acc);
    else accumulate<MR, NV, false>(k, a, a_rs, a_cs, b, b_rs, last, acc);
    store_tile<MR, NV>(acc, c, ldc, alpha, beta, last);
}

// SegmentedKernelFn: the runs one after another into the same accumulators.
template <int MR, int NV>
void segmented_kernel(int64_t segments, int64_t seg_len, int64_t seg_stride, const float* a, int64_t a_rs,
                      const float* b, int64_t b_rs, float* c, int64_t ldc, const float* bias, bool relu,
                      int64_t cols) {
    const __mmask16 last = last_mask(cols, NV);
    __m512 acc[MR][NV];
    start_tile<MR, NV>(c, ldc, acc);
    for (int64_t s = 0; s < segments; ++s)
        accumulate<MR, NV, false>(seg_len, a + s * seg_stride, a_rs, 1, b + s * seg_len * b_rs, b_rs, last, acc);
    auto mask = [&](int v) { return v == NV - 1 ? last : __mmask16(0xFFFF); };
    __m512 bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = bias ? _mm512_maskz_loadu_ps(mask(v), bias + 16 * v) : _mm512_setzero_ps();
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 64
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
            __m512 x = bias ? _mm512_add_ps(acc[i][v], bv[v]) : acc[i][v];
            if (relu) x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, zero, _CMP_LE_OQ), zero);
            _mm512_mask_storeu_ps(c + i * ldc + 16 * v, mask(v), x);
        }
}

// Every variant up to kMR x kNV, for edge tiles.
template <int R>
void add_variants(MicroKernel& mk) {
    mk.variant[R - 1][0] = &kernel<R, 1>;
    mk.variant[R - 1][1] = &kernel<R, 2>;
    mk.segmented[R - 1][0] = &segmented_kernel<R, 1>;
    mk.segmented[R - 1][1] = &segmented_kernel<R, 2>;
    // Wider tiles for few rows (27 accumulators at 9 rows): the per-step products of a
    // recurrence (gemm::panel_update), which sgemm's own paths do not ask for.
    if constexpr (R <= kWideRows) mk.variant[R - 1][2] = &kernel<R, 3>;
    if constexpr (R > 1) add_variants<R - 1>(mk);
}

// A panel of transposed op(B) (MicroKernel::pack_b_trans) in 16 x 16 blocks: 16 rows of b
// read 16 floats each (masked past k, zeros past cols), transposed in registers, stored as
// 16 rows of the panel. K outer, so the 16 rows of the panel being written (1-3 KiB) stay
// in L1; each row of b is read sequentially. The scalar loop it replaces stored one float
// at a time and cost as much as the product on mnist_mlp's dX (128x512x512:nt).
void pack_b_trans(const float* b, int64_t ldb, int64_t k, int64_t cols, int64_t nr, float* dst) {
    for (int64_t p0 = 0; p0 < k; p0 += 16) {
        const int64_t pn = std::min<int64_t>(16, k - p0);
        const __mmask16 m = pn == 16 ? __mmask16(0xFFFF) : __mmask16((1u << pn) - 1);
        for (int64_t j0 = 0; j0 < nr; j0 += 16) {
            __m512i r[16];
#pragma GCC unroll 16
            for (int i = 0; i < 16; ++i)
                r[i] = j0 + i < cols ? _mm512_maskz_loadu_epi32(m, b + (j0 + i) * ldb + p0) : _mm512_setzero_si512();
            transpose16(r);
            float* d = dst + p0 * nr + j0;
            if (pn == 16) {
#pragma GCC unroll 16
                for (int p = 0; p < 16; ++p) _mm512_storeu_si512(d + p * nr, r[p]);
            } else {
                for (int p = 0; p < pn; ++p) _mm512_storeu_si512(d + p * nr, r[p]);
            }
        }
    }
}

// A panel of row-major op(A) (MicroKernel::pack_a_rows) in 16 x 16 blocks: the panel's rows
// (at most 16) read 16 floats each (masked past k; zeros past rows), transposed in registers,
// stored as 16 steps of k of mr floats each. Each row of a is read sequentially; the scalar
// loop it replaces stored one float at a time (8% of a one-thread 2048^3 on the packed path).
void pack_a_rows(const float* a, int64_t lda, int64_t k, int64_t rows, int64_t mr, float* dst) {
    const __mmask16 lanes = __mmask16((1u << mr) - 1);
    for (int64_t p0 = 0; p0 < k; p0 += 16) {
        const int64_t pn = std::min<int64_t>(16, k - p0);
        const __mmask16 m = pn == 16 ? __mmask16(0xFFFF) : __mmask16((1u << pn) - 1);
        __m512i r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
            r[i] = i < rows ? _mm512_maskz_loadu_epi32(m, a + i * lda + p0) : _mm512_setzero_si512();
        transpose16(r);
        float* d = dst + p0 * mr;
        for (int64_t p = 0; p < pn; ++p) _mm512_mask_storeu_epi32(d + p * mr, lanes, r[p]);
    }
}

// The vector operations of the streaming and dot paths' kernels (stream_rows.inl, dot_lanes.inl):
// 4 rows of B per streaming pass; dot blocks of 16 x 16.
struct Vec {
    using T = __m512;
    static constexpr int kWidth = 16, kUnroll = 4;
    static T load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
    static T set1(float x) { return _mm512_set1_ps(x); }
    static T zero() { return _mm512_setzero_ps(); }
    static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
    static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
    // blk[q] = lanes i < rows of x (row i at x + i * ldx) at column q < pn; zeros elsewhere.
    static void load_block(const float* x, int64_t ldx, int64_t rows, int pn, T (&blk)[16]) {
        const __mmask16 m = pn == 16 ? __mmask16(0xFFFF) : __mmask16((1u << pn) - 1);
        __m512i r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_epi32(m, x + i * ldx) : _mm512_setzero_si512();
        transpose16(r);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) blk[i] = _mm512_castsi512_ps(r[i]);
    }
    // out[0..n) = t, or beta * out + t rounded once
    static void store_lanes(float* out, int64_t n, T t, float beta) {
        const __mmask16 m = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
        _mm512_mask_storeu_ps(out, m, beta == 0.f ? t : _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m, out), t));
    }
};
#include "stream_rows.inl"
#include "dot_lanes.inl"

MicroKernel make_kernel() {
    MicroKernel mk{"avx512 14x32", kMR, 16 * kNV, 16, true, {}, kWideRows};
    add_variants<kMR>(mk);
    mk.pack_b_trans = &pack_b_trans;
    mk.pack_a_rows = &pack_a_rows;
    mk.stream_rows = &stream_rows;
    mk.stream_max_rows = 8;
    mk.dot_lanes = &dot_lanes;
    return mk;
}

}  // namespace

const MicroKernel* microkernel_avx512() {
    static const MicroKernel mk = make_kernel();
    return &mk;
}

}  // namespace gemm
}  // namespace seqnet

#else

namespace seqnet {
namespace gemm {
const MicroKernel* microkernel_avx512() { return nullptr; }
}  // namespace gemm
}  // namespace seqnet

#endif
