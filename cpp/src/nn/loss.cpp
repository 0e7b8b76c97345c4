// Built-in losses and accuracies. Formulas follow tf-keras' backend functions, including
// the clipping to [epsilon, 1 - epsilon] of probabilities and, for softmax and sigmoid
// outputs, the switch to the exact logits form. Rows are independent; the batch total is
// summed in row order in double precision so it never depends on threads.
#include "seqnet/loss.h"

#include <cmath>

namespace seqnet {
namespace {

constexpr float kEps = 1e-7f;  // Keras' backend epsilon

inline bool inside(float v) { return v >= kEps && v <= 1.0f - kEps; }  // clip passes the gradient
inline float clip(float v) { return v < kEps ? kEps : (v > 1.0f - kEps ? 1.0f - kEps : v); }

// Each returns row i's loss L_i and, when g is not null, writes scale * dL_i/d(input row).
float cce_logits(const float* y, const float* p, const float* z, int64_t cols, float* g, float scale) {
    float m = z[0];
    for (int64_t j = 1; j < cols; ++j) m = z[j] > m ? z[j] : m;
    float s = 0.0f, sy = 0.0f;
    for (int64_t j = 0; j < cols; ++j) s += std::exp(z[j] - m), sy += y[j];
    float lse = m + std::log(s), loss = 0.0f;
    for (int64_t j = 0; j < cols; ++j) loss += y[j] * (lse - z[j]);
    if (g)
        for (int64_t j = 0; j < cols; ++j) g[j] = scale * (p[j] * sy - y[j]);
    return loss;
}

float cce_probs(const float* y, const float* p, int64_t cols, float* g, float scale) {
    float s = 0.0f;
    for (int64_t j = 0; j < cols; ++j) s += p[j];
    float loss = 0.0f, gq = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
        float q = p[j] / s, c = clip(q);
        loss -= y[j] * std::log(c);
        if (g) {
            g[j] = inside(q) ? -y[j] / c : 0.0f;  // dL/dq
            gq += g[j] * q;
        }
    }
    if (g)  // through q = p / sum(p)
        for (int64_t j = 0; j < cols; ++j) g[j] = scale * (g[j] - gq) / s;
    return loss;
}

float scce_logits(float label, const float* p, const float* z, int64_t cols, float* g, float scale) {
    int64_t l = static_cast<int64_t>(label);
    float m = z[0];
    for (int64_t j = 1; j < cols; ++j) m = z[j] > m ? z[j] : m;
    float s = 0.0f;
    for (int64_t j = 0; j < cols; ++j) s += std::exp(z[j] - m);
    if (g)
        for (int64_t j = 0; j < cols; ++j) g[j] = scale * (p[j] - (j == l ? 1.0f : 0.0f));
    return m + std::log(s) - z[l];
}

// tf-keras: logits = log(clip(p)), then softmax cross-entropy, i.e. log(sum c) - log(c_label).
float scce_probs(float label, const float* p, int64_t cols, float* g, float scale) {
    int64_t l = static_cast<int64_t>(label);
    float s = 0.0f;
    for (int64_t j = 0; j < cols; ++j) s += clip(p[j]);
    float cl = clip(p[l]);
    if (g)
        for (int64_t j = 0; j < cols; ++j) {
            float d = 1.0f / s - (j == l ? 1.0f / cl : 0.0f);
            g[j] = inside(p[j]) ? scale * d : 0.0f;
        }
    return std::log(s) - std::log(cl);
}

float bce_logits(const float* y, const float* p, const float* z, int64_t cols, float* g, float scale) {
    float loss = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
        float v = z[j];
        loss += (v > 0.0f ? v : 0.0f) - v * y[j] + std::log1p(std::exp(-std::fabs(v)));
        if (g) g[j] = scale * (p[j] - y[j]) / cols;
    }
    return loss / cols;
}

