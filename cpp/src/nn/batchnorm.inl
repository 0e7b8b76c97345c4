// Batch normalization passes, compiled once per instruction set: batchnorm_{generic,avx2,avx512}.cpp
// include this file inside their own namespace, and batchnorm.cpp dispatches at run time.
// Plain loops under `omp simd`, no STL templates (an inline template instantiated with
// AVX-512 flags could be picked by the linker for the portable build).
//
// Two layouts (seqnet/batchnorm.h): inner == 1 (channels last) runs along rows of
// `channels` floats, vectorised across channels; inner > 1 runs along each channel's
// contiguous runs of `inner` floats. Threads split blocks, rows or runs: never a sum.
//
// Requires: batchnorm_kernels.h, <omp.h>, <cstdint> included before.

// Below this many floats a fork costs more than it saves.
static inline bool bn_worth_threads(int64_t n) { return n >= (int64_t(1) << 15); }

static inline int64_t bn_min(int64_t a, int64_t b) { return a < b ? a : b; }

// A run's float sums are taken over at most this many elements, then added in double.
static const int64_t kRunChunk = 4096;

static void stat_partials(const BatchNormShape& s, const BnBlocks& bl, const float* x, const float* shift,
                          float* p0, float* p1) {
    const int64_t C = s.channels, I = s.inner, O = s.outer;
    if (I == 1) {
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C) && bl.count > 1)
        for (int64_t b = 0; b < bl.count; ++b) {
            float* sum = p0 + b * C;
            float* sq = p1 + b * C;
            for (int64_t c = 0; c < C; ++c) sum[c] = sq[c] = 0.0f;
            const int64_t r1 = bn_min(O, (b + 1) * bl.per_block);
            for (int64_t r = b * bl.per_block; r < r1; ++r) {
                const float* row = x + r * C;
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) {
                    const float v = row[c] - shift[c];
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
        }
        return;
    }
    const int64_t units = bl.count * C;
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C * I) && units > 1)
    for (int64_t u = 0; u < units; ++u) {
        const int64_t b = u / C, c = u % C;
        const float k = shift[c];
        double S = 0.0, Q = 0.0;
        const int64_t o1 = bn_min(O, (b + 1) * bl.per_block);
        for (int64_t o = b * bl.per_block; o < o1; ++o) {
            const float* run = x + (o * C + c) * I;
            for (int64_t i0 = 0; i0 < I; i0 += kRunChunk) {
                const int64_t i1 = bn_min(I, i0 + kRunChunk);
                float sum = 0.0f, sq = 0.0f;
#pragma omp simd reduction(+ : sum, sq)
                for (int64_t i = i0; i < i1; ++i) {
                    const float v = run[i] - k;
                    sum += v;
                    sq += v * v;
                }
                S += sum;
                Q += sq;
            }
        }
        p0[u] = static_cast<float>(S);
        p1[u] = static_cast<float>(Q);
    }
}

// dy through a fused ReLU whose output is y (as the Activation layer's relu gradient: y <= 0 ? 0 : dy).
static inline float relu_grad(float y, float dy) { return y <= 0.0f ? 0.0f : dy; }

template <bool kRelu>
static void grad_partials_t(const BatchNormShape& s, const BnBlocks& bl, const float* x, const float* dy,
                            const float* mean, float* p0, float* p1, const float* ry) {
    const int64_t C = s.channels, I = s.inner, O = s.outer;
    if (I == 1) {
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C) && bl.count > 1)
        for (int64_t b = 0; b < bl.count; ++b) {
            float* sum = p0 + b * C;
            float* dot = p1 + b * C;
            for (int64_t c = 0; c < C; ++c) sum[c] = dot[c] = 0.0f;
            const int64_t r1 = bn_min(O, (b + 1) * bl.per_block);
            for (int64_t r = b * bl.per_block; r < r1; ++r) {
                const float* row = x + r * C;
                const float* drow = dy + r * C;
                const float* yrow = kRelu ? ry + r * C : nullptr;
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) {
                    const float d = kRelu ? relu_grad(yrow[c], drow[c]) : drow[c];
                    sum[c] += d;
                    dot[c] += d * (row[c] - mean[c]);
                }
            }
        }
        return;
    }
    const int64_t units = bl.count * C;
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C * I) && units > 1)
    for (int64_t u = 0; u < units; ++u) {
        const int64_t b = u / C, c = u % C;
        const float m = mean[c];
        double S = 0.0, D = 0.0;
        const int64_t o1 = bn_min(O, (b + 1) * bl.per_block);
        for (int64_t o = b * bl.per_block; o < o1; ++o) {
            const float* run = x + (o * C + c) * I;
            const float* drun = dy + (o * C + c) * I;
            const float* yrun = kRelu ? ry + (o * C + c) * I : nullptr;
            for (int64_t i0 = 0; i0 < I; i0 += kRunChunk) {
                const int64_t i1 = bn_min(I, i0 + kRunChunk);
                float sum = 0.0f, dot = 0.0f;
#pragma omp simd reduction(+ : sum, dot)
                for (int64_t i = i0; i < i1; ++i) {
                    const float d = kRelu ? relu_grad(yrun[i], drun[i]) : drun[i];
                    sum += d;
                    dot += d * (run[i] - m);
                }
                S += sum;
                D += dot;
            }
        }
        p0[u] = static_cast<float>(S);
        p1[u] = static_cast<float>(D);
    }
}

