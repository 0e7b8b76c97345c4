// Winograd F(m x m, 3 x 3) transforms, compiled once per instruction set:
// winograd_{generic,avx2,avx512}.cpp include this file inside their own namespace with
// SEQNET_WG_VL (floats per vector register) defined, and winograd.cpp dispatches at run time.
// Channels are the vector dimension (NHWC): each transform runs on SEQNET_WG_VL channels at once
// as GCC/Clang vector-extension values (a remainder of channels as plain floats, with the same
// operations in the same order, so every channel rounds alike). No threads here; every function
// is static or in the ISA's namespace and no std:: template is instantiated.
//
// The matrices (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016):
//   F(2,3): points 0, 1, -1, inf.       F(4,3): points 0, 1, -1, 2, -2, inf.
// Each 2-D transform X ↦ L X Rᵀ is the 1-D one applied to the columns, then to the rows.
//
// Requires: winograd_kernels.h, <cstdint> included before.

typedef float wg_vec __attribute__((vector_size(SEQNET_WG_VL * sizeof(float))));
typedef int32_t wg_ivec __attribute__((vector_size(SEQNET_WG_VL * sizeof(int32_t))));

template <class V>
static inline V wg_load(const float* p) {
    V v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

template <class V>
static inline void wg_store(float* p, const V& v) {
    __builtin_memcpy(p, &v, sizeof v);
}

// A store that bypasses the caches (x86, a whole aligned vector), for an output image written
// once and far larger than L2 (winograd.cpp decides). A plain store first reads each line it
// fills (the read for ownership), and those reads, a few in flight at a time, held the output
// transform to about 6 GB/s here; streamed, mnist_cnn's second layer took 2.1 ms instead of
// 3.5 ms for it (one thread), and the layer reading the output next (pooling) measured no
// slower. The layers' workspaces start on a cache line (engine/memory.py) so that it applies;
// an output that does not (NumPy's own arrays: 16 bytes past one) is stored as before. Same
// bits either way. wg_streams: whether this instruction set has such a store; wg_stream's p
// must then be aligned to a whole vector.
#if defined(__x86_64__) || defined(__i386__)
#if (defined(__AVX512F__) && SEQNET_WG_VL == 16) || (defined(__AVX__) && SEQNET_WG_VL == 8) || \
    (defined(__SSE__) && SEQNET_WG_VL == 4)
#define SEQNET_WG_STREAMS 1
#endif
#endif
#ifdef SEQNET_WG_STREAMS
constexpr bool wg_streams = true;
#else
constexpr bool wg_streams = false;
#endif

static inline void wg_stream(float* p, const wg_vec& v) {
#if defined(__x86_64__) || defined(__i386__)
#if defined(__AVX512F__) && SEQNET_WG_VL == 16
    _mm512_stream_ps(p, reinterpret_cast<const __m512&>(v));
    return;
#elif defined(__AVX__) && SEQNET_WG_VL == 8
    _mm256_stream_ps(p, reinterpret_cast<const __m256&>(v));
    return;
#elif defined(__SSE__) && SEQNET_WG_VL == 4
    _mm_stream_ps(p, reinterpret_cast<const __m128&>(v));
    return;
#endif
#endif
    wg_store<wg_vec>(p, v);
}
static inline void wg_stream(float* p, float v) { *p = v; }

// The 1-D transforms of F(M, 3): in = Bᵀ d (A inputs), wt = G g (3 taps), out = Aᵀ m (M outputs);
// for the kernel gradient, gout = A dy (M -> A) and gwt = Gᵀ u (A -> 3).
template <int M>
struct WgTransform;

template <>
struct WgTransform<2> {
    template <class V>
    static inline void in(const V* d, V* o) {
        o[0] = d[0] - d[2];
        o[1] = d[1] + d[2];
        o[2] = d[2] - d[1];
        o[3] = d[1] - d[3];
    }
    template <class V>
    static inline void wt(const V* g, V* o) {
        const V s = (g[0] + g[2]) * 0.5f, h = g[1] * 0.5f;
        o[0] = g[0];
        o[1] = s + h;
        o[2] = s - h;
        o[3] = g[2];
    }
    template <class V>
    static inline void out(const V* m, V* o) {
        o[0] = m[0] + m[1] + m[2];
        o[1] = m[1] - m[2] - m[3];
    }
    template <class V>
    static inline void gout(const V* d, V* o) {
        o[0] = d[0];
        o[1] = d[0] + d[1];
        o[2] = d[0] - d[1];
        o[3] = -d[1];
    }
    template <class V>
    static inline void gwt(const V* u, V* o) {
        const V s = (u[1] + u[2]) * 0.5f;
        o[0] = u[0] + s;
        o[1] = (u[1] - u[2]) * 0.5f;
        o[2] = s + u[3];
    }
};

template <>
struct WgTransform<4> {
    template <class V>
    static inline void in(const V* d, V* o) {
        const V t1 = d[4] - d[2] * 4.0f, t2 = d[3] - d[1] * 4.0f;
        const V t3 = d[4] - d[2], t4 = (d[3] - d[1]) * 2.0f;
        o[0] = d[0] * 4.0f - d[2] * 5.0f + d[4];
        o[1] = t1 + t2;
        o[2] = t1 - t2;
        o[3] = t3 + t4;
        o[4] = t3 - t4;
        o[5] = d[1] * 4.0f - d[3] * 5.0f + d[5];
    }
    template <class V>
    static inline void wt(const V* g, V* o) {
        const V s = (g[0] + g[2]) * (-1.0f / 6), h = g[1] * (-1.0f / 6);
        const V s2 = g[0] * (1.0f / 24) + g[2] * (1.0f / 6), h2 = g[1] * (1.0f / 12);
        o[0] = g[0] * 0.25f;
        o[1] = s + h;
        o[2] = s - h;
        o[3] = s2 + h2;
        o[4] = s2 - h2;
        o[5] = g[2];
    }
    template <class V>
    static inline void out(const V* m, V* o) {
        const V a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
        o[0] = m[0] + a + c;
        o[1] = b + d * 2.0f;
        o[2] = a + c * 4.0f;
        o[3] = b + d * 8.0f + m[5];
    }
    template <class V>
    static inline void gout(const V* d, V* o) {
        const V e = d[0] + d[2], od = d[1] + d[3];
        const V e2 = d[0] + d[2] * 4.0f, od2 = d[1] * 2.0f + d[3] * 8.0f;
        o[0] = d[0];
        o[1] = e + od;
        o[2] = e - od;
        o[3] = e2 + od2;
        o[4] = e2 - od2;
        o[5] = d[3];
    }
    template <class V>
    static inline void gwt(const V* u, V* o) {
        const V a = u[1] + u[2], b = u[1] - u[2], c = u[3] + u[4], d = u[3] - u[4];
        o[0] = u[0] * 0.25f - a * (1.0f / 6) + c * (1.0f / 24);
        o[1] = b * (-1.0f / 6) + d * (1.0f / 12);
        o[2] = (c - a) * (1.0f / 6) + u[5];
    }
};

template <>
struct WgTransform<6> {
    template <class V>
    static inline void in(const V* d, V* o) {
        o[0] = d[0] - d[6] + (d[4] - d[2]) * 5.25f;
        o[7] = d[7] - d[1] + (d[3] - d[5]) * 5.25f;
        const V t1 = d[2] + d[6] - d[4] * 4.25f, t2 = d[1] + d[5] - d[3] * 4.25f;
        o[1] = t1 + t2;
        o[2] = t1 - t2;
        const V t3 = d[6] + d[2] * 0.25f - d[4] * 1.25f, t4 = d[1] * 0.5f - d[3] * 2.5f + d[5] * 2.0f;
        o[3] = t3 + t4;
        o[4] = t3 - t4;
        const V t5 = d[6] + (d[2] - d[4] * 1.25f) * 4.0f, t6 = d[1] * 2.0f - d[3] * 2.5f + d[5] * 0.5f;
        o[5] = t5 + t6;
        o[6] = t5 - t6;
    }
    template <class V>
    static inline void wt(const V* g, V* o) {
        const V s = g[0] + g[2];
        o[0] = g[0];
        o[1] = (s + g[1]) * (-2.0f / 9);
        o[2] = (s - g[1]) * (-2.0f / 9);
        const V a = g[0] * (1.0f / 90) + g[2] * (2.0f / 45), b = g[1] * (1.0f / 45);
        o[3] = a + b;
        o[4] = a - b;
        const V c = g[0] * (32.0f / 45) + g[2] * (8.0f / 45), e = g[1] * (16.0f / 45);
        o[5] = c + e;
        o[6] = c - e;
        o[7] = g[2];
    }
    template <class V>
    static inline void out(const V* m, V* o) {
        const V a1 = m[1] + m[2], b1 = m[1] - m[2], a2 = m[3] + m[4], b2 = m[3] - m[4];
        const V a3 = m[5] + m[6], b3 = m[5] - m[6];
        o[0] = m[0] + a1 + a2 + a3;
        o[1] = b1 + b2 * 2.0f + b3 * 0.5f;
        o[2] = a1 + a2 * 4.0f + a3 * 0.25f;
        o[3] = b1 + b2 * 8.0f + b3 * 0.125f;
        o[4] = a1 + a2 * 16.0f + a3 * 0.0625f;
        o[5] = b1 + b2 * 32.0f + b3 * 0.03125f + m[7];
    }
    template <class V>
    static inline void gout(const V* d, V* o) {
        const V e = d[0] + d[2] + d[4], od = d[1] + d[3] + d[5];
        const V e2 = d[0] + d[2] * 4.0f + d[4] * 16.0f, od2 = d[1] * 2.0f + d[3] * 8.0f + d[5] * 32.0f;
        const V e3 = d[0] + d[2] * 0.25f + d[4] * 0.0625f, od3 = d[1] * 0.5f + d[3] * 0.125f + d[5] * 0.03125f;
        o[0] = d[0];
        o[1] = e + od;
        o[2] = e - od;
        o[3] = e2 + od2;
        o[4] = e2 - od2;
        o[5] = e3 + od3;
        o[6] = e3 - od3;
        o[7] = d[5];
    }
    template <class V>
    static inline void gwt(const V* u, V* o) {
        const V a1 = u[1] + u[2], b1 = u[1] - u[2], a2 = u[3] + u[4], b2 = u[3] - u[4];
        const V a3 = u[5] + u[6], b3 = u[5] - u[6];
        o[0] = u[0] + a1 * (-2.0f / 9) + a2 * (1.0f / 90) + a3 * (32.0f / 45);
        o[1] = b1 * (-2.0f / 9) + b2 * (1.0f / 45) + b3 * (16.0f / 45);
        o[2] = a1 * (-2.0f / 9) + a2 * (2.0f / 45) + a3 * (8.0f / 45) + u[7];
    }
};

// Tile t of the batch: image, first output row and column.
struct WgTile {
    int64_t img, oh0, ow0;
};

static inline WgTile wg_tile(const ConvShape& s, int m, int64_t t) {
    const int64_t tc = (s.ow + m - 1) / m, tr = (s.oh + m - 1) / m;
    const int64_t rem = t % (tr * tc);
    return {t / (tr * tc), (rem / tc) * m, (rem % tc) * m};
}

// ------------------------------------------------------------------------------- input

template <int M, class V>
static inline void input_tile(const float* const* p, int64_t c, float* out, int64_t stride) {
    constexpr int A = M + 2;
    V t[A][A];
    for (int j = 0; j < A; ++j) {
        V col[A], o[A];
        for (int i = 0; i < A; ++i) col[i] = wg_load<V>(p[i * A + j] + c);
        WgTransform<M>::in(col, o);
        for (int i = 0; i < A; ++i) t[i][j] = o[i];
    }
    for (int i = 0; i < A; ++i) {
        V o[A];
        WgTransform<M>::in(t[i], o);
        for (int j = 0; j < A; ++j) wg_store<V>(out + (i * A + j) * stride, o[j]);
    }
}

// Channels [c0, c1) of one tile, written at out + c, from its pixels (channel c of pixel k at
// p[k] + c - base: base = c0 for pixels staged in scratch, 0 for an image's rows). Neither
// inlined nor cloned: the compiler contracts multiply-adds into fmas by context, and the pixels
// of an image and those of a pooled gradient (formed in scratch) must run the same code to round
// alike.
#if defined(__clang__)
#define SEQNET_WG_ONE_COPY __attribute__((noinline))
#else
#define SEQNET_WG_ONE_COPY __attribute__((noinline, noclone))
#endif
template <int M>
SEQNET_WG_ONE_COPY static void input_span(const float* const* p, int64_t base, int64_t c0, int64_t c1, float* out,
                                          int64_t vstride) {
    int64_t c = c0;
    for (; c + SEQNET_WG_VL <= c1; c += SEQNET_WG_VL) input_tile<M, wg_vec>(p, c - base, out + c, vstride);
    for (; c < c1; ++c) input_tile<M, float>(p, c - base, out + c, vstride);
}

// Channels of a pooled gradient's pixels formed in scratch at a time.
constexpr int64_t kWgUnpoolSpan = 4 * SEQNET_WG_VL;

// The n x n pixels at rows r0.., columns q0.. of image img (h x w, zero outside it) of a gradient
// that came through 2x2 stride-2 max pooling (PooledGrad), channels [c0, c1) (at most
// kWgUnpoolSpan), as rows of tmp: 0 + dy where the pixel is its window's argmax and the gate (if
// any) is not <= 0, else 0, the bits max_pool_backward scatters. Window offsets are worked out once
// per row and column.
template <int N>
static inline void wg_stage_pooled(const PooledGrad& pg, int64_t img, int64_t r0, int64_t q0, int64_t h, int64_t w,
                                   int64_t C, int64_t c0, int64_t c1, float (*tmp)[kWgUnpoolSpan]) {
    const int64_t ph = h / 2, pw = w / 2;
    int64_t roff[N], coff[N];  // the pixel's window row (in windows from the array's start) or column; -1: none
    for (int i = 0; i < N; ++i) {
        const int64_t r = r0 + i;
        roff[i] = r >= 0 && r < 2 * ph ? (img * ph + r / 2) * pw : -1;
    }
    for (int j = 0; j < N; ++j) {
        const int64_t c = q0 + j;
        coff[j] = c >= 0 && c < 2 * pw ? c / 2 : -1;
    }
    const wg_vec zero = wg_vec{} * 0.0f;
    for (int i = 0; i < N; ++i)
        for (int j = 0; j < N; ++j) {
            float* out = tmp[i * N + j];
            if (roff[i] < 0 || coff[j] < 0) {
                for (int64_t c = 0; c < c1 - c0; ++c) out[c] = 0.0f;
                continue;
            }
            const int64_t off = (roff[i] + coff[j]) * C;
            const int32_t pos = int32_t((r0 + i) * w + q0 + j);
            const float* g = pg.dy + off;
            const int32_t* am = pg.argmax + off;
            const wg_ivec vpos = wg_ivec{} + pos;
            int64_t c = c0;
            if (pg.gate) {
                const float* y = pg.gate + off;
                for (; c + SEQNET_WG_VL <= c1; c += SEQNET_WG_VL) {
                    wg_ivec a;
                    __builtin_memcpy(&a, am + c, sizeof a);
                    const wg_ivec take = (a == vpos) & ((wg_load<wg_vec>(y + c) <= zero) == 0);
                    wg_store<wg_vec>(out + (c - c0), take ? zero + wg_load<wg_vec>(g + c) : zero);
                }
                for (; c < c1; ++c) out[c - c0] = am[c] == pos && !(y[c] <= 0.0f) ? 0.0f + g[c] : 0.0f;
                continue;
            }
            for (; c + SEQNET_WG_VL <= c1; c += SEQNET_WG_VL) {
                wg_ivec a;
                __builtin_memcpy(&a, am + c, sizeof a);
                wg_store<wg_vec>(out + (c - c0), a == vpos ? zero + wg_load<wg_vec>(g + c) : zero);
            }
            for (; c < c1; ++c) out[c - c0] = am[c] == pos ? 0.0f + g[c] : 0.0f;
        }
}

template <int M>
static void input_tiles(const ConvShape& s, const float* x, int64_t t0, int64_t nt, float* v, int64_t vstride,
                        const float* zero, const PooledGrad* unpool) {
    constexpr int A = M + 2;
    const int64_t C = s.c;
    if (unpool) {
        float tmp[A * A][kWgUnpoolSpan];
        const float* p[A * A];
        for (int k = 0; k < A * A; ++k) p[k] = tmp[k];
        for (int64_t t = 0; t < nt; ++t) {
            const WgTile tile = wg_tile(s, M, t0 + t);
            for (int64_t c0 = 0; c0 < C; c0 += kWgUnpoolSpan) {
                const int64_t c1 = c0 + kWgUnpoolSpan < C ? c0 + kWgUnpoolSpan : C;
                wg_stage_pooled<A>(*unpool, tile.img, tile.oh0 - s.pad_top, tile.ow0 - s.pad_left, s.h, s.w, C, c0,
                                   c1, tmp);
                input_span<M>(p, c0, c0, c1, v + t * C, vstride);
            }
        }
        return;
    }
    const float* p[A * A];
    for (int64_t t = 0; t < nt; ++t) {
        const WgTile tile = wg_tile(s, M, t0 + t);
        const float* xi = x + tile.img * s.h * s.w * C;
        for (int i = 0; i < A; ++i) {
            const int64_t ih = tile.oh0 - s.pad_top + i;
            for (int j = 0; j < A; ++j) {
                const int64_t iw = tile.ow0 - s.pad_left + j;
                p[i * A + j] = ih >= 0 && ih < s.h && iw >= 0 && iw < s.w ? xi + (ih * s.w + iw) * C : zero;
            }
        }
        input_span<M>(p, 0, 0, C, v + t * C, vstride);
    }
}

// ------------------------------------------------------------------------------ output

// A tile's m x m outputs (Aᵀ M A + bias, then relu when asked) at channels f.. of the products, in
// two steps: the column pass t = Aᵀ M over the tile's (m+2)² products, then one output row at a
// time from it, so that only t and a row are live (holding all m x m results spilled registers).
template <int M, class V>
static inline void output_columns(const float* mb, int64_t stride, V (&t)[M][M + 2]) {
    constexpr int A = M + 2;
    for (int j = 0; j < A; ++j) {
        V col[A], o[M];
        for (int i = 0; i < A; ++i) col[i] = wg_load<V>(mb + (i * A + j) * stride);
        WgTransform<M>::out(col, o);
        for (int i = 0; i < M; ++i) t[i][j] = o[i];
    }
}

template <int M, class V>
static inline void output_row(const V (&ti)[M + 2], const V& b, bool relu, V (&r)[M]) {
    const V zero = V{} * 0.0f;
    V o[M];
    WgTransform<M>::out(ti, o);
    for (int j = 0; j < M; ++j) {
        const V v = o[j] + b;
        // As the relu kernel: x <= 0 ? 0 : x keeps NaN.
        r[j] = relu ? (v <= zero ? zero : v) : v;
    }
}

// One tile's outputs stored a row at a time. Stream: with streaming stores (every p[k] + f aligned).
template <int M, class V, bool Stream>
static inline void output_tile(const float* mb, int64_t stride, const float* bias, bool relu, float* const* p,
                               int64_t f) {
    V t[M][M + 2];
    output_columns<M, V>(mb, stride, t);
    const V b = bias ? wg_load<V>(bias + f) : V{} * 0.0f;
    for (int i = 0; i < M; ++i) {
        V r[M];
        output_row<M, V>(t[i], b, relu, r);
        for (int j = 0; j < M; ++j) {
            if (Stream) wg_stream(p[i * M + j] + f, r[j]);
            else wg_store<V>(p[i * M + j] + f, r[j]);
        }
    }
}

// `dummy` (which outputs past oh/ow go to) must start on a vector boundary when `stream`.
template <int M>
static void output_tiles(const ConvShape& s, const float* mb, int64_t mstride, int64_t ldm, int64_t t0, int64_t nt,
                         const float* bias, bool relu, float* out, float* dummy, bool stream) {
    const int64_t F = s.f;
    float* p[M * M];
    // Streamed when every row of every tile starts on a vector boundary (then so does each of its
    // vectors): a whole number of vectors of channels, the output on one. Else stored as before.
    stream = stream && wg_streams && F % SEQNET_WG_VL == 0 &&
             (reinterpret_cast<uintptr_t>(out) & (sizeof(wg_vec) - 1)) == 0;
    for (int64_t t = 0; t < nt; ++t) {
        const WgTile tile = wg_tile(s, M, t0 + t);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < M; ++j) {
                const int64_t oh = tile.oh0 + i, ow = tile.ow0 + j;
                p[i * M + j] = oh < s.oh && ow < s.ow ? out + ((tile.img * s.oh + oh) * s.ow + ow) * F : dummy;
            }
        const float* src = mb + t * ldm;
        int64_t f = 0;
        if (stream)
            for (; f + SEQNET_WG_VL <= F; f += SEQNET_WG_VL) output_tile<M, wg_vec, true>(src + f, mstride, bias, relu, p, f);
        for (; f + SEQNET_WG_VL <= F; f += SEQNET_WG_VL) output_tile<M, wg_vec, false>(src + f, mstride, bias, relu, p, f);
        for (; f < F; ++f) output_tile<M, float, false>(src + f, mstride, bias, relu, p, f);
    }
#if defined(__x86_64__) || defined(__i386__)
    if (stream) _mm_sfence();  // the streamed stores, ordered before whatever reads the output next
#endif
}

