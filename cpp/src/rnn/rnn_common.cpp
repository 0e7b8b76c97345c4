// The pieces every recurrent cell shares (see rnn_common.h).
#include "rnn_common.h"

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
    return s;
}

void input_projection(const float* x, const float* w, const float* b, const float* in_mask, float* gx,
                      const Scratch& s, const RnnDims& d, int64_t G) {
    const int64_t rows = d.batch * d.steps, u = d.units, n = G * u;
    GemmEpilogue ep;
    if (!in_mask) {
        ep.bias = b;
        sgemm(false, false, rows, n, d.input, 1.0f, x, d.input, w, n, 0.0f, gx, n, b ? &ep : nullptr);
        return;
    }
    for (int64_t g = 0; g < G; ++g) {
        scale_rows(x, in_mask + g * d.batch * d.input, s.xm, d.batch, d.steps, d.input, false);
        ep.bias = b ? b + g * u : nullptr;
        sgemm(false, false, rows, u, d.input, 1.0f, s.xm, d.input, w + g * u, n, 0.0f, gx + g * u, n,
              b ? &ep : nullptr);
    }
}

void recurrent_product(const float* h, int64_t ldh, const float* u, const float* rec_mask, float* gx_t,
                       int64_t ldg, const Scratch& s, const RnnDims& d, int64_t G, int64_t lo, int64_t hi) {
    const int64_t un = d.units, n = G * un;
    if (!rec_mask) {
        sgemm(false, false, d.batch, (hi - lo) * un, un, 1.0f, h, ldh, u + lo * un, n, 1.0f, gx_t + lo * un,
              ldg);
        return;
    }
    for (int64_t g = lo; g < hi; ++g) {
        const float* m = rec_mask + g * d.batch * un;
        for (int64_t b = 0; b < d.batch; ++b) {
            const float* hr = h + b * ldh;
            float* tr = s.rtmp + b * un;
#pragma omp simd
            for (int64_t j = 0; j < un; ++j) tr[j] = hr[j] * m[b * un + j];
        }
        sgemm(false, false, d.batch, un, un, 1.0f, s.rtmp, un, u + g * un, n, 1.0f, gx_t + g * un, ldg);
    }
}

void recurrent_product_backward(const float* dg_t, int64_t ldg, const float* u, const float* rec_mask,
                                float* dh, const Scratch& s, const RnnDims& d, int64_t G, int64_t lo,
                                int64_t hi) {
    const int64_t un = d.units, n = G * un;
    if (!rec_mask) {
        sgemm(false, true, d.batch, un, (hi - lo) * un, 1.0f, dg_t + lo * un, ldg, u + lo * un, n, 1.0f, dh, un);
        return;
    }
    for (int64_t g = lo; g < hi; ++g) {
        sgemm(false, true, d.batch, un, un, 1.0f, dg_t + g * un, ldg, u + g * un, n, 0.0f, s.rtmp, un);
        scale_rows(s.rtmp, rec_mask + g * d.batch * un, dh, d.batch, 1, un, true);
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
    const int64_t rows = d.batch * d.steps, u = d.units, n = G * u, in = d.input;
    if (db) column_sums(dgx, db, rows, n);
    if (!in_mask) {
        sgemm(true, false, in, n, rows, 1.0f, x, in, dgx, n, 0.0f, dw, n);
        if (dx) sgemm(false, true, rows, in, n, 1.0f, dgx, n, w, n, 0.0f, dx, in);
        return;
    }
    for (int64_t g = 0; g < G; ++g) {
        const float* m = in_mask + g * d.batch * in;
        scale_rows(x, m, s.xm, d.batch, d.steps, in, false);
        sgemm(true, false, in, u, rows, 1.0f, s.xm, in, dgx + g * u, n, 0.0f, dw + g * u, n);
        if (!dx) continue;
        sgemm(false, true, rows, in, u, 1.0f, dgx + g * u, n, w + g * u, n, 0.0f, s.xtmp, in);
        scale_rows(s.xtmp, m, dx, d.batch, d.steps, in, g > 0);
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

void add_step_grad(const float* dhs, int64_t s, float* dh, const RnnDims& d) {
    if (!dhs) return;
    const int64_t u = d.units;
    for (int64_t b = 0; b < d.batch; ++b) {
        const float* src = dhs + (b * d.steps + s) * u;
        float* dst = dh + b * u;
#pragma omp simd
        for (int64_t j = 0; j < u; ++j) dst[j] += src[j];
    }
}

void copy_or_zero(const float* src, float* dst, int64_t n) {
    if (src)
        std::memcpy(dst, src, sizeof(float) * n);
    else
        std::memset(dst, 0, sizeof(float) * n);
}

}  // namespace rnn_detail
}  // namespace seqnet
