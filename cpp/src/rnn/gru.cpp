// GRU over a whole sequence, Keras 2.2.4 formulation (reset_after=False, gates z, r, h):
// z = ra(x Wz + h Uz + bz), r = ra(x Wr + h Ur + br), hh = a(x Wh + (r * h) Uh + bh),
// h' = z * h + (1 - z) * hh. With recurrent dropout each gate sees h times its own mask.
#include <cstring>

#include "rnn_cell_kernels.h"
#include "rnn_common.h"
#include "seqnet/gemm.h"
#include "seqnet/rnn.h"

namespace seqnet {

using namespace rnn_detail;

void gru_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                 const float* in_mask, const float* rec_mask, float* gates, float* hs, float* rh,
                 float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 3, un = d.units, ldg = d.steps * G * un, ldr = d.steps * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    const float* mh = rec_mask ? rec_mask + 2 * d.batch * un : nullptr;
    input_projection(x, w, b, in_mask, gates, s, d, G);
    for (int64_t step = 0; step < d.steps; ++step) {
        const int64_t t = time_of(step, d, o.go_backwards);
        float* g_t = gates + t * G * un;
        float* rh_t = rh + t * un;
        const float* hp = step == 0 ? h0 : hs + (step - 1) * un;
        recurrent_product(hp, step == 0 ? un : d.steps * un, u, rec_mask, g_t, ldg, s, d, G, 0, 2);
#pragma omp parallel for if (rows_worth_threads(d.batch * G * un)) schedule(static)
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            float* g = g_t + bi * ldg;
            const float* h = state_row(h0, hs, step, bi, d);
            float* r_h = rh_t + bi * ldr;
            k.act(o.recurrent_activation, g, 2 * un);
            if (mh) {
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) r_h[j] = g[un + j] * h[j] * mh[bi * un + j];
            } else {
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) r_h[j] = g[un + j] * h[j];
            }
        }
        sgemm(false, false, d.batch, un, un, 1.0f, rh_t, ldr, u + 2 * un, G * un, 1.0f, g_t + 2 * un, ldg);
#pragma omp parallel for if (rows_worth_threads(d.batch * G * un)) schedule(static)
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            float* g = g_t + bi * ldg;
            const float* h = state_row(h0, hs, step, bi, d);
            float* out = hs + (bi * d.steps + step) * un;
            k.act(o.activation, g + 2 * un, un);
#pragma omp simd
            for (int64_t j = 0; j < un; ++j) out[j] = g[j] * h[j] + (1.0f - g[j]) * g[2 * un + j];
        }
    }
}

void gru_backward(const float* x, const float* w, const float* u, const float* h0, const float* in_mask,
                  const float* rec_mask, float* gates, const float* hs, const float* rh, const float* dhs,
                  const float* dh_last, float* dx, float* dw, float* du, float* db, float* dh0,
                  float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 3, un = d.units, ldg = d.steps * G * un, bu = d.batch * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    const float* mh = rec_mask ? rec_mask + 2 * d.batch * un : nullptr;
    float *dh = s.dh, *dhp = s.dh2, *drh = s.rtmp;
    transpose_recurrent(u, s.ut, d, G);
    copy_or_zero(dh_last, dh, bu);
    for (int64_t step = d.steps - 1; step >= 0; --step) {
        const int64_t t = time_of(step, d, o.go_backwards);
        float* g_t = gates + t * G * un;
        add_step_grad(dhs, step, dh, d);
#pragma omp parallel for if (rows_worth_threads(d.batch * G * un)) schedule(static)
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            float* g = g_t + bi * ldg;
            const float* h = state_row(h0, hs, step, bi, d);
            const float* dhr = dh + bi * un;
            float* dhpr = dhp + bi * un;
            float *dz = s.cell + bi * 8 * un, *dhh = dz + un;
#pragma omp simd
            for (int64_t j = 0; j < un; ++j) {
                dz[j] = dhr[j] * (h[j] - g[2 * un + j]);
                dhh[j] = dhr[j] * (1.0f - g[j]);
                dhpr[j] = dhr[j] * g[j];
            }
            k.act_grad(o.recurrent_activation, g, dz, g, un);
            k.act_grad(o.activation, g + 2 * un, dhh, g + 2 * un, un);
        }
        // d(r * h_masked) = dhh_pre Uh^T
        sgemm(false, false, d.batch, un, un, 1.0f, g_t + 2 * un, ldg, s.ut + 2 * un * un, un, 0.0f, drh, un);
#pragma omp parallel for if (rows_worth_threads(d.batch * G * un)) schedule(static)
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            float* g = g_t + bi * ldg;
            const float* h = state_row(h0, hs, step, bi, d);
            const float* dr_h = drh + bi * un;
            float* dhpr = dhp + bi * un;
            float* dr = s.cell + bi * 8 * un;
            const float* m = mh ? mh + bi * un : nullptr;
            if (m) {
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) {
                    dr[j] = dr_h[j] * h[j] * m[j];
                    dhpr[j] += dr_h[j] * g[un + j] * m[j];
                }
            } else {
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) {
                    dr[j] = dr_h[j] * h[j];
                    dhpr[j] += dr_h[j] * g[un + j];
                }
            }
            k.act_grad(o.recurrent_activation, g + un, dr, g + un, un);
        }
        recurrent_product_backward(g_t, ldg, s.ut, rec_mask, dhp, s, d, G, 0, 2);
        float* tmp = dh;
        dh = dhp;
        dhp = tmp;
    }
    if (dh0) std::memcpy(dh0, dh, sizeof(float) * bu);
    gather_hprev(h0, hs, s.hprev, d, o.go_backwards);
    recurrent_weight_grad(s.hprev, rec_mask, gates, du, s, d, G, 0, 2);
    recurrent_weight_grad(rh, nullptr, gates, du, s, d, G, 2, 3);
    input_backward(x, w, in_mask, gates, dw, db, dx, s, d, G);
}

}  // namespace seqnet
