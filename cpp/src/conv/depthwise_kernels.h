// Internal: the per-instruction-set table of depthwise convolution kernels (depthwise_kernels.inl,
// compiled by depthwise_{generic,avx2,avx512}.cpp); depthwise.cpp splits the work over threads.
#pragma once
#include <cstdint>

#include "seqnet/depthwise.h"

namespace seqnet {

// Every entry takes a shape with dm == 1 (depthwise.cpp expands a larger multiplier).
struct DepthwiseKernels {
    // Output row r of the batch (image r / oh, row r % oh): out (ow x c) = bias + taps.
    void (*forward_row)(const DepthwiseShape& s, const float* x, const float* w, const float* b, int64_t r,
                        float* out);
    // Input row r of the batch (image r / h, row r % h) of dx (w x c), written (not added).
    void (*dx_row)(const DepthwiseShape& s, const float* dz, const float* w, int64_t r, float* out);
    // Adds the kernel gradient of output rows [r0, r1) into pw (kh*kw x c), their column sums
    // into pb (c, may be null).
    void (*dw_rows)(const DepthwiseShape& s, const float* x, const float* dz, int64_t r0, int64_t r1, float* pw,
                    float* pb);
};

namespace generic { const DepthwiseKernels& depthwise_kernels(); }
namespace avx2 { const DepthwiseKernels& depthwise_kernels(); }
namespace avx512 { const DepthwiseKernels& depthwise_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const DepthwiseKernels& depthwise_kernels();

}  // namespace seqnet
