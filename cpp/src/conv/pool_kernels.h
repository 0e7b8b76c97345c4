// Internal: the per-instruction-set table of window pooling kernels (see pool_kernels.inl).
#pragma once
#include <cstdint>

#include "seqnet/pool.h"

namespace seqnet {

struct PoolKernels {
    void (*max_forward)(const PoolShape&, const float*, float*, int32_t*);
    void (*max_backward)(const PoolShape&, const float*, const int32_t*, float*, const float*);
    void (*avg_forward)(const PoolShape&, const float*, float*);
    void (*avg_backward)(const PoolShape&, const float*, float*);
};

namespace generic { const PoolKernels& pool_kernels(); }
namespace avx2 { const PoolKernels& pool_kernels(); }
namespace avx512 { const PoolKernels& pool_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const PoolKernels& pool_kernels();

}  // namespace seqnet
