// Window pooling kernels built for the avx512 instruction set; see pool_kernels.inl.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pool_kernels.h"

namespace seqnet {
namespace avx512 {

#include "pool_kernels.inl"

const PoolKernels& pool_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