static void grad_partials(const BatchNormShape& s, const BnBlocks& bl, const float* x, const float* dy,
                          const float* mean, float* p0, float* p1, const float* relu_y) {
    if (relu_y) grad_partials_t<true>(s, bl, x, dy, mean, p0, p1, relu_y);
    else grad_partials_t<false>(s, bl, x, dy, mean, p0, p1, nullptr);
}

// y <= 0 ? 0 : y, as the Activation layer's relu (NaN passes).
static inline float relu_of(float y) { return y <= 0.0f ? 0.0f : y; }

template <bool kRelu>
static void affine_t(const BatchNormShape& s, const float* x, const float* center, const float* scale,
                     const float* offset, float* y) {
    const int64_t C = s.channels, I = s.inner, O = s.outer;
    if (I == 1) {
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C))
        for (int64_t r = 0; r < O; ++r) {
            const float* row = x + r * C;
            float* out = y + r * C;
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) {
                const float v = (row[c] - center[c]) * scale[c] + offset[c];
                out[c] = kRelu ? relu_of(v) : v;
            }
        }
        return;
    }
    const int64_t runs = O * C;
#pragma omp parallel for schedule(static) if (bn_worth_threads(runs * I))
    for (int64_t u = 0; u < runs; ++u) {
        const int64_t c = u % C;
        const float m = center[c], a = scale[c], b = offset[c];
        const float* run = x + u * I;
        float* out = y + u * I;
#pragma omp simd
        for (int64_t i = 0; i < I; ++i) {
            const float v = (run[i] - m) * a + b;
            out[i] = kRelu ? relu_of(v) : v;
        }
    }
}

static void affine(const BatchNormShape& s, const float* x, const float* center, const float* scale,
                   const float* offset, float* y, bool relu) {
    if (relu) affine_t<true>(s, x, center, scale, offset, y);
    else affine_t<false>(s, x, center, scale, offset, y);
}

template <bool kRelu>
static void input_grad_t(const BatchNormShape& s, const float* x, const float* dy, const float* center,
                         const float* k1, const float* k2, const float* k3, float* dx, const float* ry) {
    const int64_t C = s.channels, I = s.inner, O = s.outer;
    const bool through_stats = k2 != nullptr;
    if (I == 1) {
#pragma omp parallel for schedule(static) if (bn_worth_threads(O * C))
        for (int64_t r = 0; r < O; ++r) {
            const float* row = x + r * C;
            const float* drow = dy + r * C;
            const float* yrow = kRelu ? ry + r * C : nullptr;
            float* out = dx + r * C;
            if (through_stats) {
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) {
                    const float d = kRelu ? relu_grad(yrow[c], drow[c]) : drow[c];
                    out[c] = k1[c] * d - k2[c] - k3[c] * (row[c] - center[c]);
                }
            } else {
#pragma omp simd
                for (int64_t c = 0; c < C; ++c) out[c] = k1[c] * (kRelu ? relu_grad(yrow[c], drow[c]) : drow[c]);
            }
        }
        return;
    }
    const int64_t runs = O * C;
#pragma omp parallel for schedule(static) if (bn_worth_threads(runs * I))
    for (int64_t u = 0; u < runs; ++u) {
        const int64_t c = u % C;
        const float a = k1[c];
        const float* run = x + u * I;
        const float* drun = dy + u * I;
        const float* yrun = kRelu ? ry + u * I : nullptr;
        float* out = dx + u * I;
        if (through_stats) {
            const float m = center[c], b = k2[c], g = k3[c];
#pragma omp simd
            for (int64_t i = 0; i < I; ++i) {
                const float d = kRelu ? relu_grad(yrun[i], drun[i]) : drun[i];
                out[i] = a * d - b - g * (run[i] - m);
            }
        } else {
#pragma omp simd
            for (int64_t i = 0; i < I; ++i) out[i] = a * (kRelu ? relu_grad(yrun[i], drun[i]) : drun[i]);
        }
    }
}

static void input_grad(const BatchNormShape& s, const float* x, const float* dy, const float* center, const float* k1,
                       const float* k2, const float* k3, float* dx, const float* relu_y) {
    if (relu_y) input_grad_t<true>(s, x, dy, center, k1, k2, k3, dx, relu_y);
    else input_grad_t<false>(s, x, dy, center, k1, k2, k3, dx, nullptr);
}

static const BatchNormKernels table = {stat_partials, grad_partials, affine, input_grad};
