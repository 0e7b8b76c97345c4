// Depthwise convolution, channels_last (NHWC): input channel ci is convolved with its own
// depth_multiplier kernels, giving output channels ci*dm .. ci*dm+dm-1 (Keras' order). A direct
// kernel vectorised over channels (one build per instruction set), not im2col + GEMM: each
// output reads only kh*kw inputs of its own channel, too little work to feed a GEMM.
#pragma once
#include <algorithm>
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

// The geometry: input (n, h, w, c), kernel (kh, kw, c, dm) (Keras' depthwise_kernel layout, read
// as (kh*kw, c*dm)), output (n, oh, ow, c*dm). Input row of output row oh and kernel row i is
// oh*sh - pad_top + i*dh (columns likewise); positions outside the input read as zero, so any
// oh/ow/pad is memory-safe.
struct DepthwiseShape {
    int64_t n, h, w, c;          // input
    int64_t oh, ow, dm;          // output rows, columns; channels per input channel
    int64_t kh, kw;              // kernel
    int64_t sh, sw;              // strides
    int64_t dh, dw;              // dilation
    int64_t pad_top, pad_left;   // padding before (TensorFlow's 'same' puts the extra after)
    int64_t out_channels() const { return c * dm; }
    int64_t taps() const { return kh * kw; }
};

// With dm > 1 the kernels run on the input with each channel repeated dm times (a depthwise
// convolution with multiplier 1, every load contiguous), kept in a workspace of this many floats
// (none for dm == 1); backward also sums dx's repeated channels back there.
inline int64_t depthwise_expanded_size(const DepthwiseShape& s) {
    return s.dm == 1 ? 0 : s.n * s.h * s.w * s.c * s.dm;
}

// y = act(depthwise(x, w) + b). b (c*dm floats) may be null. z (optional) keeps the
// pre-activation (softmax/sigmoid outputs, swish, gelu). expanded holds
// depthwise_expanded_size(s) floats (null when dm == 1).
void depthwise_forward(const DepthwiseShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                       float* expanded, Activation act);

// dW and db are reduced over fixed blocks of about this many output pixels (whole output rows),
// one partial per block (blocks in parallel), then summed in block order: independent of the
// number of threads.
constexpr int64_t kDepthwiseDwBlockPixels = 2048;
inline int64_t depthwise_dw_block_rows(const DepthwiseShape& s) {
    return std::max<int64_t>(1, kDepthwiseDwBlockPixels / std::max<int64_t>(s.ow, 1));
}
// Floats of the partials workspace depthwise_backward needs: a dW and a db partial per block,
// and room for the flipped kernel (dx of a stride-1 depthwise convolution is one, see below).
inline int64_t depthwise_dw_partials_size(const DepthwiseShape& s) {
    const int64_t rows = depthwise_dw_block_rows(s);
    const int64_t blocks = (s.n * s.oh + rows - 1) / rows;
    return blocks * (s.taps() + 1) * s.out_channels() + s.taps() * s.out_channels();
}

// Given dy (n, oh, ow, c*dm), overwritten with dL/dz unless dy_is_preactivation; writes
// dw (kh, kw, c, dm), db (c*dm, optional) and dx (n, h, w, c, optional). z is needed only when
// activation_backward_needs_input(act); y only when act is not linear. partials holds
// depthwise_dw_partials_size(s) floats, expanded depthwise_expanded_size(s).
void depthwise_backward(const DepthwiseShape& s, const float* x, const float* w, const float* z, const float* y,
                        float* dy, float* dx, float* dw, float* db, float* partials, float* expanded, Activation act,
                        bool dy_is_preactivation);

}  // namespace seqnet
