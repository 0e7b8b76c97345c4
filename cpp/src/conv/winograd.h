// Internal: Winograd F(m x m, 3 x 3) convolution (m = 2 or 4) for 3x3, stride-1, undilated
// kernels, NHWC, Keras kernel layout (3, 3, c, f). conv.cpp calls it when the algorithm choice
// (conv_algo.h) says so; the input gradient is winograd_forward on the transposed shape with the
// flipped kernel, as conv.cpp's im2col path does.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/conv.h"

namespace seqnet {

// out (n, oh, ow, f) = act(conv(x, w) + b); b may be null; act is Linear, Relu (fused into the
// output transform) or another elementwise activation (applied to each finished output row
// segment while it is in cache); never Softmax.
// With `pooled` (and `argmax`), 2x2 stride-2 max pooling of that output is written instead of
// the output itself (act Linear or Relu only): pooled (n, oh/2, ow/2, f), argmax its positions
// (oh * ow + ow in the output image), as max_pool_forward gives them; out is not written.
// With `unpool`, x is not read: its pixels are the max-pooled gradient's scatter (PooledGrad in
// seqnet/conv.h; pooled (n, h/2, w/2, c)), formed tile by tile as the input transform reads them
// (the input gradient of a convolution whose output was max-pooled).
void winograd_forward(const ConvShape& s, int m, const float* x, const float* w, const float* b, float* out,
                      Activation act, float* pooled = nullptr, int32_t* argmax = nullptr,
                      const PooledGrad* unpool = nullptr);

// dw (3, 3, c, f) and db (f, optional) from dy (n, oh, ow, f), first overwritten with dL/dz
// (activation_backward, from z and y) when act_bwd. Summed over fixed chunks of tiles, one partial
// per chunk, the partials added in chunk order: bit-identical for any number of threads.
// With `unpool` (and act_bwd false), dy is not read: dz is the max-pooled gradient's scatter, formed
// tile by tile as the gradient transform reads it.
void winograd_kernel_grad(const ConvShape& s, int m, const float* x, const float* z, const float* y, float* dy,
                          float* dw, float* db, Activation act, bool act_bwd, const PooledGrad* unpool = nullptr);

}  // namespace seqnet
