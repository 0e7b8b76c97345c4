// Placeholder reference GEMM: correct, cache-friendly loop order, vectorisable inner loop.
// To be replaced by the packed, blocked, dispatched implementation.
#include "seqnet/gemm.h"

#include <algorithm>
#include <vector>

namespace seqnet {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const GemmEpilogue* ep) {
    std::vector<float> brow(n);
    for (int64_t i = 0; i < m; ++i) {
        float* ci = c + i * ldc;
        if (beta == 0.f) std::fill(ci, ci + n, 0.f);
        else if (beta != 1.f) for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
        for (int64_t p = 0; p < k; ++p) {
            float av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
            if (trans_b) {
                for (int64_t j = 0; j < n; ++j) ci[j] += av * b[j * ldb + p];
            } else {
                const float* bp = b + p * ldb;
                for (int64_t j = 0; j < n; ++j) ci[j] += av * bp[j];
            }
        }
        if (ep) {
            if (ep->bias) for (int64_t j = 0; j < n; ++j) ci[j] += ep->bias[j];
            if (ep->row_fn) ep->row_fn(ci, n, ep->ctx);
        }
    }
}

}  // namespace seqnet
