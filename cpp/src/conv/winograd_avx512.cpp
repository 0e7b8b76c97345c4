// Winograd transforms built for the avx512 instruction set; see winograd_kernels.inl.
#include <cstdint>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // the streaming stores of winograd_kernels.inl
#endif

#include "winograd_kernels.h"

namespace seqnet {
namespace avx512 {

// Floats in one vector register of this instruction set.
#define SEQNET_WG_VL 16
#include "winograd_kernels.inl"
#undef SEQNET_WG_VL

const WinogradKernels& winograd_kernels() { return table; }

}  // namespace avx512
}  // namespace seqnet
