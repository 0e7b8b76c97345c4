// Batch normalization: the per-channel bookkeeping between the passes of batchnorm.inl
// (chosen per instruction set at run time). Training forward is two passes over x: the
// shifted sums of x and x² per channel (shifted by the channel's first element, so the
// variance does not cancel catastrophically when |mean| >> std), then y = (x - shift) * a + b.
// Backward is two passes: the sums of dy and dy * (x - mean), then dx. The partial sums of
// each block are added in block order in double, so any thread count gives the same bits.
#include <cmath>

#include "batchnorm_kernels.h"
#include "seqnet/batchnorm.h"
#include "seqnet/cpu.h"

namespace seqnet {
namespace {

const BatchNormKernels& kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::batchnorm_kernels();
        case Isa::Avx2: return avx2::batchnorm_kernels();
#endif
        default: return generic::batchnorm_kernels();
    }
}

// The workspace: block partials p0, p1 (count * C each), then three per-channel vectors.
struct Carved {
    float *p0, *p1, *v0, *v1, *v2;
};
Carved carve(float* ws, const BnBlocks& bl, int64_t C) {
    Carved w;
    w.p0 = ws;
    w.p1 = w.p0 + bl.count * C;
    w.v0 = w.p1 + bl.count * C;
    w.v1 = w.v0 + C;
    w.v2 = w.v1 + C;
    return w;
}

// Channel c's two sums over all blocks, in block order.
void block_sums(const Carved& w, const BnBlocks& bl, int64_t C, int64_t c, double& a, double& b) {
    a = 0.0;
    b = 0.0;
    for (int64_t i = 0; i < bl.count; ++i) {
        a += w.p0[i * C + c];
        b += w.p1[i * C + c];
    }
}

}  // namespace

BnBlocks bn_blocks(const BatchNormShape& s) {
    const int64_t width = s.inner == 1 ? s.channels : s.inner;
    const int64_t per = width > 0 && width < kBnBlockFloats ? kBnBlockFloats / width : 1;
    return {s.outer > 0 ? (s.outer + per - 1) / per : 0, per};
}

int64_t batchnorm_workspace_size(const BatchNormShape& s) {
    return 2 * bn_blocks(s).count * s.channels + 3 * s.channels;
}

void batchnorm_forward_training(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                                float* inv_std, float* moving_mean, float* moving_var, float* workspace,
                                const BatchNormShape& s, float epsilon, float momentum, bool relu) {
    const int64_t C = s.channels, n = s.outer * s.inner;
    const BnBlocks bl = bn_blocks(s);
    const Carved w = carve(workspace, bl, C);
    float *shift = w.v0, *scale = w.v1, *offset = w.v2;
    if (n == 0) {  // an empty batch: no statistics, nothing to update
        for (int64_t c = 0; c < C; ++c) {
            mean[c] = 0.0f;
            inv_std[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(epsilon)));
        }
        return;
    }
    for (int64_t c = 0; c < C; ++c) shift[c] = x[c * s.inner];
    kernels().stat_partials(s, bl, x, shift, w.p0, w.p1);
    const float decay = 1.0f - momentum;
    const double unbias = static_cast<double>(n) / (static_cast<double>(n) - (1.0 + epsilon));
    for (int64_t c = 0; c < C; ++c) {
        double sum, sq;
        block_sums(w, bl, C, c, sum, sq);
        const double d = sum / n;
        double var = sq / n - d * d;
        if (var < 0.0) var = 0.0;
        const double inv = 1.0 / std::sqrt(var + epsilon);
        const double a = (gamma ? gamma[c] : 1.0f) * inv;
        mean[c] = static_cast<float>(shift[c] + d);
        inv_std[c] = static_cast<float>(inv);
        scale[c] = static_cast<float>(a);
        // y = (x - shift) * a + (beta - d * a): x - shift is exact near the data, where x -
        // mean would carry the rounding of a float mean far from zero.
        offset[c] = static_cast<float>((beta ? beta[c] : 0.0f) - d * a);
        if (moving_mean) {  // TensorFlow's assign_moving_average: v -= (v - value) * (1 - momentum)
            moving_mean[c] -= (moving_mean[c] - mean[c]) * decay;
            moving_var[c] -= (moving_var[c] - static_cast<float>(var * unbias)) * decay;
        }
    }
    kernels().affine(s, x, shift, scale, offset, y, relu);
}

void batchnorm_forward_inference(const float* x, const float* gamma, const float* beta, const float* moving_mean,
                                 const float* moving_var, float* y, float* mean, float* inv_std, float* workspace,
                                 const BatchNormShape& s, float epsilon, bool relu) {
    const int64_t C = s.channels;
    const Carved w = carve(workspace, bn_blocks(s), C);
    float *scale = w.v1, *offset = w.v2;
    for (int64_t c = 0; c < C; ++c) {
        const double inv = 1.0 / std::sqrt(static_cast<double>(moving_var[c]) + epsilon);
        scale[c] = static_cast<float>((gamma ? gamma[c] : 1.0f) * inv);
        offset[c] = beta ? beta[c] : 0.0f;
        if (mean) mean[c] = moving_mean[c];
        if (inv_std) inv_std[c] = static_cast<float>(inv);
    }
    if (s.outer * s.inner > 0) kernels().affine(s, x, moving_mean, scale, offset, y, relu);
}

void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean, const float* inv_std,
                        float* dx, float* dgamma, float* dbeta, float* workspace, const BatchNormShape& s,
                        bool batch_stats, const float* relu_y) {
    const int64_t C = s.channels, n = s.outer * s.inner;
    const BnBlocks bl = bn_blocks(s);
    const Carved w = carve(workspace, bl, C);
    float *k1 = w.v0, *k2 = w.v1, *k3 = w.v2;
    if (n == 0) {
        for (int64_t c = 0; c < C; ++c) {
            if (dgamma) dgamma[c] = 0.0f;
            if (dbeta) dbeta[c] = 0.0f;
        }
        return;
    }
    kernels().grad_partials(s, bl, x, dy, mean, w.p0, w.p1, relu_y);
    for (int64_t c = 0; c < C; ++c) {
        double sum, dot;
        block_sums(w, bl, C, c, sum, dot);
        const double inv = inv_std[c], a = (gamma ? gamma[c] : 1.0f) * inv;
        if (dbeta) dbeta[c] = static_cast<float>(sum);
        if (dgamma) dgamma[c] = static_cast<float>(dot * inv);
        k1[c] = static_cast<float>(a);
        k2[c] = static_cast<float>(a * sum / n);
        k3[c] = static_cast<float>(a * inv * inv * dot / n);
    }
    if (dx)
        kernels().input_grad(s, x, dy, mean, k1, batch_stats ? k2 : nullptr, batch_stats ? k3 : nullptr, dx, relu_y);
}

}  // namespace seqnet
