#include "contention.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>

#include "seqnet/runtime.h"

namespace seqnet {
namespace {

constexpr int64_t kBackoffMinNs = 50'000'000, kBackoffMaxNs = 1'600'000'000;
// Long waits in this many regions in a row (no clean region between) mark the machine
// contended. A process competing for a core delays nearly every region; a VM whose host
// takes a vCPU away for a few milliseconds (steal time, which the guest sees neither as
// another process nor as a context switch) delays one. Backing off on the first long wait,
// a C++ loop over the seed Embedding + LSTM layer's forward and backward on a shared Zen 5
// host started 12-24 of 300 calls on one thread (3-4 back-offs, each after a 2-4 ms stall of
// one thread, with no other process running); two in a row, none.
constexpr int kLongWaitsToBackOff = 2;
std::atomic<int64_t> g_serial_until_ns{0};
std::atomic<int> g_long_waits{0};
std::atomic<int64_t> g_backoff_ns{kBackoffMinNs};
std::atomic<bool> g_backoff_enabled{true};

}  // namespace

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t thread_cpu_ns() {
#if defined(CLOCK_THREAD_CPUTIME_ID)
    timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#endif
    return -1;
}

bool set_contention_backoff(bool enabled) {
    if (!enabled) g_serial_until_ns.store(0, std::memory_order_relaxed);
    return g_backoff_enabled.exchange(enabled);
}

bool contended_recently() {
    if (!g_backoff_enabled.load(std::memory_order_relaxed)) return false;
    const int64_t until = g_serial_until_ns.load(std::memory_order_relaxed);
    return until != 0 && now_ns() < until;
}

void note_parallel_run(int64_t waited_ns, int64_t elapsed_ns, int64_t expected_wait_ns) {
    if (waited_ns > std::max<int64_t>(200'000, expected_wait_ns) && 4 * waited_ns > elapsed_ns) {
        if (g_long_waits.fetch_add(1, std::memory_order_relaxed) + 1 < kLongWaitsToBackOff) return;
        g_long_waits.store(0, std::memory_order_relaxed);
        const int64_t backoff = g_backoff_ns.load(std::memory_order_relaxed);
        g_serial_until_ns.store(now_ns() + backoff, std::memory_order_relaxed);
        g_backoff_ns.store(std::min(2 * backoff, kBackoffMaxNs), std::memory_order_relaxed);
    } else if (waited_ns <= std::max<int64_t>(200'000, expected_wait_ns / 2)) {
        // a clean run: the next contended one backs off for the shortest time again
        g_long_waits.store(0, std::memory_order_relaxed);
        g_backoff_ns.store(kBackoffMinNs, std::memory_order_relaxed);
    }
}

}  // namespace seqnet
