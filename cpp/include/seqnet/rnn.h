// Recurrent layers (LSTM, GRU, SimpleRNN) over whole sequences, and Embedding.
//
// Layouts follow Keras: x (batch, steps, input) row-major; kernel W (input, G*units),
// recurrent kernel U (units, G*units), bias (G*units) with G = 4 (LSTM: i, f, c, o),
// 3 (GRU: z, r, h) or 1 (SimpleRNN); a GRU with reset_after has bias (2, 3*units): the
// input bias, then the recurrent bias. The input projection x W + b of every time step is
// one GEMM; each step adds h U with another GEMM and applies the gate activations fused
// per row. Buffers kept for backward are in *step* order (step s reads time step
// go_backwards ? steps-1-s : s), except `gates`, which is in time order.
//
// Dropout masks (optional, null when unused): in_mask (G, batch, input) and rec_mask
// (G, batch, units), already scaled (0 or 1/(1-rate)), fixed across time steps as Keras.
//
// Sequence mask (optional, null when unused): mask (batch, steps) in *time* order, 0 =
// skip that step (Keras' K.rnn with a mask). At a skipped step the states carry over
// unchanged and the output repeats the previous step's output (zeros before the first
// kept step, even when the initial state is not zero), so `hs` holds the per-step outputs
// as Keras returns them while the carried states may differ; h_last / c_last receive the
// final carried states. Backward: a skipped step passes the gradients of its states and
// output straight to the previous step; it adds nothing to the weight gradients and its
// dx is 0.
//
// Kernels never allocate: `scratch` must hold rnn_scratch_floats(...) floats; forward and
// backward may use the same scratch (nothing in it survives between the two calls). Work
// is split over threads only by GEMM blocks, batch rows and (LSTM backward) columns of the
// weight gradients, so results are bit-identical for any thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "seqnet/activation.h"

namespace seqnet {

// The numbering is part of the binding's contract (exported as seqnet._engine.RnnCell).
enum class RnnCell : int { SimpleRNN = 0, GRU = 1, LSTM = 2 };

struct RnnDims {
    int64_t batch = 0, steps = 0, input = 0, units = 0;
};

struct RnnOptions {
    Activation activation = Activation::Tanh;
    Activation recurrent_activation = Activation::HardSigmoid;  // LSTM/GRU gates
    bool go_backwards = false;
    // GRU only: the reset gate applies after the recurrent product (tf-keras / CuDNN
    // variant); the bias is then (2, 3u) and the recurrent half is added inside.
    bool reset_after = false;
};

// Gates per cell: 4, 3, 1.
int64_t rnn_gate_count(RnnCell cell);
// True for the activations the recurrent kernels implement (linear, relu, sigmoid,
// hard_sigmoid, tanh, softsign).
bool rnn_activation_supported(Activation act);
// Floats of scratch the forward and backward of `cell` need.
int64_t rnn_scratch_floats(RnnCell cell, const RnnDims& d);

// The input side of every cell below: x null (no in_mask then) means the caller projected
// the inputs itself, so `gates` holds x W + b (b, or a GRU(reset_after)'s input half b[0]) on
// entry: e.g. the projections of an Embedding's distinct tokens, gathered per step
// (layers/recurrent/base_rnn.py). Backward, dw null skips dW = x^T dG (x may then be null):
// the caller computes it from the gate gradients left in `gates`.

// ---- LSTM ---------------------------------------------------------------------------
// gates (batch, steps, 4u): activated i, f, c~, o (time order); hs (batch, steps, u): the
// output of each step; cs (batch, steps, u): c carried after each step (step order). h0, c0
// (batch, u) are the initial states; h_last, c_last (batch, u, may be null): final states.
void lstm_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                  const float* c0, const float* in_mask, const float* rec_mask, const uint8_t* mask,
                  float* gates, float* hs, float* cs, float* h_last, float* c_last, float* scratch,
                  const RnnDims& d, const RnnOptions& o);

// dhs (batch, steps, u, step order, may be null): dL/d(output of every step); dh_last,
// dc_last (batch, u, may be null): dL/d(final states). Overwrites `gates` with the gradients
// of the gate pre-activations. Writes dw, du, db (optional), dx, dh0, dc0 (optional).
void lstm_backward(const float* x, const float* w, const float* u, const float* h0, const float* c0,
                   const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                   const float* hs, const float* cs, const float* dhs, const float* dh_last,
                   const float* dc_last, float* dx, float* dw, float* du, float* db, float* dh0, float* dc0,
                   float* scratch, const RnnDims& d, const RnnOptions& o);

