// Internal to the GEMM: the microkernel contract and the packing routines shared by every
// instruction set. The driver (gemm.cpp) owns the loops; an instruction set adds only a
// microkernel (microkernel_<isa>.cpp).
#pragma once
#include <cstdint>

#include "seqnet/cpu.h"

// For the short copy loops at tile edges (a few to 64 floats): gcc otherwise turns them
// into memcpy / memset calls that cost more than the copy.
#if defined(__GNUC__) && !defined(__clang__)
#define SEQNET_INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define SEQNET_INLINE_COPIES
#endif

namespace seqnet {
namespace gemm {

// Computes one tile of R x (V * vec) elements: C = alpha * A B + beta * C, summing
// p = 0..k-1 in order (every element sees the same operations whatever the tile shape,
// so edge tiles round exactly like full ones).
//   A element (i, p) is a[i * a_rs + p * a_cs]  (packed panel: a_rs = 1, a_cs = MR;
//                                                 row-major A in place: a_rs = lda, a_cs = 1)
//   B element (p, j) is b[p * b_rs + j], the columns of a row contiguous
//                                                (packed panel: b_rs = NR; B in place: ldb)
//   C element (i, j) is c[i * ldc + j]. When beta == 0, C is only written.
// Kernels read exactly R rows of A. A kernel with masked_columns touches only the first
// `cols` (> (V - 1) * vec) columns of B and C, with masked loads and stores; any other
// kernel is always called with cols = V * vec, and the driver routes a narrower tile
// through a zero-padded B panel and a scratch C tile. Either way kernels have no edge loops.
using MicroKernelFn = void (*)(int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                               const float* b, int64_t b_rs, float* c, int64_t ldc, float alpha,
                               float beta, int64_t cols);

constexpr int kMaxMR = 16;  // largest main tile of any kernel: rows...
constexpr int kMaxNV = 4;   // ...and vectors per row

// As MicroKernelFn, for A whose k-steps come in `segments` runs of `seg_len`, run s starting
// seg_stride floats after run s - 1: A element (i, k) is a[i * a_rs + (k / seg_len) * seg_stride
// + k % seg_len], B row k at b + k * b_rs, and each element of C sums all segments * seg_len
// products in one fma chain, in k order (so exactly as MicroKernelFn over an A copied into
// contiguous rows would). The direct convolution's tiles: a patch's kernel rows are runs in
// different input rows, equally far apart. C is only written, with the layer's epilogue applied
// in registers: C(i, j) = acc + bias[j] (no bias when null), then max(., 0) when relu (as
// activation_forward's Relu: x <= 0 ? 0 : x, so NaN stays NaN) -- the bits of storing the sum
// and adding the bias and the activation in later passes over C, without those passes.
using SegmentedKernelFn = void (*)(int64_t segments, int64_t seg_len, int64_t seg_stride, const float* a,
                                   int64_t a_rs, const float* b, int64_t b_rs, float* c, int64_t ldc,
                                   const float* bias, bool relu, int64_t cols);

// One K block of a few rows of C against an op(B) read in place row after row (gemm.cpp, the
// streaming path: a batch of one through a Dense layer, 1 x 512 x 784, or the weight gradient
// of a Dense(1), 512 x 1 x 128:tn). Rows r < rows (<= kStreamRows) of C, columns j < cols (<=
// kStreamCols): C(r, j) at c[r * c_rs + j * c_cs] = alpha * acc + beta * C (beta == 0: C not
// read), where acc sums a(r, p) * b(p, j) for p = 0..k-1 in one fma chain from 0, a(r, p) at
// a[r * a_rs + p * a_cs] and b(p, j) at b[p * ldb + j]: exactly the operations a microkernel
// applies to the element, so the bits are the same whichever path computes it. B's rows are
// read whole (cols floats), one after another, with the running sums in L1: the stream the
// hardware prefetchers follow best, where the register tiles would walk B in strips of a few
// lines, or copy it into panels only to use each element once.
using StreamRowsFn = void (*)(int rows, int64_t k, int64_t cols, const float* a, int64_t a_rs, int64_t a_cs,
                              const float* b, int64_t ldb, float* c, int64_t c_rs, int64_t c_cs, float alpha,
                              float beta);
constexpr int kStreamRows = 8;
constexpr int64_t kStreamCols = 1024;  // the running sums: at most 8 x 4 KiB on the stack

// One K block of the dot path (gemm.cpp): the products whose few (<= kDotVecs) small vectors
// meet a large row-major operand X along its rows, K in X's rows (a Dense(1) forward, 512 x
// 512 x 1: C = X b; or a batch of one against a transposed B, 1 x 2000 x 512:nt). Lanes i <
// lanes (<= kDotLanes) are rows of X (row i at x + i * ldx, k floats), vectors r < vecs have
// element p at v[r * v_rs + p * v_cs]; out(i, r) at c[i * c_ls + r * c_vs] = alpha * acc +
// beta * out (beta == 0: not read), acc summing x(i, p) * v(r, p) for p = 0..k-1 in one fma
// chain from 0: the operations a microkernel applies to the element, so the bits are the same
// whichever path computes it. X is read in 16 x 16 blocks transposed in registers, so that
// its rows fill the vector lanes and each chain stays one lane's, in order.
using DotLanesFn = void (*)(int64_t lanes, int vecs, int64_t k, const float* x, int64_t ldx, const float* v,
                            int64_t v_rs, int64_t v_cs, float* c, int64_t c_ls, int64_t c_vs, float alpha, float beta);
constexpr int kDotVecs = 4;
constexpr int64_t kDotLanes = 64;

// A prefetch plan (see plan_prefetches in gemm.cpp): lines the AVX-512 and AVX2 kernels ask
// L2 for as they run (PrefetchCursor), so that the next tile's data, which the hardware
// prefetchers cannot foresee, is in L2 when it is read. Up to two sets of `rows` rows of
// `lines` 64-byte lines, `stride` bytes apart, from `next`, the first set first. The calling
// thread's (prefetch_rows()); kernels advance it, and the driver clears it (rows = 0) before
// the data it names may go away. Prefetches never change a result.
struct PrefetchRows {
    struct Set {
        const char* next = nullptr;
        int64_t stride = 0, rows = 0;
        int lines = 0;
    };
    Set set[2];
    int line = 0;
    // Set s: the lines holding [first, end), and the same lines of the `row_count` - 1 rows
    // after it, `stride_bytes` apart.
    void plan(int s, const void* first, const void* end, int64_t stride_bytes, int64_t row_count) {
        const uintptr_t line0 = reinterpret_cast<uintptr_t>(first) & ~uintptr_t(63);
        set[s] = {reinterpret_cast<const char*>(line0), stride_bytes, row_count,
                  int((reinterpret_cast<uintptr_t>(end) - 1 - line0) / 64 + 1)};
    }
    bool active() const { return set[0].rows > 0; }
    void clear() { set[0].rows = set[1].rows = 0, line = 0; }
};
PrefetchRows& prefetch_rows();

// A kernel's walk through a PrefetchRows: step() asks L2 for its next line (nothing once
// every line was asked for); the destructor leaves the rest for the next kernel call.
class PrefetchCursor {
   public:
    explicit PrefetchCursor(PrefetchRows& pf)
        : pf_(pf), row_(pf.set[0].next), rows_(pf.set[0].rows), stride_(pf.set[0].stride), lines_(pf.set[0].lines),
          line_(pf.line) {}
    ~PrefetchCursor() { pf_.set[0] = {row_, stride_, rows_, lines_}, pf_.line = line_; }
    PrefetchCursor(const PrefetchCursor&) = delete;
    PrefetchCursor& operator=(const PrefetchCursor&) = delete;

