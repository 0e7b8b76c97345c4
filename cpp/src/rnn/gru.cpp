// GRU over a whole sequence, Keras 2.2.4 formulation (gates z, r, h):
//   reset_after = false: z = ra(x Wz + h Uz + bz), r = ra(x Wr + h Ur + br),
//                        hh = a(x Wh + (r * h) Uh + bh);
//   reset_after = true:  z = ra(x Wz + bz + h Uz + bz'), r likewise,
//                        hh = a(x Wh + bh + r * (h Uh + bh'));
//   h' = z * h + (1 - z) * hh. With recurrent dropout each gate sees h times its own mask.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "../gemm/gemm_kernels.h"
#include "rnn_cell_kernels.h"
#include "rnn_common.h"
#include "seqnet/cpu.h"
#include "seqnet/dense.h"
#include "seqnet/gemm.h"
#include "seqnet/rnn.h"

namespace seqnet {

using namespace rnn_detail;

namespace {

// U's columns for z and r, and for h, each packed into the panels of the per-step products
// (gemm::panel_update), forward as U and backward as U^T, one after the other in `ut`: at most
// 3u^2 + 3 x 64u floats with panels at most 64 wide, within Scratch::ut's 3u(u + 64).
struct GruPanels {
    const float *zr = nullptr, *h = nullptr;
};

GruPanels pack_recurrent(const gemm::MicroKernel& uk, const float* u, int64_t un, bool transposed, float* ut) {
    const int64_t pw = gemm::panel_width(uk), n = 3 * un;
    GruPanels p;
    if (!transposed) {  // U[:, :2u] (un x 2un), then U[:, 2u:] (un x un)
        gemm::pack_b(false, u, n, un, 2 * un, int(pw), ut);
        float* h = ut + (2 * un + pw - 1) / pw * pw * un;
        gemm::pack_b(false, u + 2 * un, n, un, un, int(pw), h);
        p.h = h;
    } else {  // U[:, :2u]^T (2un x un), then U[:, 2u:]^T (un x un)
        gemm::pack_b(true, u, n, 2 * un, un, int(pw), ut);
        float* h = ut + (un + pw - 1) / pw * pw * 2 * un;
        gemm::pack_b(true, u + 2 * un, n, un, un, int(pw), h);
        p.h = h;
    }
    p.zr = ut;
    return p;
}

// Columns c of the weight gradients (no dropout masks): z and r read hprev, h reads r * h, or
// with reset_after hprev against d(rh), which backward leaves in rh; dW and db read dG alone.
// Each column sums its rows in the same order whichever columns a call gets (weight_grads).
void gru_weight_grads(const float* x, const float* hprev, const float* rh, const float* gates, float* dw, float* du,
                      float* db, const RnnDims& d, bool reset_after, const Cols& c) {
    const int64_t G = 3, un = d.units, n = G * un, rows = d.batch * d.steps;
    const int64_t split = std::clamp<int64_t>(2 * un, c.j0, c.j0 + c.n);
    weight_grads(x, hprev, gates, dw, du, db, d, G, Cols{c.j0, split - c.j0});
    const Cols h{split, c.j0 + c.n - split};
    if (h.n <= 0) return;
    if (!reset_after) {
        weight_grads(x, rh, gates, dw, du, db, d, G, h);
        return;
    }
    if (db) column_sums(gates + h.j0, n, db + h.j0, rows, h.n);
    sgemm(true, false, un, h.n, rows, 1.0f, hprev, un, rh + (h.j0 - 2 * un), un, 0.0f, du + h.j0, n);
    if (dw) sgemm(true, false, d.input, h.n, rows, 1.0f, x, d.input, gates + h.j0, n, 0.0f, dw + h.j0, n);
}

}  // namespace

// One parallel region per call, as the LSTM's (lstm.cpp): each thread runs the whole
// recurrence of its own batch rows, whose per-step products read U packed once per call into
// panels; with recurrent dropout, the gate-by-gate products (recurrent_product) on those rows.
void gru_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                 const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates, float* hs,
                 float* rh, float* h_last, float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 3, un = d.units, ldg = d.steps * G * un, ldr = d.steps * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    const float* mh = rec_mask ? rec_mask + 2 * d.batch * un : nullptr;
    const float* b_rec = o.reset_after && b ? b + G * un : nullptr;  // the recurrent half of (2, 3u)
    // With a sequence mask the carried h and the outputs differ, so h lives apart from hs.
    float* hst = mask ? s.hstate : hs;
    const int threads = recurrence_threads(d, G);
    const bool own_rows = threads > 1 && !large_products(d, G);
    if (!own_rows) input_projection(x, w, b, in_mask, gates, s, d, G);
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const bool panels = !rec_mask;
    GruPanels up;
    if (panels) {
        up = pack_recurrent(uk, u, un, false, s.ut);
    } else {  // each gate's U_g apart, for its own masked h (U_h: the h gate's product either way)
        pack_gate_panels(u, s, d, G, false);
        up.h = gate_panels(s, d, 2);
    }
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        const int64_t b0 = r.b0, b1 = r.b0 + r.count(d), nb = r.count(d);
        if (own_rows) input_projection(x, w, b, in_mask, gates, s, d, G, r);
        // The recurrence flushes subnormals on every thread, as the LSTM's (see lstm.cpp); the
        // products before and after it keep the caller's mode.
        const DenormalsMode flush(DenormalsMode::kFlush);
        for (int64_t step = 0; step < d.steps; ++step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * G * un;
            float* rh_t = rh + t * un;
            const float* hp = step == 0 ? h0 : hst + (step - 1) * un;
            const int64_t ldh = step == 0 ? un : d.steps * un;
            if (panels)
                gemm::panel_update(uk, nb, 2 * un, un, hp + b0 * ldh, ldh, up.zr, g_t + b0 * ldg, ldg);
            else
                recurrent_product(hp, ldh, rec_mask, g_t, ldg, s, d, 0, 2, r);
            if (o.reset_after) {
                // rh = h Uh + bh' is kept whole: backward needs it for dr, and r scales it after
                // the product
                for (int64_t bi = b0; bi < b1; ++bi) {
                    if (b_rec)
                        std::memcpy(rh_t + bi * ldr, b_rec + 2 * un, sizeof(float) * un);
                    else
                        std::memset(rh_t + bi * ldr, 0, sizeof(float) * un);
                }
                if (panels)
                    gemm::panel_update(uk, nb, un, un, hp + b0 * ldh, ldh, up.h, rh_t + b0 * ldr, ldr);
                else
                    recurrent_product(hp, ldh, rec_mask, rh_t, ldr, s, d, 2, 3, r);
                for (int64_t bi = b0; bi < b1; ++bi) {
                    float* g = g_t + bi * ldg;
                    const float* r_h = rh_t + bi * ldr;
                    if (b_rec) {
#pragma omp simd
                        for (int64_t j = 0; j < 2 * un; ++j) g[j] += b_rec[j];
                    }
                    k.act(o.recurrent_activation, g, 2 * un);
#pragma omp simd
                    for (int64_t j = 0; j < un; ++j) g[2 * un + j] += g[un + j] * r_h[j];
                }
            } else {
                for (int64_t bi = b0; bi < b1; ++bi) {
                    float* g = g_t + bi * ldg;
                    const float* h = state_row(h0, hst, step, bi, d);
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
                // rh = r * h, masked already with recurrent dropout
                gemm::panel_update(uk, nb, un, un, rh_t + b0 * ldr, ldr, up.h, g_t + 2 * un + b0 * ldg, ldg);
            }
            for (int64_t bi = b0; bi < b1; ++bi) {
                float* g = g_t + bi * ldg;
                const float* h = state_row(h0, hst, step, bi, d);
                float* out = hst + (bi * d.steps + step) * un;
                k.act(o.activation, g + 2 * un, un);
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) out[j] = g[j] * h[j] + (1.0f - g[j]) * g[2 * un + j];
                finish_step(mask, step, t, bi, h0, nullptr, hst, nullptr, hs, d);
            }
        }
        watch.loop_done(i);
        copy_last_step(hst, h_last, d, r);
        watch.arrive(1);
    });
    watch.close();
}

