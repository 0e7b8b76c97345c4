// Thread control for every parallel kernel.
#pragma once

namespace seqnet {

// Threads used by parallel kernels (OpenMP). Defaults to OMP_NUM_THREADS or the core count.
void set_num_threads(int n);
int get_num_threads();

}  // namespace seqnet
