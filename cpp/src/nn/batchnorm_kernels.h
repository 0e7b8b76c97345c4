// Internal: the per-instruction-set table of batch normalization passes (see batchnorm.inl)
// and the block split they share with batchnorm.cpp.
#pragma once
#include <cstdint>

#include "seqnet/batchnorm.h"

namespace seqnet {

// How a reduction over the batch is split: `count` blocks of `per_block` rows (inner == 1:
// rows of `channels` floats) or outer indices (inner > 1), about kBnBlockFloats floats each.
// A function of the shape only, never of the thread count.
struct BnBlocks {
    int64_t count, per_block;
};
constexpr int64_t kBnBlockFloats = 32768;
BnBlocks bn_blocks(const BatchNormShape& s);

struct BatchNormKernels {
    // p0[b * C + c] = sum over block b of (x - shift[c]); p1 the same of its square.
    void (*stat_partials)(const BatchNormShape&, const BnBlocks&, const float* x, const float* shift, float* p0,
                          float* p1);
    // p0[b * C + c] = sum over block b of dy; p1 the same of dy * (x - mean[c]). With relu_y,
    // dy is read as relu_y <= 0 ? 0 : dy (the gradient through a fused ReLU whose output it is).
    void (*grad_partials)(const BatchNormShape&, const BnBlocks&, const float* x, const float* dy, const float* mean,
                          float* p0, float* p1, const float* relu_y);
    // y = (x - center[c]) * scale[c] + offset[c], then (relu) y <= 0 ? 0 : y.
    void (*affine)(const BatchNormShape&, const float* x, const float* center, const float* scale,
                   const float* offset, float* y, bool relu);
    // dx = k1[c] * dy - k2[c] - k3[c] * (x - center[c]); k2 == k3 == null: dx = k1[c] * dy; dy
    // read through relu_y as in grad_partials.
    void (*input_grad)(const BatchNormShape&, const float* x, const float* dy, const float* center, const float* k1,
                       const float* k2, const float* k3, float* dx, const float* relu_y);
};

namespace generic { const BatchNormKernels& batchnorm_kernels(); }
namespace avx2 { const BatchNormKernels& batchnorm_kernels(); }
namespace avx512 { const BatchNormKernels& batchnorm_kernels(); }

}  // namespace seqnet
