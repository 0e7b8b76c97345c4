// LSTM over a whole sequence: forward and backward through time (Keras gate order i, f, c, o).
#include <omp.h>

#include <cstring>
#include <optional>

#include "../gemm/gemm_kernels.h"
#include "rnn_cell_kernels.h"
#include "rnn_common.h"
#include "seqnet/cpu.h"
#include "seqnet/rnn.h"

namespace seqnet {

using namespace rnn_detail;

void lstm_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                  const float* c0, const float* in_mask, const float* rec_mask, const uint8_t* mask,
                  float* gates, float* hs, float* cs, float* h_last, float* c_last, float* scratch,
                  const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 4, un = d.units, ldg = d.steps * G * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    // With a sequence mask the carried h and the outputs differ, so h lives apart from hs.
    float* hst = mask ? s.hstate : hs;
    const int threads = recurrence_threads(d, G);
    // A large projection runs on sgemm's threads, which share its blocks out as they go; a
    // small one is projected by each thread for its own rows, with no join before the loop.
    const bool own_rows = threads > 1 && !large_products(d, G);
    if (!own_rows) input_projection(x, w, b, in_mask, gates, s, d, G);
    // U packed once per call into the panels of the per-step products (gemm::panel_update),
    // which run on the microkernel directly: 5-8% off the forward here (seed layer, 2 and 1
    // threads), the same bits as sgemm for units <= 128.
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const bool panels = !rec_mask;
    if (panels)
        gemm::pack_b(false, u, G * un, un, G * un, int(gemm::panel_width(uk)), s.ut);
    else
        pack_gate_panels(u, s, d, G, false);
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        if (own_rows) input_projection(x, w, b, in_mask, gates, s, d, G, r);
        const DenormalsMode flush(DenormalsMode::kFlush);  // the recurrence only: see lstm_backward
        for (int64_t step = 0; step < d.steps; ++step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * G * un;
            const float* hp = step == 0 ? h0 : hst + (step - 1) * un;
            const int64_t ldh = step == 0 ? un : d.steps * un;
            if (panels)
                gemm::panel_update(uk, r.count(d), G * un, un, hp + r.b0 * ldh, ldh, s.ut, g_t + r.b0 * ldg, ldg);
            else
                recurrent_product(hp, ldh, rec_mask, g_t, ldg, s, d, 0, G, r);
            for (int64_t bi = r.b0; bi < r.b0 + r.count(d); ++bi) {
                const int64_t row = (bi * d.steps + step) * un;
                k.lstm_cell(g_t + bi * ldg, state_row(c0, cs, step, bi, d), cs + row, hst + row, un, o.activation,
                            o.recurrent_activation);
                finish_step(mask, step, t, bi, h0, c0, hst, cs, hs, d);
            }
        }
        watch.loop_done(i);
        copy_last_step(hst, h_last, d, r);
        copy_last_step(cs, c_last, d, r);
        watch.arrive(1);
    });
    watch.close();
}

void lstm_backward(const float* x, const float* w, const float* u, const float* h0, const float* c0,
                   const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                   const float* hs, const float* cs, const float* dhs, const float* dh_last,
                   const float* dc_last, float* dx, float* dw, float* du, float* db, float* dh0, float* dc0,
                   float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t G = 4, un = d.units, ldg = d.steps * G * un, bu = d.batch * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    // U^T as panels for the per-step products dh += dg U^T (see lstm_forward); with recurrent
    // dropout, each gate's U_g^T apart (pack_gate_panels).
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    const bool panels = !rec_mask;
    if (panels)
        gemm::pack_b(true, u, G * un, G * un, un, int(gemm::panel_width(uk)), s.ut);
    else
        pack_gate_panels(u, s, d, G, true);
    copy_or_zero(dh_last, s.dh, bu);
    copy_or_zero(dc_last, s.dc, bu);
    if (mask) std::memset(s.dout, 0, sizeof(float) * bu);
    const int threads = recurrence_threads(d, G);
    // Small layers: each thread computes dx for its own rows, and the weight gradients split
    // by columns, in the same parallel region (one fork per call). Large ones run dx and the
    // weight gradients after it on sgemm's own threads, which share out blocks as they go
    // (the two cores need not run at the same speed); so do masked weight gradients, which
    // scale through shared scratch.
    const bool own_rows = threads > 1 && !large_products(d, G);
    const bool split_weights = own_rows && !in_mask && !rec_mask;
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        // Gradients through time decay toward zero; as subnormals each costs an assist (an
        // LSTM(128) over 400 steps, batch 16, a tenth of its gate gradients subnormal: backward
        // 615 ms with them, 115 ms flushed; the seed model's 80 steps stay clear of them). The
        // recurrence flushes them on every thread, whatever the thread count; the products
        // after it (here on own rows, or after the region) keep the caller's mode either way,
        // and read gate gradients that hold no subnormals.
        std::optional<DenormalsMode> flush(std::in_place, DenormalsMode::kFlush);
        for (int64_t step = d.steps - 1; step >= 0; --step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * G * un;
            for (int64_t bi = r.b0; bi < r.b0 + r.count(d); ++bi) {
                float* g = g_t + bi * ldg;
                if (!take_step_grad(dhs, mask, step, t, bi, s.dh, s.dout, d)) {
                    // a skipped step: h and c pass through, nothing reaches the weights or x
                    std::memset(g, 0, sizeof(float) * G * un);
                    continue;
                }
                const int64_t row = (bi * d.steps + step) * un;
                k.lstm_cell_backward(g, state_row(c0, cs, step, bi, d), cs + row, s.dh + bi * un, s.dc + bi * un,
                                     s.cell + bi * 8 * un, un, o.activation, o.recurrent_activation);
                std::memset(s.dh + bi * un, 0, sizeof(float) * un);
            }
            if (panels)
                gemm::panel_update(uk, r.count(d), un, G * un, g_t + r.b0 * ldg, ldg, s.ut, s.dh + r.b0 * un, un);
            else
                recurrent_product_backward(g_t, ldg, rec_mask, s.dh, s, d, 0, G, r);
        }
        flush.reset();
        watch.loop_done(i);
        // Each thread's rows of dx and of hprev depend on its rows of the gate gradients only.
        if (dx && own_rows) input_grad(w, in_mask, gates, dx, s, d, G, r);
        if (split_weights) {
            gather_hprev(h0, hs, mask, s.hprev, d, o.go_backwards, r);
            watch.arrive(0);
#pragma omp barrier
            weight_grads(x, s.hprev, gates, dw, du, db, d, G, thread_cols(G * un, i, threads));
        }
        watch.arrive(1);
    });
    watch.close();
    if (dh0) std::memcpy(dh0, s.dh, sizeof(float) * bu);
    if (dc0) std::memcpy(dc0, s.dc, sizeof(float) * bu);
    if (dx && !own_rows) input_grad(w, in_mask, gates, dx, s, d, G);
    if (split_weights) return;
    gather_hprev(h0, hs, mask, s.hprev, d, o.go_backwards);
    if (!rec_mask && !in_mask) {
        weight_grads(x, s.hprev, gates, dw, du, db, d, G, Cols{0, G * un});
        return;
    }
    recurrent_weight_grad(s.hprev, rec_mask, gates, G * un, du, s, d, G, 0, G);
    input_weight_grad(x, in_mask, gates, dw, db, s, d, G);
}

}  // namespace seqnet
