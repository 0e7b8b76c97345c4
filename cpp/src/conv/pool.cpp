// Max and average pooling (windows and global), channels_last. The window kernels are built
// per instruction set (pool_kernels.inl) and chosen at run time; global pooling is here.
// Forward passes split rows over threads; backward passes write each element of dx in a fixed
// order, so results are the same whatever the number of threads.
#include "seqnet/pool.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "pool_kernels.h"
#include "seqnet/cpu.h"

namespace seqnet {
namespace {

constexpr int64_t kMinParallelWork = 1 << 15;

bool parallel_worth(int64_t work) { return work > kMinParallelWork && !omp_in_parallel(); }

}  // namespace

const PoolKernels& pool_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::pool_kernels();
        case Isa::Avx2: return avx2::pool_kernels();
#endif
        default: return generic::pool_kernels();
    }
}

void max_pool_forward(const PoolShape& s, const float* x, float* y, int32_t* argmax) {
    pool_kernels().max_forward(s, x, y, argmax);
}

void max_pool_backward(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx, const float* gate) {
    pool_kernels().max_backward(s, dy, argmax, dx, gate);
}

void avg_pool_forward(const PoolShape& s, const float* x, float* y) { pool_kernels().avg_forward(s, x, y); }

void avg_pool_backward(const PoolShape& s, const float* dy, float* dx) { pool_kernels().avg_backward(s, dy, dx); }

void global_avg_pool_forward(const float* x, float* y, int64_t n, int64_t l, int64_t c) {
#pragma omp parallel for schedule(static) if (parallel_worth(n * l * c))
    for (int64_t img = 0; img < n; ++img) {
        float* yo = y + img * c;
        for (int64_t ch = 0; ch < c; ++ch) yo[ch] = 0.0f;
        for (int64_t p = 0; p < l; ++p) {
            const float* xp = x + (img * l + p) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) yo[ch] += xp[ch];
        }
        if (l > 0)
            for (int64_t ch = 0; ch < c; ++ch) yo[ch] /= float(l);
    }
}

void global_avg_pool_backward(const float* dy, float* dx, int64_t n, int64_t l, int64_t c) {
#pragma omp parallel for schedule(static) if (parallel_worth(n * l * c))
    for (int64_t img = 0; img < n; ++img) {
        const float* g = dy + img * c;
        for (int64_t p = 0; p < l; ++p) {
            float* d = dx + (img * l + p) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) d[ch] = g[ch] / float(l);
        }
    }
}

void global_max_pool_forward(const float* x, float* y, int32_t* argmax, int64_t n, int64_t l, int64_t c) {
#pragma omp parallel for schedule(static) if (parallel_worth(n * l * c))
    for (int64_t img = 0; img < n; ++img) {
        float* yo = y + img * c;
        int32_t* ao = argmax + img * c;
        if (l == 0) {
            for (int64_t ch = 0; ch < c; ++ch) yo[ch] = 0.0f, ao[ch] = -1;
            continue;
        }
        const float* x0 = x + img * l * c;
        for (int64_t ch = 0; ch < c; ++ch) yo[ch] = x0[ch], ao[ch] = 0;
        for (int64_t p = 1; p < l; ++p) {
            const float* xp = x0 + p * c;
            for (int64_t ch = 0; ch < c; ++ch) {
                const bool more = xp[ch] > yo[ch] || xp[ch] != xp[ch];  // NaN propagates, as above
                yo[ch] = more ? xp[ch] : yo[ch];
                ao[ch] = more ? int32_t(p) : ao[ch];
            }
        }
    }
}

void global_max_pool_backward(const float* dy, const int32_t* argmax, float* dx, int64_t n, int64_t l, int64_t c) {
#pragma omp parallel for schedule(static) if (parallel_worth(n * l * c))
    for (int64_t img = 0; img < n; ++img) {
        float* d = dx + img * l * c;
        std::memset(d, 0, size_t(l * c) * sizeof(float));
        for (int64_t ch = 0; ch < c; ++ch) {
            const int32_t p = argmax[img * c + ch];
            if (p >= 0 && p < l) d[int64_t(p) * c + ch] = dy[img * c + ch];
        }
    }
}

}  // namespace seqnet
