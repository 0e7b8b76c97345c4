// fma_peak_gflops' loop for the avx512 instruction set: 16 floats a vector (fma_peak.cpp).
#include <immintrin.h>

#include "fma_peak_kernels.h"

namespace seqnet {
namespace avx512 {

double fma_chains(int64_t iters) {
    // Distinct starting values, so that the compiler cannot merge the chains; x slightly above
    // 1 and y tiny keep every value normal (no assists) for any count.
    __m512 acc[kFmaChains];
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_set1_ps(float(c));
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; ++it)
        for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm512_fmadd_ps(acc[c], x, y);
    __m512 sum = acc[0];
    for (int c = 1; c < kFmaChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
    alignas(64) float out[16];
    _mm512_storeu_ps(out, sum);
    volatile float sink = out[0];  // the chains' results are used
    (void)sink;
    return 2.0 * 16 * kFmaChains * double(iters);
}

}  // namespace avx512
}  // namespace seqnet