// The same outputs with 2x2, stride-2 max pooling applied instead of stored (MaxPooling2D()
// after the convolution): each tile's m x m outputs are (m/2)^2 whole windows, since tiles start
// on even rows and columns. A window's maximum and argmax (position oh * ow_total + ow in the
// convolution's output image) as max_pool_forward finds them: top left, top right, bottom left,
// bottom right, replaced when strictly greater or NaN. Windows reaching past the output (odd oh
// or ow: pooling drops that row or column) and outputs past it are not written.
template <int M, class V, class I>
static inline void output_tile_pooled(const float* mb, int64_t stride, const float* bias, bool relu,
                                      float* const* py, int32_t* const* pa, const int32_t* pos, int64_t f) {
    V t[M][M + 2];
    output_columns<M, V>(mb, stride, t);
    const V b = bias ? wg_load<V>(bias + f) : V{} * 0.0f;
    constexpr int H = M / 2;
    for (int wi = 0; wi < H; ++wi) {
        V r0[M], r1[M];  // the window row's two output rows
        output_row<M, V>(t[2 * wi], b, relu, r0);
        output_row<M, V>(t[2 * wi + 1], b, relu, r1);
        for (int wj = 0; wj < H; ++wj) {
            const int k = wi * H + wj;
            if (!py[k]) continue;
            const V* top = r0 + 2 * wj;
            const V* bot = r1 + 2 * wj;
            const int32_t p0 = pos[k];
            V m = top[0];
            I a = I{} + p0;
            const V cand[3] = {top[1], bot[0], bot[1]};
            const int32_t off[3] = {1, pos[H * H], pos[H * H] + 1};  // pos[H*H]: the output's row length
            for (int c = 0; c < 3; ++c) {
                const auto take = cand[c] > m || cand[c] != cand[c];
                m = take ? cand[c] : m;
                a = take ? I{} + (p0 + off[c]) : a;
            }
            wg_store<V>(py[k] + f, m);
            wg_store<I>(reinterpret_cast<float*>(pa[k] + f), a);
        }
    }
}

