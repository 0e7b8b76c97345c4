// Window pooling over channels_last tensors, included once per instruction set (inside
// namespace seqnet::<isa>). Channels are contiguous, so every kernel runs over blocks of
// kLanes channels held in registers. Forward passes split output rows over threads. Backward:
// when the windows tile the input (strides == pool size, Keras' default) every input element
// belongs to at most one window, so dx is written once per element, output rows in parallel;
// otherwise images are scattered one at a time, images in parallel. Either way every sum runs
// in a fixed order whatever the number of threads, and results are bit-identical across ISAs.

static constexpr int64_t kMinParallelWork = 1 << 15;
static constexpr int64_t kLanes = 16;

static bool parallel_worth(int64_t work) { return work > kMinParallelWork && !omp_in_parallel(); }

namespace {

struct Window {
    int64_t h0, h1, w0, w1;
    int64_t count() const { return (h1 - h0) * (w1 - w0); }
    bool empty() const { return h0 >= h1 || w0 >= w1; }
};

}  // namespace

static Window window(const PoolShape& s, int64_t oh, int64_t ow) {
    const int64_t hs = oh * s.sh - s.pad_top, ws = ow * s.sw - s.pad_left;
    return {std::max<int64_t>(hs, 0), std::min(hs + s.ph, s.h), std::max<int64_t>(ws, 0), std::min(ws + s.pw, s.w)};
}

static bool tiles(const PoolShape& s) { return s.sh == s.ph && s.sw == s.pw; }

// Max over the window of `len` channels (len == L at compile time for full blocks). Positions
// are visited in row-major order and one replaces the running maximum when strictly greater
// or NaN, so ties go to the first position and a NaN propagates (the last NaN is kept).
template <int64_t L>
static inline void max_window(const float* xi, int64_t C, int64_t w, const Window& win, int64_t len,
                              float* yo, int32_t* ao) {
    const int64_t n = L > 0 ? L : len;
    float m[L > 0 ? L : kLanes];
    int32_t a[L > 0 ? L : kLanes];
    const int32_t p0 = int32_t(win.h0 * w + win.w0);
    const float* x0 = xi + int64_t(p0) * C;
#pragma omp simd
    for (int64_t l = 0; l < n; ++l) m[l] = x0[l], a[l] = p0;
    for (int64_t ih = win.h0; ih < win.h1; ++ih) {
        for (int64_t iw = ih == win.h0 ? win.w0 + 1 : win.w0; iw < win.w1; ++iw) {
            const int32_t p = int32_t(ih * w + iw);
            const float* xp = xi + int64_t(p) * C;
#pragma omp simd
            for (int64_t l = 0; l < n; ++l) {
                const float v = xp[l], cur = m[l];
                const bool take = v > cur || v != v;
                m[l] = take ? v : cur;
                a[l] = take ? p : a[l];
            }
        }
    }
#pragma omp simd
    for (int64_t l = 0; l < n; ++l) yo[l] = m[l], ao[l] = a[l];
}

// The same for a full 2x2 window at position p0 (the common MaxPooling2D()).
template <int64_t L>
static inline void max_window_2x2(const float* xi, int64_t C, int64_t w, int32_t p0, float* yo, int32_t* ao) {
    const float* x0 = xi + int64_t(p0) * C;
    const float* x1 = x0 + C;
    const float* x2 = x0 + w * C;
    const float* x3 = x2 + C;
    const int32_t p1 = p0 + 1, p2 = p0 + int32_t(w), p3 = p2 + 1;
#pragma omp simd
    for (int64_t l = 0; l < L; ++l) {
        float m = x0[l];
        int32_t a = p0;
        float v = x1[l];
        bool take = v > m || v != v;
        m = take ? v : m, a = take ? p1 : a;
        v = x2[l];
        take = v > m || v != v;
        m = take ? v : m, a = take ? p2 : a;
        v = x3[l];
        take = v > m || v != v;
        m = take ? v : m, a = take ? p3 : a;
        yo[l] = m, ao[l] = a;
    }
}

