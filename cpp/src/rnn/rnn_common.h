// Internal: the pieces every recurrent cell shares — the input projection of all time
// steps, the recurrent product of one step, and the weight and input gradients — plus the
// layout of the caller's scratch buffer.
#pragma once
#include <atomic>
#include <cstdint>

#include "../parallel_region.h"
#include "seqnet/rnn.h"

namespace seqnet {
namespace rnn_detail {

// Elementwise work per step is split over batch rows only when it is this large.
inline bool rows_worth_threads(int64_t floats) { return floats >= 16384; }

inline int64_t time_of(int64_t s, const RnnDims& d, bool back) { return back ? d.steps - 1 - s : s; }

// The caller's scratch (rnn_scratch_floats floats), carved into fixed parts.
struct Scratch {
    float* xm;      // (batch*steps, input): masked inputs
    float* xtmp;    // (batch*steps, input): one gate's share of dx
    float* hprev;   // (batch, steps, units) time order: the state each step started from
    float* hm;      // (batch, steps, units): masked hprev
    float* hstate;  // (batch, steps, units) step order: carried h when a sequence mask is given
    float* dh;      // (batch, units) x2: dL/dh carried between steps, and the next one
    float* dh2;
    float* dc;      // (batch, units)
    float* dout;    // (batch, units): dL/d(output) carried back through skipped steps
    float* rtmp;    // (batch, units): one gate's recurrent product
    float* cell;    // (batch, 8*units): per-row temporaries of the cell kernels
    float* ut;      // U^T (G*units, units) for the backward recurrent products, or U / U^T packed
                    // into panels (gemm::panel_update) for the LSTM's per-step products
};
Scratch carve(float* scratch, const RnnDims& d);
// Floats carve() hands out, U^T included.
int64_t scratch_floats(const RnnDims& d, int64_t G);

// A range of batch rows [b0, b0 + n); n < 0: every row. Rows are independent through
// time, so threads may each run the whole recurrence of their own rows.
struct Rows {
    int64_t b0 = 0, n = -1;
    int64_t count(const RnnDims& d) const { return n < 0 ? d.batch : n; }
};

// Threads worth running an LSTM recurrence on, each over its own batch rows (1: no fork).
int recurrence_threads(const RnnDims& d, int64_t G);

// Contention (contention.h, shared with the GEMM): with another process busy on a core, a
// thread of ours runs only part of the time and its partner waits for it at each join, a
// scheduler slice (milliseconds) against a call of 0.1 ms. A RegionWatch times the joins of
// one parallel region and reports them; while the machine is marked contended,
// recurrence_threads() answers 1.
//
// It also splits the batch rows between the threads. The cores need not run at the same
// speed (on a VM one vCPU may run 1.5x slower than the other for seconds), and a thread
// owns its rows for the whole sequence, so an equal split leaves the faster one idle at the
// end. Each thread's rows per second in its recurrence loop (begin to loop_done) are
// remembered process-wide and the next call splits the rows in proportion. Rows are
// independent through time and every product sums each element in the same order whatever
// rows a call gets, so the split never changes the result. The same timings tell a slow
// core from a descheduled thread: only a straggler that lost CPU time to our own OS marks
// the machine contended.
class RegionWatch {
   public:
    RegionWatch(int threads, const RnnDims& d);
    // Thread `i` starts its loop: returns its rows (contiguous, in thread order; every row
    // when threads == 1).
    Rows begin(int i);
    // Thread `i` finished the recurrence over its rows (the part whose speed sets the split).
    void loop_done(int i);
    // Thread arrival at join `j` (0: a barrier, 1: the end of the region).
    void arrive(int j);
    // After the region: notes how long the threads waited for each other, and each
    // thread's speed for the next split.
    void close();

    static constexpr int kMaxThreads = 8;  // more threads than this split equally

