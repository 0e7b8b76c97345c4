// The GEMM kernels' prefetch plans (gemm_kernels.h): a PrefetchCursor walks the plan's first
// set of rows, then its second, one line per step, and a walk split over many kernel calls
// (a cursor each, as every microkernel call makes) asks for exactly the lines of one walk, in
// order. Prefetches never change a result (tests/test_gemm.py checks the bits), so a wrong walk
// would only show as lost speed: this checks it directly. Exit status 0 when everything passes.
#include <cstdint>
#include <vector>

#include "check.h"
#include "../../cpp/src/gemm/gemm_kernels.h"

using seqnet::gemm::PrefetchCursor;
using seqnet::gemm::PrefetchRows;

namespace {

alignas(64) char g_data[1 << 16];

// The lines of rows [first, end) + r * stride, r < rows: each row's lines from the line
// holding `first`.
void expect_rows(std::vector<const char*>& out, const char* first, const char* end, int64_t stride, int rows) {
    const char* line0 = g_data + (first - g_data) / 64 * 64;
    const int lines = int((end - 1 - line0) / 64 + 1);
    for (int r = 0; r < rows; ++r)
        for (int l = 0; l < lines; ++l) out.push_back(line0 + r * stride + 64 * l);
}

// Plans two sets, walks them in calls of `chunk` steps, and checks the lines asked for.
void walk(int chunk, bool second_set) {
    PrefetchRows pf;
    const char *a = g_data + 10, *a_end = a + 200;      // 4 lines a row (unaligned start)
    const char *c = g_data + 20480, *c_end = c + 64;    // 1 line a row
    pf.plan(0, a, a_end, 1000, 3);
    if (second_set) pf.plan(1, c, c_end, 4096, 5);
    std::vector<const char*> want, got;
    expect_rows(want, a, a_end, 1000, 3);
    if (second_set) expect_rows(want, c, c_end, 4096, 5);
    for (int calls = 0; pf.active() && calls < 1000; ++calls) {
        PrefetchCursor cursor(pf);
        for (int s = 0; s < chunk; ++s) {
            if (const char* line = cursor.next_line()) got.push_back(line);
            cursor.step();
        }
    }
    CHECK(!pf.active(), "chunk %d: the plan never ran out", chunk);
    CHECK(got == want, "chunk %d, second set %d: asked for %zu lines, want %zu (or others)", chunk, int(second_set),
          got.size(), want.size());
    {  // a cursor on a finished plan asks for nothing
        PrefetchCursor cursor(pf);
        CHECK(cursor.next_line() == nullptr, "chunk %d: a line after the plan ran out", chunk);
        cursor.step();
    }
    pf.plan(0, a, a_end, 1000, 3);
    pf.clear();
    CHECK(!pf.active() && pf.line == 0, "clear() left the plan active");
}

}  // namespace

int main() {
    for (int chunk : {1, 2, 3, 5, 7, 16, 100})
        for (bool second : {false, true}) walk(chunk, second);
    return test_check::finish("prefetch plans");
}
