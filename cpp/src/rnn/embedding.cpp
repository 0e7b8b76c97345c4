// Embedding: a gather of table rows forward, a scatter-add into the table's gradient backward.
#include <algorithm>
#include <cstring>

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

// dtable[clear[i]] = 0 for each i, then dtable[indices[i]] += dy[i] for i in order (indices
// valid). Threads split the columns only, so the bits never change; each prefetches the table
// rows a few indices ahead (they are scattered over a table larger than the caches, where the
// hardware prefetchers cannot guess them).
template <typename Index>
void add_rows(const Index* indices, int64_t n, const float* dy, int64_t dim, float* dtable, const int64_t* clear,
              int64_t n_clear) {
    const int64_t block = 64, ahead = 8;
#pragma omp parallel for if (n * dim >= (int64_t(1) << 16) && dim >= 2 * block) schedule(static)
    for (int64_t c0 = 0; c0 < dim; c0 += block) {
        const int64_t c1 = c0 + block < dim ? c0 + block : dim;
        for (int64_t i = 0; i < n_clear; ++i) std::memset(dtable + clear[i] * dim + c0, 0, sizeof(float) * (c1 - c0));
        for (int64_t i = 0; i < n; ++i) {
            if (i + ahead < n) {
                const float* next = dtable + static_cast<int64_t>(indices[i + ahead]) * dim + c0;
                for (int64_t c = 0; c < c1 - c0; c += 16) __builtin_prefetch(next + c, 1);
            }
            float* dst = dtable + static_cast<int64_t>(indices[i]) * dim;
            const float* src = dy + i * dim;
#pragma omp simd
            for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
        }
    }
}

template <typename Index>
int64_t scatter_add(const Index* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim, float* dtable) {
    // Checked first: backward must never write outside dtable, whatever it is given.
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
    std::memset(dtable, 0, sizeof(float) * input_dim * dim);
    add_rows(indices, n, dy, dim, dtable, nullptr, 0);
    return -1;
}

// The row-sparse backward: clear the rows the previous step wrote, add this step's rows,
// list the rows written (increasing, distinct).
template <typename Index>
int64_t scatter_add_rows(const Index* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                         float* dtable, const int64_t* clear, int64_t n_clear, int64_t* rows_out,
                         int64_t* n_rows) {
    const int64_t bad = first_bad(indices, n, input_dim);
    if (bad >= 0) return bad;
    add_rows(indices, n, dy, dim, dtable, clear, n_clear);
    for (int64_t i = 0; i < n; ++i) rows_out[i] = static_cast<int64_t>(indices[i]);
    std::sort(rows_out, rows_out + n);
    *n_rows = std::unique(rows_out, rows_out + n) - rows_out;
    return -1;
}

}  // namespace

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
