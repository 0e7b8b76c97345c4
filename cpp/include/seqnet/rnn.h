// Recurrent layers (LSTM, GRU, SimpleRNN) over whole sequences, and Embedding.
//
// Layouts follow Keras: x (batch, steps, input) row-major; kernel W (input, G*units),
// recurrent kernel U (units, G*units), bias (G*units) with G = 4 (LSTM: i, f, c, o),
// 3 (GRU: z, r, h) or 1 (SimpleRNN). The input projection x W + b of every time step is
// one GEMM; each step adds h U with another GEMM and applies the gate activations fused
// per row. Buffers kept for backward are in *step* order (step s reads time step
// go_backwards ? steps-1-s : s), except `gates`, which is in time order.
//
// Dropout masks (optional, null when unused): in_mask (G, batch, input) and rec_mask
// (G, batch, units), already scaled (0 or 1/(1-rate)), fixed across time steps as Keras.
//
// Kernels never allocate: `scratch` must hold rnn_scratch_floats(...) floats. Work is
// split over threads only by GEMM blocks and batch rows, so results are bit-identical
// for any thread count.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

enum class RnnCell : int { SimpleRNN = 0, GRU = 1, LSTM = 2 };

struct RnnDims {
    int64_t batch = 0, steps = 0, input = 0, units = 0;
};

struct RnnOptions {
    Activation activation = Activation::Tanh;
    Activation recurrent_activation = Activation::HardSigmoid;  // LSTM/GRU gates
    bool go_backwards = false;
};

// Gates per cell: 4, 3, 1.
int64_t rnn_gate_count(RnnCell cell);
// True for the activations the recurrent kernels implement (linear, relu, sigmoid,
// hard_sigmoid, tanh, softsign).
bool rnn_activation_supported(Activation act);
// Floats of scratch the forward and backward of `cell` need.
int64_t rnn_scratch_floats(RnnCell cell, const RnnDims& d);

// ---- LSTM ---------------------------------------------------------------------------
// gates (batch, steps, 4u): activated i, f, c~, o (time order); hs, cs (batch, steps, u):
// h and c after each step (step order). h0, c0 (batch, u) are the initial states.
void lstm_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                  const float* c0, const float* in_mask, const float* rec_mask, float* gates, float* hs,
                  float* cs, float* scratch, const RnnDims& d, const RnnOptions& o);

// dhs (batch, steps, u, step order, may be null): dL/d(h of every step); dh_last, dc_last
// (batch, u, may be null): dL/d(final states). Overwrites `gates` with the gradients of the
// gate pre-activations. Writes dw, du, db (optional), dx, dh0, dc0 (optional).
void lstm_backward(const float* x, const float* w, const float* u, const float* h0, const float* c0,
                   const float* in_mask, const float* rec_mask, float* gates, const float* hs,
                   const float* cs, const float* dhs, const float* dh_last, const float* dc_last, float* dx,
                   float* dw, float* du, float* db, float* dh0, float* dc0, float* scratch,
                   const RnnDims& d, const RnnOptions& o);

// ---- GRU (Keras 2.2.4, reset_after=False) ---------------------------------------------
// z = ra(x Wz + h Uz + bz), r = ra(x Wr + h Ur + br), hh = a(x Wh + (r*h) Uh + bh),
// h' = z*h + (1-z)*hh. gates (batch, steps, 3u) activated z, r, hh (time order); hs
// (batch, steps, u) step order; rh (batch, steps, u): r*h_prev (masked), step order.
void gru_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                 const float* in_mask, const float* rec_mask, float* gates, float* hs, float* rh,
                 float* scratch, const RnnDims& d, const RnnOptions& o);
void gru_backward(const float* x, const float* w, const float* u, const float* h0, const float* in_mask,
                  const float* rec_mask, float* gates, const float* hs, const float* rh, const float* dhs,
                  const float* dh_last, float* dx, float* dw, float* du, float* db, float* dh0,
                  float* scratch, const RnnDims& d, const RnnOptions& o);

// ---- SimpleRNN: h' = a(x W + h U + b) -------------------------------------------------
// gates (batch, steps, u): h' in time order (also in hs, step order).
void simple_rnn_forward(const float* x, const float* w, const float* u, const float* b, const float* h0,
                        const float* in_mask, const float* rec_mask, float* gates, float* hs,
                        float* scratch, const RnnDims& d, const RnnOptions& o);
void simple_rnn_backward(const float* x, const float* w, const float* u, const float* h0,
                         const float* in_mask, const float* rec_mask, float* gates, const float* hs,
                         const float* dhs, const float* dh_last, float* dx, float* dw, float* du, float* db,
                         float* dh0, float* scratch, const RnnDims& d, const RnnOptions& o);

// ---- Embedding ----------------------------------------------------------------------
// Returns -1 when every index is an integer in [0, input_dim), else the position of the
// first bad one (and writes nothing). out (n, dim) = table[indices].
int64_t embedding_forward(const float* indices, int64_t n, const float* table, int64_t input_dim,
                          int64_t dim, float* out);
// dtable = 0, then dtable[indices[i]] += dy[i] for i in order (indices already checked).
void embedding_backward(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                        float* dtable);

}  // namespace seqnet
