// Locally-connected layers as one GEMM per output position over all the images: the patches
// of position p (n x patch, rows strided in col (n, P, patch)) are gathered and multiplied by
// the position's kernel, the result written straight into the strided output rows with the bias
// and the activation fused into the GEMM's epilogue. Backward per position: dW_p = col_pᵀ dz_p,
// db_p the column sums of dz_p in image order, dcol_p = dz_p W_pᵀ (into col); then each image
// gathers its dx from dcol in position order. Positions split over threads when there are
// enough of them, otherwise each GEMM uses the threads itself; every output is computed by one
// fixed sequence of operations either way, so the results do not depend on the thread count.
#include "seqnet/local.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "../parallel_region.h"
#include "seqnet/gemm.h"

namespace seqnet {
namespace {

constexpr int64_t kMinParallelWork = 1 << 15;

void activation_row(float* c, int64_t len, const void* ctx) {
    activation_forward(*static_cast<const Activation*>(ctx), c, c, 1, len);
}

// Whether to split positions over threads (each GEMM then single-threaded) rather than run
// them in turn with multi-threaded GEMMs.
bool split_positions(const LocalShape& s) {
    if (omp_in_parallel()) return false;
    const int64_t work = s.n * s.positions() * s.patch() * std::max<int64_t>(s.f, 1);
    return work > kMinParallelWork && s.positions() >= omp_get_max_threads();
}

// Calls fn(offset in x, offset in the patch, run length) for the contiguous runs of the window
// of position p in one image: kh runs of kw*c floats (channels_last) or c*kh runs of kw.
template <typename Fn>
void for_each_run(const LocalShape& s, int64_t p, Fn fn) {
    const int64_t h0 = (p / s.ow) * s.sh, w0 = (p % s.ow) * s.sw;
    if (!s.channels_first) {
        for (int64_t a = 0; a < s.kh; ++a) fn(((h0 + a) * s.w + w0) * s.c, a * s.kw * s.c, s.kw * s.c);
        return;
    }
    for (int64_t ch = 0; ch < s.c; ++ch)
        for (int64_t a = 0; a < s.kh; ++a) fn((ch * s.h + h0 + a) * s.w + w0, (ch * s.kh + a) * s.kw, s.kw);
}

// col (n, P, patch)[:, p] = the patches of position p of every image.
void gather_position(const LocalShape& s, const float* x, int64_t p, float* col) {
    const int64_t K = s.patch(), image = s.c * s.h * s.w;
    for (int64_t img = 0; img < s.n; ++img) {
        const float* xi = x + img * image;
        float* out = col + (img * s.positions() + p) * K;
        for_each_run(s, p, [&](int64_t xo, int64_t po, int64_t len) {
            std::memcpy(out + po, xi + xo, size_t(len) * sizeof(float));
        });
    }
}

// dx of one image = the sum over positions, in order, of its patch gradients in dcol.
void scatter_image(const LocalShape& s, const float* dcol, int64_t img, float* dx) {
    const int64_t K = s.patch(), image = s.c * s.h * s.w;
    float* dxi = dx + img * image;
    std::memset(dxi, 0, size_t(image) * sizeof(float));
    for (int64_t p = 0; p < s.positions(); ++p) {
        const float* g = dcol + (img * s.positions() + p) * K;
        for_each_run(s, p, [&](int64_t xo, int64_t po, int64_t len) {
            float* d = dxi + xo;
            const float* src = g + po;
#pragma omp simd
            for (int64_t e = 0; e < len; ++e) d[e] += src[e];
        });
    }
}

}  // namespace

void local_forward(const LocalShape& s, const float* x, const float* w, const float* b, float* z, float* y,
                   float* col, Activation act) {
    const int64_t P = s.positions(), K = s.patch(), F = s.f;
    const bool elementwise = act != Activation::Linear && act != Activation::Softmax;
    float* out = z ? z : y;
    const bool fuse_act = !z && elementwise;
    if (s.n == 0) return;
    // Positions over the threads, or in turn with each GEMM threaded (run_region: never its GEMMs
    // inside an inactive region, where their teams would be nested).
    run_region(split_positions(s) ? omp_get_max_threads() : 1, [&](int) {
#pragma omp for schedule(dynamic)
        for (int64_t p = 0; p < P; ++p) {
            gather_position(s, x, p, col);
            GemmEpilogue ep;
            ep.bias = b ? b + p * F : nullptr;
            if (fuse_act) {
                ep.row_fn = activation_row;
                ep.ctx = &act;
            }
            sgemm(false, false, s.n, F, K, 1.0f, col + p * K, P * K, w + p * K * F, F, 0.0f, out + p * F, P * F,
                  (ep.bias || ep.row_fn) ? &ep : nullptr);
        }
    });
    if (z) activation_forward(act, z, y, s.n * P, F);
    else if (act == Activation::Softmax) activation_forward(act, y, y, s.n * P, F);
}

void local_backward(const LocalShape& s, const float* w, const float* z, const float* y, float* dy, float* dx,
                    float* dw, float* db, float* col, Activation act, bool dy_is_preactivation) {
    const int64_t P = s.positions(), K = s.patch(), F = s.f;
    if (s.n == 0) {
        std::fill(dw, dw + P * K * F, 0.0f);
        if (db) std::fill(db, db + P * F, 0.0f);
        return;
    }
    if (!dy_is_preactivation && act != Activation::Linear) activation_backward(act, z, y, dy, dy, s.n * P, F);
    run_region(split_positions(s) ? omp_get_max_threads() : 1, [&](int) {
#pragma omp for schedule(dynamic)
        for (int64_t p = 0; p < P; ++p) {
            const float* dz = dy + p * F;
            sgemm(true, false, K, F, s.n, 1.0f, col + p * K, P * K, dz, P * F, 0.0f, dw + p * K * F, F);
            if (db) {
                float* dbp = db + p * F;
                for (int64_t j = 0; j < F; ++j) dbp[j] = 0.0f;
                for (int64_t img = 0; img < s.n; ++img) {
                    const float* row = dz + img * P * F;
#pragma omp simd
                    for (int64_t j = 0; j < F; ++j) dbp[j] += row[j];
                }
            }
            if (dx) sgemm(false, true, s.n, K, F, 1.0f, dz, P * F, w + p * K * F, F, 0.0f, col + p * K, P * K);
        }
    });
    if (!dx) return;
    const int64_t image = s.c * s.h * s.w;
#pragma omp parallel for schedule(static) if (s.n * (image + P * K) > kMinParallelWork && !omp_in_parallel())
    for (int64_t img = 0; img < s.n; ++img) scatter_image(s, col, img, dx);
}

}  // namespace seqnet
