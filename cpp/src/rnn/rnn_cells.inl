// The recurrent cells' elementwise work, compiled once per instruction set:
// rnn_cells_{generic,avx2,avx512}.cpp include this file inside their own namespace.
// Plain loops under `omp simd`; the activation is chosen outside each loop so that every
// loop vectorises. Requires: seqnet/activation.h, ../nn/vecmath.h, rnn_cell_kernels.h.

namespace vm = ::seqnet::vecmath;

static void act_inplace(Activation act, float* p, int64_t n) {
    switch (act) {
        case Activation::Relu:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) p[i] = p[i] <= 0.0f ? 0.0f : p[i];  // keeps NaN
            break;
        case Activation::Sigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) p[i] = vm::sigmoid(p[i]);
            break;
        case Activation::HardSigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float v = 0.2f * p[i] + 0.5f;
                p[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
            }
            break;
        case Activation::Tanh:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) p[i] = vm::tanh(p[i]);
            break;
        case Activation::Softsign:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) p[i] = p[i] / (1.0f + (p[i] < 0.0f ? -p[i] : p[i]));
            break;
        default:  // Linear
            break;
    }
}

static void act_grad(Activation act, const float* y, const float* d, float* out, int64_t n) {
    switch (act) {
        case Activation::Relu:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) out[i] = y[i] <= 0.0f ? 0.0f : d[i];  // NaN passes d on
            break;
        case Activation::Sigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) out[i] = d[i] * y[i] * (1.0f - y[i]);
            break;
        case Activation::HardSigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) out[i] = (y[i] > 0.0f && y[i] < 1.0f) ? 0.2f * d[i] : 0.0f;
            break;
        case Activation::Tanh:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) out[i] = d[i] * (1.0f - y[i] * y[i]);
            break;
        case Activation::Softsign:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float t = 1.0f - (y[i] < 0.0f ? -y[i] : y[i]);
                out[i] = d[i] * t * t;
            }
            break;
        default:  // Linear
            if (out != d)
#pragma omp simd
                for (int64_t i = 0; i < n; ++i) out[i] = d[i];
            break;
    }
}

static void lstm_cell(float* g, const float* cp, float* c, float* h, int64_t u, Activation act,
                      Activation rec) {
    act_inplace(rec, g, 2 * u);
    act_inplace(act, g + 2 * u, u);
    act_inplace(rec, g + 3 * u, u);
    const float *gi = g, *gf = g + u, *gc = g + 2 * u;
#pragma omp simd
    for (int64_t j = 0; j < u; ++j) {
        c[j] = gf[j] * cp[j] + gi[j] * gc[j];
        h[j] = c[j];
    }
    act_inplace(act, h, u);
    const float* go = g + 3 * u;
#pragma omp simd
    for (int64_t j = 0; j < u; ++j) h[j] *= go[j];
}

static void lstm_cell_backward(float* g, const float* cp, const float* c, const float* dh, float* dc,
                               float* tmp, int64_t u, Activation act, Activation rec) {
    float *tc = tmp, *t2 = tmp + u, *dpost = tmp + 2 * u;
    const float *gi = g, *gf = g + u, *gc = g + 2 * u, *go = g + 3 * u;
#pragma omp simd
    for (int64_t j = 0; j < u; ++j) tc[j] = c[j];
    act_inplace(act, tc, u);
#pragma omp simd
    for (int64_t j = 0; j < u; ++j) {
        dpost[3 * u + j] = dh[j] * tc[j];
        t2[j] = dh[j] * go[j];
    }
    act_grad(act, tc, t2, t2, u);
#pragma omp simd
    for (int64_t j = 0; j < u; ++j) {
        float dct = dc[j] + t2[j];
        dpost[j] = dct * gc[j];
        dpost[u + j] = dct * cp[j];
        dpost[2 * u + j] = dct * gi[j];
        dc[j] = dct * gf[j];
    }
    act_grad(rec, g, dpost, g, 2 * u);
    act_grad(act, g + 2 * u, dpost + 2 * u, g + 2 * u, u);
    act_grad(rec, g + 3 * u, dpost + 3 * u, g + 3 * u, u);
}

static const RnnCellKernels table = {act_inplace, act_grad, lstm_cell, lstm_cell_backward};
