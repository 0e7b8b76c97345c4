// Elementwise kernels built for the generic instruction set; see elementwise.inl.
#include <omp.h>

#include <cmath>
#include <cstdint>

#include "elementwise_kernels.h"
#include "vecmath.h"

namespace seqnet {
namespace generic {

#include "elementwise.inl"

const ElementwiseKernels& elementwise_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
