// Philox kernels built for the avx512 instruction set: 16 blocks per vector, the 32x32->64-bit
// products of a round from two vpmuludq (even and odd lanes); see random_kernels.inl.
#include <immintrin.h>
#include <omp.h>

#include <cstdint>

#include "nn/philox.h"
#include "random_kernels.h"

namespace seqnet {
namespace avx512 {

// High and low 32 bits of m * c in every lane. vpmuludq multiplies the even lanes into 64-bit
// products; the odd lanes are moved down by a shuffle, and the halves of both products sorted
// into place by two merge-masked shuffles: 2 multiplies and 3 shuffles (the shuffle port),
// where shifts and blends took 2 + 5 uops, most of them on the multiplier's port (the dropout
// forward on 2.36M floats: see random_kernels.inl). (maskz forms with every lane set are the
// plain instructions without GCC 12's false may-be-uninitialized warning.)
static inline void mul_hilo(__m512i c, __m512i m, __m512i* hi, __m512i* lo) {
    const __m512i even = _mm512_maskz_mul_epu32(0xFF, c, m);
    const __m512i odd = _mm512_maskz_mul_epu32(0xFF, _mm512_maskz_shuffle_epi32(0xFFFF, c, _MM_PERM_DDBB), m);
    // even lanes: the high halves of the even products (lane + 1); odd lanes: odd's own
    *hi = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_DDBB);
    // odd lanes: the low halves of the odd products (lane - 1); even lanes: even's own
    *lo = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CCAA);
}

// The vector operations of philox::vector_blocks.
struct PhiloxOps {
    using V = __m512i;
    static constexpr int kLanes = 16;
    static V set1(uint32_t v) { return _mm512_set1_epi32(int32_t(v)); }
    static V add(V a, V b) { return _mm512_add_epi32(a, b); }
    static void store(uint32_t* p, V v) { _mm512_storeu_si512(p, v); }
    // Low words pos + lane; the high word carries where the low one wrapped.
    static void counters(uint64_t pos, V& c0, V& c1) {
        const V base_lo = set1(uint32_t(pos)), base_hi = set1(uint32_t(pos >> 32));
        c0 = add(base_lo, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        c1 = _mm512_mask_add_epi32(base_hi, _mm512_cmplt_epu32_mask(c0, base_lo), base_hi, set1(1));
    }
    static void round(V& c0, V& c1, V& c2, V& c3, V k0, V k1) {
        V hi0, lo0, hi1, lo1;
        mul_hilo(c0, set1(0xD2511F53u), &hi0, &lo0);
        mul_hilo(c2, set1(0xCD9E8D57u), &hi1, &lo1);
        c0 = _mm512_ternarylogic_epi32(hi1, c1, k0, 0x96);  // three-way xor
        c2 = _mm512_ternarylogic_epi32(hi0, c3, k1, 0x96);
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
