// Convolution as im2col + GEMM, one block of output rows at a time: each thread writes the
// patches of a few output rows into its own slice of the col workspace (small enough to stay
// in L2) and multiplies them at once, with the bias and the activation fused into the GEMM's
// epilogue (as Dense). Backward: dz (the activation's gradient) and dW = colᵀ dz, db = column
// sums over fixed blocks of output rows, one partial per block, the partials summed in block
// order; dx, for stride 1, is the convolution of dz with the flipped kernel (same blocked
// product, no col2im), otherwise col2im(dz Wᵀ) as a gather. Threads split only independent
// outputs (blocks of rows, partials), so the results are bit-identical for any number of threads.
// 3x3 stride-1 kernels may instead run each pass by Winograd (winograd.cpp), chosen per shape
// and pass by run_conv_algo (conv_algo.cpp).
#include "seqnet/conv.h"
#include "seqnet/pool.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "../parallel_region.h"
#include "conv_algo.h"
#include "conv_direct.h"
#include "seqnet/dense.h"
#include "seqnet/gemm.h"
#include "winograd.h"

namespace seqnet {
namespace {

// Below this many floats moved, a fork costs more than it saves.
constexpr int64_t kMinParallelWork = 1 << 15;
// An im2col block of about this many floats (256 KB) stays in L2 with the GEMM's packed copy.
constexpr int64_t kBlockFloats = 1 << 16;

void activation_row(float* c, int64_t len, const void* ctx) {
    activation_forward(*static_cast<const Activation*>(ctx), c, c, 1, len);
}

// Output rows of ow pixels per im2col block: about kBlockFloats floats, at least one, at most
// one image's (the col workspace always holds one image) or, where the workspace of
// `scratch_floats` holds several images, half of it (room for two threads' blocks). A 1-D
// convolution's image is a single row, and one per block made its products too small to pay
// for packing the kernel in each (the seed 1-D convnet, 64 steps of 100 features, batch 16:
// epoch 26.6-27.4 -> 21.6-23.0 ms, alternated in one process). Depends on the shape and the
// workspace only, never on the thread count, so the dW partials sum in the same order.
int64_t block_units(const ConvShape& s, int64_t scratch_floats = 0) {
    const int64_t row = std::max<int64_t>(s.ow * s.patch(), 1);
    const int64_t cap = std::max<int64_t>({s.oh, 1, scratch_floats / row / 2});
    return std::clamp<int64_t>(kBlockFloats / row, 1, cap);
}

// Patches of output row r of the batch (image r / oh, row r % oh) into out (ow x patch).
void im2col_row(const ConvShape& s, const float* x, int64_t r, float* out) {
    const int64_t K = s.patch(), C = s.c;
    const size_t cbytes = size_t(C) * sizeof(float);
    const int64_t img = r / s.oh, oh = r % s.oh;
    const float* xi = x + img * s.h * s.w * C;
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

// Patches of output rows [r0, r0+units) of the batch.
void im2col_rows(const ConvShape& s, const float* x, int64_t r0, int64_t units, float* col) {
    for (int64_t r = r0; r < r0 + units; ++r) im2col_row(s, x, r, col + (r - r0) * s.ow * s.patch());
}

// Threads for blocks of `per` floats of scratch each: as many as the scratch holds.
int scratch_threads(int64_t per, int64_t scratch_floats, int64_t blocks) {
    if (omp_in_parallel()) return 1;
    const int64_t fit = std::max<int64_t>(scratch_floats / std::max<int64_t>(per, 1), 1);
    return int(std::max<int64_t>(1, std::min<int64_t>({int64_t(omp_get_max_threads()), fit, blocks})));
}

// out (n*oh*ow, f) = im2col(x) w (+ epilogue), block by block; blocks write disjoint rows.
void blocked_conv(const ConvShape& s, const float* x, const float* w, float* out, const GemmEpilogue* ep,
                  float* scratch, int64_t scratch_floats) {
    const int64_t K = s.patch(), units = s.n * s.oh, u = block_units(s, scratch_floats), per = u * s.ow * K;
    const int64_t blocks = (units + u - 1) / u;
    const int threads = scratch_threads(per, scratch_floats, blocks);
    run_region(threads, [&](int tid) {
        float* mine = scratch + tid * per;
#pragma omp for schedule(dynamic)
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t r0 = b * u, nr = std::min(u, units - r0);
            im2col_rows(s, x, r0, nr, mine);
            sgemm(false, false, nr * s.ow, s.f, K, 1.0f, mine, K, w, s.f, 0.0f, out + r0 * s.ow * s.f, s.f, ep);
        }
    });
}

int64_t chunk_images(const ConvShape& s, int64_t col_rows) {
    const int64_t per = std::max<int64_t>(s.out_pixels(), 1);
    return std::max<int64_t>(1, std::min<int64_t>(s.n, col_rows / per));
}

}  // namespace

void im2col(const ConvShape& s, const float* x, int64_t first, int64_t images, float* col) {
    const int64_t K = s.patch(), rows = images * s.oh;
    const bool par = rows * s.ow * K > kMinParallelWork && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; ++r) im2col_row(s, x, first * s.oh + r, col + r * s.ow * K);
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
                  float* col, int64_t col_rows, Activation act, float* pooled, int32_t* pooled_argmax) {
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
    // Winograd pools its tiles itself when y is the output and relu at most is applied to it.
    const bool pool_tiles = pooled && !z && (act == Activation::Linear || act == Activation::Relu);
    bool pooled_done = false;
    if (s.pointwise()) sgemm(false, false, s.n * P, F, K, 1.0f, x, K, w, F, 0.0f, out, F, epp);
    else if (s.n > 0)
        run_conv_algo(s, ConvPass::Forward, [&](ConvAlgo a) {
            pooled_done = false;
            if (a == ConvAlgo::Direct && direct_applicable(s))
                direct_forward(s, x, w, b, out, ep.row_fn ? act : Activation::Linear);
            else if (a == ConvAlgo::Im2col || a == ConvAlgo::Direct)
                blocked_conv(s, x, w, out, epp, col, col_rows * K);
            else if (pool_tiles) {
                winograd_forward(s, winograd_tile(a), x, w, b, out, act, pooled, pooled_argmax);
                pooled_done = true;
            } else winograd_forward(s, winograd_tile(a), x, w, b, out, ep.row_fn ? act : Activation::Linear);
        });
    if (z) activation_forward(act, z, y, s.n * P, F);
    else if (act == Activation::Softmax) activation_forward(act, y, y, s.n * P, F);
    if (pooled && !pooled_done) {
        const PoolShape ps{s.n, s.oh, s.ow, F, s.oh / 2, s.ow / 2, 2, 2, 2, 2, 0, 0};
        max_pool_forward(ps, y, pooled, pooled_argmax);
    }
}

