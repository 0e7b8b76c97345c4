// Window pooling kernels built for the avx2 instruction set; see pool_kernels.inl.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pool_kernels.h"

namespace seqnet {
namespace avx2 {

#include "pool_kernels.inl"

const PoolKernels& pool_kernels() { return table; }

}  // namespace avx2
}  // namespace seqnet