template <int M>
static void output_tiles_pooled(const ConvShape& s, const float* mb, int64_t mstride, int64_t ldm, int64_t t0,
                                int64_t nt, const float* bias, bool relu, float* pooled, int32_t* argmax) {
    constexpr int H = M / 2;
    const int64_t F = s.f, poh = s.oh / 2, pow_ = s.ow / 2;
    float* py[H * H];
    int32_t* pa[H * H];
    int32_t pos[H * H + 1];
    pos[H * H] = int32_t(s.ow);
    for (int64_t t = 0; t < nt; ++t) {
        const WgTile tile = wg_tile(s, M, t0 + t);
        for (int i = 0; i < H; ++i)
            for (int j = 0; j < H; ++j) {
                const int64_t ph = tile.oh0 / 2 + i, pw = tile.ow0 / 2 + j, k = i * H + j;
                const bool inside = ph < poh && pw < pow_;
                const int64_t off = ((tile.img * poh + ph) * pow_ + pw) * F;
                py[k] = inside ? pooled + off : nullptr;
                pa[k] = inside ? argmax + off : nullptr;
                pos[k] = int32_t((2 * ph) * s.ow + 2 * pw);
            }
        const float* src = mb + t * ldm;
        int64_t f = 0;
        for (; f + SEQNET_WG_VL <= F; f += SEQNET_WG_VL)
            output_tile_pooled<M, wg_vec, wg_ivec>(src + f, mstride, bias, relu, py, pa, pos, f);
        for (; f < F; ++f) output_tile_pooled<M, float, int32_t>(src + f, mstride, bias, relu, py, pa, pos, f);
    }
}

