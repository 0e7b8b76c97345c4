// Philox kernels built for the avx2 instruction set: 8 blocks per vector, the 32x32->64-bit
// products of a round from two vpmuludq (even and odd lanes); see random_kernels.inl.
#include <immintrin.h>
#include <omp.h>

#include <cstdint>

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

// The vector operations of philox::vector_blocks.
struct PhiloxOps {
    using V = __m256i;
    static constexpr int kLanes = 8;
    static V set1(uint32_t v) { return _mm256_set1_epi32(int32_t(v)); }
    static V add(V a, V b) { return _mm256_add_epi32(a, b); }
    static void store(uint32_t* p, V v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
    // Low words pos + lane; the high word carries where the low one wrapped (an unsigned
    // compare as a signed one on sign-flipped values; the mask is -1 there, so subtract it).
    static void counters(uint64_t pos, V& c0, V& c1) {
        const V base_lo = set1(uint32_t(pos)), sign = set1(0x80000000u);
        c0 = add(base_lo, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const V wrapped = _mm256_cmpgt_epi32(_mm256_xor_si256(base_lo, sign), _mm256_xor_si256(c0, sign));
        c1 = _mm256_sub_epi32(set1(uint32_t(pos >> 32)), wrapped);
    }
    static void round(V& c0, V& c1, V& c2, V& c3, V k0, V k1) {
        V hi0, lo0, hi1, lo1;
        mul_hilo(c0, set1(0xD2511F53u), &hi0, &lo0);
        mul_hilo(c2, set1(0xCD9E8D57u), &hi1, &lo1);
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), k0);
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), k1);
        c1 = lo1;
        c3 = lo0;
    }
};

static void philox_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride) {
    philox::vector_blocks<PhiloxOps>(first, count, stream, key, words, stride);
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