void gru_backward(const float* x, const float* w, const float* u, const float* h0, const float* in_mask,
                  const float* rec_mask, const uint8_t* mask, float* gates, const float* hs, float* rh,
                  const float* dhs, const float* dh_last, float* dx, float* dw, float* du, float* db,
                  float* dh0, float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 3, un = d.units, ldg = d.steps * G * un, ldr = d.steps * un, bu = d.batch * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    const float* mh = rec_mask ? rec_mask + 2 * d.batch * un : nullptr;
    // U^T as panels for the per-step products (see gru_forward); with recurrent dropout, each
    // gate's U_g^T apart (pack_gate_panels).
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const bool panels = !rec_mask;
    GruPanels up;
    if (panels) {
        up = pack_recurrent(uk, u, un, true, s.ut);
    } else {
        pack_gate_panels(u, s, d, G, true);
        up.h = gate_panels(s, d, 2);
    }
    copy_or_zero(dh_last, s.dh, bu);
    if (mask) std::memset(s.dout, 0, sizeof(float) * bu);
    const int threads = recurrence_threads(d, G);
    // Small layers: each thread computes dx for its own rows in the same region; large ones
    // run dx and the weight gradients after it on sgemm's own threads (see lstm_backward).
    const bool own_rows = threads > 1 && !large_products(d, G);
    // Small layers also split the weight gradients by columns between the threads, in the
    // same region (as lstm_backward); without dropout masks, every thread count computes
    // them through gru_weight_grads, so the bits never depend on the split.
    const bool plain = !in_mask && !rec_mask, split_weights = own_rows && plain;
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        const int64_t b0 = r.b0, b1 = r.b0 + r.count(d), nb = r.count(d);
        // The loop reads the state each step started from.
        gather_hprev(h0, hs, mask, s.hprev, d, o.go_backwards, r);
        float *dh = s.dh, *dhp = s.dh2, *drh = s.rtmp;
        std::optional<DenormalsMode> flush(std::in_place, DenormalsMode::kFlush);  // as forward
        for (int64_t step = d.steps - 1; step >= 0; --step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * G * un;
            float* rh_t = rh + t * un;
            for (int64_t bi = b0; bi < b1; ++bi) {
                float* g = g_t + bi * ldg;
                const float* h = s.hprev + (bi * d.steps + t) * un;
                const float* dhr = dh + bi * un;
                float* dhpr = dhp + bi * un;
                if (!take_step_grad(dhs, mask, step, t, bi, dh, s.dout, d)) {
                    // a skipped step: h passes through, nothing reaches the weights or x
                    std::memset(g, 0, sizeof(float) * G * un);
                    if (o.reset_after) std::memset(rh_t + bi * ldr, 0, sizeof(float) * un);
                    std::memcpy(dhpr, dhr, sizeof(float) * un);
                    continue;
                }
                float *dz = s.cell + bi * 8 * un, *dhh = dz + un, *dr = dz + 2 * un;
#pragma omp simd
                for (int64_t j = 0; j < un; ++j) {
                    dz[j] = dhr[j] * (h[j] - g[2 * un + j]);
                    dhh[j] = dhr[j] * (1.0f - g[j]);
                    dhpr[j] = dhr[j] * g[j];
                }
                k.act_grad(o.recurrent_activation, g, dz, g, un);
                k.act_grad(o.activation, g + 2 * un, dhh, g + 2 * un, un);
                if (o.reset_after) {
                    // hh_pre = xh + r * rh: dr = dhh_pre * rh; rh becomes d(rh) = dhh_pre * r,
                    // the gradient of the recurrent product and bias of the h gate.
                    float* r_h = rh_t + bi * ldr;
                    const float* dpre = g + 2 * un;
#pragma omp simd
                    for (int64_t j = 0; j < un; ++j) {
                        dr[j] = dpre[j] * r_h[j];
                        r_h[j] = dpre[j] * g[un + j];
                    }
                    k.act_grad(o.recurrent_activation, g + un, dr, g + un, un);
                }
            }
            if (o.reset_after) {
                if (panels) {
                    gemm::panel_update(uk, nb, un, 2 * un, g_t + b0 * ldg, ldg, up.zr, dhp + b0 * un, un);
                    gemm::panel_update(uk, nb, un, un, rh_t + b0 * ldr, ldr, up.h, dhp + b0 * un, un);
                } else {
                    recurrent_product_backward(g_t, ldg, rec_mask, dhp, s, d, 0, 2, r);
                    recurrent_product_backward(rh_t, ldr, rec_mask, dhp, s, d, 2, 3, r);
                }
            } else {
                // d(r * h_masked) = dhh_pre Uh^T (0 on skipped rows, whose gate gradients are 0)
                std::memset(drh + b0 * un, 0, sizeof(float) * nb * un);
                gemm::panel_update(uk, nb, un, un, g_t + 2 * un + b0 * ldg, ldg, up.h, drh + b0 * un, un);
                for (int64_t bi = b0; bi < b1; ++bi) {
                    if (!kept(mask, bi, t, d)) continue;
                    float* g = g_t + bi * ldg;
                    const float* h = s.hprev + (bi * d.steps + t) * un;
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
                if (panels)
                    gemm::panel_update(uk, nb, un, 2 * un, g_t + b0 * ldg, ldg, up.zr, dhp + b0 * un, un);
                else
                    recurrent_product_backward(g_t, ldg, rec_mask, dhp, s, d, 0, 2, r);
            }
            float* tmp = dh;
            dh = dhp;
            dhp = tmp;
        }
        flush.reset();
        watch.loop_done(i);
        // Each thread's rows of dx depend on its rows of the gate gradients only.
        if (dx && own_rows) input_grad(w, in_mask, gates, dx, s, d, G, r);
        if (split_weights) {
            watch.arrive(0);
#pragma omp barrier
            gru_weight_grads(x, s.hprev, rh, gates, dw, du, db, d, o.reset_after, thread_cols(G * un, i, threads));
        }
        watch.arrive(1);
    });
    watch.close();
    // Every step swapped dh and the next one: after an even count dh is back in s.dh.
    if (dh0) std::memcpy(dh0, d.steps % 2 == 0 ? s.dh : s.dh2, sizeof(float) * bu);
    if (dx && !own_rows) input_grad(w, in_mask, gates, dx, s, d, G);
    if (plain) {
        if (!split_weights) gru_weight_grads(x, s.hprev, rh, gates, dw, du, db, d, o.reset_after, Cols{0, G * un});
    } else {
        recurrent_weight_grad(s.hprev, rec_mask, gates, G * un, du, s, d, G, 0, 2);
        if (o.reset_after)
            recurrent_weight_grad(s.hprev, rec_mask, rh, un, du, s, d, G, 2, 3);
        else
            recurrent_weight_grad(rh, nullptr, gates + 2 * un, G * un, du, s, d, G, 2, 3);
        input_weight_grad(x, in_mask, gates, dw, db, s, d, G);
    }
    if (o.reset_after && db) {
        // z and r add both halves of the bias to the same sum, so their gradients are equal
        std::memcpy(db + G * un, db, sizeof(float) * 2 * un);
        column_sums(rh, un, db + G * un + 2 * un, d.batch * d.steps, un);
    }
}

}  // namespace seqnet