// ------------------------------------------------------------------------------ dz tiles

template <int M, class V>
static inline void grad_tile(const float* const* p, int64_t f, float* out, int64_t stride) {
    constexpr int A = M + 2;
    V t[A][M];
    for (int j = 0; j < M; ++j) {
        V col[M], o[A];
        for (int i = 0; i < M; ++i) col[i] = wg_load<V>(p[i * M + j] + f);
        WgTransform<M>::gout(col, o);
        for (int i = 0; i < A; ++i) t[i][j] = o[i];
    }
    for (int i = 0; i < A; ++i) {
        V o[A];
        WgTransform<M>::gout(t[i], o);
        for (int j = 0; j < A; ++j) wg_store<V>(out + (i * A + j) * stride, o[j]);
    }
}

// As input_span, for the gradient transform (channels [f0, f1) of q).
template <int M>
SEQNET_WG_ONE_COPY static void grad_span(const float* const* p, int64_t base, int64_t f0, int64_t f1, float* out,
                                         int64_t qstride) {
    int64_t f = f0;
    for (; f + SEQNET_WG_VL <= f1; f += SEQNET_WG_VL) grad_tile<M, wg_vec>(p, f - base, out + f, qstride);
    for (; f < f1; ++f) grad_tile<M, float>(p, f - base, out + f, qstride);
}

