// fma_peak_gflops' loop for the avx2 instruction set: 8 floats a vector (fma_peak_kernels.inl).
#include <immintrin.h>

#include "fma_peak_kernels.h"

namespace seqnet {
namespace avx2 {

struct FmaOps {
    using V = __m256;
    static constexpr int kLanes = 8;
    static V set1(float v) { return _mm256_set1_ps(v); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
};

#include "fma_peak_kernels.inl"

}  // namespace avx2
}  // namespace seqnet
