// Single-precision general matrix multiply, row-major.
#pragma once
#include <cstdint>

namespace seqnet {

// Work applied to each finished block of C, while it is still in cache, so that
// Dense and convolution make no second pass over their output.
struct GemmEpilogue {
    // Length n; added to every row of C after alpha*op(A)*op(B) + beta*C.
    const float* bias = nullptr;
    // Applied in place to each finished row segment c[0..len) of C (after the bias),
    // e.g. an activation. ctx is passed through untouched.
    void (*row_fn)(float* c, int64_t len, const void* ctx) = nullptr;
    const void* ctx = nullptr;
};

// C = alpha * op(A) * op(B) + beta * C, all row-major.
// op(A) is m x k (A is m x k, or k x m when trans_a); op(B) is k x n.
// When beta == 0, C is not read (NaN in C does not leak).
// Results are bit-identical for any number of threads.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const GemmEpilogue* epilogue = nullptr);

}  // namespace seqnet
