// Locally-connected layers (unshared convolution, 'valid' padding only, as Keras 2.2.4): every
// output position has its own (patch x filters) kernel, so the layer is one small GEMM per
// position, batched over the images. A 1-D layer is the 2-D one with h = 1 and kh = 1.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

// Input (n, h, w, c) or, when channels_first, (n, c, h, w); output position (i, j) reads the
// window rows [i*sh, +kh) and columns [j*sw, +kw). Its patch is ordered as Keras flattens the
// input slice: (kh, kw, c) for channels_last, (c, kh, kw) for channels_first. Kernel
// (oh*ow, patch(), f) (Keras' layout, implementation=1 in tf-keras); output (n, oh, ow, f),
// channels_last whatever the input's layout.
struct LocalShape {
    int64_t n, c, h, w;
    int64_t oh, ow, f;
    int64_t kh, kw;
    int64_t sh, sw;
    bool channels_first;

    int64_t positions() const { return oh * ow; }
    int64_t patch() const { return kh * kw * c; }
};

// y (n, P, f) = act(patches_p(x) kernel[p] + b[p]) for each position p; b (P, f) is optional,
// z (optional) keeps the pre-activation. col (n, P, patch()) receives the patches and must
// be left untouched until local_backward.
void local_forward(const LocalShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                   float* col, Activation act);

// Given dy (n, P, f), overwritten with dL/dz unless dy_is_preactivation; writes dw (P, patch(),
// f), db (P, f, optional) and dx (optional, x's layout). col holds local_forward's patches; it
// is overwritten with their gradients when dx is requested. z is needed only when
// activation_backward_needs_input(act).
void local_backward(const LocalShape& s, const float* w, const float* z, const float* y, float* dy, float* dx,
                    float* dw, float* db, float* col, Activation act, bool dy_is_preactivation);

}  // namespace seqnet
