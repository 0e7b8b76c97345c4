// Batch normalization passes built for the generic instruction set; see batchnorm.inl.
#include <omp.h>

#include <cstdint>

#include "batchnorm_kernels.h"

namespace seqnet {
namespace generic {

#include "batchnorm.inl"

const BatchNormKernels& batchnorm_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
