// Transposed convolution (Keras' Conv2DTranspose), channels_last: the input gradient of a
// convolution, run forward. Forward is a GEMM (x Wᵀ, the column gradients) and col2im; backward
// is a convolution of dz with the same kernel (dx) and that convolution's weight gradient (dW).
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/conv.h"

namespace seqnet {

// s describes the convolution whose input gradient this layer computes: the layer's output
// (n, s.h, s.w, s.c) is that convolution's input and the layer's input (n, s.oh, s.ow, s.f) its
// output; the kernel (kh, kw, s.c, s.f) is Keras' Conv2DTranspose layout (kh, kw, filters,
// in_channels), the same memory as the convolution's kernel.

// y = act(conv_transposed(x, w) + b). col is a workspace of col_rows x patch() floats, col_rows a
// multiple of oh*ow (the input's pixels) holding at least one image (unused, may be null, when
// s.pointwise()). b (s.c floats) may be null; z (optional) keeps the pre-activation.
void conv_transpose_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                            float* col, int64_t col_rows, Activation act);

// out (rows x cols) += b, row by row: the bias of a transposed convolution, which cannot ride in
// the GEMM's epilogue because col2im (or the 3-D fold) runs after it.
void add_bias_rows(float* out, const float* b, int64_t rows, int64_t cols);

// Floats of the partials workspace conv_transpose_backward needs (0 when s.pointwise()).
inline int64_t conv_transpose_partials_size(const ConvShape& s) {
    return s.pointwise() ? 0 : conv_dw_partials_size(s);
}

// Given dy (n, s.h, s.w, s.c), overwritten with dL/dz unless dy_is_preactivation; writes
// dw (kh, kw, s.c, s.f), db (s.c, optional) and dx (n, s.oh, s.ow, s.f, optional). z is needed
// only when activation_backward_needs_input(act), y only when act is not linear. col as in
// conv_transpose_forward; partials holds conv_transpose_partials_size(s) floats.
void conv_transpose_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                             float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                             Activation act, bool dy_is_preactivation);

}  // namespace seqnet
