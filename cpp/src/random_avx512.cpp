// Philox kernels built for the avx512 instruction set: 16 blocks per vector, the 32x32->64-bit
// products of a round from two vpmuludq (even and odd lanes); see random_kernels.inl.
#include <immintrin.h>
#include <omp.h>

#include <cstdint>
#include <type_traits>

#include "nn/philox.h"
#include "random_kernels.h"

namespace seqnet {
namespace avx512 {

// High and low 32 bits of m * c in every lane (maskz forms with every lane set are the
// plain instructions without GCC 12's false may-be-uninitialized warning).
static inline __m512i srli32(__m512i v) { return _mm512_maskz_srli_epi64(0xFF, v, 32); }
static inline __m512i slli32(__m512i v) { return _mm512_maskz_slli_epi64(0xFF, v, 32); }

static inline void mul_hilo(__m512i c, __m512i m, __m512i* hi, __m512i* lo) {
    const __m512i even = _mm512_maskz_mul_epu32(0xFF, c, m);
    const __m512i odd = _mm512_maskz_mul_epu32(0xFF, srli32(c), m);
    *hi = _mm512_mask_blend_epi32(0xAAAA, srli32(even), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, slli32(odd));
}

static void philox_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride) {
    const __m512i m0 = _mm512_set1_epi32(int32_t(0xD2511F53u)), m1 = _mm512_set1_epi32(int32_t(0xCD9E8D57u));
    const __m512i w0 = _mm512_set1_epi32(int32_t(0x9E3779B9u)), w1 = _mm512_set1_epi32(int32_t(0xBB67AE85u));
    const __m512i s0 = _mm512_set1_epi32(int32_t(uint32_t(stream))), s1 = _mm512_set1_epi32(int32_t(uint32_t(stream >> 32)));
    const __m512i key0 = _mm512_set1_epi32(int32_t(uint32_t(key))), key1 = _mm512_set1_epi32(int32_t(uint32_t(key >> 32)));
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // B groups of 16 blocks at once: a round is a chain of dependent multiplies, shifts and
    // xors, and one group alone leaves the vector units waiting on it. With B = 2, dropout on
    // 2.36M floats (the seed VGG's first Dropout) took 2.0-2.1 ms on one thread instead of
    // 2.3-2.6 (B = 4 spills registers: 2.3). Every block gets the same words whatever B.
    auto groups = [&](auto B_, int64_t b) {
        constexpr int B = decltype(B_)::value;
        __m512i c0[B], c1[B], c2[B], c3[B];
#pragma GCC unroll 4
        for (int h = 0; h < B; ++h) {
            const uint64_t pos = first + static_cast<uint64_t>(b + 16 * h);
            // Low words pos + lane; the high word carries where the low one wrapped.
            const __m512i base_lo = _mm512_set1_epi32(int32_t(uint32_t(pos)));
            c0[h] = _mm512_add_epi32(base_lo, lane);
            const __mmask16 carry = _mm512_cmplt_epu32_mask(c0[h], base_lo);
            const __m512i base_hi = _mm512_set1_epi32(int32_t(uint32_t(pos >> 32)));
            c1[h] = _mm512_mask_add_epi32(base_hi, carry, base_hi, _mm512_set1_epi32(1));
            c2[h] = s0, c3[h] = s1;
        }
        __m512i k0 = key0, k1 = key1;
        for (int round = 0; round < 10; ++round) {
#pragma GCC unroll 4
            for (int h = 0; h < B; ++h) {
                __m512i hi0, lo0, hi1, lo1;
                mul_hilo(c0[h], m0, &hi0, &lo0);
                mul_hilo(c2[h], m1, &hi1, &lo1);
                c0[h] = _mm512_ternarylogic_epi32(hi1, c1[h], k0, 0x96);  // three-way xor
                c2[h] = _mm512_ternarylogic_epi32(hi0, c3[h], k1, 0x96);
                c1[h] = lo1;
                c3[h] = lo0;
            }
            k0 = _mm512_add_epi32(k0, w0);
            k1 = _mm512_add_epi32(k1, w1);
        }
#pragma GCC unroll 4
        for (int h = 0; h < B; ++h) {
            _mm512_storeu_si512(words + b + 16 * h, c0[h]);
            _mm512_storeu_si512(words + stride + b + 16 * h, c1[h]);
            _mm512_storeu_si512(words + 2 * stride + b + 16 * h, c2[h]);
            _mm512_storeu_si512(words + 3 * stride + b + 16 * h, c3[h]);
        }
    };
    int64_t b = 0;
    for (; b + 32 <= count; b += 32) groups(std::integral_constant<int, 2>(), b);
    for (; b + 16 <= count; b += 16) groups(std::integral_constant<int, 1>(), b);
    philox::blocks_to_words(first, b, count, stream, key, words, stride);
}

static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale);

#include "random_kernels.inl"

// 16 elements a step: y = x * scale where kept, else +0 (a zero-masked multiply).
static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale) {
    const __m512i limit = _mm512_set1_epi32(int32_t(threshold));
    const __m512 vscale = _mm512_set1_ps(scale);
    const __m128i one = _mm_set1_epi8(1);
    int64_t l = 0;
    for (; l + 16 <= len; l += 16) {
        const __m512i w = _mm512_maskz_srli_epi32(0xFFFF, _mm512_loadu_si512(words + l), 8);
        const __mmask16 keep = _mm512_cmpge_epu32_mask(w, limit);
        _mm512_storeu_ps(y + l, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(x + l), vscale));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(mask + l), _mm_maskz_mov_epi8(keep, one));
    }
    apply_mask_scalar(words + l, x + l, y + l, mask + l, len - l, threshold, scale);
}

const RandomKernels& random_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