namespace {

// dW and db over fixed blocks of dw_block_units(s) output rows: block b's partial (K*F floats
// of dW, then F of db) is computed by one thread, its rows im2col'ed a few at a time into the
// thread's scratch; dz (the activation's gradient) is formed on the way. Then the partials are
// summed in block order.
void conv_dw_db(const ConvShape& s, const float* x, const float* z, const float* y, float* dy, float* dw,
                float* db, float* scratch, int64_t scratch_floats, float* partials, Activation act, bool act_bwd) {
    const int64_t K = s.patch(), F = s.f, KF = K * F, stride = KF + F, units = s.n * s.oh;
    const int64_t D = conv_dw_block_units(s), blocks = (units + D - 1) / D;
    const int64_t u = block_units(s, scratch_floats), per = u * s.ow * K;
    const int threads = scratch_threads(per, scratch_floats, blocks);
    run_region(threads, [&](int tid) {
        float* mine = scratch + tid * per;
#pragma omp for schedule(dynamic)
        for (int64_t bi = 0; bi < blocks; ++bi) {
            float* pw = partials + bi * stride;
            float* pb = pw + KF;
            for (int64_t j = 0; j < F; ++j) pb[j] = 0.0f;
            const int64_t r1 = std::min(units, (bi + 1) * D);
            for (int64_t r = bi * D; r < r1; r += u) {
                const int64_t nr = std::min(u, r1 - r), rows = nr * s.ow, off = r * s.ow * F;
                float* dz = dy + off;
                if (act_bwd) activation_backward(act, z ? z + off : nullptr, y + off, dz, dz, rows, F);
                im2col_rows(s, x, r, nr, mine);
                sgemm(true, false, K, F, rows, 1.0f, mine, K, dz, F, r == bi * D ? 0.0f : 1.0f, pw, F);
                for (int64_t q = 0; q < rows; ++q) {
                    const float* row = dz + q * F;
#pragma omp simd
                    for (int64_t j = 0; j < F; ++j) pb[j] += row[j];
                }
            }
        }
    });
    sum_dw_partials(s, partials, blocks, dw, db);
}

}  // namespace

