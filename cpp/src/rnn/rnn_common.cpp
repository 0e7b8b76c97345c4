// The pieces every recurrent cell shares (see rnn_common.h).
#include "rnn_common.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "seqnet/gemm.h"

namespace seqnet {
namespace rnn_detail {
namespace {

// dst[b, t, :] = src[b, t, :] * mask[b, :] (or += when accumulate); rows of n floats,
// mask rows of n floats, `steps` rows per batch entry.
void scale_rows(const float* src, const float* mask, float* dst, int64_t batch, int64_t steps, int64_t n,
                bool accumulate) {
#pragma omp parallel for if (rows_worth_threads(batch * steps * n)) schedule(static)
    for (int64_t b = 0; b < batch; ++b) {
        const float* m = mask + b * n;
        for (int64_t t = 0; t < steps; ++t) {
            const float* sr = src + (b * steps + t) * n;
            float* dr = dst + (b * steps + t) * n;
            if (accumulate) {
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) dr[j] += sr[j] * m[j];
            } else {
#pragma omp simd
                for (int64_t j = 0; j < n; ++j) dr[j] = sr[j] * m[j];
            }
        }
    }
}

// db[j] = sum of dgx[r, j] over rows, in row order (bits independent of threads).
void column_sums(const float* dgx, float* db, int64_t rows, int64_t cols) {
    for (int64_t j = 0; j < cols; ++j) db[j] = 0.0f;
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = dgx + r * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; ++j) db[j] += row[j];
    }
}

}  // namespace

Scratch carve(float* scratch, const RnnDims& d) {
    const int64_t bt = d.batch * d.steps, bu = d.batch * d.units;
    Scratch s;
    s.xm = scratch;
    s.xtmp = s.xm + bt * d.input;
    s.hprev = s.xtmp + bt * d.input;
    s.hm = s.hprev + bt * d.units;
    s.dh = s.hm + bt * d.units;
    s.dh2 = s.dh + bu;
    s.dc = s.dh2 + bu;
    s.rtmp = s.dc + bu;
    s.cell = s.rtmp + bu;
    s.ut = s.cell + 8 * bu;
    return s;
}

void input_projection(const float* x, const float* w, const float* b, const float* in_mask, float* gx,
                      const Scratch& s, const RnnDims& d, int64_t G, const Rows& r) {
    const int64_t nb = r.count(d), rows = nb * d.steps, u = d.units, n = G * u, in = d.input;
    x += r.b0 * d.steps * in;
    gx += r.b0 * d.steps * n;
    GemmEpilogue ep;
    if (!in_mask) {
        ep.bias = b;
        sgemm(false, false, rows, n, in, 1.0f, x, in, w, n, 0.0f, gx, n, b ? &ep : nullptr);
        return;
    }
    float* xm = s.xm + r.b0 * d.steps * in;
    for (int64_t g = 0; g < G; ++g) {
        scale_rows(x, in_mask + (g * d.batch + r.b0) * in, xm, nb, d.steps, in, false);
        ep.bias = b ? b + g * u : nullptr;
        sgemm(false, false, rows, u, in, 1.0f, xm, in, w + g * u, n, 0.0f, gx + g * u, n, b ? &ep : nullptr);
    }
}

void recurrent_product(const float* h, int64_t ldh, const float* u, const float* rec_mask, float* gx_t,
                       int64_t ldg, const Scratch& s, const RnnDims& d, int64_t G, int64_t lo, int64_t hi,
                       const Rows& r) {
    const int64_t un = d.units, n = G * un, nb = r.count(d);
    h += r.b0 * ldh;
    gx_t += r.b0 * ldg;
    if (!rec_mask) {
        sgemm(false, false, nb, (hi - lo) * un, un, 1.0f, h, ldh, u + lo * un, n, 1.0f, gx_t + lo * un, ldg);
        return;
    }
    float* tmp = s.rtmp + r.b0 * un;
    for (int64_t g = lo; g < hi; ++g) {
        const float* m = rec_mask + (g * d.batch + r.b0) * un;
        for (int64_t b = 0; b < nb; ++b) {
            const float* hr = h + b * ldh;
            float* tr = tmp + b * un;
#pragma omp simd
            for (int64_t j = 0; j < un; ++j) tr[j] = hr[j] * m[b * un + j];
        }
        sgemm(false, false, nb, un, un, 1.0f, tmp, un, u + g * un, n, 1.0f, gx_t + g * un, ldg);
    }
}

void transpose_recurrent(const float* u, float* ut, const RnnDims& d, int64_t G) {
    const int64_t un = d.units, n = G * un;
    for (int64_t i = 0; i < un; ++i)
        for (int64_t j = 0; j < n; ++j) ut[j * un + i] = u[i * n + j];
}

void recurrent_product_backward(const float* dg_t, int64_t ldg, const float* ut, const float* rec_mask,
                                float* dh, const Scratch& s, const RnnDims& d, int64_t G, int64_t lo,
                                int64_t hi, const Rows& r) {
    (void)G;
    const int64_t un = d.units, nb = r.count(d);
    dg_t += r.b0 * ldg;
    dh += r.b0 * un;
    if (!rec_mask) {
        sgemm(false, false, nb, un, (hi - lo) * un, 1.0f, dg_t + lo * un, ldg, ut + lo * un * un, un, 1.0f, dh, un);
        return;
    }
    float* tmp = s.rtmp + r.b0 * un;
    for (int64_t g = lo; g < hi; ++g) {
        sgemm(false, false, nb, un, un, 1.0f, dg_t + g * un, ldg, ut + g * un * un, un, 0.0f, tmp, un);
        scale_rows(tmp, rec_mask + (g * d.batch + r.b0) * un, dh, nb, 1, un, true);
    }
}

