// Convolution by im2col + GEMM, channels_last (NHWC). A 1-D convolution is the 2-D one
// with H = 1 and a kernel height of 1.
#pragma once
#include <algorithm>
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

// The geometry of one convolution: input (n, h, w, c), kernel (kh, kw, c, f) (Keras'
// layout, read as a (kh*kw*c, f) matrix), output (n, oh, ow, f). Input row ih of output
// row oh and kernel row i is oh*sh - pad_top + i*dh (columns likewise); positions outside
// the input read as zero, so any oh/ow/pad is memory-safe.
struct ConvShape {
    int64_t n, h, w, c;          // input
    int64_t oh, ow, f;           // output
    int64_t kh, kw;              // kernel
    int64_t sh, sw;              // strides
    int64_t dh, dw;              // dilation
    int64_t pad_top, pad_left;   // padding before (TensorFlow's 'same' puts the extra after)
    int64_t patch() const { return kh * kw * c; }
    int64_t out_pixels() const { return oh * ow; }
    // True when the input already is the im2col matrix (a 1x1 kernel, stride 1, no padding).
    bool pointwise() const {
        return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pad_top == 0 && pad_left == 0 && oh == h && ow == w;
    }
};

// Rows [0, images*oh*ow) of col (row stride patch()) receive the patches of images
// [first, first+images) of x.
void im2col(const ConvShape& s, const float* x, int64_t first, int64_t images, float* col);

// Adds nothing: writes dx of images [first, first+images) from the column gradients dcol
// (the inverse scatter of im2col, done as a gather in a fixed order, so the result does
// not depend on the number of threads).
void col2im(const ConvShape& s, const float* dcol, int64_t first, int64_t images, float* dx);

// y = act(conv(x, w) + b). col is a workspace of col_rows x patch() floats, col_rows a
// multiple of oh*ow holding at least one image (unused, may be null, when pointwise()).
// z (optional) keeps the pre-activation (needed for softmax/sigmoid outputs, swish, gelu).
void conv_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                  float* col, int64_t col_rows, Activation act);

// dW and db are reduced over fixed blocks of about this many im2col rows (whole output rows),
// one partial per block (blocks in parallel), then summed in block order: parallel and
// independent of the thread count.
constexpr int64_t kConvDwBlockRows = 2048;
inline int64_t conv_dw_block_units(const ConvShape& s) {
    return std::max<int64_t>(1, kConvDwBlockRows / std::max<int64_t>(s.ow, 1));
}
// Floats of the partials workspace conv_backward needs: a dW and a db partial per block, and
// the flipped kernel. Depends on n, oh, ow, patch() and f only (col_rows is not used).
inline int64_t conv_dw_partials_size(const ConvShape& s, int64_t col_rows = 0) {
    (void)col_rows;
    const int64_t blocks = (s.n * s.oh + conv_dw_block_units(s) - 1) / conv_dw_block_units(s);
    return blocks * (s.patch() * s.f + s.f) + s.patch() * s.f;
}

// Given dy (n, oh, ow, f), overwritten with dL/dz unless dy_is_preactivation; writes
// dw (kh, kw, c, f), db (f, optional) and dx (n, h, w, c, optional). z is needed only when
// activation_backward_needs_input(act). col as in conv_forward; partials holds
// conv_dw_partials_size(s, col_rows) floats (unused, may be null, when pointwise()).
void conv_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                   float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                   Activation act, bool dy_is_preactivation);

}  // namespace seqnet