    // The line the next step asks for (nullptr: none left).
    const char* next_line() const { return rows_ > 0 ? row_ + 64 * line_ : nullptr; }

    inline __attribute__((always_inline)) void step() {
        if (rows_ <= 0) return;
        __builtin_prefetch(row_ + 64 * line_, 0, 2);  // (locality 2: prefetcht1, into L2)
        if (++line_ < lines_) return;
        line_ = 0, row_ += stride_;
        if (--rows_ > 0) return;
        PrefetchRows::Set& next = pf_.set[1];  // the second set, if any
        row_ = next.next, rows_ = next.rows, stride_ = next.stride, lines_ = next.lines;
        next.rows = 0;
    }

   private:
    PrefetchRows& pf_;
    const char* row_;
    int64_t rows_, stride_;
    int lines_, line_;
};

struct MicroKernel {
    const char* name;  // e.g. "avx512 14x32"
    int mr, nr;        // main tile; nr = nv * vec
    int vec;           // floats per vector register
    bool masked_columns;
    // variant[r - 1][v - 1]: the tile of r <= mr rows and v <= nr / vec vectors.
    MicroKernelFn variant[kMaxMR][kMaxNV];
    // Tiles of up to this many rows also have a variant of nr / vec + 1 vectors (0: none).
    int wide_rows = 0;
    // segmented[r - 1][v - 1], as variant (null where the instruction set has none).
    SegmentedKernelFn segmented[kMaxMR][kMaxNV] = {};
    // One panel of a transposed op(B), vectorised (nullptr: pack_b's portable loop):
    // dst[p * nr + j] = b[j * ldb + p] for p < k, j < cols <= nr, and zeros for the columns
    // past cols; nr a multiple of vec.
    void (*pack_b_trans)(const float* b, int64_t ldb, int64_t k, int64_t cols, int64_t nr, float* dst) = nullptr;
    // One panel of a row-major op(A), vectorised (nullptr: pack_a's portable loop), the same
    // transpose: dst[p * mr + i] = a[i * lda + p] for p < k, i < rows <= mr <= vec, zeros past rows.
    void (*pack_a_rows)(const float* a, int64_t lda, int64_t k, int64_t rows, int64_t mr, float* dst) = nullptr;
    // The streaming path's kernel (nullptr: the instruction set has none; see StreamRowsFn),
    // and the most rows it takes (at most kStreamRows).
    StreamRowsFn stream_rows = nullptr;
    int stream_max_rows = 0;
    // The dot path's kernel (nullptr: none; see DotLanesFn).
    DotLanesFn dot_lanes = nullptr;
};

// Each returns nullptr when the instruction set is not compiled in (e.g. on ARM).
const MicroKernel* microkernel_avx512();
const MicroKernel* microkernel_avx2();
const MicroKernel* microkernel_generic();
// The best compiled microkernel for `isa` (the generic one when nothing better is compiled in).
const MicroKernel& microkernel_for(Isa isa);

// The per-step products of a recurrence: C (m x n, row stride ldc) += A (m x k, row stride lda)
// B, on the calling thread, B packed once by pack_b(..., k, n, panel_width(uk), panels) (k x
// round_up(n, panel_width) floats). The panels are wider than nr where the kernel has wide
// few-row tiles, so a row tile of a few batch rows reads B once per step through fewer, longer
// strips. Each element of C sums its k products in one fma chain from 0 to k - 1, then adds it
// to C.
int64_t panel_width(const MicroKernel& uk);
void panel_update(const MicroKernel& uk, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* panels, float* c, int64_t ldc);

// Packs rows [0, m) and columns [0, k) of op(A) into ceil(m / mr) panels of k x mr,
// element (i, p) of panel r at dst[r * k * mr + p * mr + i]; rows past m are zeros.
// op(A)(i, p) is a[i * lda + p], or a[p * lda + i] when trans.
void pack_a(bool trans, const float* a, int64_t lda, int64_t m, int64_t k, int mr, float* dst);

// Packs rows [0, k) and columns [0, n) of op(B) into ceil(n / nr) panels of k x nr,
// element (p, j) of panel s at dst[s * k * nr + p * nr + j]; columns past n are zeros.
// op(B)(p, j) is b[p * ldb + j], or b[j * ldb + p] when trans.
void pack_b(bool trans, const float* b, int64_t ldb, int64_t k, int64_t n, int nr, float* dst);

// The AMX blocks (gemm_amx.cpp; call only when amx_active()). A panel is 32 rows of op(A),
// or 32 columns of op(B), over a K block, packed as three bf16 planes per step of kAmxK,
// rows, columns and K past the end zero-filled: amx_panel_size(k) uint16 each.
constexpr int64_t kAmxPanel = 32, kAmxK = 32;
// (static: gemm_amx.cpp compiles it with AVX-512 flags, and no copy of it may serve portable code)
static inline int64_t amx_panel_size(int64_t k) { return (k + kAmxK - 1) / kAmxK * 3 * kAmxPanel * kAmxK; }
// op(A) rows [0, rows) (<= 32) by K [0, k), times alpha; op(A)(i, p) is a[i * lda + p], or
// a[p * lda + i] when trans. Both packers return whether an element was infinite (the
// product must then be computed another way: see gemm_amx.cpp).
bool amx_pack_a(bool trans, const float* a, int64_t lda, int64_t rows, int64_t k, float alpha, uint16_t* dst);
// op(B) K [0, k) by columns [0, cols) (<= 32); op(B)(p, j) is b[p * ldb + j], or b[j * ldb + p].
bool amx_pack_b(bool trans, const float* b, int64_t ldb, int64_t k, int64_t cols, uint16_t* dst);
// Loads the tile configuration on the calling thread; amx_end releases it.
void amx_begin();
void amx_end();
// Nanoseconds per tile product (TDPBF16PS) of a bare loop on four accumulators, on the
// calling thread: the tile unit's rate now, which other tenants of a host can halve.
double amx_tile_product_ns();
// The 32 x 32 block at c (row stride ldc) = (load_c ? c : 0) + A panel x B panel over
// `steps` steps of kAmxK: all six partial products, or with `three` only a0 b1 + a1 b0 + a0 b0
// (MatmulPrecision::High).
void amx_block(int64_t steps, const uint16_t* a, const uint16_t* b, float* c, int64_t ldc, bool load_c,
               bool three = false);

}  // namespace gemm
}  // namespace seqnet
