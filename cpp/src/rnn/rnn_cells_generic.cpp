// Recurrent cell kernels built for the generic instruction set; see rnn_cells.inl.
#include <cmath>
#include <cstdint>

#include "../nn/vecmath.h"
#include "rnn_cell_kernels.h"

namespace seqnet {
namespace generic {

#include "rnn_cells.inl"

const RnnCellKernels& rnn_cell_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
