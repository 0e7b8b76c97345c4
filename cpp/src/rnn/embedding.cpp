// Embedding: a gather of table rows forward, a scatter-add into the table's gradient backward.
#include <cstring>

#include "seqnet/rnn.h"

namespace seqnet {

int64_t embedding_forward(const float* indices, int64_t n, const float* table, int64_t input_dim,
                          int64_t dim, float* out) {
    for (int64_t i = 0; i < n; ++i) {
        const float v = indices[i];
        if (!(v >= 0.0f && v < static_cast<float>(input_dim)) || v != static_cast<float>(static_cast<int64_t>(v)))
            return i;
    }
#pragma omp parallel for if (n * dim >= (int64_t(1) << 16)) schedule(static)
    for (int64_t i = 0; i < n; ++i)
        std::memcpy(out + i * dim, table + static_cast<int64_t>(indices[i]) * dim, sizeof(float) * dim);
    return -1;
}

void embedding_backward(const float* indices, int64_t n, const float* dy, int64_t input_dim, int64_t dim,
                        float* dtable) {
    std::memset(dtable, 0, sizeof(float) * input_dim * dim);
    // Rows are added in index order; threads split the columns only, so the bits never change.
    const int64_t block = 64;
#pragma omp parallel for if (n * dim >= (int64_t(1) << 16) && dim >= 2 * block) schedule(static)
    for (int64_t c0 = 0; c0 < dim; c0 += block) {
        const int64_t c1 = c0 + block < dim ? c0 + block : dim;
        for (int64_t i = 0; i < n; ++i) {
            float* dst = dtable + static_cast<int64_t>(indices[i]) * dim;
            const float* src = dy + i * dim;
#pragma omp simd
            for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
        }
    }
}

}  // namespace seqnet
