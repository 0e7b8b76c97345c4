// The contention back-off (src/contention.h): one long wait in a parallel region (a vCPU taken
// by the host for a few milliseconds) leaves the kernels on their threads; a second long wait
// with no clean region between them sends them to one thread for the back-off period; a clean
// region in between starts the count again; switching the back-off off clears it. Exit status
// 0 when everything passes.
#include <chrono>
#include <cstdint>
#include <thread>

#include "check.h"
#include "../../cpp/src/contention.h"
#include "seqnet/runtime.h"

namespace {

constexpr int64_t kMs = 1'000'000;

// A region of 3 ms in which a thread waited 2 ms for its partner, against 1.5 ms its split
// explains: a long wait.
void long_wait() { seqnet::note_parallel_run(2 * kMs, 3 * kMs, 3 * kMs / 2); }
// A region whose threads finished together.
void clean() { seqnet::note_parallel_run(0, 3 * kMs, 3 * kMs / 2); }

}  // namespace

int main() {
    using seqnet::contended_recently;
    seqnet::set_contention_backoff(true);
    clean();
    CHECK(!contended_recently(), "contended before any long wait");

    long_wait();
    CHECK(!contended_recently(), "one long wait backed off");
    long_wait();
    CHECK(contended_recently(), "two long waits in a row did not back off");

    // the back-off period (50 ms the first time) ends
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    CHECK(!contended_recently(), "still contended 120 ms after a 50 ms back-off");

    // a clean region between two long waits starts the count again
    clean();
    long_wait();
    clean();
    long_wait();
    CHECK(!contended_recently(), "long waits apart, a clean region between them, backed off");
    long_wait();
    CHECK(contended_recently(), "the second long wait in a row after a clean one did not back off");

    // switching the back-off off clears it, and while off nothing backs off
    seqnet::set_contention_backoff(false);
    CHECK(!contended_recently(), "contended with the back-off off");
    long_wait();
    long_wait();
    CHECK(!contended_recently(), "backed off while the back-off was off");
    seqnet::set_contention_backoff(true);
    clean();

    return test_check::finish("contention back-off");
}
