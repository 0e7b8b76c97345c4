// Elementwise kernels, compiled once per instruction set: elementwise_{generic,avx2,avx512}.cpp
// include this file inside their own namespace, and elementwise.cpp dispatches at run time.
// Plain loops under `omp simd` (no STL templates: an inline template instantiated with
// AVX-512 flags could be picked by the linker for the portable build).
//
// Requires: seqnet/activation.h, vecmath.h, <omp.h>, <cstdint> included before.

namespace vm = ::seqnet::vecmath;

// Large tensors are split over threads by rows; each element's value never depends on the split.
static inline bool worth_threads(int64_t n) { return n >= (int64_t(1) << 16); }

static void unary_forward(Activation act, const float* x, float* y, int64_t n) {
    switch (act) {
        case Activation::Linear:
            if (x != y)
#pragma omp simd
                for (int64_t i = 0; i < n; ++i) y[i] = x[i];
            break;
        case Activation::Relu:
            // Compare-select that keeps NaN (x <= 0 is false for NaN), as one max instruction would not.
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = x[i] <= 0.0f ? 0.0f : x[i];
            break;
        case Activation::Sigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = vm::sigmoid(x[i]);
            break;
        case Activation::HardSigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float v = 0.2f * x[i] + 0.5f;
                y[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
            }
            break;
        case Activation::Tanh:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = vm::tanh(x[i]);
            break;
        case Activation::Softplus:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float v = x[i];
                float av = v < 0.0f ? -v : v;
                y[i] = vm::log1p(vm::exp(-av)) + (v > 0.0f ? v : 0.0f);
            }
            break;
        case Activation::Softsign:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + (x[i] < 0.0f ? -x[i] : x[i]));
            break;
        case Activation::Elu:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : vm::expm1(x[i]);
            break;
        case Activation::Selu: {
            const float alpha = 1.6732632423543772f, scale = 1.0507009873554805f;
#pragma omp simd
            for (int64_t i = 0; i < n; ++i)
                y[i] = x[i] > 0.0f ? scale * x[i] : scale * alpha * vm::expm1(x[i]);
            break;
        }
        case Activation::Exponential:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = vm::exp(x[i]);
            break;
        case Activation::Swish:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = x[i] * vm::sigmoid(x[i]);
            break;
        case Activation::Gelu:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * vm::erfc(-0.70710678118654752f * x[i]);
            break;
        default:
            break;
    }
}

static void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
#pragma omp parallel for if (worth_threads(rows * cols))
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -INFINITY;
#pragma omp simd reduction(max : m)
        for (int64_t j = 0; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) {
            yr[j] = vm::exp(xr[j] - m);
            s += yr[j];
        }
        float inv = 1.0f / s;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
    }
}

static void act_forward(Activation act, const float* x, float* y, int64_t rows, int64_t cols) {
    if (act == Activation::Softmax) return softmax_rows(x, y, rows, cols);
    int64_t n = rows * cols;
    if (!worth_threads(n)) return unary_forward(act, x, y, n);
    const int64_t chunk = 16384;
#pragma omp parallel for
    for (int64_t s = 0; s < n; s += chunk) unary_forward(act, x + s, y + s, n - s < chunk ? n - s : chunk);
}

