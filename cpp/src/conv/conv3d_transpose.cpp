// Transposed 3-D convolution on the kernels of the 3-D convolution it transposes: the kernel
// reordered to the plane convolution's (kh, kw, kd*c, f), the 2-D transposed convolution of that
// plane (GEMM + col2im forward; convolution and its weight gradient backward), and the depth fold
// (forward) or unfold (backward) around it. When the plane is the output itself (kd = 1, depth
// stride 1, no depth padding) the bias and activation stay fused in the 2-D kernels. Every piece
// splits only independent outputs over threads, so the results are bit-identical for any number
// of threads.
#include "seqnet/conv3d_transpose.h"

#include "seqnet/conv_transpose.h"
#include "seqnet/dense.h"

namespace seqnet {

void conv3d_transpose_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* z,
                              float* y, float* unfold, float* kbuf, float* col, int64_t col_rows, Activation act) {
    const ConvShape p = s.plane();
    const float* wp = w;
    if (s.kd > 1) {
        conv3d_reorder_kernel(s, w, kbuf, false);
        wp = kbuf;
    }
    if (!s.unfolds()) {
        conv_transpose_forward(p, x, wp, b, z, y, col, col_rows, act);
        return;
    }
    conv_transpose_forward(p, x, wp, nullptr, nullptr, unfold, col, col_rows, Activation::Linear);
    float* out = z ? z : y;
    const int64_t rows = s.n * s.d * s.h * s.w;
    fold_depth(s, unfold, out);
    if (b) add_bias_rows(out, b, rows, s.c);
    if (z) activation_forward(act, z, y, rows, s.c);
    else if (act != Activation::Linear) activation_forward(act, y, y, rows, s.c);
}

int64_t conv3d_transpose_partials_size(const Conv3dShape& s) { return conv_transpose_partials_size(s.plane()); }

void conv3d_transpose_backward(const Conv3dShape& s, const float* x, const float* w, const float* z, const float* y,
                               float* dy, float* dx, float* dw, float* db, float* unfold, float* kbuf, float* col,
                               int64_t col_rows, float* partials, Activation act, bool dy_is_preactivation) {
    const ConvShape p = s.plane();
    const float* wp = w;
    float* dwp = dw;
    if (s.kd > 1) {
        conv3d_reorder_kernel(s, w, kbuf, false);
        wp = kbuf;
        dwp = kbuf + s.patch() * s.f;
    }
    if (!s.unfolds()) {
        conv_transpose_backward(p, x, wp, z, y, dy, dx, dwp, db, col, col_rows, partials, act, dy_is_preactivation);
    } else {
        const int64_t rows = s.n * s.d * s.h * s.w;
        if (!dy_is_preactivation && act != Activation::Linear) activation_backward(act, z, y, dy, dy, rows, s.c);
        if (db) column_sums(dy, s.c, db, rows, s.c);
        unfold_depth(s, dy, unfold);  // the plane's output gradient
        conv_transpose_backward(p, x, wp, nullptr, nullptr, unfold, dx, dwp, nullptr, col, col_rows, partials,
                                Activation::Linear, true);
    }
    if (s.kd > 1) conv3d_reorder_kernel(s, dwp, dw, true);
}

}  // namespace seqnet
