// The AMX blocks of the GEMM (compiled with AMX and AVX-512 flags, reached only when
// amx_active(); see cpu.h). An FP32 product on the bf16 tile unit, as accurate as FP32:
//
//   Each float x is split exactly into three bf16 parts, x = x0 + x1 + x2: x0 is x with its
//   low 16 bits cleared (8 significant bits), x1 the same of x - x0 (the next 8), and x2 =
//   x - x0 - x1 (the last 8, exact in bf16). Both subtractions are exact. A product a * b is
//   then the six terms a0b0 + a0b1 + a1b0 + a0b2 + a2b0 + a1b1, summed by TDPBF16PS into
//   fp32 accumulators (bf16 x bf16 products are exact in fp32); the three terms left out are
//   below 2^-24 |ab| together, about one FP32 rounding. Measured against float64 the error
//   is below that of an fp32 fma chain (tests/test_gemm_amx.py).
//
//   Differences from the FP32 kernels: the tile unit treats bf16 subnormals as zero and
//   flushes subnormal results, so parts below 2^-126 are lost (only values under ~1e-33
//   lose precision), and subnormal outputs become 0. NaN propagates as in FP32. An infinite
//   element would not (inf * 0 = NaN where a part of the other operand is 0), so the packing
//   reports infinities and the driver then computes the product with the FP32 kernels.
//
// Layout, per K step of 32 (kAmxK):
//   A panel (32 rows):  [plane 0..2][row 0..31][k 0..31] bf16 (two 16-row tiles per plane)
//   B panel (32 cols):  [plane 0..2][col tile 0..1][k pair 0..15][col 0..15][2] bf16
// so one step of a panel is 3 x 1024 bf16, and step s of a panel starts at s * 3072.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "gemm_kernels.h"
#include "transpose_avx512.h"

namespace seqnet {
namespace gemm {
namespace {

constexpr int64_t kStep = kAmxPanel * kAmxK;  // bf16 per plane per K step (2 tiles of 16 x 32)

struct alignas(64) TileConfig {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

// x = x0 + x1 + x2 exactly, each part a float whose low 16 bits are zero (a bf16 in the
// high half). Infinite elements (whose parts would be inf, NaN, NaN) are noted in `infs`.
inline void split3(__m512 x, __m512& x0, __m512& x1, __m512& x2, __mmask16& infs) {
    const __m512i high = _mm512_set1_epi32(int(0xFFFF0000u));
    infs |= _mm512_fpclass_ps_mask(x, 0x18);  // +inf, -inf
    x0 = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), high));
    const __m512 r1 = _mm512_sub_ps(x, x0);
    x1 = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(r1), high));
    x2 = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(r1, x1)), high));
}

// The bf16 in the high halves of lo's 16 floats, then of hi's: 32 bf16 in order.
inline __m512i high_halves(__m512 lo, __m512 hi) {
    const __m512i odd_words = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33, 31, 29,
                                               27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_epi16(_mm512_castps_si512(lo), odd_words, _mm512_castps_si512(hi));
}

// Element by element, the pair (even's bf16, odd's bf16) in one 32-bit lane, even first.
inline __m512i pair_halves(__m512 even, __m512 odd) {
    // (the zero-masked shift with every lane set: the plain one draws GCC 12's false "may be
    // used uninitialized" warning on its undefined pass-through operand)
    return _mm512_mask_blend_epi16(0xAAAAAAAAu, _mm512_maskz_srli_epi32(0xFFFF, _mm512_castps_si512(even), 16),
                                   _mm512_castps_si512(odd));
}

// 16 floats of row x (the first `valid` of them, 0 to 16; zeros after).
inline __m512 load16(const float* x, int64_t valid) {
    if (valid >= 16) return _mm512_loadu_ps(x);
    if (valid <= 0) return _mm512_setzero_ps();
    return _mm512_maskz_loadu_ps(_cvtu32_mask16((1u << valid) - 1u), x);
}

inline void store3(uint16_t* dst, __m512i p0, __m512i p1, __m512i p2) {
    _mm512_store_si512(dst, p0);
    _mm512_store_si512(dst + 1024, p1);
    _mm512_store_si512(dst + 2048, p2);
}