static void max_fwd(const PoolShape& s, const float* x, float* y, int32_t* argmax) {
    const int64_t C = s.c, rows = s.n * s.oh, full = C - C % kLanes;
    const bool two = s.ph == 2 && s.pw == 2;
#pragma omp parallel for schedule(static) if (parallel_worth(rows * s.ow * C * s.ph * s.pw))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = r / s.oh, oh = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        for (int64_t ow = 0; ow < s.ow; ++ow) {
            float* yo = y + (r * s.ow + ow) * C;
            int32_t* ao = argmax + (r * s.ow + ow) * C;
            const Window win = window(s, oh, ow);
            if (win.empty()) {
                for (int64_t ch = 0; ch < C; ++ch) yo[ch] = 0.0f, ao[ch] = -1;
                continue;
            }
            if (two && win.count() == 4) {
                const int32_t p0 = int32_t(win.h0 * s.w + win.w0);
                for (int64_t c0 = 0; c0 < full; c0 += kLanes)
                    max_window_2x2<kLanes>(xi + c0, C, s.w, p0, yo + c0, ao + c0);
            } else {
                for (int64_t c0 = 0; c0 < full; c0 += kLanes)
                    max_window<kLanes>(xi + c0, C, s.w, win, kLanes, yo + c0, ao + c0);
            }
            if (full < C) max_window<0>(xi + full, C, s.w, win, C - full, yo + full, ao + full);
        }
    }
}

// Zeroes the parts of dx no window covers when windows tile the input: rows and columns past
// the last window (pads only ever precede the input's first window position).
static void zero_uncovered(const PoolShape& s, float* dx) {
    const int64_t C = s.c, rows = std::min(s.h, std::max<int64_t>(s.oh * s.sh - s.pad_top, 0));
    const int64_t cols = std::min(s.w, std::max<int64_t>(s.ow * s.sw - s.pad_left, 0));
    for (int64_t img = 0; img < s.n; ++img) {
        float* dxi = dx + img * s.h * s.w * C;
        if (cols < s.w)
            for (int64_t ih = 0; ih < rows; ++ih)
                std::memset(dxi + (ih * s.w + cols) * C, 0, size_t((s.w - cols) * C) * sizeof(float));
        std::memset(dxi + rows * s.w * C, 0, size_t((s.h - rows) * s.w * C) * sizeof(float));
    }
}

static void max_bwd(const PoolShape& s, const float* dy, const int32_t* argmax, float* dx, const float* gate) {
    const int64_t C = s.c, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
    if (tiles(s)) {
        // Each element of a window receives 0 + dy (0 + keeps -0 as the scatter into zeros
        // made it) when it is the window's argmax, else 0. An argmax outside its window
        // (never produced by max_pool_forward) reaches nothing. With a gate, only where the
        // window's gate value is not <= 0 (see pool.h).
        const int64_t rows = s.n * s.oh;
#pragma omp parallel for schedule(static) if (parallel_worth(s.n * (in_img + out_img)))
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t img = r / s.oh, oh = r % s.oh;
            float* dxi = dx + img * in_img;
            for (int64_t ow = 0; ow < s.ow; ++ow) {
                const Window win = window(s, oh, ow);
                const float* g = dy + (r * s.ow + ow) * C;
                const int32_t* a = argmax + (r * s.ow + ow) * C;
                const float* y = gate ? gate + (r * s.ow + ow) * C : nullptr;
                for (int64_t ih = win.h0; ih < win.h1; ++ih)
                    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
                        const int32_t p = int32_t(ih * s.w + iw);
                        float* d = dxi + int64_t(p) * C;
                        if (y) {
#pragma omp simd
                            for (int64_t ch = 0; ch < C; ++ch)
                                d[ch] = a[ch] == p && !(y[ch] <= 0.0f) ? 0.0f + g[ch] : 0.0f;
                        } else {
#pragma omp simd
                            for (int64_t ch = 0; ch < C; ++ch) d[ch] = a[ch] == p ? 0.0f + g[ch] : 0.0f;
                        }
                    }
            }
        }
        zero_uncovered(s, dx);
        return;
    }
