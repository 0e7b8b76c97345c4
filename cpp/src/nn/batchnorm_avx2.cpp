// Batch normalization passes built for the avx2 instruction set; see batchnorm.inl.
#include <omp.h>

#include <cstdint>

#include "batchnorm_kernels.h"

namespace seqnet {
namespace avx2 {

#include "batchnorm.inl"

const BatchNormKernels& batchnorm_kernels() { return table; }

}  // namespace avx2
}  // namespace seqnet