   private:
    int threads_;
    int64_t batch_, start_;
    Rows rows_[kMaxThreads];
    int64_t loop_ns_[kMaxThreads] = {}, cpu_ns_[kMaxThreads] = {};
    std::atomic<int64_t> first_[2], last_[2];
};

// Whether the products of a layer outside the recurrence (the input projection, dx and the
// weight gradients) are large enough to run on sgemm's own threads, which balance them
// dynamically, rather than split statically between the recurrence's threads.
inline bool large_products(const RnnDims& d, int64_t G) {
    return d.batch * d.steps * G * d.units * (d.units + d.input) >= (int64_t(32) << 20);
}

// Columns [j0, j0 + n) of a product's output.
struct Cols {
    int64_t j0 = 0, n = 0;
};
// The columns of thread `i` of `threads` out of `cols`: contiguous, whole 16-float vectors
// but the last, sizes as equal as that allows.
Cols thread_cols(int64_t cols, int i, int threads);

// Columns c of du = hprev^T dgx, dw = x^T dgx and db (optional) = the column sums of dgx
// (batch*steps, G*u), no dropout masks. Every column sums its rows in the same order
// whichever columns a call gets, so a split between threads leaves the bits unchanged.
void weight_grads(const float* x, const float* hprev, const float* dgx, float* dw, float* du, float* db,
                  const RnnDims& d, int64_t G, const Cols& c);

// State at the start of step s for batch row b: h0 or the previous step's output.
inline const float* state_row(const float* init, const float* seq, int64_t s, int64_t b, const RnnDims& d) {
    return s == 0 ? init + b * d.units : seq + (b * d.steps + s - 1) * d.units;
}

// gx (batch*steps, G*u) = for each gate g: (x * in_mask_g) W_g + b_g.
// Only the batch rows `r` (x, gx: the full arrays).
void input_projection(const float* x, const float* w, const float* b, const float* in_mask, float* gx,
                      const Scratch& s, const RnnDims& d, int64_t G, const Rows& r = Rows());

// With recurrent dropout each gate's product reads h times its own mask, so U's gate blocks
// are packed apart into the microkernel's panels (gemm::panel_update), once per call, into
// Scratch::ut: gate g's panels at gate_panels(s, g); forward U_g, backward (transposed) U_g^T.
// No per-step packing of U as a per-gate sgemm would do.
void pack_gate_panels(const float* u, const Scratch& s, const RnnDims& d, int64_t G, bool transposed);
float* gate_panels(const Scratch& s, const RnnDims& d, int64_t g);

// gx_t (rows of stride ldg) += (h * rec_mask_g) U_g for the gates g in [lo, hi); gx_t points
// at gate lo's columns; h is (batch, units) with row stride ldh; U from pack_gate_panels. Only
// the batch rows `r` (h, gx_t: the full arrays).
void recurrent_product(const float* h, int64_t ldh, const float* rec_mask, float* gx_t, int64_t ldg,
                       const Scratch& s, const RnnDims& d, int64_t lo, int64_t hi, const Rows& r = Rows());

// dh (batch, units) += sum over gates g in [lo, hi) of (dg_g U_g^T) * rec_mask_g; dg_t (rows of
// stride ldg) points at gate lo's columns; U^T from pack_gate_panels(transposed).
void recurrent_product_backward(const float* dg_t, int64_t ldg, const float* rec_mask, float* dh,
                                const Scratch& s, const RnnDims& d, int64_t lo, int64_t hi,
                                const Rows& r = Rows());

// du[:, gates lo..hi) = sum over time of (src * rec_mask_g)^T dgx_g; src (batch, steps, units);
// dgx (batch*steps rows of stride ldg) points at gate lo's columns.
void recurrent_weight_grad(const float* src, const float* rec_mask, const float* dgx, int64_t ldg, float* du,
                           const Scratch& s, const RnnDims& d, int64_t G, int64_t lo, int64_t hi);

// dw, db (optional) and dx (optional) from dgx (batch*steps, G*u), the gradients of the
// gate pre-activations.
void input_backward(const float* x, const float* w, const float* in_mask, const float* dgx, float* dw,
                    float* db, float* dx, const Scratch& s, const RnnDims& d, int64_t G);
// The two halves of input_backward: dw, db (optional) from every row; dx for the batch rows `r`.
void input_weight_grad(const float* x, const float* in_mask, const float* dgx, float* dw, float* db,
                       const Scratch& s, const RnnDims& d, int64_t G);
void input_grad(const float* w, const float* in_mask, const float* dgx, float* dx, const Scratch& s,
                const RnnDims& d, int64_t G, const Rows& r = Rows());

// hprev (time order): the state each step started from, from the initial state and the
// step-ordered outputs hs. With a sequence mask the output of step s-1 is the carried state
// once some earlier step was kept, and the initial state before that.
void gather_hprev(const float* h0, const float* hs, const uint8_t* mask, float* hprev, const RnnDims& d,
                  bool back, const Rows& r = Rows());

// Whether batch row b takes time step t (no mask: every step).
inline bool kept(const uint8_t* mask, int64_t b, int64_t t, const RnnDims& d) {
    return !mask || mask[b * d.steps + t] != 0;
}

// Forward, after the cell wrote row b of step `step` (time t) into hst (carried h) and cs (c,
// may be null): a skipped step restores the carried states and repeats the previous output
// (zeros before any kept step); a kept step's output is its h. Nothing to do without a mask
// (then hst is hs).
void finish_step(const uint8_t* mask, int64_t step, int64_t t, int64_t b, const float* h0, const float* c0,
                 float* hst, float* cs, float* hs, const RnnDims& d);

// Backward, row b of step `step` (time t): adds dL/d(output) of this step to dh when the step
// is kept (with what skipped later steps passed back in dout, which is then cleared), or to
// dout when it is skipped. Returns whether the step is kept.
bool take_step_grad(const float* dhs, const uint8_t* mask, int64_t step, int64_t t, int64_t b, float* dh,
                    float* dout, const RnnDims& d);

// h_last (batch, units) = the carried state after the last step of hst (batch, steps, units).
void copy_last_step(const float* hst, float* h_last, const RnnDims& d, const Rows& r = Rows());

// dst (batch, units) = src, or zeros when src is null.
void copy_or_zero(const float* src, float* dst, int64_t n);

}  // namespace rnn_detail
}  // namespace seqnet
