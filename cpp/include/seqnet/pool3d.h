// 3-D max and average pooling, channels_last (NDHWC), as two passes of the 2-D kernels in
// pool.h: first over each slice's (h, w) windows, then over the depth windows of the result.
// Both poolings are separable under TensorFlow's rules: a window's valid elements are a box,
// so the max of maxes is the max, the first maximum in (d, h, w) order stays the first, and
// the mean of means over the box's slices is the mean (the counts factor per axis).
#pragma once
#include <cstdint>

#include "seqnet/pool.h"

namespace seqnet {

// Input (n, d, h, w, c), window (pd, ph, pw), strides (sd, sh, sw), output (n, od, oh, ow, c);
// window slice od covers input slices [od*sd - pad_front, +pd) clipped to the input.
struct Pool3dShape {
    int64_t n, d, h, w, c;
    int64_t od, oh, ow;
    int64_t pd, ph, pw;
    int64_t sd, sh, sw;
    int64_t pad_front, pad_top, pad_left;

    // Floats (and argmax entries) of the intermediate: every input slice pooled over (h, w).
    int64_t mid_size() const { return n * d * oh * ow * c; }
    // Pass 1: the n*d slices as 2-D images, (n*d, h, w, c) -> mid (n*d, oh, ow, c).
    PoolShape plane() const {
        return PoolShape{n * d, h, w, c, oh, ow, ph, pw, sh, sw, pad_top, pad_left};
    }
    // Pass 2: mid viewed as (n, d, oh*ow, c), pooled with a (pd, 1) window -> (n, od, oh*ow, c).
    PoolShape depth() const {
        return PoolShape{n, d, oh * ow, c, od, oh * ow, pd, 1, sd, 1, pad_front, 0};
    }
};

// y = max over each window. mid and mid_argmax (mid_size() each) keep pass 1 for backward;
// argmax (n, od, oh, ow, c) receives pass 2's winner (slice * oh*ow + pixel, within an image).
void max_pool3d_forward(const Pool3dShape& s, const float* x, float* mid, int32_t* mid_argmax, float* y,
                        int32_t* argmax);
// dx = the scatter of dy to the winners; dmid (mid_size() floats) is scratch.
void max_pool3d_backward(const Pool3dShape& s, const float* dy, const int32_t* argmax, const int32_t* mid_argmax,
                         float* dmid, float* dx);

// y = mean over the valid elements of each window; mid (mid_size() floats) is scratch.
void avg_pool3d_forward(const Pool3dShape& s, const float* x, float* mid, float* y);
void avg_pool3d_backward(const Pool3dShape& s, const float* dy, float* dmid, float* dx);

}  // namespace seqnet
