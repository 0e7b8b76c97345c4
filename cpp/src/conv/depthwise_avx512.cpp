// Depthwise convolution kernels built for the avx512 instruction set; see depthwise_kernels.inl.
#include <cstdint>
#include <cstring>

#include "depthwise_kernels.h"

namespace seqnet {
namespace avx512 {

// Floats in one vector register of this instruction set.
#define SEQNET_DW_VL 16
#include "depthwise_kernels.inl"
#undef SEQNET_DW_VL

const DepthwiseKernels& depthwise_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