// ---- GRU (Keras 2.2.4) ---------------------------------------------------------------
// reset_after = false: z = ra(x Wz + h Uz + bz), r = ra(x Wr + h Ur + br),
//   hh = a(x Wh + (r*h) Uh + bh); rh (batch, steps, u, time order): r*h_prev (masked).
// reset_after = true: z = ra(x Wz + bz + h Uz + bz'), r likewise,
//   hh = a(x Wh + bh + r*(h Uh + bh')) with b = [b; b'] (2, 3u); rh (time order):
//   h_prev Uh + bh' (h_prev masked by the h gate's recurrent dropout).
// Both: h' = z*h + (1-z)*hh; gates (batch, steps, 3u) activated z, r, hh (time order); hs
// (batch, steps, u) outputs, step order; h_last (batch, u, may be null): final state.
void gru_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                 const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates, float* hs,
                 float* rh, float* h_last, float* scratch, const RnnDims& d, const RnnOptions& o);
// Overwrites `gates` (and, with reset_after, `rh`) with gradients; db is (3u) or (2, 3u).
void gru_backward(const float* x, const float* w, const float* u, const float* h0, const float* in_mask,
                  const float* rec_mask, const uint8_t* mask, float* gates, const float* hs, float* rh,
                  const float* dhs, const float* dh_last, float* dx, float* dw, float* du, float* db,
                  float* dh0, float* scratch, const RnnDims& d, const RnnOptions& o);

// ---- SimpleRNN: h' = a(x W + h U + b) -------------------------------------------------
// gates (batch, steps, u): h' in time order; hs: outputs (step order); h_last: final state.
void simple_rnn_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                        const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                        float* hs, float* h_last, float* scratch, const RnnDims& d, const RnnOptions& o);
void simple_rnn_backward(const float* x, const float* w, const float* u, const float* h0,
                         const float* in_mask, const float* rec_mask, const uint8_t* mask, float* gates,
                         const float* hs, const float* dhs, const float* dh_last, float* dx, float* dw,
                         float* du, float* db, float* dh0, float* scratch, const RnnDims& d,
                         const RnnOptions& o);

// ---- Thread split of the LSTM recurrence ------------------------------------------
// Each thread of an LSTM recurrence owns contiguous batch rows, in proportion to the
// thread's measured speed in recent calls (cores of a VM need not run alike). These read
// and set those relative speeds (thread 0 first, at most 8); setting them fixes the split
// of the next call, after which measurement goes on. The split never changes a result.
std::vector<float> rnn_thread_speeds();
void set_rnn_thread_speeds(const std::vector<float>& speeds);

// ---- Embedding ----------------------------------------------------------------------
// Indices are int32, int64, or float32; a float index must be an exact integer below 2^24
// (float32 cannot tell neighbouring rows apart above that), so large tables need integers.
// Each returns -1 when every index is valid, else the position of the first bad one (and
// writes nothing). Forward: out (n, dim) = table[indices]. Backward: dtable = 0, then
// dtable[indices[i]] += dy[i] for i in order.
int64_t embedding_forward(const int32_t* indices, int64_t n, const float* table, int64_t input_dim,
                          int64_t dim, float* out);
int64_t embedding_forward(const int64_t* indices, int64_t n, const float* table, int64_t input_dim,
                          int64_t dim, float* out);
int64_t embedding_forward(const float* indices, int64_t n, const float* table, int64_t input_dim,
                          int64_t dim, float* out);
int64_t embedding_backward(const int32_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable);
int64_t embedding_backward(const int64_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable);
int64_t embedding_backward(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable);
// Row-sparse backward, for a table whose gradient is non-zero only in the rows its last
// backward wrote: zeroes rows clear[0..n_clear) (valid rows), then dtable[indices[i]] += dy[i]
// for i in order, and writes the distinct rows of `indices`, increasing, to rows_out (room for
// n) and their count to *n_rows. Returns as embedding_backward (nothing written on a bad index).
int64_t embedding_backward_rows(const int32_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows);
int64_t embedding_backward_rows(const int64_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows);
int64_t embedding_backward_rows(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows);
// The distinct rows of `indices` in order of first appearance, to distinct_out (room for n),
// their count to *count, and each index's position among them to inverse (n). Returns as
// embedding_forward (nothing meaningful written on a bad index). Keeps one int32 per table row
// per calling thread between calls (all -1 on exit), or, for a table of more than 2^22 rows and
// 16 per index, hashes the rows of the call instead.
int64_t embedding_distinct(const int32_t* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count);
int64_t embedding_distinct(const int64_t* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count);
int64_t embedding_distinct(const float* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count);

}  // namespace seqnet
