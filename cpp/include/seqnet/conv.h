// Convolution by im2col + GEMM, channels_last (NHWC), or by Winograd F(2x2,3x3) / F(4x4,3x3)
// for 3x3, stride-1, undilated kernels (chosen per layer shape and pass, see ConvAlgo). A 1-D
// convolution is the 2-D one with H = 1 and a kernel height of 1.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

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
// With `pooled` (and `pooled_argmax`): also the 2x2, stride-2 max pooling of y, as
// max_pool_forward gives it, (n, oh/2, ow/2, f) and its argmax; y's own contents are then
// unspecified (a Winograd convolution pools its output tiles as it finishes them and never
// writes y). For MaxPooling2D() after the convolution, when nothing else reads y.
void conv_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                  float* col, int64_t col_rows, Activation act, float* pooled = nullptr,
                  int32_t* pooled_argmax = nullptr);

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

// Given dy (n, oh, ow, f), overwritten with dL/dz unless dy_is_preactivation (or, with dx null,
// maybe left as it was: the direct path then forms dz chunk by chunk in scratch); writes
// dw (kh, kw, c, f), db (f, optional) and dx (n, h, w, c, optional). z is needed only when
// activation_backward_needs_input(act). col as in conv_forward; partials holds
// conv_dw_partials_size(s, col_rows) floats (unused, may be null, when pointwise()).
//
// pooled (optional): dz arrives as the gradient of a 2x2, stride-2 max pooling of this layer's
// output (MaxPooling2D() after it): dy, argmax and gate (n, oh/2, ow/2, f) as max_pool_backward
// takes them, which scatters them into dz. A Winograd convolution then reads them where it
// would read dz, in both passes, and never writes dz (nor reads `dy`); any other algorithm
// scatters them into `dy` first (which must then hold n*oh*ow*f floats) and runs as before.
// Either way the results have the bits of max_pool_backward followed by conv_backward. Only
// with dy_is_preactivation or a linear activation.
struct PooledGrad {
    const float* dy;
    const int32_t* argmax;
    const float* gate;  // may be null
};
void conv_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                   float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                   Activation act, bool dy_is_preactivation, const PooledGrad* pooled = nullptr);

// ---- Algorithm choice -------------------------------------------------------------------
// A 3x3, stride-1, undilated convolution (winograd_applicable) may run each pass (forward,
// input gradient, kernel gradient) by im2col + GEMM, by the direct path (the GEMM microkernel
// reading the input rows in place: no im2col matrix; best for few channels) or by Winograd
// F(2x2,3x3) / F(4x4,3x3), which need 2.25x / 4x fewer multiplications at a slightly larger
// rounding error (F(4x4): about 1e-6 relative, 10x im2col's). ConvAlgo::Auto (the default) is a
// fixed rule drawn from per-layer measurements (conv_algo_rule): the same algorithm on every run,
// thread count and machine. ConvAlgo::Tune times the candidates at the first call of each shape
// and pass instead (the fastest of 3 runs each) and keeps the fastest for the rest of the process;
// a candidate must beat the ones before it (im2col, direct, F(2x2), F(4x4), F(6x6)) by 10%, so near-ties
// keep the more accurate algorithm. Small problems (under 2^22 multiply-adds) use im2col. Each
// algorithm is bit-identical for any number of threads; with Tune the choice, and with it the
// rounding, may differ between machines or processes.
// Winograd6 is F(6x6, 3x3): 5.06x fewer multiplications than the direct count, at about twice
// F(4x4)'s rounding error; chosen only when forced or measured (Tune), not by Auto's rule.
enum class ConvAlgo : int { Auto = 0, Im2col = 1, Winograd2 = 2, Winograd4 = 3, Direct = 4, Tune = 5, Winograd6 = 6 };
// Whether `a` is one of the Winograd algorithms.
inline bool is_winograd(ConvAlgo a) {
    return a == ConvAlgo::Winograd2 || a == ConvAlgo::Winograd4 || a == ConvAlgo::Winograd6;
}
enum class ConvPass : int { Forward = 0, InputGrad = 1, KernelGrad = 2 };

// True for the shapes Winograd serves: a 3x3 kernel, stride 1, dilation 1, non-empty.
bool winograd_applicable(const ConvShape& s);

// What Auto runs for this shape: im2col where Winograd does not apply or the problem is small,
// the direct path for fewer than 8 input channels, F(4x4) on maps of at least 6x6 outputs,
// F(2x2) on smaller ones.
ConvAlgo conv_algo_rule(const ConvShape& s);

// The setting: SEQNET_CONV_ALGO ("auto", "tune", "im2col", "direct", "winograd" (= "winograd4"),
// "winograd2", "winograd4", "winograd6"), read at first use, unless set_conv_algo changed it. A forced
// algorithm applies where winograd_applicable (direct: where its microkernel fits the filters);
// other shapes run im2col.
ConvAlgo conv_algo();
// Sets it (returns the previous one); does not forget the measured choices.
ConvAlgo set_conv_algo(ConvAlgo algo);
const char* conv_algo_name(ConvAlgo algo);
// False when `name` is none of the names above.
bool conv_algo_from_name(const char* name, ConvAlgo* algo);

// One measured choice: the shape, the pass, the threads it was measured with, the algorithm kept and the
// measured seconds of each candidate (index ConvAlgo; 0 when not measured).
struct ConvAlgoChoice {
    ConvShape shape;
    ConvPass pass;
    int threads;
    ConvAlgo algo;
    double seconds[7];
};
std::vector<ConvAlgoChoice> conv_algo_choices();
void clear_conv_algo_choices();

}  // namespace seqnet