// Rows of 16 32-bit lanes, per plane, transposed and stored 32 uint16 apart from dst.
inline void transpose_store(__m512i rows[3][16], uint16_t* dst) {
    for (int p = 0; p < 3; ++p) {
        transpose16(rows[p]);
        for (int i = 0; i < 16; ++i) _mm512_store_si512(dst + p * 1024 + i * 32, rows[p][i]);
    }
}

}  // namespace

bool amx_pack_a(bool trans, const float* a, int64_t lda, int64_t rows, int64_t k, float alpha, uint16_t* dst) {
    __mmask16 infs = 0;
    const __m512 scale = _mm512_set1_ps(alpha);
    auto scaled = [&](__m512 v) { return alpha != 1.f ? _mm512_mul_ps(v, scale) : v; };
    for (int64_t p0 = 0; p0 < k; p0 += kAmxK, dst += 3 * kStep) {
        const int64_t kcur = std::min<int64_t>(kAmxK, k - p0);
        if (!trans) {  // row i: its 32 k in a row of each plane
            for (int64_t i = 0; i < 32; ++i) {
                __m512 lo[3], hi[3];
                const float* x = a + i * lda + p0;
                split3(scaled(load16(x, i < rows ? kcur : 0)), lo[0], lo[1], lo[2], infs);
                split3(scaled(load16(x + 16, i < rows ? kcur - 16 : 0)), hi[0], hi[1], hi[2], infs);
                store3(dst + i * 32, high_halves(lo[0], hi[0]), high_halves(lo[1], hi[1]), high_halves(lo[2], hi[2]));
            }
            continue;
        }
        // Transposed: rows p, p + 1 of the stored matrix give, for 16 i at a time, the pairs
        // of k; 16 x 16 pairs transposed give 16 rows of a tile.
        for (int64_t h = 0; h < 2; ++h) {
            __m512i t[3][16];
            for (int64_t q = 0; q < 16; ++q) {
                __m512 e[3], o[3];
                const int64_t valid = rows - 16 * h;
                const float* x = a + (p0 + 2 * q) * lda + 16 * h;
                split3(scaled(load16(x, 2 * q < kcur ? valid : 0)), e[0], e[1], e[2], infs);
                split3(scaled(load16(x + lda, 2 * q + 1 < kcur ? valid : 0)), o[0], o[1], o[2], infs);
                for (int p = 0; p < 3; ++p) t[p][q] = pair_halves(e[p], o[p]);
            }
            transpose_store(t, dst + h * 512);
        }
    }
    return infs != 0;
}

bool amx_pack_b(bool trans, const float* b, int64_t ldb, int64_t k, int64_t cols, uint16_t* dst) {
    __mmask16 infs = 0;
    for (int64_t p0 = 0; p0 < k; p0 += kAmxK, dst += 3 * kStep) {
        const int64_t kcur = std::min<int64_t>(kAmxK, k - p0);
        if (!trans) {  // rows p, p + 1: the pairs of 16 columns at a time
            for (int64_t q = 0; q < 16; ++q)
                for (int64_t h = 0; h < 2; ++h) {
                    __m512 e[3], o[3];
                    const int64_t valid = cols - 16 * h;
                    const float* x = b + (p0 + 2 * q) * ldb + 16 * h;
                    split3(load16(x, 2 * q < kcur ? valid : 0), e[0], e[1], e[2], infs);
                    split3(load16(x + ldb, 2 * q + 1 < kcur ? valid : 0), o[0], o[1], o[2], infs);
                    store3(dst + h * 512 + q * 32, pair_halves(e[0], o[0]), pair_halves(e[1], o[1]),
                           pair_halves(e[2], o[2]));
                }
            continue;
        }
        // Transposed: column j's 32 k are contiguous, already 16 pairs; 16 columns of them
        // transposed give the tile's rows of pairs.
        for (int64_t h = 0; h < 2; ++h) {
            __m512i t[3][16];
            for (int64_t j = 0; j < 16; ++j) {
                __m512 lo[3], hi[3];
                const bool in = 16 * h + j < cols;
                const float* x = b + (16 * h + j) * ldb + p0;
                split3(load16(x, in ? kcur : 0), lo[0], lo[1], lo[2], infs);
                split3(load16(x + 16, in ? kcur - 16 : 0), hi[0], hi[1], hi[2], infs);
                for (int p = 0; p < 3; ++p) t[p][j] = high_halves(lo[p], hi[p]);
            }
            transpose_store(t, dst + h * 512);
        }
    }
    return infs != 0;
}