void sum_partials(const float* partials, int64_t blocks, int64_t stride, int64_t wsize, float* dw, float* db) {
    const bool par = stride * blocks > kMinParallelWork && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
    for (int64_t e0 = 0; e0 < stride; e0 += 256) {
        const int64_t e1 = std::min(stride, e0 + 256);
        float acc[256];
        for (int64_t e = e0; e < e1; ++e) acc[e - e0] = 0.0f;
        for (int64_t bi = 0; bi < blocks; ++bi) {
            const float* pb = partials + bi * stride;
#pragma omp simd
            for (int64_t e = e0; e < e1; ++e) acc[e - e0] += pb[e];
        }
        for (int64_t e = e0; e < e1; ++e) {
            if (e < wsize) dw[e] = acc[e - e0];
            else if (db) db[e - wsize] = acc[e - e0];
        }
    }
}

void sum_dw_partials(const ConvShape& s, const float* partials, int64_t blocks, float* dw, float* db) {
    const int64_t KF = s.patch() * s.f;
    sum_partials(partials, blocks, KF + s.f, KF, dw, db);
}

namespace {

// The shape of dx = conv(dz, flipped kernel) for a stride-1 convolution: dx row ih gathers
// dz rows oh = ih + pad_top - i*dh, i.e. the kernel rows reversed with padding
// (kh-1)*dh - pad_top (positions outside dz read as zero).
ConvShape transposed_shape(const ConvShape& s) {
    ConvShape t = s;
    t.h = s.oh, t.w = s.ow, t.c = s.f;
    t.oh = s.h, t.ow = s.w, t.f = s.c;
    t.pad_top = (s.kh - 1) * s.dh - s.pad_top;
    t.pad_left = (s.kw - 1) * s.dw - s.pad_left;
    return t;
}

// wt (kh, kw, f, c)[i, j] = w (kh, kw, c, f)[kh-1-i, kw-1-j] transposed.
void flip_kernel(const ConvShape& s, const float* w, float* wt) {
    const int64_t C = s.c, F = s.f;
    for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
            const float* src = w + ((s.kh - 1 - i) * s.kw + (s.kw - 1 - j)) * C * F;
            float* dst = wt + (i * s.kw + j) * F * C;
            for (int64_t c = 0; c < C; ++c)
                for (int64_t f = 0; f < F; ++f) dst[f * C + c] = src[c * F + f];
        }
}

// dx = col2im(dz Wᵀ), a chunk of images at a time.
void col2im_dx(const ConvShape& s, const float* dz, const float* w, float* dx, float* col, int64_t col_rows) {
    const int64_t K = s.patch(), F = s.f, P = s.out_pixels(), chunk = chunk_images(s, col_rows);
    for (int64_t first = 0; first < s.n; first += chunk) {
        const int64_t imgs = std::min(chunk, s.n - first), rows = imgs * P;
        sgemm(false, true, rows, K, F, 1.0f, dz + first * P * F, F, w, F, 0.0f, col, K);
        col2im(s, col, first, imgs, dx);
    }
}

}  // namespace