static void unary_backward(Activation act, const float* x, const float* y, const float* dy, float* dx,
                           int64_t n) {
    switch (act) {
        case Activation::Linear:
            if (dx != dy)
#pragma omp simd
                for (int64_t i = 0; i < n; ++i) dx[i] = dy[i];
            break;
        case Activation::Relu:
            // NaN in y passes dy on (as PyTorch), so a NaN never turns into a zero gradient.
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = y[i] <= 0.0f ? 0.0f : dy[i];
            break;
        case Activation::Sigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
            break;
        case Activation::HardSigmoid:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = (y[i] <= 0.0f || y[i] >= 1.0f) ? 0.0f : 0.2f * dy[i];
            break;
        case Activation::Tanh:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
            break;
        case Activation::Softplus:  // sigmoid(x) = 1 - exp(-y)
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = -dy[i] * vm::expm1(-y[i]);
            break;
        case Activation::Softsign:  // 1 / (1 + |x|)^2 = (1 - |y|)^2
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float t = 1.0f - (y[i] < 0.0f ? -y[i] : y[i]);
                dx[i] = dy[i] * t * t;
            }
            break;
        case Activation::Elu:  // exp(x) = y + 1 below zero
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : dy[i] * (y[i] + 1.0f);
            break;
        case Activation::Selu: {
            const float alpha = 1.6732632423543772f, scale = 1.0507009873554805f;
#pragma omp simd
            for (int64_t i = 0; i < n; ++i)
                dx[i] = y[i] > 0.0f ? dy[i] * scale : dy[i] * (y[i] + scale * alpha);
            break;
        }
        case Activation::Exponential:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i];
            break;
        case Activation::Swish:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float s = vm::sigmoid(x[i]);
                dx[i] = dy[i] * (s + x[i] * s * (1.0f - s));
            }
            break;
        case Activation::Gelu:
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) {
                float v = x[i];
                float cdf = 0.5f * vm::erfc(-0.70710678118654752f * v);
                float pdf = 0.39894228040143268f * vm::exp(-0.5f * v * v);
                dx[i] = dy[i] * (cdf + v * pdf);
            }
            break;
        default:
            break;
    }
}

static void softmax_rows_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
#pragma omp parallel for if (worth_threads(rows * cols))
    for (int64_t r = 0; r < rows; ++r) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float* dr = dx + r * cols;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < cols; ++j) s += gr[j] * yr[j];
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) dr[j] = yr[j] * (gr[j] - s);
    }
}

static void act_backward(Activation act, const float* x, const float* y, const float* dy, float* dx,
                         int64_t rows, int64_t cols) {
    if (act == Activation::Softmax) return softmax_rows_backward(y, dy, dx, rows, cols);
    int64_t n = rows * cols;
    if (!worth_threads(n)) return unary_backward(act, x, y, dy, dx, n);
    const int64_t chunk = 16384;
#pragma omp parallel for
    for (int64_t s = 0; s < n; s += chunk) {
        int64_t len = n - s < chunk ? n - s : chunk;
        unary_backward(act, x ? x + s : nullptr, y ? y + s : nullptr, dy + s, dx + s, len);
    }
}

// The optimizer updates: chunks of 4096 elements, subnormals flushed (flushed_chunks in
// elementwise_kernels.h).
template <class F>
static inline void update_chunks(int64_t n, F&& chunk) {
    flushed_chunks(n, 4096, worth_threads(n), chunk);
}

static void sgd(float* p, const float* g, float* v, int64_t n, float lr, float momentum, bool nesterov) {
    update_chunks(n, [&](int64_t s, int64_t e) {
        if (!v) {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) p[i] -= lr * g[i];
        } else if (nesterov) {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) {
                float vi = momentum * v[i] - lr * g[i];
                v[i] = vi;
                p[i] += momentum * vi - lr * g[i];
            }
        } else {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) {
                float vi = momentum * v[i] - lr * g[i];
                v[i] = vi;
                p[i] += vi;
            }
        }
    });
}

// Plain RMSprop (no momentum, not centered) on elements [s, e): the loop rmsprop and
// rmsprop_rows share, so a row updated alone gets the bits of the dense update.
static inline void rmsprop_plain(float* p, const float* g, float* a, int64_t s, int64_t e, float lr, float rho,
                                 float one_minus_rho, float eps) {
#pragma omp simd
    for (int64_t i = s; i < e; ++i) {
        float ai = rho * a[i] + one_minus_rho * g[i] * g[i];
        a[i] = ai;
        p[i] -= lr * g[i] / (__builtin_sqrtf(ai) + eps);
    }
}

