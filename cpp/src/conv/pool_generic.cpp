// Window pooling kernels built for the generic instruction set; see pool_kernels.inl.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pool_kernels.h"

namespace seqnet {
namespace generic {

#include "pool_kernels.inl"

const PoolKernels& pool_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