void recurrent_weight_grad(const float* src, const float* rec_mask, const float* dgx, float* du,
                           const Scratch& s, const RnnDims& d, int64_t G, int64_t lo, int64_t hi) {
    const int64_t rows = d.batch * d.steps, un = d.units, n = G * un;
    if (!rec_mask) {
        sgemm(true, false, un, (hi - lo) * un, rows, 1.0f, src, un, dgx + lo * un, n, 0.0f, du + lo * un, n);
        return;
    }
    for (int64_t g = lo; g < hi; ++g) {
        scale_rows(src, rec_mask + g * d.batch * un, s.hm, d.batch, d.steps, un, false);
        sgemm(true, false, un, un, rows, 1.0f, s.hm, un, dgx + g * un, n, 0.0f, du + g * un, n);
    }
}

void input_backward(const float* x, const float* w, const float* in_mask, const float* dgx, float* dw,
                    float* db, float* dx, const Scratch& s, const RnnDims& d, int64_t G) {
    input_weight_grad(x, in_mask, dgx, dw, db, s, d, G);
    if (dx) input_grad(w, in_mask, dgx, dx, s, d, G);
}

void input_weight_grad(const float* x, const float* in_mask, const float* dgx, float* dw, float* db,
                       const Scratch& s, const RnnDims& d, int64_t G) {
    const int64_t rows = d.batch * d.steps, u = d.units, n = G * u, in = d.input;
    if (db) column_sums(dgx, db, rows, n);
    if (!in_mask) {
        sgemm(true, false, in, n, rows, 1.0f, x, in, dgx, n, 0.0f, dw, n);
        return;
    }
    for (int64_t g = 0; g < G; ++g) {
        scale_rows(x, in_mask + g * d.batch * in, s.xm, d.batch, d.steps, in, false);
        sgemm(true, false, in, u, rows, 1.0f, s.xm, in, dgx + g * u, n, 0.0f, dw + g * u, n);
    }
}

void input_grad(const float* w, const float* in_mask, const float* dgx, float* dx, const Scratch& s,
                const RnnDims& d, int64_t G, const Rows& r) {
    const int64_t nb = r.count(d), rows = nb * d.steps, u = d.units, n = G * u, in = d.input;
    dgx += r.b0 * d.steps * n;
    dx += r.b0 * d.steps * in;
    if (!in_mask) {
        sgemm(false, true, rows, in, n, 1.0f, dgx, n, w, n, 0.0f, dx, in);
        return;
    }
    float* xtmp = s.xtmp + r.b0 * d.steps * in;
    for (int64_t g = 0; g < G; ++g) {
        sgemm(false, true, rows, in, u, 1.0f, dgx + g * u, n, w + g * u, n, 0.0f, xtmp, in);
        scale_rows(xtmp, in_mask + (g * d.batch + r.b0) * in, dx, nb, d.steps, in, g > 0);
    }
}

void gather_hprev(const float* h0, const float* hs, float* hprev, const RnnDims& d, bool back) {
    const int64_t u = d.units;
#pragma omp parallel for if (rows_worth_threads(d.batch * d.steps * u)) schedule(static)
    for (int64_t b = 0; b < d.batch; ++b)
        for (int64_t s = 0; s < d.steps; ++s)
            std::memcpy(hprev + (b * d.steps + time_of(s, d, back)) * u, state_row(h0, hs, s, b, d),
                        sizeof(float) * u);
}

void add_step_grad(const float* dhs, int64_t s, float* dh, const RnnDims& d, const Rows& r) {
    if (!dhs) return;
    const int64_t u = d.units, end = r.b0 + r.count(d);
    for (int64_t b = r.b0; b < end; ++b) {
        const float* src = dhs + (b * d.steps + s) * u;
        float* dst = dh + b * u;
#pragma omp simd
        for (int64_t j = 0; j < u; ++j) dst[j] += src[j];
    }
}

int recurrence_threads(const RnnDims& d, int64_t G) {
    // A fork per sequence costs a few microseconds; below a few million multiply-adds of
    // recurrent products (the stacked seed model's layers) one thread is as fast. Each
    // thread keeps at least 4 rows so its per-step products still fill a microkernel.
    const int64_t macs = d.batch * d.steps * G * d.units * d.units;
    if (macs < (int64_t(4) << 20) || omp_in_parallel()) return 1;
    const int64_t by_rows = d.batch / 4;
    return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), by_rows)));
}

Rows thread_rows(const RnnDims& d, int i, int threads) {
    const int64_t base = d.batch / threads, extra = d.batch % threads;
    Rows r;
    r.b0 = i * base + std::min<int64_t>(i, extra);
    r.n = base + (i < extra ? 1 : 0);
    return r;
}

void copy_or_zero(const float* src, float* dst, int64_t n) {
    if (src)
        std::memcpy(dst, src, sizeof(float) * n);
    else
        std::memset(dst, 0, sizeof(float) * n);
}

}  // namespace rnn_detail
}  // namespace seqnet