#pragma omp parallel for schedule(static) if (parallel_worth(s.n * (in_img + out_img)))
    for (int64_t img = 0; img < s.n; ++img) {
        float* dxi = dx + img * in_img;
        std::memset(dxi, 0, size_t(in_img) * sizeof(float));
        const float* dyi = dy + img * out_img;
        const int32_t* ai = argmax + img * out_img;
        const float* yi = gate ? gate + img * out_img : nullptr;
        for (int64_t o = 0; o < s.oh * s.ow; ++o) {
            for (int64_t ch = 0; ch < C; ++ch) {
                const int32_t p = ai[o * C + ch];
                // a gated window adds nothing where the ReLU before the pooling passes nothing:
                // the ReLU's output at p is this window's maximum, which the gate holds
                if (p >= 0 && p < s.h * s.w && !(yi && yi[o * C + ch] <= 0.0f))
                    dxi[int64_t(p) * C + ch] += dyi[o * C + ch];
            }
        }
    }
}

// Sum over the window from 0 in row-major order, then divided by the count.
template <int64_t L>
static inline void avg_window(const float* xi, int64_t C, int64_t w, const Window& win, int64_t len, float* yo) {
    const int64_t n = L > 0 ? L : len;
    float acc[L > 0 ? L : kLanes];
#pragma omp simd
    for (int64_t l = 0; l < n; ++l) acc[l] = 0.0f;
    for (int64_t ih = win.h0; ih < win.h1; ++ih)
        for (int64_t iw = win.w0; iw < win.w1; ++iw) {
            const float* xp = xi + (ih * w + iw) * C;
#pragma omp simd
            for (int64_t l = 0; l < n; ++l) acc[l] += xp[l];
        }
    const int64_t count = win.count();
    if (count > 0) {
        const float inv = float(count);
#pragma omp simd
        for (int64_t l = 0; l < n; ++l) acc[l] /= inv;
    }
#pragma omp simd
    for (int64_t l = 0; l < n; ++l) yo[l] = acc[l];
}

static void avg_fwd(const PoolShape& s, const float* x, float* y) {
    const int64_t C = s.c, rows = s.n * s.oh, full = C - C % kLanes;
#pragma omp parallel for schedule(static) if (parallel_worth(rows * s.ow * C * s.ph * s.pw))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = r / s.oh, oh = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        for (int64_t ow = 0; ow < s.ow; ++ow) {
            float* yo = y + (r * s.ow + ow) * C;
            const Window win = window(s, oh, ow);
            for (int64_t c0 = 0; c0 < full; c0 += kLanes) avg_window<kLanes>(xi + c0, C, s.w, win, kLanes, yo + c0);
            if (full < C) avg_window<0>(xi + full, C, s.w, win, C - full, yo + full);
        }
    }
}

static void avg_bwd(const PoolShape& s, const float* dy, float* dx) {
    const int64_t C = s.c, in_img = s.h * s.w * C, out_img = s.oh * s.ow * C;
    if (tiles(s)) {
        // One window per element: 0 + dy / count, as the scatter into zeros computed it.
        const int64_t rows = s.n * s.oh;
#pragma omp parallel for schedule(static) if (parallel_worth(s.n * (in_img + out_img)))
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t img = r / s.oh, oh = r % s.oh;
            float* dxi = dx + img * in_img;
            for (int64_t ow = 0; ow < s.ow; ++ow) {
                const Window win = window(s, oh, ow);
                const float inv = float(win.count());
                const float* g = dy + (r * s.ow + ow) * C;
                for (int64_t ih = win.h0; ih < win.h1; ++ih)
                    for (int64_t iw = win.w0; iw < win.w1; ++iw) {
                        float* d = dxi + (ih * s.w + iw) * C;
#pragma omp simd
                        for (int64_t ch = 0; ch < C; ++ch) d[ch] = 0.0f + g[ch] / inv;
                    }
            }
        }
        zero_uncovered(s, dx);
        return;
    }
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

static const PoolKernels table = {max_fwd, max_bwd, avg_fwd, avg_bwd};
