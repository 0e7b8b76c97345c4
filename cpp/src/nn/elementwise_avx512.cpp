// Elementwise kernels built for the avx512 instruction set; see elementwise.inl.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "elementwise_kernels.h"
#include "vecmath.h"

namespace seqnet {
namespace avx512 {

#include "elementwise.inl"

const ElementwiseKernels& elementwise_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
