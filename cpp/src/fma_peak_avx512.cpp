// fma_peak_gflops' loop for the avx512 instruction set: 16 floats a vector (fma_peak_kernels.inl).
#include <immintrin.h>

#include "fma_peak_kernels.h"

namespace seqnet {
namespace avx512 {

struct FmaOps {
    using V = __m512;
    static constexpr int kLanes = 16;
    static V set1(float v) { return _mm512_set1_ps(v); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
};

#include "fma_peak_kernels.inl"

}  // namespace avx512
}  // namespace seqnet
