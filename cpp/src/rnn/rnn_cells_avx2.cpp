// Recurrent cell kernels built for the avx2 instruction set; see rnn_cells.inl.
#include <cmath>
#include <cstdint>

#include "../nn/vecmath.h"
#include "rnn_cell_kernels.h"

namespace seqnet {
namespace avx2 {

#include "rnn_cells.inl"

const RnnCellKernels& rnn_cell_kernels() { return table; }

}  // namespace avx2
}  // namespace seqnet
