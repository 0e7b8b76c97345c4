// Thread control for every parallel kernel.
#pragma once

namespace seqnet {

// Threads used by parallel kernels (OpenMP). Defaults to OMP_NUM_THREADS or the core count.
void set_num_threads(int n);
int get_num_threads();

// Whether kernels drop to one thread for a while after finding another process competing for
// the cores (on by default; see src/contention.h). Off, they always use their threads: for
// tests of the thread splits, and machines where nothing else runs. Returns the old setting.
bool set_contention_backoff(bool enabled);

}  // namespace seqnet
