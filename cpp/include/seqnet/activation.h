// Activation functions and their gradients, row-wise over a (rows, cols) matrix.
#pragma once
#include <cstdint>

namespace seqnet {

// Keras' activations, exported to Python as seqnet._engine.Activation (members named as in
// keras.activations: relu, hard_sigmoid, ...); Python never retypes the numbers.
enum class Activation : int {
    Linear = 0,
    Relu = 1,
    Sigmoid = 2,
    HardSigmoid = 3,  // clip(0.2 x + 0.5, 0, 1), as Keras 2
    Tanh = 4,
    Softmax = 5,      // over the last axis (cols)
    Softplus = 6,
    Softsign = 7,
    Elu = 8,          // alpha = 1
    Selu = 9,
    Exponential = 10,
    Swish = 11,
    Gelu = 12,        // exact: 0.5 x (1 + erf(x / sqrt 2))
    Count = 13
};

// True when the gradient needs the activation's input (swish, gelu); every other
// activation's gradient is computed from its output alone, so layers keep only y.
bool activation_backward_needs_input(Activation act);

// y = act(x); x and y may alias. Softmax is taken over each row of `cols` values.
void activation_forward(Activation act, const float* x, float* y, int64_t rows, int64_t cols);

// dx = dL/dx given dy = dL/dy, the output y, and (when needed) the input x.
// dx may alias dy.
void activation_backward(Activation act, const float* x, const float* y, const float* dy, float* dx,
                         int64_t rows, int64_t cols);

// y = act(xs[0] + xs[1] + ... + xs[count-1]) over n floats in one pass (an Add merge with the
// Activation after it fused in), the sum in input order as separate additions make it; z, when
// not null, receives the sum (for the activations whose gradient needs their input). Softmax
// is not elementwise and is not accepted here.
void add_activation_forward(Activation act, const float* const* xs, int64_t count, float* z, float* y, int64_t n);

}  // namespace seqnet
