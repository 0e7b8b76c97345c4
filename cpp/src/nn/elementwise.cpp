// Run-time dispatch of the elementwise kernels, and the public activation entry points.
#include "elementwise_kernels.h"

#include "seqnet/activation.h"
#include "seqnet/cpu.h"

namespace seqnet {

const ElementwiseKernels& elementwise_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::elementwise_kernels();
        case Isa::Avx2: return avx2::elementwise_kernels();
#endif
        default: return generic::elementwise_kernels();
    }
}

bool activation_backward_needs_input(Activation act) {
    return act == Activation::Swish || act == Activation::Gelu;
}

void activation_forward(Activation act, const float* x, float* y, int64_t rows, int64_t cols) {
    elementwise_kernels().act_forward(act, x, y, rows, cols);
}

void activation_backward(Activation act, const float* x, const float* y, const float* dy, float* dx,
                         int64_t rows, int64_t cols) {
    elementwise_kernels().act_backward(act, x, y, dy, dx, rows, cols);
}

}  // namespace seqnet
