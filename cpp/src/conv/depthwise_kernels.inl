// Depthwise convolution kernels, compiled once per instruction set: depthwise_{generic,avx2,avx512}.cpp
// include this file inside their own namespace with SEQNET_DW_VL (floats per vector register)
// defined, and depthwise.cpp dispatches at run time. Vectorised over channels with `omp simd`;
// every function is static or in the ISA's namespace, and no std:: template is instantiated here,
// so the linker can never hand an AVX-512 copy to portable code. No threads here: the caller
// splits rows over threads.
//
// These kernels see depth_multiplier 1 only (s.dm == 1): depthwise.cpp runs a larger multiplier
// on the input with each channel repeated dm times, so every load here is contiguous.
//
// Requires: depthwise_kernels.h, <cstdint>, <cstring> included before.

// Forward: a register block of kPx output pixels x kCb channels accumulates over the taps.
static constexpr int64_t kCb = 2 * SEQNET_DW_VL;
static constexpr int kPx = 4;
// Weight gradient: kDwCb channels of one tap accumulate in registers along an output row.
static constexpr int64_t kDwCb = 4 * SEQNET_DW_VL;

static inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

// Output columns [lo, hi) whose input column ow*sw - pad_left + j*dw lies inside the row.
static void valid_columns(const DepthwiseShape& s, int64_t j, int64_t* lo, int64_t* hi) {
    const int64_t a = s.pad_left - j * s.dw;  // input column = ow*sw - a
    *lo = a > 0 ? (a + s.sw - 1) / s.sw : 0;
    const int64_t last = s.w - 1 + a;
    *hi = last < 0 ? 0 : imin(last / s.sw + 1, s.ow);
}

// P output pixels from column ow0, the full channel block [k0, k0 + kCb).
template <int P>
static inline void forward_block(const DepthwiseShape& s, const float* xi, const float* w, const float* b,
                                 int64_t orow, int64_t ow0, int64_t k0, float* out) {
    const int64_t C = s.c;
    float acc[P][kCb];
    for (int p = 0; p < P; ++p) {
        if (b) {
#pragma omp simd
            for (int64_t k = 0; k < kCb; ++k) acc[p][k] = b[k0 + k];
        } else {
#pragma omp simd
            for (int64_t k = 0; k < kCb; ++k) acc[p][k] = 0.0f;
        }
    }
    for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = orow * s.sh - s.pad_top + i * s.dh;
        if (ih < 0 || ih >= s.h) continue;
        const float* xr = xi + ih * s.w * C + k0;
        for (int64_t j = 0; j < s.kw; ++j) {
            const float* wk = w + (i * s.kw + j) * C + k0;
            const int64_t iw0 = ow0 * s.sw - s.pad_left + j * s.dw;
            for (int p = 0; p < P; ++p) {
                const int64_t iw = iw0 + p * s.sw;
                if (iw < 0 || iw >= s.w) continue;
                const float* xp = xr + iw * C;
#pragma omp simd
                for (int64_t k = 0; k < kCb; ++k) acc[p][k] += xp[k] * wk[k];
            }
        }
    }
    for (int p = 0; p < P; ++p) std::memcpy(out + (ow0 + p) * C + k0, acc[p], sizeof(acc[p]));
}

// Channels [k0, c) of a whole output row (fewer than kCb: too few to fill the registers), tap by
// tap over the columns each tap reaches.
static void forward_tail(const DepthwiseShape& s, const float* xi, const float* w, const float* b, int64_t orow,
                         int64_t k0, float* out) {
    const int64_t C = s.c, nb = C - k0;
    for (int64_t ow = 0; ow < s.ow; ++ow) {
        float* o = out + ow * C + k0;
        for (int64_t k = 0; k < nb; ++k) o[k] = b ? b[k0 + k] : 0.0f;
    }
    for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = orow * s.sh - s.pad_top + i * s.dh;
        if (ih < 0 || ih >= s.h) continue;
        const float* xr = xi + ih * s.w * C + k0;
        for (int64_t j = 0; j < s.kw; ++j) {
            const float* wk = w + (i * s.kw + j) * C + k0;
            int64_t lo, hi;
            valid_columns(s, j, &lo, &hi);
            for (int64_t ow = lo; ow < hi; ++ow) {
                const float* xp = xr + (ow * s.sw - s.pad_left + j * s.dw) * C;
                float* o = out + ow * C + k0;
#pragma omp simd
                for (int64_t k = 0; k < nb; ++k) o[k] += xp[k] * wk[k];
            }
        }
    }
}

