// 3-D convolution as a 2-D one: unfold the input along depth (output slice od of image i
// becomes one 2-D image whose pixels carry the kd depth taps' channels), reorder the kernel to
// (kh, kw, kd, c, f), and run conv_forward / conv_backward (blocked im2col + GEMM with the
// fused epilogue). Backward folds the unfolded gradient back: each input slice gathers, in tap
// order, the taps that read it. Threads split only independent outputs (images x slices), so
// the results are bit-identical for any number of threads.
#include "seqnet/conv3d.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace seqnet {
namespace {

constexpr int64_t kMinParallelWork = 1 << 15;

// The input slice read by output slice o and depth tap a, or -1 when it is padding.
int64_t tap_slice(const Conv3dShape& s, int64_t o, int64_t a) {
    const int64_t id = o * s.sd - s.pad_front + a * s.dd;
    return id >= 0 && id < s.d ? id : -1;
}

}  // namespace

// u (n*od, h, w, kd, c)[i*od + o, p, a] = x (n, d, h, w, c)[i, tap_slice(o, a), p] (zero on padding).
void unfold_depth(const Conv3dShape& s, const float* x, float* u) {
    const int64_t C = s.c, pixels = s.h * s.w, slices = s.n * s.od;
    const size_t cbytes = size_t(C) * sizeof(float);
#pragma omp parallel for schedule(static) if (slices * pixels * s.kd * C > kMinParallelWork && !omp_in_parallel())
    for (int64_t r = 0; r < slices; ++r) {
        const int64_t img = r / s.od, o = r % s.od;
        float* out = u + r * pixels * s.kd * C;
        for (int64_t a = 0; a < s.kd; ++a) {
            const int64_t id = tap_slice(s, o, a);
            const float* src = id < 0 ? nullptr : x + (img * s.d + id) * pixels * C;
            float* dst = out + a * C;
            for (int64_t p = 0; p < pixels; ++p, dst += s.kd * C) {
                if (src) std::memcpy(dst, src + p * C, cbytes);
                else std::memset(dst, 0, cbytes);
            }
        }
    }
}

// dx (n, d, h, w, c)[i, id] = sum over the taps (o, a) reading slice id, in tap order, of
// du (n*od, h, w, kd, c)[i*od + o, :, a].
void fold_depth(const Conv3dShape& s, const float* du, float* dx) {
    const int64_t C = s.c, pixels = s.h * s.w, slices = s.n * s.d;
#pragma omp parallel for schedule(static) if (slices * pixels * s.kd * C > kMinParallelWork && !omp_in_parallel())
    for (int64_t r = 0; r < slices; ++r) {
        const int64_t img = r / s.d, id = r % s.d;
        float* out = dx + r * pixels * C;
        std::memset(out, 0, size_t(pixels * C) * sizeof(float));
        for (int64_t a = 0; a < s.kd; ++a) {
            const int64_t t = id + s.pad_front - a * s.dd;
            if (t < 0 || t % s.sd) continue;
            const int64_t o = t / s.sd;
            if (o >= s.od) continue;
            const float* src = du + ((img * s.od + o) * pixels * s.kd + a) * C;
            for (int64_t p = 0; p < pixels; ++p) {
                const float* g = src + p * s.kd * C;
                float* d = out + p * C;
#pragma omp simd
                for (int64_t ch = 0; ch < C; ++ch) d[ch] += g[ch];
            }
        }
    }
}

// to (kh, kw, kd, c*f) from (kd, kh, kw, c*f), or back when `back`.
void conv3d_reorder_kernel(const Conv3dShape& s, const float* from, float* to, bool back) {
    const size_t block = size_t(s.c * s.f) * sizeof(float);
    for (int64_t a = 0; a < s.kd; ++a)
        for (int64_t i = 0; i < s.kh; ++i)
            for (int64_t j = 0; j < s.kw; ++j) {
                const int64_t keras = (a * s.kh + i) * s.kw + j, plane = (i * s.kw + j) * s.kd + a;
                const int64_t src = back ? plane : keras, dst = back ? keras : plane;
                std::memcpy(to + dst * s.c * s.f, from + src * s.c * s.f, block);
            }
}

void conv3d_forward(const Conv3dShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                    float* unfold, float* kbuf, float* col, int64_t col_rows, Activation act) {
    const float* u = x;
    if (s.unfolds()) {
        unfold_depth(s, x, unfold);
        u = unfold;
    }
    const float* wp = w;
    if (s.kd > 1) {
        conv3d_reorder_kernel(s, w, kbuf, false);
        wp = kbuf;
    }
    conv_forward(s.plane(), u, wp, b, z, y, col, col_rows, act);
}

void conv3d_backward(const Conv3dShape& s, const float* w, const float* z, const float* y, float* dy, float* dx,
                     float* dw, float* db, const float* x, const float* unfold, float* kbuf, float* dunfold,
                     float* col, int64_t col_rows, float* partials, Activation act, bool dy_is_preactivation) {
    const int64_t KF = s.patch() * s.f;
    const float* u = s.unfolds() ? unfold : x;
    const float* wp = w;
    float* dwp = dw;
    if (s.kd > 1) {
        conv3d_reorder_kernel(s, w, kbuf, false);
        wp = kbuf;
        dwp = kbuf + KF;
    }
    float* du = dx && s.unfolds() ? dunfold : dx;
    conv_backward(s.plane(), u, wp, z, y, dy, du, dwp, db, col, col_rows, partials, act, dy_is_preactivation);
    if (s.kd > 1) conv3d_reorder_kernel(s, dwp, dw, true);
    if (dx && s.unfolds()) fold_depth(s, du, dx);
}

}  // namespace seqnet
