// Run-time dispatch of the elementwise kernels, and the public activation entry points.
#include "elementwise_kernels.h"

#include <omp.h>

#include <algorithm>

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

void add_activation_forward(Activation act, const float* const* xs, int64_t count, float* z, float* y, int64_t n) {
    // Chunks small enough that their sum stays in L1 between the additions and the activation:
    // one pass over memory where an Add then an Activation layer made two.
    constexpr int64_t kChunk = 2048;
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    const ElementwiseKernels& k = elementwise_kernels();
#pragma omp parallel for schedule(static) if (n >= (int64_t(1) << 16) && !omp_in_parallel())
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t s = c * kChunk, len = std::min(kChunk, n - s);
        alignas(64) float tmp[kChunk];
        float* sum = z ? z + s : tmp;
        const float *a = xs[0] + s, *b = xs[1] + s;
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) sum[j] = a[j] + b[j];
        for (int64_t q = 2; q < count; ++q) {
            const float* x = xs[q] + s;
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) sum[j] += x[j];
        }
        k.act_forward(act, sum, y + s, 1, len);
    }
}

}  // namespace seqnet
