// Pooling over channels_last (NHWC) tensors. 1-D pooling is 2-D with h = 1, ph = 1.
#pragma once
#include <cstdint>

namespace seqnet {

// Input (n, h, w, c), window (ph, pw), strides (sh, sw), output (n, oh, ow, c). Window
// row oh covers input rows [oh*sh - pad_top, +ph) clipped to the input: padded positions
// are ignored (TensorFlow's rule: max over, and average over, the valid elements only).
struct PoolShape {
    int64_t n, h, w, c;
    int64_t oh, ow;
    int64_t ph, pw;
    int64_t sh, sw;
    int64_t pad_top, pad_left;
};

// y = max over each window; argmax (n, oh, ow, c) receives the winning position within
// its image (ih * w + iw); ties go to the first in row-major window order. A window with
// no valid element gives 0 and argmax -1.
void max_pool_forward(const PoolShape& s, const float* x, float* y, int32_t* argmax);
// dx (n, h, w, c) = the scatter of dy to the argmax positions.
// gate (optional, shaped as dy): the forward's output when the pooled input was the output
// of a ReLU; a window's gradient then reaches its argmax only where the gate is not <= 0
// (greater, or NaN), which is the ReLU's derivative there, so dx is the gradient before
// that ReLU (the bits of this backward followed by the ReLU's).
void max_pool_backward(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx,
                       const float* gate = nullptr);

// y = mean over the valid elements of each window.
void avg_pool_forward(const PoolShape& s, const float* x, float* y);
void avg_pool_backward(const PoolShape& s, const float* dy, float* dx);

// Global pooling over the l positions of x (n, l, c) -> y (n, c).
void global_avg_pool_forward(const float* x, float* y, int64_t n, int64_t l, int64_t c);
void global_avg_pool_backward(const float* dy, float* dx, int64_t n, int64_t l, int64_t c);
// argmax (n, c) receives the first position of the maximum.
void global_max_pool_forward(const float* x, float* y, int32_t* argmax, int64_t n, int64_t l, int64_t c);
void global_max_pool_backward(const float* dy, const int32_t* argmax, float* dx, int64_t n, int64_t l, int64_t c);

}  // namespace seqnet
