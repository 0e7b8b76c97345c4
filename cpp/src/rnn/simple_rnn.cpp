// SimpleRNN over a whole sequence: h' = act(x W + h U + b), forward and backward through time.
#include <cstring>
#include <optional>

#include "rnn_cell_kernels.h"
#include "rnn_common.h"
#include "seqnet/cpu.h"
#include "seqnet/rnn.h"

namespace seqnet {

using namespace rnn_detail;

void simple_rnn_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                        const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                        float* hs, float* h_last, float* scratch, const RnnDims& d, const RnnOptions& o) {
    const int64_t un = d.units, ldg = d.steps * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    // With a sequence mask the carried h and the outputs differ, so h lives apart from hs.
    float* hst = mask ? s.hstate : hs;
    input_projection(x, w, b, in_mask, gates, s, d, 1);
    // The recurrence flushes subnormals on every thread, as the LSTM's (see lstm.cpp).
    std::optional<DenormalsMode> flush(std::in_place, DenormalsMode::kFlush);
    for (int64_t step = 0; step < d.steps; ++step) {
        const int64_t t = time_of(step, d, o.go_backwards);
        float* g_t = gates + t * un;
        const float* hp = step == 0 ? h0 : hst + (step - 1) * un;
        recurrent_product(hp, step == 0 ? un : d.steps * un, u, rec_mask, g_t, ldg, s, d, 1, 0, 1);
#pragma omp parallel for if (rows_worth_threads(d.batch * un)) schedule(static)
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            const DenormalsMode row_mode(DenormalsMode::kFlush);  // each thread of the loop
            float* g = g_t + bi * ldg;
            k.act(o.activation, g, un);
            std::memcpy(hst + (bi * d.steps + step) * un, g, sizeof(float) * un);
            finish_step(mask, step, t, bi, h0, nullptr, hst, nullptr, hs, d);
        }
    }
    flush.reset();
    copy_last_step(hst, h_last, d);
}

void simple_rnn_backward(const float* x, const float* w, const float* u, const float* h0,
                         const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                         const float* hs, const float* dhs, const float* dh_last, float* dx, float* dw,
                         float* du, float* db, float* dh0, float* scratch, const RnnDims& d,
                         const RnnOptions& o) {
    const int64_t un = d.units, ldg = d.steps * un, bu = d.batch * un;
    const Scratch s = carve(scratch, d);
    const RnnCellKernels& k = rnn_cell_kernels();
    transpose_recurrent(u, s.ut, d, 1);
    copy_or_zero(dh_last, s.dh, bu);
    if (mask) std::memset(s.dout, 0, sizeof(float) * bu);
    std::optional<DenormalsMode> flush(std::in_place, DenormalsMode::kFlush);  // as forward
    for (int64_t step = d.steps - 1; step >= 0; --step) {
        const int64_t t = time_of(step, d, o.go_backwards);
        float* g_t = gates + t * un;
        for (int64_t bi = 0; bi < d.batch; ++bi) {
            float* g = g_t + bi * ldg;
            if (!take_step_grad(dhs, mask, step, t, bi, s.dh, s.dout, d)) {
                // a skipped step: h passes through, nothing reaches the weights or x
                std::memset(g, 0, sizeof(float) * un);
                continue;
            }
            k.act_grad(o.activation, g, s.dh + bi * un, g, un);
            std::memset(s.dh + bi * un, 0, sizeof(float) * un);
        }
        recurrent_product_backward(g_t, ldg, s.ut, rec_mask, s.dh, s, d, 1, 0, 1);
    }
    flush.reset();
    if (dh0) std::memcpy(dh0, s.dh, sizeof(float) * bu);
    gather_hprev(h0, hs, mask, s.hprev, d, o.go_backwards);
    recurrent_weight_grad(s.hprev, rec_mask, gates, un, du, s, d, 1, 0, 1);
    input_backward(x, w, in_mask, gates, dw, db, dx, s, d, 1);
}

}  // namespace seqnet