float bce_probs(const float* y, const float* p, int64_t cols, float* g, float scale) {
    float loss = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
        float c = clip(p[j]);
        loss -= y[j] * std::log(c + kEps) + (1.0f - y[j]) * std::log(1.0f - c + kEps);
        if (g) g[j] = inside(p[j]) ? -scale * (y[j] / (c + kEps) - (1.0f - y[j]) / (1.0f - c + kEps)) / cols : 0.0f;
    }
    return loss / cols;
}

float mse(const float* y, const float* p, int64_t cols, float* g, float scale) {
    float loss = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
        float d = p[j] - y[j];
        loss += d * d;
        if (g) g[j] = scale * 2.0f * d / cols;
    }
    return loss / cols;
}

float mae(const float* y, const float* p, int64_t cols, float* g, float scale) {
    float loss = 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
        float d = p[j] - y[j];
        loss += std::fabs(d);
        if (g) g[j] = scale * (d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f)) / cols;
    }
    return loss / cols;
}

}  // namespace

float loss_forward_backward(Loss loss, const float* y_true, const float* y_pred, const float* logits,
                            int64_t rows, int64_t cols, const float* sample_weight, float* grad,
                            float* per_sample) {
    if (rows <= 0) return 0.0f;
    int64_t nonzero = rows;
    if (sample_weight) {
        nonzero = 0;
        for (int64_t i = 0; i < rows; ++i) nonzero += sample_weight[i] != 0.0f;
        if (nonzero == 0) nonzero = rows;  // all weights zero: the loss is 0, not 0/0
    }
    const bool sparse = loss == Loss::SparseCategoricalCrossentropy;
    double total = 0.0;
    for (int64_t i = 0; i < rows; ++i) {
        const float w = sample_weight ? sample_weight[i] : 1.0f;
        const float scale = w / static_cast<float>(nonzero);
        const float* y = y_true + (sparse ? i : i * cols);
        const float* p = y_pred + i * cols;
        const float* z = logits ? logits + i * cols : nullptr;
        float* g = grad ? grad + i * cols : nullptr;
        float li = 0.0f;
        switch (loss) {
            case Loss::CategoricalCrossentropy:
                li = z ? cce_logits(y, p, z, cols, g, scale) : cce_probs(y, p, cols, g, scale);
                break;
            case Loss::SparseCategoricalCrossentropy:
                li = z ? scce_logits(*y, p, z, cols, g, scale) : scce_probs(*y, p, cols, g, scale);
                break;
            case Loss::BinaryCrossentropy:
                li = z ? bce_logits(y, p, z, cols, g, scale) : bce_probs(y, p, cols, g, scale);
                break;
            case Loss::MeanSquaredError: li = mse(y, p, cols, g, scale); break;
            case Loss::MeanAbsoluteError: li = mae(y, p, cols, g, scale); break;
            default: break;
        }
        if (per_sample) per_sample[i] = li;
        total += static_cast<double>(w) * li;
    }
    return static_cast<float>(total / static_cast<double>(nonzero));
}

double accuracy_sum(Accuracy kind, const float* y_true, const float* y_pred, int64_t rows, int64_t cols,
                    float threshold) {
    double total = 0.0;
    for (int64_t i = 0; i < rows; ++i) {
        const float* p = y_pred + i * cols;
        if (kind == Accuracy::Binary) {
            const float* y = y_true + i * cols;
            int64_t hits = 0;
            for (int64_t j = 0; j < cols; ++j) hits += y[j] == (p[j] > threshold ? 1.0f : 0.0f);
            total += static_cast<double>(hits) / cols;
            continue;
        }
        int64_t best = 0;  // first maximum, as argmax
        for (int64_t j = 1; j < cols; ++j) best = p[j] > p[best] ? j : best;
        if (kind == Accuracy::SparseCategorical) {
            total += y_true[i] == static_cast<float>(best);
        } else {
            const float* y = y_true + i * cols;
            int64_t truth = 0;
            for (int64_t j = 1; j < cols; ++j) truth = y[j] > y[truth] ? j : truth;
            total += truth == best;
        }
    }
    return total;
}

}  // namespace seqnet
