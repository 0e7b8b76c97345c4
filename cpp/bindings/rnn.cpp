// Bindings of the recurrent-layer and embedding kernels.
#include "bindings.h"

namespace seqnet {

void bind_rnn(py::module_& m) { (void)m; }

}  // namespace seqnet