static void rmsprop(float* p, const float* g, float* a, float* mom, float* mg, int64_t n, float lr, float rho,
                    float momentum, float eps) {
    const float one_minus_rho = 1.0f - rho;
    update_chunks(n, [&](int64_t s, int64_t e) {
        if (!mg && !mom) {
            rmsprop_plain(p, g, a, s, e, lr, rho, one_minus_rho, eps);
            return;
        }
        if (mg) {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) mg[i] = rho * mg[i] + one_minus_rho * g[i];
        }
#pragma omp simd
        for (int64_t i = s; i < e; ++i) {
            float ai = rho * a[i] + one_minus_rho * g[i] * g[i];
            a[i] = ai;
            float denom = mg ? ai - mg[i] * mg[i] : ai;
            if (mom) {
                float mi = momentum * mom[i] + lr * g[i] / __builtin_sqrtf(denom + eps);
                mom[i] = mi;
                p[i] -= mi;
            } else {
                p[i] -= lr * g[i] / (__builtin_sqrtf(denom) + eps);
            }
        }
    });
}

// Plain RMSprop on rows rows[0..n) of (rows, dim) blocks, row i's accumulator first decayed
// skipped[i] times (a = rho a: the dense update under a zero gradient, rounded alike).
static void rmsprop_rows(float* p, const float* g, float* a, int64_t dim, const int64_t* rows,
                         const int64_t* skipped, int64_t n, float lr, float rho, float eps) {
    const float one_minus_rho = 1.0f - rho;
    // one row at a time, flushed as the dense update
    flushed_chunks(n, 1, worth_threads(n * dim), [&](int64_t i, int64_t) {
        const int64_t off = rows[i] * dim;
        if (i + 1 < n) {
            // The rows are scattered over a table larger than the caches: ask for the next
            // row's lines while this one computes (the hardware cannot guess where it is).
            const int64_t next = rows[i + 1] * dim;
            for (int64_t j = 0; j < dim; j += 16) {
                __builtin_prefetch(p + next + j, 1);
                __builtin_prefetch(g + next + j, 0);
                __builtin_prefetch(a + next + j, 1);
            }
        }
        float* ar = a + off;
        for (int64_t k = 0; k < skipped[i]; ++k)
#pragma omp simd
            for (int64_t j = 0; j < dim; ++j) ar[j] = rho * ar[j];
        rmsprop_plain(p + off, g + off, ar, 0, dim, lr, rho, one_minus_rho, eps);
    });
}

// The adaptive optimizers below take their step-dependent scalars (bias corrections, Nadam's
// momentum schedule, the decayed learning rate) from the caller, so each is a pure
// elementwise update (in update_chunks).

// a += g^2;  p -= lr g / (sqrt(a) + eps).
static void adagrad(float* p, const float* g, float* a, int64_t n, float lr, float eps) {
    update_chunks(n, [&](int64_t s, int64_t e) {
#pragma omp simd
        for (int64_t i = s; i < e; ++i) {
            float ai = a[i] + g[i] * g[i];
            a[i] = ai;
            p[i] -= lr * g[i] / (__builtin_sqrtf(ai) + eps);
        }
    });
}

