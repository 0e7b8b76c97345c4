// Internal: one process-wide view of whether another process competes for our cores, shared
// by every kernel that forks threads (the GEMM, the recurrent layers). A parallel region that
// finds its threads waiting long for each other marks the machine contended; kernels then run
// on one thread for a back-off period (50 ms, doubling while it keeps happening, up to 1.6 s)
// before two threads are tried again. See gemm.cpp ("Contention") for why. The thread count
// never changes a result.
#pragma once
#include <cstdint>

namespace seqnet {

// Monotonic nanoseconds.
int64_t now_ns();

// True while a recent parallel region found the machine contended.
bool contended_recently();

// After a parallel region: the longest time a thread sat idle waiting for its partners,
// and the region's duration.
void note_parallel_run(int64_t waited_ns, int64_t elapsed_ns);

}  // namespace seqnet
