// Fully connected layer: y = act(x W + b), x (rows, in), W (in, out), b (out).
#pragma once
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

// z (optional, may be null) receives x W + b; y receives act(z). Bias and elementwise
// activations are fused into the GEMM's epilogue; softmax runs once over the rows after.
void dense_forward(const float* x, const float* w, const float* b, float* z, float* y, int64_t rows,
                   int64_t in, int64_t out, Activation act);

// Given dy = dL/dy (rows, out), overwrites dy with dL/dz and writes dW (in, out),
// db (out, optional) and dx (rows, in, optional). When dy_is_preactivation, dy already
// holds dL/dz (a loss fused with the output activation) and the activation is skipped.
// z is needed only when activation_backward_needs_input(act).
void dense_backward(const float* x, const float* w, const float* z, const float* y, float* dy,
                    float* dx, float* dw, float* db, int64_t rows, int64_t in, int64_t out,
                    Activation act, bool dy_is_preactivation);

// sums[j] = the sum over r of x[r * ld + j], for j < cols, adding the rows in order: a bias
// gradient (Dense, pointwise and transposed convolutions, recurrent gates).
void column_sums(const float* x, int64_t ld, float* sums, int64_t rows, int64_t cols);

}  // namespace seqnet
