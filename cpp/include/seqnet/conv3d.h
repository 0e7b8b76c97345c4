// 3-D convolution, channels_last (NDHWC), lowered onto the 2-D convolution of conv.h: the
// input is unfolded along depth (the kd depth taps of each output slice become channels, a
// vol2col over one axis), and the 2-D kernels (L2-blocked im2col + GEMM with the fused bias
// and activation, blocked weight gradients, dx by the flipped kernel or col2im) do the rest.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/conv.h"

namespace seqnet {

// Input (n, d, h, w, c), kernel (kd, kh, kw, c, f) (Keras' layout), output (n, od, oh, ow, f).
// Input slice id of output slice od and depth tap a is od*sd - pad_front + a*dd (rows and
// columns as in ConvShape); positions outside the input read as zero.
struct Conv3dShape {
    int64_t n, d, h, w, c;
    int64_t od, oh, ow, f;
    int64_t kd, kh, kw;
    int64_t sd, sh, sw;
    int64_t dd, dh, dw;
    int64_t pad_front, pad_top, pad_left;

    int64_t patch() const { return kd * kh * kw * c; }
    // False when every output slice reads exactly its own input slice (kd = 1, sd = 1, no
    // depth padding): the input is then already the unfolded one, (n*d, h, w, c).
    bool unfolds() const { return !(kd == 1 && sd == 1 && pad_front == 0 && od == d); }
    // Floats of the unfolded input (n*od, h, w, kd*c); 0 when !unfolds().
    int64_t unfold_size() const { return unfolds() ? n * od * h * w * kd * c : 0; }
    // Floats of the kernel workspace: the kernel reordered to (kh, kw, kd, c, f) and its
    // gradient; 0 when kd = 1 (the order is the same).
    int64_t kernel_buffer_size() const { return kd > 1 ? 2 * patch() * f : 0; }
    // The 2-D convolution over the unfolded input: n*od images of h x w pixels with kd*c
    // channels, kernel (kh, kw, kd*c, f).
    ConvShape plane() const {
        ConvShape s;
        s.n = n * od, s.h = h, s.w = w, s.c = kd * c;
        s.oh = oh, s.ow = ow, s.f = f;
        s.kh = kh, s.kw = kw, s.sh = sh, s.sw = sw, s.dh = dh, s.dw = dw;
        s.pad_top = pad_top, s.pad_left = pad_left;
        return s;
    }
};

// The pieces conv3d_forward/backward wrap around the 2-D kernels, shared with the transposed
// convolution (conv3d_transpose.h). Each splits only independent outputs over threads.
// u (n*od, h, w, kd, c)[i*od + o, p, a] = x (n, d, h, w, c)[i, o*sd - pad_front + a*dd, p],
// zero where that slice is padding.
void unfold_depth(const Conv3dShape& s, const float* x, float* u);
// The adjoint of unfold_depth: dx (n, d, h, w, c)[i, slice] = the sum over the taps (o, a) that
// read that slice, in tap order, of du[i*od + o, :, a] (overwrites dx).
void fold_depth(const Conv3dShape& s, const float* du, float* dx);
// to (kh, kw, kd, c*f) from Keras' (kd, kh, kw, c*f): the plane() convolution's kernel; the
// other way round when `back`.
void conv3d_reorder_kernel(const Conv3dShape& s, const float* from, float* to, bool back);

// y = act(conv3d(x, w) + b). unfold holds unfold_size() floats and keeps the unfolded input
// for conv3d_backward; kbuf holds kernel_buffer_size() floats; col and col_rows as in
// conv_forward for plane() (col may be null when plane().pointwise()); z is optional.
void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                    float* unfold, float* kbuf, float* col, int64_t col_rows, Activation act);

// Given dy (n, od, oh, ow, f), overwritten with dL/dz unless dy_is_preactivation; writes
// dw (kd, kh, kw, c, f), db (f, optional) and dx (n, d, h, w, c, optional). unfold and kbuf
// must still hold what conv3d_forward left there; dunfold (unfold_size() floats, needed only
// with dx when unfolds()) receives the unfolded input's gradient; partials holds
// conv_dw_partials_size(plane()) floats.
void conv3d_backward(const Conv3dShape& s, const float* w, const float* z, const float* y, float* dy, float* dx,
                     float* dw, float* db, const float* x, const float* unfold, float* kbuf, float* dunfold,
                     float* col, int64_t col_rows, float* partials, Activation act, bool dy_is_preactivation);

}  // namespace seqnet
