// fma_peak_gflops' loop for the avx2 instruction set: 8 floats a vector (fma_peak.cpp).
#include <immintrin.h>

#include "fma_peak_kernels.h"

namespace seqnet {
namespace avx2 {

double fma_chains(int64_t iters) {
    // Distinct starting values, so that the compiler cannot merge the chains; x slightly above
    // 1 and y tiny keep every value normal (no assists) for any count.
    __m256 acc[kFmaChains];
    for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_set1_ps(float(c));
    const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; ++it)
        for (int c = 0; c < kFmaChains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], x, y);
    __m256 sum = acc[0];
    for (int c = 1; c < kFmaChains; ++c) sum = _mm256_add_ps(sum, acc[c]);
    alignas(64) float out[8];
    _mm256_storeu_ps(out, sum);
    volatile float sink = out[0];  // the chains' results are used
    (void)sink;
    return 2.0 * 8 * kFmaChains * double(iters);
}

}  // namespace avx2
}  // namespace seqnet
