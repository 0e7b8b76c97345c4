// Bindings of the convolution and pooling kernels.
#include "bindings.h"

namespace seqnet {

void bind_conv(py::module_& m) { (void)m; }

}  // namespace seqnet
