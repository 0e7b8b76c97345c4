// Embedding: a gather of table rows forward, a scatter-add into the table's gradient backward.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../parallel_region.h"
#include "seqnet/rnn.h"

namespace seqnet {
namespace {

// Float indices are exact integers only below 2^24; past that, neighbouring rows collapse.
constexpr float kMaxExactFloatIndex = 16777216.0f;

bool valid_index(int32_t v, int64_t input_dim) { return v >= 0 && int64_t(v) < input_dim; }
bool valid_index(int64_t v, int64_t input_dim) { return v >= 0 && v < input_dim; }
bool valid_index(float v, int64_t input_dim) {
    return v >= 0.0f && v < kMaxExactFloatIndex && v < static_cast<float>(input_dim) &&
           v == static_cast<float>(static_cast<int64_t>(v));
}

template <typename Index>
int64_t first_bad(const Index* indices, int64_t n, int64_t input_dim) {
    for (int64_t i = 0; i < n; ++i)
        if (!valid_index(indices[i], input_dim)) return i;
    return -1;
}

template <typename Index>
int64_t gather(const Index* indices, int64_t n, const float* table, int64_t input_dim, int64_t dim, float* out) {
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
#pragma omp parallel for if (n * dim >= (int64_t(1) << 16)) schedule(static)
    for (int64_t i = 0; i < n; ++i)
        std::memcpy(out + i * dim, table + static_cast<int64_t>(indices[i]) * dim, sizeof(float) * dim);
    return -1;
}

// dtable[indices[i]] += dy[i] for i in order (indices valid), on a table that is zero wherever
// it is not overwritten. Threads own whole rows (in runs of 64), and each walks every index in
// order and adds those of its rows, so a row sees the same additions in the same order for any
// thread count. With `marks` (one byte per table row, all zero on entry and on exit), a row's
// first index this call writes 0 + dy[i] over whatever the row held (a row the previous call
// wrote: no separate clearing pass, and the bits of clearing then adding, -0 included), then
// the rows of `clear` not written this call are zeroed. Each thread prefetches its next rows
// a few indices ahead: they are scattered over a table larger than the caches, where the
// hardware prefetchers cannot guess them. Whole rows per thread instead of 64-column blocks of
// every row, and the clearing folded into the first write: the seed Embedding(5000, 256) on
// batches of 16 x 80 random words, 0.34-0.40 -> 0.23-0.28 ms on two threads, 0.39-0.53 ->
// 0.25-0.32 on one (alternated processes, half the calls after a cache flush); the layer's
// backward in the seed model's training step 0.47-0.59 -> 0.39-0.42 ms.
template <typename Index>
void add_rows(const Index* indices, int64_t n, const float* dy, int64_t dim, float* dtable, const int64_t* clear,
              int64_t n_clear, uint8_t* marks) {
    const int threads = n * dim >= (int64_t(1) << 16) && !omp_in_parallel() ? omp_get_max_threads() : 1;
    constexpr int64_t kAhead = 4;
    run_region(threads, [&](int tid) {
        const int64_t t = tid, nt = omp_get_num_threads();
        // Rows in runs of 64, so that the threads' marks never share a cache line.
        auto mine = [&](int64_t row) { return (row >> 6) % nt == t; };
        // Rows further on go to the threads in turn: about kAhead of this thread's own lie
        // kAhead x threads indices ahead.
        const int64_t dist = kAhead * nt;
        for (int64_t i = 0; i < n; ++i) {
            if (i + dist < n) {
                const int64_t next = static_cast<int64_t>(indices[i + dist]);
                if (mine(next))
                    for (int64_t c = 0; c < dim; c += 16) __builtin_prefetch(dtable + next * dim + c, 1);
            }
            const int64_t row = static_cast<int64_t>(indices[i]);
            if (!mine(row)) continue;
            float* dst = dtable + row * dim;
            const float* src = dy + i * dim;
            if (marks && !marks[row]) {
                marks[row] = 1;
#pragma omp simd
                for (int64_t c = 0; c < dim; ++c) dst[c] = 0.0f + src[c];
            } else {
#pragma omp simd
                for (int64_t c = 0; c < dim; ++c) dst[c] += src[c];
            }
        }
        for (int64_t i = 0; i < n_clear; ++i)
            if (mine(clear[i]) && (!marks || !marks[clear[i]])) std::memset(dtable + clear[i] * dim, 0, sizeof(float) * dim);
    });
}

template <typename Index>
int64_t scatter_add(const Index* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim, float* dtable) {
    // Checked first: backward must never write outside dtable, whatever it is given.
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
    std::memset(dtable, 0, sizeof(float) * input_dim * dim);
    add_rows(indices, n, dy, dim, dtable, nullptr, 0, nullptr);
    return -1;
}

// The row-sparse backward: overwrite this step's rows, clear the rows the previous step wrote
// and this one did not, list the rows written (increasing, distinct).
template <typename Index>
int64_t scatter_add_rows(const Index* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                         float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                         int64_t* n_rows) {
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
    thread_local std::vector<uint8_t> marks;
    if (int64_t(marks.size()) < input_dim) marks.assign(size_t(input_dim), 0);
    add_rows(indices, n, dy, dim, dtable, clear, n_clear, marks.data());
    // The rows written, increasing: a scan of the marks when the table is not much larger
    // than the batch of indices, else a sort; either way the marks are left all zero.
    int64_t count = 0;
    if (input_dim <= 16 * n) {
        for (int64_t r = 0; r < input_dim; ++r)
            if (marks[r]) rows_out[count++] = r, marks[r] = 0;
    } else {
        for (int64_t i = 0; i < n; ++i) {
            const int64_t row = static_cast<int64_t>(indices[i]);
            if (marks[row]) rows_out[count++] = row, marks[row] = 0;
        }
        std::sort(rows_out, rows_out + count);
    }
    *n_rows = count;
    return -1;
}

template <typename Index>
int64_t distinct_rows(const Index* indices, int64_t n, int64_t input_dim, int64_t* distinct_out, int64_t* inverse,
                      int64_t* count) {
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
    int64_t c = 0;
    if (input_dim > (int64_t(1) << 22) && input_dim > 16 * n) {
        // A table far larger than the batch: an open-addressing hash of the rows seen, sized
        // to the batch, rather than a slot per table row (4 bytes each, kept between calls).
        size_t cap = 16;
        while (cap < size_t(2 * n)) cap <<= 1;
        std::vector<int64_t> keys(cap, -1), at(cap);
        for (int64_t i = 0; i < n; ++i) {
            const int64_t row = static_cast<int64_t>(indices[i]);
            size_t h = size_t((uint64_t(row) * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
            while (keys[h] >= 0 && keys[h] != row) h = (h + 1) & (cap - 1);
            if (keys[h] < 0) {
                keys[h] = row;
                at[h] = c;
                distinct_out[c++] = row;
            }
            inverse[i] = at[h];
        }
        *count = c;
        return -1;
    }
    thread_local std::vector<int32_t> slot;  // -1, or the row's position in distinct_out
    if (int64_t(slot.size()) < input_dim) slot.assign(size_t(input_dim), -1);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t row = static_cast<int64_t>(indices[i]);
        if (slot[row] < 0) {
            slot[row] = int32_t(c);
            distinct_out[c++] = row;
        }
        inverse[i] = slot[row];
    }
    for (int64_t j = 0; j < c; ++j) slot[distinct_out[j]] = -1;
    *count = c;
    return -1;
}

}  // namespace

int64_t embedding_distinct(const int32_t* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count) {
    return distinct_rows(indices, n, input_dim, distinct_out, inverse, count);
}
int64_t embedding_distinct(const int64_t* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count) {
    return distinct_rows(indices, n, input_dim, distinct_out, inverse, count);
}
int64_t embedding_distinct(const float* indices, int64_t n, int64_t input_dim, int64_t* distinct_out,
                           int64_t* inverse, int64_t* count) {
    return distinct_rows(indices, n, input_dim, distinct_out, inverse, count);
}

int64_t embedding_backward_rows(const int32_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows) {
    return scatter_add_rows(indices, n, dy, input_dim, dim, dtable, clear, n_clear, rows_out, n_rows);
}
int64_t embedding_backward_rows(const int64_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows) {
    return scatter_add_rows(indices, n, dy, input_dim, dim, dtable, clear, n_clear, rows_out, n_rows);
}
int64_t embedding_backward_rows(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                                float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                                int64_t* n_rows) {
    return scatter_add_rows(indices, n, dy, input_dim, dim, dtable, clear, n_clear, rows_out, n_rows);
}

int64_t embedding_forward(const int32_t* indices, int64_t n, const float* table, int64_t input_dim, int64_t dim,
                          float* out) {
    return gather(indices, n, table, input_dim, dim, out);
}
int64_t embedding_forward(const int64_t* indices, int64_t n, const float* table, int64_t input_dim, int64_t dim,
                          float* out) {
    return gather(indices, n, table, input_dim, dim, out);
}
int64_t embedding_forward(const float* indices, int64_t n, const float* table, int64_t input_dim, int64_t dim,
                          float* out) {
    return gather(indices, n, table, input_dim, dim, out);
}

int64_t embedding_backward(const int32_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable) {
    return scatter_add(indices, n, dy, input_dim, dim, dtable);
}
int64_t embedding_backward(const int64_t* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable) {
    return scatter_add(indices, n, dy, input_dim, dim, dtable);
}
int64_t embedding_backward(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                           float* dtable) {
    return scatter_add(indices, n, dy, input_dim, dim, dtable);
}

}  // namespace seqnet