// The padding columns [F, ldq) of a tile's q, zeroed.
template <int M>
static inline void grad_pad(int64_t F, int64_t ldq, float* out, int64_t qstride) {
    constexpr int A = M + 2;
    for (int k = 0; k < A * A; ++k)
        for (int64_t j = F; j < ldq; ++j) out[k * qstride + j] = 0.0f;
}

template <int M>
static void grad_tiles(const ConvShape& s, const float* dz, int64_t t0, int64_t nt, float* q, int64_t qstride,
                       int64_t ldq, float* db, const float* zero, const PooledGrad* unpool) {
    const int64_t F = s.f;
    if (unpool) {
        float tmp[M * M][kWgUnpoolSpan];
        const float* p[M * M];
        for (int k = 0; k < M * M; ++k) p[k] = tmp[k];
        for (int64_t t = 0; t < nt; ++t) {
            const WgTile tile = wg_tile(s, M, t0 + t);
            float* out = q + t * ldq;
            for (int64_t f0 = 0; f0 < F; f0 += kWgUnpoolSpan) {
                const int64_t f1 = f0 + kWgUnpoolSpan < F ? f0 + kWgUnpoolSpan : F;
                wg_stage_pooled<M>(*unpool, tile.img, tile.oh0, tile.ow0, s.oh, s.ow, F, f0, f1, tmp);
                grad_span<M>(p, f0, f0, f1, out, qstride);
                if (!db) continue;
                // each pixel of the image adds its value, zeros included (as from dz)
                for (int k = 0; k < M * M; ++k) {
                    if (tile.oh0 + k / M >= s.oh || tile.ow0 + k % M >= s.ow) continue;
                    const float* row = tmp[k];
#pragma omp simd
                    for (int64_t j = f0; j < f1; ++j) db[j] += row[j - f0];
                }
            }
            grad_pad<M>(F, ldq, out, qstride);
        }
        return;
    }
    const float* p[M * M];
    for (int64_t t = 0; t < nt; ++t) {
        const WgTile tile = wg_tile(s, M, t0 + t);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < M; ++j) {
                const int64_t oh = tile.oh0 + i, ow = tile.ow0 + j;
                p[i * M + j] = oh < s.oh && ow < s.ow ? dz + ((tile.img * s.oh + oh) * s.ow + ow) * F : zero;
            }
        grad_span<M>(p, 0, 0, F, q + t * ldq, qstride);
        grad_pad<M>(F, ldq, q + t * ldq, qstride);
        if (!db) continue;
        for (int k = 0; k < M * M; ++k) {
            if (p[k] == zero) continue;
            const float* row = p[k];
#pragma omp simd
            for (int64_t j = 0; j < F; ++j) db[j] += row[j];
        }
    }
}

