// Batch normalization passes built for the avx512 instruction set; see batchnorm.inl.
#include <omp.h>

#include <cstdint>

#include "batchnorm_kernels.h"

namespace seqnet {
namespace avx512 {

#include "batchnorm.inl"

const BatchNormKernels& batchnorm_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
