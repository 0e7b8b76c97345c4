// Transposed 3-D convolution (Keras' Conv3DTranspose), channels_last: the input gradient of the
// 3-D convolution of conv3d.h, run forward. As that convolution is a 2-D one over the input
// unfolded along depth (Conv3dShape::plane()), its transpose is the 2-D transposed convolution
// (conv_transpose.h) over the plane, whose output, the unfolded gradient, fold_depth sums back
// into depth slices; backward unfolds dz the same way and runs conv_transpose_backward.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/conv3d.h"

namespace seqnet {

// s describes the convolution whose input gradient this layer computes: the layer's output
// (n, s.d, s.h, s.w, s.c) is that convolution's input and the layer's input (n, s.od, s.oh, s.ow,
// s.f) its output; the kernel (kd, kh, kw, s.c, s.f) is Keras' Conv3DTranspose layout (kd, kh,
// kw, filters, in_channels), the same memory as the convolution's kernel.

// y = act(conv3d_transposed(x, w) + b). unfold holds s.unfold_size() floats (the unfolded
// output, scratch), kbuf s.kernel_buffer_size(); col is a workspace of col_rows x
// s.plane().patch() floats, col_rows a multiple of oh*ow (unused, may be null, when
// s.plane().pointwise()). b (s.c floats) may be null; z (optional) keeps the pre-activation.
void conv3d_transpose_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* z,
                              float* y, float* unfold, float* kbuf, float* col, int64_t col_rows, Activation act);

// Floats of the partials workspace conv3d_transpose_backward needs.
int64_t conv3d_transpose_partials_size(const Conv3dShape& s);

// Given dy (n, s.d, s.h, s.w, s.c), overwritten with dL/dz unless dy_is_preactivation; writes
// dw (kd, kh, kw, s.c, s.f), db (s.c, optional) and dx (n, s.od, s.oh, s.ow, s.f, optional). z
// is needed only when activation_backward_needs_input(act), y only when act is not linear.
// unfold, kbuf and col as in conv3d_transpose_forward (scratch: nothing of the forward is read
// back); partials holds conv3d_transpose_partials_size(s) floats.
void conv3d_transpose_backward(const Conv3dShape& s, const float* x, const float* w, const float* z, const float* y,
                               float* dy, float* dx, float* dw, float* db, float* unfold, float* kbuf, float* col,
                               int64_t col_rows, float* partials, Activation act, bool dy_is_preactivation);

}  // namespace seqnet
