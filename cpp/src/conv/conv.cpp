// Convolution as im2col + one GEMM per chunk of images, with the bias and the activation
// fused into the GEMM's epilogue (as Dense). Backward: dW = colᵀ dz accumulated over the
// chunks in order, db = column sums in row order, dx = col2im(dz Wᵀ) as a gather. Threads
// split only independent outputs (patch rows, input rows), and every sum runs in a fixed
// order, so the results are bit-identical for any number of threads.
#include "seqnet/conv.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "seqnet/gemm.h"

namespace seqnet {
namespace {

// Below this many floats moved, a fork costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;

void activation_row(float* c, int64_t len, const void* ctx) {
    activation_forward(*static_cast<const Activation*>(ctx), c, c, 1, len);
}

// db[j] = sum_r dz[r, j], in row order.
void column_sums(const float* dz, float* db, int64_t rows, int64_t cols) {
    for (int64_t j = 0; j < cols; ++j) db[j] = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = dz + r * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) db[j] += row[j];
    }
}

int64_t chunk_images(const ConvShape& s, int64_t col_rows) {
    const int64_t per = std::max<int64_t>(s.out_pixels(), 1);
    return std::max<int64_t>(1, std::min<int64_t>(s.n, col_rows / per));
}

}  // namespace

void im2col(const ConvShape& s, const float* x, int64_t first, int64_t images, float* col) {
    const int64_t K = s.patch(), C = s.c, rows = images * s.oh;
    const size_t cbytes = size_t(C) * sizeof(float);
    const bool par = rows * s.ow * K > kMinParallelWork && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = first + r / s.oh, oh = r % s.oh;
        const float* xi = x + img * s.h * s.w * C;
        float* out = col + r * s.ow * K;
        for (int64_t ow = 0; ow < s.ow; ++ow, out += K) {
            const int64_t iw0 = ow * s.sw - s.pad_left;
            float* o = out;
            for (int64_t i = 0; i < s.kh; ++i) {
                const int64_t ih = oh * s.sh - s.pad_top + i * s.dh;
                if (ih < 0 || ih >= s.h) {
                    std::memset(o, 0, size_t(s.kw) * cbytes);
                    o += s.kw * C;
                    continue;
                }
                const float* xr = xi + ih * s.w * C;
                if (s.dw == 1 && iw0 >= 0 && iw0 + s.kw <= s.w) {
                    std::memcpy(o, xr + iw0 * C, size_t(s.kw) * cbytes);
                    o += s.kw * C;
                    continue;
                }
                for (int64_t j = 0; j < s.kw; ++j, o += C) {
                    const int64_t iw = iw0 + j * s.dw;
                    if (iw < 0 || iw >= s.w) std::memset(o, 0, cbytes);
                    else std::memcpy(o, xr + iw * C, cbytes);
                }
            }
        }
    }
}

void col2im(const ConvShape& s, const float* dcol, int64_t first, int64_t images, float* dx) {
    const int64_t K = s.patch(), C = s.c, rows = images * s.h;
    const bool par = rows * s.w * C * s.kh * s.kw > kMinParallelWork && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t local = r / s.h, ih = r % s.h;
        float* out = dx + ((first + local) * s.h + ih) * s.w * C;
        std::memset(out, 0, size_t(s.w * C) * sizeof(float));
        for (int64_t i = 0; i < s.kh; ++i) {
            const int64_t t = ih + s.pad_top - i * s.dh;
            if (t < 0 || t % s.sh) continue;
            const int64_t oh = t / s.sh;
            if (oh >= s.oh) continue;
            const float* drow = dcol + (local * s.oh + oh) * s.ow * K;
            for (int64_t j = 0; j < s.kw; ++j) {
                const float* dk = drow + (i * s.kw + j) * C;
                for (int64_t iw = 0; iw < s.w; ++iw) {
                    const int64_t u = iw + s.pad_left - j * s.dw;
                    if (u < 0 || u % s.sw) continue;
                    const int64_t ow = u / s.sw;
                    if (ow >= s.ow) continue;
                    const float* src = dk + ow * K;
                    float* o = out + iw * C;
#pragma omp simd
                    for (int64_t ch = 0; ch < C; ++ch) o[ch] += src[ch];
                }
            }
        }
    }
}