static void forward_row(const DepthwiseShape& s, const float* x, const float* w, const float* b, int64_t r,
                        float* out) {
    const int64_t img = r / s.oh, orow = r % s.oh;
    const float* xi = x + img * s.h * s.w * s.c;
    int64_t k0 = 0;
    for (; k0 + kCb <= s.c; k0 += kCb) {
        int64_t ow = 0;
        for (; ow + kPx <= s.ow; ow += kPx) forward_block<kPx>(s, xi, w, b, orow, ow, k0, out);
        for (; ow < s.ow; ++ow) forward_block<1>(s, xi, w, b, orow, ow, k0, out);
    }
    if (k0 < s.c) forward_tail(s, xi, w, b, orow, k0, out);
}

// dx row: every tap (i, j) that reads input row ih adds dz * w at the input columns it reads.
static void dx_row(const DepthwiseShape& s, const float* dz, const float* w, int64_t r, float* out) {
    const int64_t C = s.c, img = r / s.h, ih = r % s.h;
    std::memset(out, 0, size_t(s.w * C) * sizeof(float));
    const float* dzi = dz + img * s.oh * s.ow * C;
    for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t t = ih + s.pad_top - i * s.dh;
        if (t < 0 || t % s.sh) continue;
        const int64_t orow = t / s.sh;
        if (orow >= s.oh) continue;
        const float* dzr = dzi + orow * s.ow * C;
        for (int64_t j = 0; j < s.kw; ++j) {
            const float* wk = w + (i * s.kw + j) * C;
            int64_t lo, hi;
            valid_columns(s, j, &lo, &hi);
            for (int64_t ow = lo; ow < hi; ++ow) {
                float* o = out + (ow * s.sw - s.pad_left + j * s.dw) * C;
                const float* d = dzr + ow * C;
#pragma omp simd
                for (int64_t k = 0; k < C; ++k) o[k] += d[k] * wk[k];
            }
        }
    }
}

// Tap (i, j)'s gradient over one output row, channels [k0, k0 + n): pk += sum_ow x * dz.
template <bool kFull>
static inline void dw_tap(const DepthwiseShape& s, const float* xr, const float* dzr, int64_t j, int64_t lo,
                          int64_t hi, int64_t k0, int64_t nb, float* pk) {
    const int64_t C = s.c, n = kFull ? kDwCb : nb;
    float acc[kDwCb];
    std::memcpy(acc, pk + k0, size_t(n) * sizeof(float));
    for (int64_t ow = lo; ow < hi; ++ow) {
        const float* xp = xr + (ow * s.sw - s.pad_left + j * s.dw) * C + k0;
        const float* d = dzr + ow * C + k0;
#pragma omp simd
        for (int64_t k = 0; k < n; ++k) acc[k] += xp[k] * d[k];
    }
    std::memcpy(pk + k0, acc, size_t(n) * sizeof(float));
}

static void dw_rows(const DepthwiseShape& s, const float* x, const float* dz, int64_t r0, int64_t r1, float* pw,
                    float* pb) {
    const int64_t C = s.c;
    for (int64_t r = r0; r < r1; ++r) {
        const int64_t img = r / s.oh, orow = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        const float* dzr = dz + r * s.ow * C;
        if (pb) {
            for (int64_t ow = 0; ow < s.ow; ++ow) {
                const float* d = dzr + ow * C;
#pragma omp simd
                for (int64_t k = 0; k < C; ++k) pb[k] += d[k];
            }
        }
        for (int64_t i = 0; i < s.kh; ++i) {
            const int64_t ih = orow * s.sh - s.pad_top + i * s.dh;
            if (ih < 0 || ih >= s.h) continue;
            const float* xr = xi + ih * s.w * C;
            for (int64_t j = 0; j < s.kw; ++j) {
                int64_t lo, hi;
                valid_columns(s, j, &lo, &hi);
                float* pk = pw + (i * s.kw + j) * C;
                int64_t k0 = 0;
                for (; k0 + kDwCb <= C; k0 += kDwCb) dw_tap<true>(s, xr, dzr, j, lo, hi, k0, kDwCb, pk);
                if (k0 < C) dw_tap<false>(s, xr, dzr, j, lo, hi, k0, C - k0, pk);
            }
        }
    }
}

static const DepthwiseKernels table = {forward_row, dx_row, dw_rows};