// Whether conv_backward reads a pooled gradient in place of dz: the passes it runs (the input
// gradient only with dx) by Winograd, with a fixed algorithm or Tune's choice (while Tune measures,
// it runs each pass several times and keeps dz formed once).
bool reads_pooled_grad(const ConvShape& s, bool need_dx) {
    if (!winograd_applicable(s)) return false;
    ConvAlgo kg, ig = ConvAlgo::Winograd4;
    return conv_algo_settled(s, ConvPass::KernelGrad, &kg) && is_winograd(kg) &&
           (!need_dx || (conv_algo_settled(s, ConvPass::InputGrad, &ig) && is_winograd(ig)));
}

void conv_backward(const ConvShape& s, const float* x, const float* w, const float* z, const float* y,
                   float* dy, float* dx, float* dw, float* db, float* col, int64_t col_rows, float* partials,
                   Activation act, bool dy_is_preactivation, const PooledGrad* pooled) {
    const int64_t K = s.patch(), F = s.f, P = s.out_pixels(), KF = K * F;
    bool act_bwd = !dy_is_preactivation && act != Activation::Linear;
    if (pooled && act_bwd) throw std::invalid_argument("conv_backward: a pooled gradient needs dy_is_preactivation or a linear activation");
    if (pooled && !reads_pooled_grad(s, dx != nullptr)) {
        // dz formed whole, as the pooling's own backward would (see PooledGrad)
        const PoolShape ps{s.n, s.oh, s.ow, F, s.oh / 2, s.ow / 2, 2, 2, 2, 2, 0, 0};
        max_pool_backward(ps, pooled->dy, pooled->argmax, dy, pooled->gate);
        pooled = nullptr;
    }
    if (s.pointwise()) {
        if (act_bwd) activation_backward(act, z, y, dy, dy, s.n * P, F);
        if (db) column_sums(dy, F, db, s.n * P, F);
        sgemm(true, false, K, F, s.n * P, 1.0f, x, K, dy, F, 0.0f, dw, F);
        if (dx) sgemm(false, true, s.n * P, K, F, 1.0f, dy, F, w, F, 0.0f, dx, K);
        return;
    }
    if (s.n == 0) {
        std::fill(dw, dw + KF, 0.0f);
        if (db) std::fill(db, db + F, 0.0f);
        return;
    }
    const int64_t col_floats = col_rows * K;
    // Measuring runs the kernel gradient more than once: form dz first, once.
    if (act_bwd && conv_algo_will_measure(s, ConvPass::KernelGrad)) {
        activation_backward(act, z, y, dy, dy, s.n * P, F);
        act_bwd = false;
    }
    run_conv_algo(s, ConvPass::KernelGrad, [&](ConvAlgo a) {
        if (a == ConvAlgo::Direct && direct_applicable(s))
            direct_dw_db(s, x, z, y, dy, dw, db, partials, act, act_bwd, dx != nullptr);
        else if (a == ConvAlgo::Im2col || a == ConvAlgo::Direct)
            conv_dw_db(s, x, z, y, dy, dw, db, col, col_floats, partials, act, act_bwd);
        else winograd_kernel_grad(s, winograd_tile(a), x, z, y, dy, dw, db, act, act_bwd, pooled);
    });
    if (!dx) return;
    const ConvShape t = transposed_shape(s);
    if (s.sh == 1 && s.sw == 1 && (winograd_applicable(s) || block_units(t) * t.ow * t.patch() <= col_floats)) {
        float* wt = partials + conv_dw_partials_size(s, col_rows) - KF;
        flip_kernel(s, w, wt);
        const Activation lin = Activation::Linear;
        run_conv_algo(s, ConvPass::InputGrad, [&](ConvAlgo a) {
            if (a == ConvAlgo::Direct && direct_applicable(t)) direct_forward(t, dy, wt, nullptr, dx, lin);
            else if (is_winograd(a))
                winograd_forward(t, winograd_tile(a), dy, wt, nullptr, dx, lin, nullptr, nullptr, pooled);
            else if (block_units(t) * t.ow * t.patch() <= col_floats) blocked_conv(t, dy, wt, dx, nullptr, col, col_floats);
            else col2im_dx(s, dy, w, dx, col, col_rows);
        });
        return;
    }
    col2im_dx(s, dy, w, dx, col, col_rows);
}

}  // namespace seqnet