// a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);  p -= lr u;
// d = rho d + (1 - rho) u^2.
static void adadelta(float* p, const float* g, float* a, float* d, int64_t n, float lr, float rho, float eps) {
    const float one_minus_rho = 1.0f - rho;
    update_chunks(n, [&](int64_t s, int64_t e) {
#pragma omp simd
        for (int64_t i = s; i < e; ++i) {
            float ai = rho * a[i] + one_minus_rho * g[i] * g[i];
            a[i] = ai;
            float u = g[i] * __builtin_sqrtf(d[i] + eps) / __builtin_sqrtf(ai + eps);
            p[i] -= lr * u;
            d[i] = rho * d[i] + one_minus_rho * u * u;
        }
    });
}

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  vhat = max(vhat, v) when amsgrad (vhat not null);
// p -= lr_t m / (sqrt(amsgrad ? vhat : v) + eps).
static void adam(float* p, const float* g, float* m, float* v, float* vhat, int64_t n, float lr_t, float beta_1,
                 float beta_2, float eps) {
    const float one_minus_b1 = 1.0f - beta_1, one_minus_b2 = 1.0f - beta_2;
    update_chunks(n, [&](int64_t s, int64_t e) {
        if (vhat) {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) {
                float mi = beta_1 * m[i] + one_minus_b1 * g[i];
                float vi = beta_2 * v[i] + one_minus_b2 * g[i] * g[i];
                float hi = vhat[i] > vi ? vhat[i] : vi;
                m[i] = mi;
                v[i] = vi;
                vhat[i] = hi;
                p[i] -= lr_t * mi / (__builtin_sqrtf(hi) + eps);
            }
        } else {
#pragma omp simd
            for (int64_t i = s; i < e; ++i) {
                float mi = beta_1 * m[i] + one_minus_b1 * g[i];
                float vi = beta_2 * v[i] + one_minus_b2 * g[i] * g[i];
                m[i] = mi;
                v[i] = vi;
                p[i] -= lr_t * mi / (__builtin_sqrtf(vi) + eps);
            }
        }
    });
}

// m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr_t m / (u + eps).
static void adamax(float* p, const float* g, float* m, float* u, int64_t n, float lr_t, float beta_1, float beta_2,
                   float eps) {
    const float one_minus_b1 = 1.0f - beta_1;
    update_chunks(n, [&](int64_t s, int64_t e) {
#pragma omp simd
        for (int64_t i = s; i < e; ++i) {
            float mi = beta_1 * m[i] + one_minus_b1 * g[i];
            float bu = beta_2 * u[i], ag = g[i] < 0.0f ? -g[i] : g[i];
            float ui = bu > ag ? bu : ag;
            m[i] = mi;
            u[i] = ui;
            p[i] -= lr_t * mi / (ui + eps);
        }
    });
}

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// p -= lr (grad_coef g + moment_coef m) / (sqrt(v / v_correction) + eps),
// with grad_coef = (1 - mu_t) / (1 - prod mu_1..t), moment_coef = mu_t+1 / (1 - prod mu_1..t+1),
// v_correction = 1 - b2^t (Keras 2.2.4's g', m', v' folded into two coefficients).
static void nadam(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta_1, float beta_2,
                  float eps, float grad_coef, float moment_coef, float v_correction) {
    const float one_minus_b1 = 1.0f - beta_1, one_minus_b2 = 1.0f - beta_2;
    update_chunks(n, [&](int64_t s, int64_t e) {
#pragma omp simd
        for (int64_t i = s; i < e; ++i) {
            float mi = beta_1 * m[i] + one_minus_b1 * g[i];
            float vi = beta_2 * v[i] + one_minus_b2 * g[i] * g[i];
            m[i] = mi;
            v[i] = vi;
            float m_bar = grad_coef * g[i] + moment_coef * mi;
            p[i] -= lr * m_bar / (__builtin_sqrtf(vi / v_correction) + eps);
        }
    });
}

// Dropout backward (the forward pass and its generator: random_kernels.inl).
static void dropout_bwd(const float* dy, const uint8_t* mask, float* dx, int64_t n, float rate) {
    const float scale = 1.0f / (1.0f - rate);
#pragma omp parallel for if (worth_threads(n))
    for (int64_t s = 0; s < n; s += 16384) {
        const int64_t e = s + 16384 < n ? s + 16384 : n;
#pragma omp simd
        for (int64_t i = s; i < e; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
    }
}

static const ElementwiseKernels table = {act_forward, act_backward, sgd,   rmsprop,    rmsprop_rows, adagrad,
                                         adadelta,    adam,         adamax, nadam, dropout_bwd};
