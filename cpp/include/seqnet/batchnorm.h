// Batch normalization (Keras' BatchNormalization) over one channel axis of any tensor.
//
// A tensor is seen as (outer, channels, inner): the axes before the channel axis, the
// channel axis, the axes after it. channels_last data has inner == 1; channels_first
// (N, C, H, W) has outer = N, inner = H * W. Per channel c the statistics run over the
// outer * inner elements x[o, c, i].
//
// Reductions are summed over fixed blocks (a function of the shape only), one partial per
// block, the partials added in block order in double: results are bit-identical for any
// number of threads. Nothing here allocates: callers pass a workspace of
// batchnorm_workspace_size(...) floats.
#pragma once
#include <cstdint>

namespace seqnet {

struct BatchNormShape {
    int64_t outer, channels, inner;
};

// Floats of workspace every batchnorm_* call below needs for this shape.
int64_t batchnorm_workspace_size(const BatchNormShape& s);

// Training: batch mean and biased variance per channel, y = (x - mean) / sqrt(var + eps) *
// gamma + beta, and mean and inv_std = 1 / sqrt(var + eps) written for the backward pass.
// gamma / beta may be null (scale / center off: 1 / 0). When moving_mean and moving_var are
// given (both or neither), they are updated as Keras 2.2.4's layer does:
//   moving_mean -= (moving_mean - mean) * (1 - momentum)
//   moving_var  -= (moving_var - var * n / (n - (1 + eps))) * (1 - momentum),  n = outer * inner
// (the "unbiased" batch variance of Keras 2.2.4's BatchNormalization.call).
// relu: y = max(y, 0) as well (a ReLU after the layer, in the same pass; NaN stays NaN).
void batchnorm_forward_training(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                                float* inv_std, float* moving_mean, float* moving_var, float* workspace,
                                const BatchNormShape& s, float epsilon, float momentum, bool relu = false);

// Inference: y = (x - moving_mean) / sqrt(moving_var + eps) * gamma + beta. mean and inv_std
// (optional, may be null) receive moving_mean and 1 / sqrt(moving_var + eps) for a backward.
void batchnorm_forward_inference(const float* x, const float* gamma, const float* beta, const float* moving_mean,
                                 const float* moving_var, float* y, float* mean, float* inv_std, float* workspace,
                                 const BatchNormShape& s, float epsilon, bool relu = false);

// Backward from dy, with the mean and inv_std a forward wrote. Writes (each optional)
//   dbeta[c]  = sum dy,   dgamma[c] = sum dy * (x - mean) * inv_std
//   dx = gamma * inv_std * (dy - sum(dy) / n - xhat * sum(dy * xhat) / n)   (batch_stats:
//        the statistics were the batch's, so the gradient flows through them)
//   dx = gamma * inv_std * dy                                                 (otherwise)
// dx may be dy (overwritten in place). gamma may be null (1). relu_y: the output of a forward
// with relu, whose gradient is taken first: dy where relu_y > 0 (or NaN), else 0.
void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean, const float* inv_std,
                        float* dx, float* dgamma, float* dbeta, float* workspace, const BatchNormShape& s,
                        bool batch_stats, const float* relu_y = nullptr);

}  // namespace seqnet