void conv_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                  float* col, int64_t col_rows, Activation act) {
    const int64_t K = s.patch(), F = s.f, P = s.out_pixels();
    GemmEpilogue ep;
    ep.bias = b;
    const bool elementwise = act != Activation::Linear && act != Activation::Softmax;
    float* out = z ? z : y;
    if (!z && elementwise) {
        ep.row_fn = activation_row;
        ep.ctx = &act;
    }
    const GemmEpilogue* epp = (ep.bias || ep.row_fn) ? &ep : nullptr;
    if (s.pointwise()) {
        sgemm(false, false, s.n * P, F, K, 1.0f, x, K, w, F, 0.0f, out, F, epp);
    } else {
        const int64_t chunk = chunk_images(s, col_rows);
        for (int64_t first = 0; first < s.n; first += chunk) {
            const int64_t imgs = std::min(chunk, s.n - first);
            im2col(s, x, first, imgs, col);
            sgemm(false, false, imgs * P, F, K, 1.0f, col, K, w, F, 0.0f, out + first * P * F, F, epp);
        }
    }
    if (z) activation_forward(act, z, y, s.n * P, F);
    else if (act == Activation::Softmax) activation_forward(act, y, y, s.n * P, F);
}

void conv_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                   float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                   Activation act, bool dy_is_preactivation) {
    const int64_t K = s.patch(), F = s.f, P = s.out_pixels(), KF = K * F;
    if (!dy_is_preactivation && act != Activation::Linear) activation_backward(act, z, y, dy, dy, s.n * P, F);
    if (db) column_sums(dy, db, s.n * P, F);
    if (s.pointwise()) {
        sgemm(true, false, K, F, s.n * P, 1.0f, x, K, dy, F, 0.0f, dw, F);
        if (dx) sgemm(false, true, s.n * P, K, F, 1.0f, dy, F, w, F, 0.0f, dx, K);
        return;
    }
    std::fill(dw, dw + KF, 0.0f);
    if (s.n == 0) return;
    const int64_t chunk = chunk_images(s, col_rows);
    for (int64_t first = 0; first < s.n; first += chunk) {
        const int64_t imgs = std::min(chunk, s.n - first), rows = imgs * P;
        const float* dyc = dy + first * P * F;
        im2col(s, x, first, imgs, col);
        // dW: one single-threaded product per block of rows, blocks in parallel, then the
        // partials summed in block order.
        const int64_t blocks = (rows + kConvDwBlockRows - 1) / kConvDwBlockRows;
#pragma omp parallel for schedule(dynamic) if (blocks > 1 && !omp_in_parallel())
        for (int64_t bi = 0; bi < blocks; ++bi) {
            const int64_t r0 = bi * kConvDwBlockRows, nr = std::min(kConvDwBlockRows, rows - r0);
            sgemm(true, false, K, F, nr, 1.0f, col + r0 * K, K, dyc + r0 * F, F, 0.0f, partials + bi * KF, F);
        }
        const bool par = KF * blocks > kMinParallelWork && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
        for (int64_t e0 = 0; e0 < KF; e0 += 256) {
            const int64_t e1 = std::min(KF, e0 + 256);
            for (int64_t bi = 0; bi < blocks; ++bi) {
                const float* pb = partials + bi * KF;
#pragma omp simd
                for (int64_t e = e0; e < e1; ++e) dw[e] += pb[e];
            }
        }
        if (dx) {
            sgemm(false, true, rows, K, F, 1.0f, dyc, F, w, F, 0.0f, col, K);
            col2im(s, col, first, imgs, dx);
        }
    }
}

}  // namespace seqnet
