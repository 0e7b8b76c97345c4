// SimpleRNN over a whole sequence: h' = act(x W + h U + b), forward and backward through time.
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

// One parallel region per call, as the LSTM's (lstm.cpp): each thread runs the whole
// recurrence of its own batch rows, whose per-step products read U packed once per call into
// the microkernel's panels; with recurrent dropout, the masked products (recurrent_product).
void simple_rnn_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                        const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                        float* hs, float* h_last, float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t un = d.units, ldg = d.steps * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    // With a sequence mask the carried h and the outputs differ, so h lives apart from hs.
    float* hst = mask ? s.hstate : hs;
    const int threads = recurrence_threads(d, 1);
    const bool own_rows = threads > 1 && !large_products(d, 1);
    if (!own_rows) input_projection(x, w, b, in_mask, gates, s, d, 1);
    // One gate: U's panels are its only gate's, masked or not.
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    pack_gate_panels(u, s, d, 1, false);
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        if (own_rows) input_projection(x, w, b, in_mask, gates, s, d, 1, r);
        // The recurrence flushes subnormals on every thread, as the LSTM's (see lstm.cpp).
        const DenormalsMode flush(DenormalsMode::kFlush);
        for (int64_t step = 0; step < d.steps; ++step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * un;
            const float* hp = step == 0 ? h0 : hst + (step - 1) * un;
            const int64_t ldh = step == 0 ? un : d.steps * un;
            if (!rec_mask)
                gemm::panel_update(uk, r.count(d), un, un, hp + r.b0 * ldh, ldh, gate_panels(s, d, 0),
                                   g_t + r.b0 * ldg, ldg);
            else
                recurrent_product(hp, ldh, rec_mask, g_t, ldg, s, d, 0, 1, r);
            for (int64_t bi = r.b0; bi < r.b0 + r.count(d); ++bi) {
                float* g = g_t + bi * ldg;
                k.act(o.activation, g, un);
                std::memcpy(hst + (bi * d.steps + step) * un, g, sizeof(float) * un);
                finish_step(mask, step, t, bi, h0, nullptr, hst, nullptr, hs, d);
            }
        }
        watch.loop_done(i);
        copy_last_step(hst, h_last, d, r);
        watch.arrive(1);
    });
    watch.close();
}

void simple_rnn_backward(const float* x, const float* w, const float* u, const float* h0,
                         const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                         const float* hs, const float* dhs, const float* dh_last, float* dx, float* dw,
                         float* du, float* db, float* dh0, float* scratch, const RnnDims& d,
                         const RnnOptions& o) {
    const int64_t un = d.units, ldg = d.steps * un, bu = d.batch * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    const gemm::MicroKernel& uk = gemm::microkernel_for(active_isa());
    pack_gate_panels(u, s, d, 1, true);
    copy_or_zero(dh_last, s.dh, bu);
    if (mask) std::memset(s.dout, 0, sizeof(float) * bu);
    const int threads = recurrence_threads(d, 1);
    // Small layers: each thread computes dx for its own rows in the same region; large ones
    // run dx and the weight gradients after it on sgemm's own threads (see lstm_backward).
    const bool own_rows = threads > 1 && !large_products(d, 1);
    RegionWatch watch(threads, d);
    run_region(threads, [&](int i) {
        const Rows r = watch.begin(i);
        std::optional<DenormalsMode> flush(std::in_place, DenormalsMode::kFlush);  // as forward
        for (int64_t step = d.steps - 1; step >= 0; --step) {
            const int64_t t = time_of(step, d, o.go_backwards);
            float* g_t = gates + t * un;
            for (int64_t bi = r.b0; bi < r.b0 + r.count(d); ++bi) {
                float* g = g_t + bi * ldg;
                if (!take_step_grad(dhs, mask, step, t, bi, s.dh, s.dout, d)) {
                    // a skipped step: h passes through, nothing reaches the weights or x
                    std::memset(g, 0, sizeof(float) * un);
                    continue;
                }
                k.act_grad(o.activation, g, s.dh + bi * un, g, un);
                std::memset(s.dh + bi * un, 0, sizeof(float) * un);
            }
            if (!rec_mask)
                gemm::panel_update(uk, r.count(d), un, un, g_t + r.b0 * ldg, ldg, gate_panels(s, d, 0),
                                   s.dh + r.b0 * un, un);
            else
                recurrent_product_backward(g_t, ldg, rec_mask, s.dh, s, d, 0, 1, r);
        }
        flush.reset();
        watch.loop_done(i);
        gather_hprev(h0, hs, mask, s.hprev, d, o.go_backwards, r);
        // Each thread's rows of dx depend on its rows of the gate gradients only.
        if (dx && own_rows) input_grad(w, in_mask, gates, dx, s, d, 1, r);
        watch.arrive(1);
    });
    watch.close();
    if (dh0) std::memcpy(dh0, s.dh, sizeof(float) * bu);
    recurrent_weight_grad(s.hprev, rec_mask, gates, un, du, s, d, 1, 0, 1);
    input_weight_grad(x, in_mask, gates, dw, db, s, d, 1);
    if (dx && !own_rows) input_grad(w, in_mask, gates, dx, s, d, 1);
}

}  // namespace seqnet
