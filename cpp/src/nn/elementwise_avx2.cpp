// Elementwise kernels built for the avx2 instruction set; see elementwise.inl.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "elementwise_kernels.h"
#include "vecmath.h"

namespace seqnet {
namespace avx2 {

#include "elementwise.inl"

const ElementwiseKernels& elementwise_kernels() { return table; }

}  // namespace avx2
}  // namespace seqnet
