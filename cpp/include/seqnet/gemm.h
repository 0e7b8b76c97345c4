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

// Products that share op(B): C_q = alpha * op(A_q) * op(B) + beta * C_q for q < parts, op(A_q)
// m[q] x k (row stride lda[q]), C_q m[q] x n (ldc[q]). The same as `parts` sgemm calls,
// except that on the AMX path op(B) is packed once and the rows count together: an LSTM's
// dW = X^T dG and dU = H^T dG (256 and 128 rows by 512) are worth the tile unit as 384
// rows, not apart. Bit-identical for any number of threads.
void sgemm_stacked(bool trans_a, bool trans_b, int64_t parts, const int64_t* m, int64_t n, int64_t k, float alpha,
                   const float* const* a, const int64_t* lda, const float* b, int64_t ldb, float beta, float* const* c,
                   const int64_t* ldc);

// How accurate products must be where a faster unit allows less (PyTorch's
// set_float32_matmul_precision, by analogy). Highest, the default: FP32 accuracy everywhere.
// High: the AMX path keeps three of its six partial products (a0 b0 + a0 b1 + a1 b0, "bf16x3"),
// about twice as fast there, with an error of about 2^-16 of sum |a b| per element instead of
// 2^-24. Products off the AMX path are FP32 either way. SEQNET_MATMUL_PRECISION=high|highest
// sets it at first use.
enum class MatmulPrecision : int { Highest = 0, High = 1 };
MatmulPrecision matmul_precision();
void set_matmul_precision(MatmulPrecision precision);

// Whether sgemm runs a product of this shape on the AMX tile unit now (amx_active() in cpu.h,
// and a shape large enough to repay packing into bf16 planes). An operand holding an
// infinity still sends that call to the FP32 kernels.
bool sgemm_uses_amx(int64_t m, int64_t n, int64_t k);

// Nanoseconds per bf16 tile product of a bare loop on the calling thread's core (0 without
// AMX): the tile unit's rate at this moment. For benchmarks on shared hosts, whose other
// tenants can take half of it or more; about 16 cycles at full rate.
double amx_tile_product_ns();

// The microkernel sgemm uses now (follows active_isa()), e.g. "avx512 14x32".
const char* gemm_kernel_name();

// Knobs of the packed path, for benchmarks and tuning. Block sizes of 0 are chosen from the
// cache sizes (cache_sizes() in cpu.h). Changing kc changes the summation order, hence the
// rounding; the defaults are fixed for a given CPU, which keeps results reproducible.
struct GemmTuning {
    int64_t mc = 0, kc = 0, nc = 0;
    // Contention experiment only: one fixed block of C per thread (what `omp for
    // schedule(static)` gives) and libgomp's own spinning barrier, instead of the default
    // dynamically claimed blocks and a waiting scheme that yields the core (see gemm.cpp).
    bool static_split = false;
    // Prefetch plans (gemm.cpp): while a tile computes, the kernel asks L2 for the lines of
    // the data the next tile reads from memory. On by default; never changes a result.
    bool prefetch = true;
    // Path rules (gemm.cpp), on by default; for benchmarks, and neither changes a result.
    // threaded_cols: on several threads, the column path also for larger products: a chunk
    // of columns a thread, or a grid of row parts and chunks (else the packed path).
    bool threaded_cols = true;
    // shared_l3_blocks: the packed path's blocks of B kept to 1.5 MiB past twice that many
    // columns (else a quarter of L3, as if the L3 were ours alone).
    bool shared_l3_blocks = true;
    // packed_a: with the AVX-512 kernel on one thread, products of a few rows or a batch of them
    // (neither operand transposed, C at least 256 wide) take the packed path, op(A) copied into
    // panels (else the column path, A read in place).
    bool packed_a = true;
};
// The tuning in effect for the active kernel, with the automatic block sizes filled in.
GemmTuning gemm_tuning();
void set_gemm_tuning(const GemmTuning& tuning);

}  // namespace seqnet
