// Philox kernels built for the avx2 instruction set: 8 blocks per vector, the 32x32->64-bit
// products of a round from two vpmuludq (even and odd lanes); see random_kernels.inl.
#include <immintrin.h>
#include <omp.h>

#include <cstdint>
#include <type_traits>

#include "nn/philox.h"
#include "random_kernels.h"

namespace seqnet {
namespace avx2 {

// High and low 32 bits of m * c in every lane.
static inline void mul_hilo(__m256i c, __m256i m, __m256i* hi, __m256i* lo) {
    const __m256i even = _mm256_mul_epu32(c, m);
    const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

static void philox_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride) {
    const __m256i m0 = _mm256_set1_epi32(int32_t(0xD2511F53u)), m1 = _mm256_set1_epi32(int32_t(0xCD9E8D57u));
    const __m256i w0 = _mm256_set1_epi32(int32_t(0x9E3779B9u)), w1 = _mm256_set1_epi32(int32_t(0xBB67AE85u));
    const __m256i s0 = _mm256_set1_epi32(int32_t(uint32_t(stream))), s1 = _mm256_set1_epi32(int32_t(uint32_t(stream >> 32)));
    const __m256i key0 = _mm256_set1_epi32(int32_t(uint32_t(key))), key1 = _mm256_set1_epi32(int32_t(uint32_t(key >> 32)));
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i sign = _mm256_set1_epi32(int32_t(0x80000000u));
    // B groups of 8 blocks at once, as the avx512 kernel does (a round's chain of dependent
    // operations leaves the vector units idle with one group). Every block gets the same words.
    auto groups = [&](auto B_, int64_t b) {
        constexpr int B = decltype(B_)::value;
        __m256i c0[B], c1[B], c2[B], c3[B];
#pragma GCC unroll 4
        for (int h = 0; h < B; ++h) {
            const uint64_t pos = first + static_cast<uint64_t>(b + 8 * h);
            // Low words pos + lane; the high word carries where the low one wrapped (an unsigned
            // compare as a signed one on sign-flipped values; the mask is -1 there, so subtract it).
            const __m256i base_lo = _mm256_set1_epi32(int32_t(uint32_t(pos)));
            c0[h] = _mm256_add_epi32(base_lo, lane);
            const __m256i wrapped =
                _mm256_cmpgt_epi32(_mm256_xor_si256(base_lo, sign), _mm256_xor_si256(c0[h], sign));
            c1[h] = _mm256_sub_epi32(_mm256_set1_epi32(int32_t(uint32_t(pos >> 32))), wrapped);
            c2[h] = s0, c3[h] = s1;
        }
        __m256i k0 = key0, k1 = key1;
        for (int round = 0; round < 10; ++round) {
#pragma GCC unroll 4
            for (int h = 0; h < B; ++h) {
                __m256i hi0, lo0, hi1, lo1;
                mul_hilo(c0[h], m0, &hi0, &lo0);
                mul_hilo(c2[h], m1, &hi1, &lo1);
                c0[h] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[h]), k0);
                c2[h] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[h]), k1);
                c1[h] = lo1;
                c3[h] = lo0;
            }
            k0 = _mm256_add_epi32(k0, w0);
            k1 = _mm256_add_epi32(k1, w1);
        }
#pragma GCC unroll 4
        for (int h = 0; h < B; ++h) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + b + 8 * h), c0[h]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + stride + b + 8 * h), c1[h]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + 2 * stride + b + 8 * h), c2[h]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(words + 3 * stride + b + 8 * h), c3[h]);
        }
    };
    int64_t b = 0;
    for (; b + 16 <= count; b += 16) groups(std::integral_constant<int, 2>(), b);
    for (; b + 8 <= count; b += 8) groups(std::integral_constant<int, 1>(), b);
    philox::blocks_to_words(first, b, count, stream, key, words, stride);
}

static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale);

#include "random_kernels.inl"

// 32 elements a step: keep lanes are all-ones (a signed compare is exact, the values are below
// 2^24 and threshold - 1 >= -1), y = x * scale masked to +0, the lanes packed to 0/1 bytes.
static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale) {
    const __m256i limit = _mm256_set1_epi32(int32_t(threshold) - 1);
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i one = _mm256_set1_epi8(1);
    int64_t l = 0;
    for (; l + 32 <= len; l += 32) {
        __m256i keep[4];
        for (int j = 0; j < 4; ++j) {
            const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + l + 8 * j));
            keep[j] = _mm256_cmpgt_epi32(_mm256_srli_epi32(w, 8), limit);
            const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + l + 8 * j), vscale);
            _mm256_storeu_ps(y + l + 8 * j, _mm256_and_ps(v, _mm256_castsi256_ps(keep[j])));
        }
        const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(keep[0], keep[1]), _mm256_packs_epi32(keep[2], keep[3]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(mask + l),
                            _mm256_and_si256(_mm256_permutevar8x32_epi32(bytes, order), one));
    }
    apply_mask_scalar(words + l, x + l, y + l, mask + l, len - l, threshold, scale);
}

const RandomKernels& random_kernels() { return table; }

}  // namespace avx2
}  // namespace seqnet
