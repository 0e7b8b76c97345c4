// Internal: the per-instruction-set table of elementwise kernels (see elementwise.inl).
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/cpu.h"

namespace seqnet {

struct ElementwiseKernels {
    void (*act_forward)(Activation, const float*, float*, int64_t, int64_t);
    void (*act_backward)(Activation, const float*, const float*, const float*, float*, int64_t, int64_t);
    void (*sgd)(float*, const float*, float*, int64_t, float, float, bool);
    void (*rmsprop)(float*, const float*, float*, float*, float*, int64_t, float, float, float, float);
    void (*rmsprop_rows)(float*, const float*, float*, int64_t, const int64_t*, const int64_t*, int64_t, float, float,
                         float);
    void (*adagrad)(float*, const float*, float*, int64_t, float, float);
    void (*adadelta)(float*, const float*, float*, float*, int64_t, float, float, float);
    void (*adam)(float*, const float*, float*, float*, float*, int64_t, float, float, float, float);
    void (*adamax)(float*, const float*, float*, float*, int64_t, float, float, float, float);
    void (*nadam)(float*, const float*, float*, float*, int64_t, float, float, float, float, float, float, float);
    void (*dropout_backward)(const float*, const uint8_t*, float*, int64_t, float);
};

namespace generic { const ElementwiseKernels& elementwise_kernels(); }
namespace avx2 { const ElementwiseKernels& elementwise_kernels(); }
namespace avx512 { const ElementwiseKernels& elementwise_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const ElementwiseKernels& elementwise_kernels();

}  // namespace seqnet
