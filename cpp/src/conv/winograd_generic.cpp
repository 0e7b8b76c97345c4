// Winograd transforms built for the generic instruction set; see winograd_kernels.inl.
#include <cstdint>

#include "winograd_kernels.h"

namespace seqnet {
namespace generic {

// Floats in one vector register of this instruction set.
#define SEQNET_WG_VL 4
#include "winograd_kernels.inl"
#undef SEQNET_WG_VL

const WinogradKernels& winograd_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