// ------------------------------------------------------------------------------ weights

template <int M, class V>
static inline void weight_tile(const float* w, int64_t tap_stride, float* out, int64_t stride) {
    constexpr int A = M + 2;
    V t[A][3];
    for (int j = 0; j < 3; ++j) {
        V col[3], o[A];
        for (int i = 0; i < 3; ++i) col[i] = wg_load<V>(w + (i * 3 + j) * tap_stride);
        WgTransform<M>::wt(col, o);
        for (int i = 0; i < A; ++i) t[i][j] = o[i];
    }
    for (int i = 0; i < A; ++i) {
        V o[A];
        WgTransform<M>::wt(t[i], o);
        for (int j = 0; j < A; ++j) wg_store<V>(out + (i * A + j) * stride, o[j]);
    }
}

template <int M>
static void weight_transform(const float* w, int64_t C, int64_t F, float* u, int64_t ldu) {
    constexpr int A = M + 2;
    const int64_t stride = C * ldu;
    for (int64_t c = 0; c < C; ++c) {
        const float* wc = w + c * F;
        float* uc = u + c * ldu;
        int64_t f = 0;
        for (; f + SEQNET_WG_VL <= F; f += SEQNET_WG_VL) weight_tile<M, wg_vec>(wc + f, C * F, uc + f, stride);
        for (; f < F; ++f) weight_tile<M, float>(wc + f, C * F, uc + f, stride);
        for (int k = 0; k < A * A; ++k)
            for (int64_t j = F; j < ldu; ++j) uc[k * stride + j] = 0.0f;
    }
}

