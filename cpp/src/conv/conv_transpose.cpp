// Transposed convolution on the convolution kernels: forward is the input gradient of the
// convolution s (the column gradients x Wᵀ by one GEMM per chunk of images, then col2im, a
// gather in a fixed order), with the bias and the activation applied per chunk while it is in
// cache; a 1x1 unpadded stride-1 kernel is one GEMM with them fused into its epilogue. Backward
// is the convolution itself: dx = conv(dz, W) and dW = that convolution's weight gradient with x
// as its output gradient (conv_forward and conv_backward). Every piece splits only independent
// outputs over threads, so the results are bit-identical for any number of threads.
#include "seqnet/conv_transpose.h"

#include <omp.h>

#include <algorithm>

#include "seqnet/dense.h"
#include "seqnet/gemm.h"

namespace seqnet {
namespace {

// Below this many floats, a fork costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;

bool elementwise(Activation act) { return act != Activation::Linear && act != Activation::Softmax; }

void activation_row(float* c, int64_t len, const void* ctx) {
    activation_forward(*static_cast<const Activation*>(ctx), c, c, 1, len);
}

}  // namespace

void add_bias_rows(float* out, const float* b, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kMinParallelWork && !omp_in_parallel())
    for (int64_t r = 0; r < rows; ++r) {
        float* row = out + r * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) row[j] += b[j];
    }
}

void conv_transpose_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                            float* col, int64_t col_rows, Activation act) {
    const int64_t K = s.patch(), F = s.c, Cin = s.f, P = s.out_pixels(), Q = s.h * s.w;
    float* out = z ? z : y;
    if (s.pointwise()) {
        GemmEpilogue ep;
        ep.bias = b;
        if (!z && elementwise(act)) {
            ep.row_fn = activation_row;
            ep.ctx = &act;
        }
        const GemmEpilogue* epp = (ep.bias || ep.row_fn) ? &ep : nullptr;
        sgemm(false, true, s.n * P, F, Cin, 1.0f, x, Cin, w, Cin, 0.0f, out, F, epp);
    } else {
        const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(s.n, col_rows / std::max<int64_t>(P, 1)));
        for (int64_t first = 0; first < s.n; first += chunk) {
            const int64_t imgs = std::min(chunk, s.n - first);
            sgemm(false, true, imgs * P, K, Cin, 1.0f, x + first * P * Cin, Cin, w, Cin, 0.0f, col, K);
            col2im(s, col, first, imgs, out);
            float* part = out + first * Q * F;
            if (b) add_bias_rows(part, b, imgs * Q, F);
            if (!z && elementwise(act)) activation_forward(act, part, part, imgs * Q, F);
        }
    }
    if (z) activation_forward(act, z, y, s.n * Q, F);
    else if (act == Activation::Softmax) activation_forward(act, y, y, s.n * Q, F);
}

void conv_transpose_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                             float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                             Activation act, bool dy_is_preactivation) {
    const int64_t F = s.c, rows = s.n * s.h * s.w;
    if (!dy_is_preactivation && act != Activation::Linear) activation_backward(act, z, y, dy, dy, rows, F);
    if (db) column_sums(dy, F, db, rows, F);
    if (dx) conv_forward(s, dy, w, nullptr, nullptr, dx, col, col_rows, Activation::Linear);
    // The convolution's weight gradient, x standing for its output gradient: with a linear
    // activation given as a pre-activation gradient, conv_backward only reads it.
    conv_backward(s, dy, w, nullptr, x, const_cast<float*>(x), nullptr, dw, nullptr, col, col_rows, partials,
                  Activation::Linear, true);
}

}  // namespace seqnet
