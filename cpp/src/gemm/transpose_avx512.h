// A 16 x 16 transpose of 32-bit elements in zmm registers, for the files compiled for
// AVX-512 (the packing of the AVX-512 and AMX GEMM paths).
#pragma once
#include <immintrin.h>

namespace seqnet {
namespace gemm {

// r[i] = row i, transposed in place: 32-bit, then 64-bit interleaves within 128-bit lanes
// (after which r[4i + c] holds, in lane L, column 4L + c of rows 4i..4i+3), then a 4 x 4
// transpose of the 128-bit lanes in two rounds. 64 shuffles for 256 elements.
//
// The zero-masked forms with every lane set are the plain instructions, without GCC 12's false
// "may be used uninitialized" warning on the unmasked intrinsics' undefined pass-through operand.
inline __attribute__((always_inline)) void transpose16(__m512i (&r)[16]) {
    const auto unpacklo_epi32 = [](__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi32(0xFFFF, a, b); };
    const auto unpackhi_epi32 = [](__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi32(0xFFFF, a, b); };
    const auto unpacklo_epi64 = [](__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi64(0xFF, a, b); };
    const auto unpackhi_epi64 = [](__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi64(0xFF, a, b); };
#define SEQNET_SHUFFLE_I32X4(a, b, imm) _mm512_maskz_shuffle_i32x4(0xFFFF, a, b, imm)
    __m512i t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 16; i += 2) {
        t[i] = unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = unpackhi_epi32(r[i], r[i + 1]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 16; i += 4) {
        r[i] = unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = unpackhi_epi64(t[i + 1], t[i + 3]);
    }
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
        const __m512i a = SEQNET_SHUFFLE_I32X4(r[i], r[i + 4], 0x88), b = SEQNET_SHUFFLE_I32X4(r[i], r[i + 4], 0xDD);
        const __m512i c = SEQNET_SHUFFLE_I32X4(r[i + 8], r[i + 12], 0x88);
        const __m512i d = SEQNET_SHUFFLE_I32X4(r[i + 8], r[i + 12], 0xDD);
        t[i] = SEQNET_SHUFFLE_I32X4(a, c, 0x88);
        t[i + 8] = SEQNET_SHUFFLE_I32X4(a, c, 0xDD);
        t[i + 4] = SEQNET_SHUFFLE_I32X4(b, d, 0x88);
        t[i + 12] = SEQNET_SHUFFLE_I32X4(b, d, 0xDD);
    }
#undef SEQNET_SHUFFLE_I32X4
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) r[i] = t[i];
}

}  // namespace gemm
}  // namespace seqnet
