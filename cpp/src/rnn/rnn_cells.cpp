// Run-time dispatch of the recurrent cell kernels, and the sizes shared by every cell.
#include "rnn_cell_kernels.h"
#include "rnn_common.h"
#include "seqnet/cpu.h"
#include "seqnet/rnn.h"

namespace seqnet {

const RnnCellKernels& rnn_cell_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::rnn_cell_kernels();
        case Isa::Avx2: return avx2::rnn_cell_kernels();
#endif
        default: return generic::rnn_cell_kernels();
    }
}

int64_t rnn_gate_count(RnnCell cell) {
    switch (cell) {
        case RnnCell::LSTM: return 4;
        case RnnCell::GRU: return 3;
        default: return 1;
    }
}

bool rnn_activation_supported(Activation act) {
    return act == Activation::Linear || act == Activation::Relu || act == Activation::Sigmoid ||
           act == Activation::HardSigmoid || act == Activation::Tanh || act == Activation::Softsign;
}

int64_t rnn_scratch_floats(RnnCell cell, const RnnDims& d) {
    // one layout serves every cell (see rnn_common.h)
    return rnn_detail::scratch_floats(d, rnn_gate_count(cell));
}

}  // namespace seqnet
