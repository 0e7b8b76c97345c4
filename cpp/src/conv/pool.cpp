// Max and average pooling (windows and global), channels_last. Forward passes split
// output rows over threads; backward passes scatter within one image at a time, images in
// parallel, so every sum runs in a fixed order whatever the number of threads.
#include "seqnet/pool.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

namespace seqnet {
namespace {

constexpr int64_t kMinParallelWork = 1 << 15;

bool parallel_worth(int64_t work) { return work > kMinParallelWork && !omp_in_parallel(); }

struct Window {
    int64_t h0, h1, w0, w1;
    int64_t count() const { return (h1 - h0) * (w1 - w0); }
};

Window window(const PoolShape& s, int64_t oh, int64_t ow) {
    const int64_t hs = oh * s.sh - s.pad_top, ws = ow * s.sw - s.pad_left;
    return {std::max<int64_t>(hs, 0), std::min(hs + s.ph, s.h), std::max<int64_t>(ws, 0), std::min(ws + s.pw, s.w)};
}

}  // namespace

void max_pool_forward(const PoolShape& s, const float* x, float* y, int32_t* argmax) {
    const int64_t C = s.c, rows = s.n * s.oh;
#pragma omp parallel for schedule(static) if (parallel_worth(rows * s.ow * C * s.ph * s.pw))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = r / s.oh, oh = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        for (int64_t ow = 0; ow < s.ow; ++ow) {
            float* yo = y + (r * s.ow + ow) * C;
            int32_t* ao = argmax + (r * s.ow + ow) * C;
            const Window win = window(s, oh, ow);
            if (win.h0 >= win.h1 || win.w0 >= win.w1) {
                for (int64_t ch = 0; ch < C; ++ch) yo[ch] = 0.0f, ao[ch] = -1;
                continue;
            }
            const int32_t p0 = int32_t(win.h0 * s.w + win.w0);
            const float* x0 = xi + int64_t(p0) * C;
#pragma omp simd
            for (int64_t ch = 0; ch < C; ++ch) yo[ch] = x0[ch], ao[ch] = p0;
            for (int64_t ih = win.h0; ih < win.h1; ++ih) {
                for (int64_t iw = win.w0; iw < win.w1; ++iw) {
                    const int32_t p = int32_t(ih * s.w + iw);
                    if (p == p0) continue;
                    const float* xp = xi + int64_t(p) * C;
#pragma omp simd
                    for (int64_t ch = 0; ch < C; ++ch) {
                        // Branch-free (a mask), so that the loop vectorises on any instruction set.
                        // A NaN is taken and then kept (nothing compares above it): max propagates NaN.
                        const float v = xp[ch], cur = yo[ch];
                        const bool take = v > cur || v != v;
                        const int32_t more = -int32_t(take);
                        yo[ch] = take ? v : cur;
                        ao[ch] = (p & more) | (ao[ch] & ~more);
                    }
                }
            }
        }
    }
}

void max_pool_backward(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx) {
    const int64_t C = s.c, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
#pragma omp parallel for schedule(static) if (parallel_worth(s.n * (in_img + out_img)))
    for (int64_t img = 0; img < s.n; ++img) {
        float* dxi = dx + img * in_img;
        std::memset(dxi, 0, size_t(in_img) * sizeof(float));
        const float* dyi = dy + img * out_img;
        const int32_t* ai = argmax + img * out_img;
        for (int64_t o = 0; o < s.oh * s.ow; ++o) {
            for (int64_t ch = 0; ch < C; ++ch) {
                const int32_t p = ai[o * C + ch];
                if (p >= 0 && p < s.h * s.w) dxi[int64_t(p) * C + ch] += dyi[o * C + ch];
            }
        }
    }
}

void avg_pool_forward(const PoolShape& s, const float* x, float* y) {
    const int64_t C = s.c, rows = s.n * s.oh;
#pragma omp parallel for schedule(static) if (parallel_worth(rows * s.ow * C * s.ph * s.pw))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = r / s.oh, oh = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        for (int64_t ow = 0; ow < s.ow; ++ow) {
            float* yo = y + (r * s.ow + ow) * C;
            const Window win = window(s, oh, ow);
            for (int64_t ch = 0; ch < C; ++ch) yo[ch] = 0.0f;
            for (int64_t ih = win.h0; ih < win.h1; ++ih)
                for (int64_t iw = win.w0; iw < win.w1; ++iw) {
                    const float* xp = xi + (ih * s.w + iw) * C;
#pragma omp simd
                    for (int64_t ch = 0; ch < C; ++ch) yo[ch] += xp[ch];
                }
            const int64_t count = win.count();
            if (count > 0) {
                const float inv = float(count);
                for (int64_t ch = 0; ch < C; ++ch) yo[ch] /= inv;
            }
        }
    }
}

void avg_pool_backward(const PoolShape& s, const float* dy, float* dx) {
    const int64_t C = s.c, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
#pragma omp parallel for schedule(static) if (parallel_worth(s.n * (in_img + out_img * s.ph * s.pw)))
    for (int64_t img = 0; img < s.n; ++img) {
        float* dxi = dx + img * in_img;
        std::memset(dxi, 0, size_t(in_img) * sizeof(float));
        for (int64_t oh = 0; oh < s.oh; ++oh)
            for (int64_t ow = 0; ow < s.ow; ++ow) {
                const Window win = window(s, oh, ow);
                const int64_t count = win.count();
                if (count <= 0) continue;
                const float inv = float(count);
                const float* g = dy + img * out_img + (oh * s.ow + ow) * C;
                for (int64_t ih = win.h0; ih < win.h1; ++ih)
                    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
                        float* d = dxi + (ih * s.w + iw) * C;
#pragma omp simd
                        for (int64_t ch = 0; ch < C; ++ch) d[ch] += g[ch] / inv;
                    }
            }
    }
}

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
