// Depthwise convolution: the run-time choice of the per-instruction-set kernels
// (depthwise_kernels.inl) and the split of the work over threads. A depth_multiplier dm > 1 runs
// as multiplier 1 on the input with each channel repeated dm times (output channel ci*dm + m
// reads copy m of channel ci), dx's copies summed back at the end. Forward: output rows in
// parallel, the activation applied to each row while it is in cache. Backward: dz (the
// activation's gradient), then dW and db over fixed blocks of output rows, one partial per block
// (blocks in parallel), the partials summed in block order; dx, for stride 1, is the depthwise
// convolution of dz with the flipped kernel (the forward kernel), otherwise a gather per input
// row. Threads split only independent outputs, so the results are bit-identical for any number
// of threads.
#include "seqnet/depthwise.h"

#include <omp.h>

#include <algorithm>

#include "conv_direct.h"
#include "depthwise_kernels.h"
#include "seqnet/cpu.h"

namespace seqnet {

const DepthwiseKernels& depthwise_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::depthwise_kernels();
        case Isa::Avx2: return avx2::depthwise_kernels();
#endif
        default: return generic::depthwise_kernels();
    }
}

namespace {

// Below this many multiply-adds, a fork costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;

bool worth_threads(int64_t work) { return work > kMinParallelWork && !omp_in_parallel(); }

// The forward pass of a shape with dm == 1.
void forward_rows(const DepthwiseShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                  Activation act) {
    const DepthwiseKernels& kern = depthwise_kernels();
    const int64_t rows = s.n * s.oh, CM = s.out_channels(), row_floats = s.ow * CM;
    float* out = z ? z : y;
#pragma omp parallel for schedule(static) if (worth_threads(rows * row_floats * s.taps()))
    for (int64_t r = 0; r < rows; ++r) {
        float* o = out + r * row_floats;
        kern.forward_row(s, x, w, b, r, o);
        if (z) activation_forward(act, o, y + r * row_floats, s.ow, CM);
        else if (act != Activation::Linear) activation_forward(act, o, o, s.ow, CM);
    }
}

// The shape of dx = depthwise(dz, flipped kernel) for stride 1, depth_multiplier 1: dx row ih
// gathers dz rows ih + pad_top - i*dh, i.e. the kernel rows reversed with padding
// (kh-1)*dh - pad_top (positions outside dz read as zero).
DepthwiseShape transposed_shape(const DepthwiseShape& s) {
    DepthwiseShape t = s;
    t.h = s.oh, t.w = s.ow;
    t.oh = s.h, t.ow = s.w;
    t.pad_top = (s.kh - 1) * s.dh - s.pad_top;
    t.pad_left = (s.kw - 1) * s.dw - s.pad_left;
    return t;
}

// wt[i, j] = w[kh-1-i, kw-1-j].
void flip_kernel(const DepthwiseShape& s, const float* w, float* wt) {
    const int64_t CM = s.out_channels();
    for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j)
            std::copy(w + ((s.kh - 1 - i) * s.kw + (s.kw - 1 - j)) * CM,
                      w + ((s.kh - 1 - i) * s.kw + (s.kw - j)) * CM, wt + (i * s.kw + j) * CM);
}

// s on the input with each channel repeated dm times: multiplier 1 over c*dm channels.
DepthwiseShape expanded_shape(const DepthwiseShape& s) {
    DepthwiseShape e = s;
    e.c = s.c * s.dm, e.dm = 1;
    return e;
}

// xe (n, h, w, c*dm)[..., ci*dm + m] = x (n, h, w, c)[..., ci].
void expand_channels(const DepthwiseShape& s, const float* x, float* xe) {
    const int64_t pixels = s.n * s.h * s.w, C = s.c, M = s.dm;
#pragma omp parallel for schedule(static) if (worth_threads(pixels * C * M))
    for (int64_t p = 0; p < pixels; ++p) {
        const float* src = x + p * C;
        float* dst = xe + p * C * M;
        for (int64_t ci = 0; ci < C; ++ci)
            for (int64_t m = 0; m < M; ++m) dst[ci * M + m] = src[ci];
    }
}

// dx (n, h, w, c)[..., ci] = sum over m of dxe (n, h, w, c*dm)[..., ci*dm + m], in m order.
void sum_copies(const DepthwiseShape& s, const float* dxe, float* dx) {
    const int64_t pixels = s.n * s.h * s.w, C = s.c, M = s.dm;
#pragma omp parallel for schedule(static) if (worth_threads(pixels * C * M))
    for (int64_t p = 0; p < pixels; ++p) {
        const float* src = dxe + p * C * M;
        float* dst = dx + p * C;
        for (int64_t ci = 0; ci < C; ++ci) {
            float acc = 0.0f;
            for (int64_t m = 0; m < M; ++m) acc += src[ci * M + m];
            dst[ci] = acc;
        }
    }
}

}  // namespace

void depthwise_forward(const DepthwiseShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                       float* expanded, Activation act) {
    if (s.dm == 1) return forward_rows(s, x, w, b, z, y, act);
    expand_channels(s, x, expanded);
    forward_rows(expanded_shape(s), expanded, w, b, z, y, act);
}

void depthwise_backward(const DepthwiseShape& s, const float* x, const float* w, const float* z, const float* y,
                        float* dy, float* dx, float* dw, float* db, float* partials, float* expanded, Activation act,
                        bool dy_is_preactivation) {
    const DepthwiseKernels& kern = depthwise_kernels();
    const DepthwiseShape e = expanded_shape(s);  // s itself when dm == 1
    if (s.dm != 1) {
        expand_channels(s, x, expanded);
        x = expanded;
    }
    const int64_t C = e.c, T = e.taps(), rows = e.n * e.oh, row_floats = e.ow * C;
    if (!dy_is_preactivation && act != Activation::Linear) activation_backward(act, z, y, dy, dy, rows * e.ow, C);

    const int64_t D = depthwise_dw_block_rows(e), blocks = (rows + D - 1) / D, stride = (T + 1) * C;
#pragma omp parallel for schedule(dynamic) if (blocks > 1 && worth_threads(rows * row_floats * T))
    for (int64_t bi = 0; bi < blocks; ++bi) {
        float* pw = partials + bi * stride;
        std::fill(pw, pw + stride, 0.0f);
        kern.dw_rows(e, x, dy, bi * D, std::min(rows, (bi + 1) * D), pw, db ? pw + T * C : nullptr);
    }
    sum_partials(partials, blocks, stride, T * C, dw, db);
    if (!dx) return;

    float* dxe = s.dm == 1 ? dx : expanded;  // the input copies' gradients (x no longer needed)
    if (e.sh == 1 && e.sw == 1) {
        float* wt = partials + blocks * stride;
        flip_kernel(e, w, wt);
        forward_rows(transposed_shape(e), dy, wt, nullptr, nullptr, dxe, Activation::Linear);
    } else {
        const int64_t in_rows = e.n * e.h;
#pragma omp parallel for schedule(static) if (worth_threads(in_rows * e.w * C * T))
        for (int64_t r = 0; r < in_rows; ++r) kern.dx_row(e, dy, w, r, dxe + r * e.w * C);
    }
    if (s.dm != 1) sum_copies(s, expanded, dx);
}

}  // namespace seqnet
