// Internal: the one way a kernel forks its own threads for a region of work.
#pragma once
#include <omp.h>

namespace seqnet {

// Runs body(i) for i in [0, threads): as thread i of a parallel region, or, for one thread, on
// the caller directly, outside any region. A worksharing loop in the body (`omp for`) then
// binds to that region, or runs whole on the caller. The products and loops a one-thread body
// calls may fork teams of their own: a team forked inside a region, even an inactive one-thread
// one, is nested, and libgomp starts fresh threads for every nested team instead of reusing its
// pool (the first layer of a stacked SimpleRNN(32), batch 64 over 8 steps, gathers its states in
// a parallel loop: its backward took 367 us a call inside a one-thread region, 38-50 outside).
template <class F>
void run_region(int threads, F&& body) {
    if (threads <= 1) {
        body(0);
        return;
    }
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num());
}

}  // namespace seqnet