template <int M, class V>
static inline void weight_grad_tile(const float* du, int64_t stride, float* dw, int64_t tap_stride) {
    constexpr int A = M + 2;
    V t[3][A];
    for (int j = 0; j < A; ++j) {
        V col[A], o[3];
        for (int i = 0; i < A; ++i) col[i] = wg_load<V>(du + (i * A + j) * stride);
        WgTransform<M>::gwt(col, o);
        for (int i = 0; i < 3; ++i) t[i][j] = o[i];
    }
    for (int i = 0; i < 3; ++i) {
        V o[3];
        WgTransform<M>::gwt(t[i], o);
        for (int j = 0; j < 3; ++j) wg_store<V>(dw + (i * 3 + j) * tap_stride, o[j]);
    }
}

template <int M>
static void weight_grad(const float* du, int64_t C, int64_t F, int64_t ldu, float* dw) {
    const int64_t stride = C * ldu;
    for (int64_t c = 0; c < C; ++c) {
        const float* uc = du + c * ldu;
        float* wc = dw + c * F;
        int64_t f = 0;
        for (; f + SEQNET_WG_VL <= F; f += SEQNET_WG_VL) weight_grad_tile<M, wg_vec>(uc + f, stride, wc + f, C * F);
        for (; f < F; ++f) weight_grad_tile<M, float>(uc + f, stride, wc + f, C * F);
    }
}

static const WinogradKernels table = {
    {&input_tiles<2>, &input_tiles<4>, &input_tiles<6>},
    {&output_tiles<2>, &output_tiles<4>, &output_tiles<6>},
    {&grad_tiles<2>, &grad_tiles<4>, &grad_tiles<6>},
    {&weight_transform<2>, &weight_transform<4>, &weight_transform<6>},
    {&weight_grad<2>, &weight_grad<4>, &weight_grad<6>},
    {&output_tiles_pooled<2>, &output_tiles_pooled<4>, &output_tiles_pooled<6>},
};
