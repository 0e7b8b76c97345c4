// Internal: one process-wide view of whether another process competes for our cores, shared
// by every kernel that forks threads (the GEMM, the recurrent layers). Parallel regions that
// find their threads waiting long for each other, twice in a row, mark the machine contended;
// kernels then run on one thread for a back-off period (50 ms, doubling while it keeps
// happening, up to 1.6 s) before two threads are tried again. See gemm.cpp ("Contention")
// for why. The thread count never changes a result.
#pragma once
#include <cstdint>

namespace seqnet {

// Monotonic nanoseconds.
int64_t now_ns();

// CPU time of the calling thread in nanoseconds, or -1 where the platform has no such clock.
// Time the thread spent descheduled by our OS (another process on its core) is missing
// from it; a core that is merely slower (a VM's vCPU sharing its host core) is not.
int64_t thread_cpu_ns();

// True while a recent parallel region found the machine contended.
bool contended_recently();

// After a parallel region: the longest time a thread sat idle waiting for its partners,
// the region's duration, and the wait its split of the work has anyway (the partner may
// have just claimed the last task; the cores need not run at the same speed). Only a wait
// well past that, a quarter of the region and 200 us counts as a long wait (a descheduled
// partner costs a scheduler slice, milliseconds), and two long waits with no clean region
// between them mark the machine contended.
void note_parallel_run(int64_t waited_ns, int64_t elapsed_ns, int64_t expected_wait_ns);

}  // namespace seqnet
