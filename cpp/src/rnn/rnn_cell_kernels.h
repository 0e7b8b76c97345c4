// Internal: the per-instruction-set table of the recurrent cells' elementwise work (see
// rnn_cells.inl), picked at run time like the elementwise kernels.
#pragma once
#include <cstdint>

#include "seqnet/activation.h"

namespace seqnet {

struct RnnCellKernels {
    // p = act(p), in place, for the activations rnn_activation_supported() accepts.
    void (*act)(Activation act, float* p, int64_t n);
    // out = d * act'(x) given y = act(x); out may alias y or d.
    void (*act_grad)(Activation act, const float* y, const float* d, float* out, int64_t n);
    // One batch row of an LSTM step. g (4u): pre-activations of i, f, c~, o in, activated
    // gates out; c = f*cp + i*c~; h = o*act(c).
    void (*lstm_cell)(float* g, const float* cp, float* c, float* h, int64_t u, Activation act,
                      Activation rec);
    // Backward of one row: g (4u) activated gates in, gradients of the pre-activations out;
    // dh: dL/dh of this step; dc: dL/dc of this step in (from later steps), dL/dc_prev out;
    // tmp: 6u floats.
    void (*lstm_cell_backward)(float* g, const float* cp, const float* c, const float* dh, float* dc,
                               float* tmp, int64_t u, Activation act, Activation rec);
};

namespace generic { const RnnCellKernels& rnn_cell_kernels(); }
namespace avx2 { const RnnCellKernels& rnn_cell_kernels(); }
namespace avx512 { const RnnCellKernels& rnn_cell_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const RnnCellKernels& rnn_cell_kernels();

}  // namespace seqnet