void amx_begin() {
    TileConfig cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) cfg.rows[t] = 16, cfg.colsb[t] = 64;
    // Not _tile_loadconfig: GCC 12's version names only 8 bytes of the 64 as read, so the
    // stores that fill the rest may be dropped.
    asm volatile("ldtilecfg %0" ::"m"(cfg));
}

void amx_end() { _tile_release(); }

double amx_tile_product_ns() {
    alignas(64) static const uint16_t zeros[512] = {};
    alignas(64) float sink[256];
    amx_begin();
    _tile_loadd(4, zeros, 64);
    _tile_loadd(5, zeros, 64);
    _tile_loadd(6, zeros, 64);
    _tile_loadd(7, zeros, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    constexpr int kLoops = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kLoops; ++i) {  // four independent accumulators: throughput, not latency
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, sink, 64);  // the products must complete before the clock is read
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    amx_end();
    return s * 1e9 / (4.0 * kLoops);
}

void amx_block(int64_t steps, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, bool load_c,
               bool three) {
    const int64_t stride = ldc * int64_t(sizeof(float));
    if (load_c) {
        _tile_loadd(0, c, stride);
        _tile_loadd(1, c + 16, stride);
        _tile_loadd(2, c + 16 * ldc, stride);
        _tile_loadd(3, c + 16 * ldc + 16, stride);
    } else {
        _tile_zero(0);
        _tile_zero(1);
        _tile_zero(2);
        _tile_zero(3);
    }
#define SEQNET_AMX_A(p) _tile_loadd(4, a + (p) * 1024, 64); _tile_loadd(5, a + (p) * 1024 + 512, 64)
#define SEQNET_AMX_B(p) _tile_loadd(6, b + (p) * 1024, 64); _tile_loadd(7, b + (p) * 1024 + 512, 64)
#define SEQNET_AMX_DP \
    _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7)
    // bf16x3 (MatmulPrecision::High): the two 2^-8 terms, then the leading one.
    for (int64_t s = 0; three && s < steps; ++s, a += 3 * kStep, b += 3 * kStep) {
        SEQNET_AMX_A(0); SEQNET_AMX_B(1); SEQNET_AMX_DP;  // a0 b1
        SEQNET_AMX_A(1); SEQNET_AMX_B(0); SEQNET_AMX_DP;  // a1 b0
        SEQNET_AMX_A(0); SEQNET_AMX_DP;                   // a0 b0
    }
    // The six terms, smallest first, ordered so that each loaded pair of tiles serves
    // two products where it can (14 tile loads for 24 products per step).
    for (int64_t s = 0; !three && s < steps; ++s, a += 3 * kStep, b += 3 * kStep) {
        SEQNET_AMX_A(2); SEQNET_AMX_B(0); SEQNET_AMX_DP;  // a2 b0
        SEQNET_AMX_A(1); SEQNET_AMX_DP;                   // a1 b0
        SEQNET_AMX_B(1); SEQNET_AMX_DP;                   // a1 b1
        SEQNET_AMX_A(0); SEQNET_AMX_DP;                   // a0 b1
        SEQNET_AMX_B(2); SEQNET_AMX_DP;                   // a0 b2
        SEQNET_AMX_B(0); SEQNET_AMX_DP;                   // a0 b0
    }
#undef SEQNET_AMX_A
#undef SEQNET_AMX_B
#undef SEQNET_AMX_DP
    _tile_stored(0, c, stride);
    _tile_stored(1, c + 16, stride);
    _tile_stored(2, c + 16 * ldc, stride);
    _tile_stored(3, c + 16 * ldc + 16, stride);
}

}  // namespace gemm
}  // namespace seqnet
