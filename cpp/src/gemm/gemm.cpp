// Single-precision GEMM: the BLIS design. The loops, the packing and the threading here
// are shared by every instruction set; each one adds only an MR x NR microkernel
// (microkernel_<isa>.cpp), chosen at run time from active_isa().
//
//   packed path   jc (nc columns) > pc (kc of K) > ic (mc rows) > jr (NR) > ir (MR):
//                 op(B) block kc x nc packed once per (jc, pc) and kept in L3/L2, op(A)
//                 block mc x kc packed per ic and kept in L2, one microkernel per tile.
//   in-place paths (no copy of the large operand; each splits C between threads as well):
//     rows        op(B) fits in L2 (im2col convolutions, Dense layers of training, dW): A
//                 read in place, row tiles > K blocks > column tiles; B packed only when
//                 transposed (or a ragged last column tile for kernels without masks).
//     cols        few rows (<= 4 MR, or a K block of A within half of L2: a batch of 128 to
//                 256; on several threads also more rows, when each thread's columns are
//                 one chunk) and a large op(B) (a Dense forward on a batch, dX = dY W^T): A read
//                 in place, each kb x chunk block of B packed once and reused by all the
//                 row tiles, which have nearly equal heights (32 rows: 11 + 11 + 10).
//     transposed  C^T = op(B)^T op(A)^T, so the m rows fill the vector lanes: narrow C
//                 (e.g. 10 classes) with A transposed, or few rows with B transposed and
//                 too large to pack (dX = dY W^T): op(B) read in place.
//     streaming   at most 8 rows (4 on AVX2; a batch of one) against op(B) read in place row after
//                 row, each element once, the sums in L1; or 4 columns (a Dense(1)'s dW)
//                 as C^T against a transposed A.
//     dot         the other few-row or few-column products (a Dense(1) forward X w, a batch
//                 of one against a transposed B): the large operand's rows as vector lanes,
//                 read in blocks (16 x 16, AVX2 8 x 8) transposed in registers.
//
// Determinism: every element of C sums K in the same fixed kc blocks (k_block), with the
// same operations (an fma chain per block, then alpha and beta as the kernels store),
// whichever path, tile shape, task or thread computes it, so the result is bit-identical
// for any number of threads. Threads split C, never K.
#include "seqnet/gemm.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "gemm_kernels.h"
#include "seqnet/cpu.h"
#include "../contention.h"

namespace seqnet {
namespace gemm {

const MicroKernel& microkernel_for(Isa isa) {
    const MicroKernel* k = nullptr;
#if SEQNET_X86_KERNELS
    if (isa == Isa::Avx512) k = gemm::microkernel_avx512();
    if (!k && isa >= Isa::Avx2) k = gemm::microkernel_avx2();
#else
    (void)isa;
#endif
    return k ? *k : *gemm::microkernel_generic();
}

}  // namespace gemm

namespace {

using gemm::MicroKernel;

// A product of fewer multiply-adds than this runs on one thread: waking a partner and
// joining it (a few microseconds) would cost more than the half it saves.
constexpr int64_t kMinMacsPerThread = int64_t(1) << 20;
// Tasks (independent blocks of C) the packed path aims for per thread, so a thread slowed
// by another process hands its share to the others (see "Contention" below).
constexpr int64_t kTasksPerThread = 4;
// ...but no task smaller than this, since each packs its own panels of A and B.
constexpr int64_t kMinMacsPerTask = int64_t(1) << 22;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// ---------------------------------------------------------------- kernel and blocking


std::atomic<int64_t> g_mc{0}, g_kc{0}, g_nc{0};
std::atomic<bool> g_static_split{false};
std::atomic<bool> g_threaded_cols{true}, g_shared_l3_blocks{true}, g_packed_a{true};

struct Blocking {
    int64_t mc, kc, nc;
};

// Block sizes from the cache sizes (after Low et al., "Analytical modeling is enough for
// high-performance BLIS", 2016, adjusted by measurement on Zen 4):
//   kc: one kc x MR micro-panel of A fills ~7/8 of L1, at most 512. B's micro-panel then
//       streams from L2 rather than sitting in L1 (a modern L2 feeds it easily), and the
//       long kc amortizes each C tile's read-modify-write, which measured ~15% faster at
//       2048^3 than the textbook kc that keeps B in L1;
//   mc: the mc x kc block of A fills about half of L2;
//   nc: the kc x nc block of B fills about a quarter of L3 (shared by the cores).
Blocking blocking_for(const MicroKernel& uk) {
    const CacheSizes& cs = cache_sizes();
    int64_t kc = g_kc.load(std::memory_order_relaxed);
    if (kc <= 0) kc = std::clamp<int64_t>(cs.l1d * 7 / 8 / (4 * uk.mr) / 32 * 32, 128, 512);
    int64_t mc = g_mc.load(std::memory_order_relaxed);
    if (mc <= 0) mc = std::max<int64_t>(cs.l2 / 2 / (4 * kc) / uk.mr, 1) * uk.mr;
    int64_t nc = g_nc.load(std::memory_order_relaxed);
    if (nc <= 0) {
        const int64_t l3 = cs.l3 > 0 ? cs.l3 : 4 * cs.l2;
        nc = std::clamp<int64_t>(l3 / 4 / (4 * kc) / uk.nr, 1, 4096 / uk.nr) * uk.nr;
    }
    return {round_up(mc, uk.mr), kc, round_up(nc, uk.nr)};
}

// ---------------------------------------------------------------- pack buffers

// A 64-byte aligned buffer owned by one thread, grown on demand and reused across calls,
// so the steady state allocates nothing.
class PackBuffer {
   public:
    ~PackBuffer() { std::free(data_); }
    float* get(int64_t floats) {
        if (floats > capacity_) {
            std::free(data_);
            const size_t bytes = size_t(round_up(floats * int64_t(sizeof(float)), 4096));
            data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
            capacity_ = data_ ? int64_t(bytes / sizeof(float)) : 0;
        }
        return data_;
    }

   private:
    float* data_ = nullptr;
    int64_t capacity_ = 0;
};

// The packing buffers of one thread. Fetched once per product and passed down: each access
// to a thread_local in position-independent code is a __tls_get_addr call.
struct Workspace {
    PackBuffer a, b;
};

Workspace& thread_workspace() {
    static thread_local Workspace ws;
    return ws;
}

// ---------------------------------------------------------------- the problem

struct Problem {
    bool trans_a, trans_b;
    int64_t m, n, k;
    float alpha;
    const float* a;
    int64_t lda;
    const float* b;
    int64_t ldb;
    float beta;
    float* c;
    int64_t ldc;
    const GemmEpilogue* ep;

    // Address of op(A)(i, p) and op(B)(p, j).
    const float* a_at(int64_t i, int64_t p) const { return trans_a ? a + p * lda + i : a + i * lda + p; }
    const float* b_at(int64_t p, int64_t j) const { return trans_b ? b + j * ldb + p : b + p * ldb + j; }
};

// Bias, then row_fn, on rows [i0, i0 + rows) x columns [j0, j0 + cols) of C, all finished.
void apply_epilogue(const Problem& pr, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
    const GemmEpilogue* ep = pr.ep;
    if (!ep || (!ep->bias && !ep->row_fn)) return;
    for (int64_t i = i0; i < i0 + rows; ++i) {
        float* row = pr.c + i * pr.ldc + j0;
        if (ep->bias) {
            const float* bias = ep->bias + j0;
            for (int64_t j = 0; j < cols; ++j) row[j] += bias[j];
        }
        if (ep->row_fn) ep->row_fn(row, cols, ep->ctx);
    }
}

// Row segment c[0..len) = beta * c + t, rounded once as the kernels store a tile (fmadd),
// so a tile merged from scratch rounds exactly like one stored directly: results must not
// depend on which path (hence which thread count) computed them. The common betas get
// plain loops the compiler vectorizes.
SEQNET_INLINE_COPIES inline void merge_row(float* c, const float* t, int64_t len, float beta) {
    if (beta == 0.f)
        for (int64_t j = 0; j < len; ++j) c[j] = t[j];
    else if (beta == 1.f)
        for (int64_t j = 0; j < len; ++j) c[j] += t[j];
    else
        for (int64_t j = 0; j < len; ++j) c[j] = std::fma(beta, c[j], t[j]);
}

// One tile of C at c, rows x cols (at most MR x NR), by the kernel variant of that many
// rows and vectors. A must have `rows` readable rows. A kernel with masked columns reads
// and writes just `cols` columns; for any other, B must have whole vectors of readable
// columns (a padded panel, or in bounds) and a width short of a whole number of vectors
// is computed into a scratch tile and merged.
inline void run_tile(const MicroKernel& uk, int64_t k, const float* a, int64_t a_rs, int64_t a_cs,
                     const float* b, int64_t b_rs, float* c, int64_t ldc, int64_t rows,
                     int64_t cols, float alpha, float beta) {
    const int64_t nv = ceil_div(cols, uk.vec), width = nv * uk.vec;
    const gemm::MicroKernelFn kernel = uk.variant[rows - 1][nv - 1];
    if (cols == width || uk.masked_columns) {
        kernel(k, a, a_rs, a_cs, b, b_rs, c, ldc, alpha, beta, cols);
        return;
    }
    alignas(64) float tile[gemm::kMaxMR * gemm::kMaxNV * 16];
    kernel(k, a, a_rs, a_cs, b, b_rs, tile, width, alpha, 0.f, width);
    for (int64_t i = 0; i < rows; ++i) merge_row(c + i * ldc, tile + i * width, cols, beta);
}

// Prefetch plans (gemm::PrefetchRows): while a tile computes, the kernel asks L2 for the
// lines of the data the next one reads from memory (AVX-512: one per step of k, AVX2: one
// every other step; the portable kernel ignores plans), instead of
// leaving each tile to start with misses the hardware prefetchers cannot foresee (the next
// K block of a weight matrix packed from rows 1 KiB apart, the next rows of a C far larger
// than the caches). Only for products whose streamed data `bytes` is larger than half of
// L2 (smaller data is already cached, and the plans cost a few percent on the 2-12 us
// products of small layers); they never change a result. GemmTuning::prefetch turns them
// off, for benchmarks.
std::atomic<bool> g_prefetch_plans{true};

inline bool plan_prefetches(int64_t bytes) {
    return bytes > cache_sizes().l2 / 2 && g_prefetch_plans.load(std::memory_order_relaxed);
}

// C = beta * C (+ epilogue): the whole product when k == 0 or alpha == 0.
void scale_only(const Problem& pr) {
    for (int64_t i = 0; i < pr.m; ++i) {
        float* ci = pr.c + i * pr.ldc;
        if (pr.beta == 0.f) std::fill(ci, ci + pr.n, 0.f);
        else if (pr.beta != 1.f)
            for (int64_t j = 0; j < pr.n; ++j) ci[j] *= pr.beta;
    }
    apply_epilogue(pr, 0, pr.m, 0, pr.n);
}

// ---------------------------------------------------------------- in-place paths

// The K blocks: ceil(k / kc) blocks of nearly equal size (a multiple of 8 where possible),
// a function of k and kc only, so every path, task and thread count sums in the same order.
int64_t k_block(int64_t k, int64_t kc) {
    const int64_t blocks = ceil_div(k, kc);
    return std::min(kc, round_up(ceil_div(k, blocks), 8));
}

// Rows [r0, r1) as the fewest tiles of at most mr rows, of nearly equal heights (32 rows
// are 11 + 11 + 10, not 14 + 14 + 4: a thin tile runs far below the kernel's peak). The
// tile shape never changes the result: every element sees the same operations.
template <class F>
inline void for_row_tiles(int64_t r0, int64_t r1, int64_t mr, F&& f) {
    const int64_t tiles = ceil_div(r1 - r0, mr), base = (r1 - r0) / tiles, extra = (r1 - r0) % tiles;
    for (int64_t t = 0, i0 = r0; t < tiles; ++t) {
        const int64_t rows = base + (t < extra ? 1 : 0);
        f(i0, rows);
        i0 += rows;
    }
}

// op(B) as the in-place paths read it: in place (row stride ldb), except when transposed
// (then packed whole, once, into panels of k x NR) and, for kernels without masked
// columns, in a last column tile whose width is not a whole number of vectors (a
// zero-padded copy k x ragged_width, so no kernel reads past column n). The copies live in
// the calling thread's workspace and are only read by the tasks.
struct BOperand {
    const float* packed = nullptr;
    int64_t ragged_width = 0, last_j0 = 0;
};

BOperand prepare_b(const Problem& pr, const MicroKernel& uk) {
    BOperand bo;
    const int64_t nr = uk.nr, n = pr.n, k = pr.k;
    bo.last_j0 = (n - 1) / nr * nr;
    if (pr.trans_b) {
        float* buf = thread_workspace().b.get(k * round_up(n, nr));
        gemm::pack_b(true, pr.b, pr.ldb, k, n, uk.nr, buf);
        bo.packed = buf;
    } else if ((n - bo.last_j0) % uk.vec != 0 && !uk.masked_columns) {
        bo.ragged_width = round_up(n - bo.last_j0, uk.vec);
        float* buf = thread_workspace().b.get(k * bo.ragged_width);
        gemm::pack_b(false, pr.b + bo.last_j0, pr.ldb, k, n - bo.last_j0, int(bo.ragged_width), buf);
        bo.packed = buf;
    }
    return bo;
}

// op(B)(p, j0...) of the column tile at j0 (on the NR grid from column 0), and its row stride.
inline const float* b_tile(const Problem& pr, const MicroKernel& uk, const BOperand& bo, int64_t p,
                           int64_t j0, int64_t& b_rs) {
    if (pr.trans_b) {
        b_rs = uk.nr;
        return bo.packed + j0 * pr.k + p * uk.nr;
    }
    if (bo.ragged_width && j0 == bo.last_j0) {
        b_rs = bo.ragged_width;
        return bo.packed + p * bo.ragged_width;
    }
    b_rs = pr.ldb;
    return pr.b + p * pr.ldb + j0;
}

// Rows [m0, m1) of C, all columns, for op(B) small enough to stay in L2 (the convolutions
// as im2col products, the Dense layers of training, dW): A read in place. Row tiles
// outer, then the K blocks, then the column tiles: the tile's slice of A stays in L1
// while B streams past from L2, and each finished strip of C gets its epilogue while still
// in L1. K blocks after the first accumulate into C, as in the packed path.
void rows_product(const Problem& pr, const MicroKernel& uk, const BOperand& bo, int64_t kb,
                  int64_t m0, int64_t m1) {
    const int64_t nr = uk.nr, n = pr.n, k = pr.k;
    // Transposed A (dW = X^T dY) read in place takes each step of k from another row of X,
    // lda apart: with lda * 4 a multiple of 4 KiB (9216 features) every one of those lines
    // falls in the same L1 set, and the tile's slice of A is fetched from L2 again for each
    // column tile. Copied into a kb x MR panel (a plain copy, MR floats a step) when several
    // column tiles reuse it, it stays in L1 (short slices, k < 64, fit the ways of a set).
    const bool pack_slice = pr.trans_a && n > nr && kb >= 64;
    float* a_panel = pack_slice ? thread_workspace().a.get(kb * uk.mr) : nullptr;
    const int64_t a_rs = pr.trans_a ? 1 : pr.lda, a_cs = pack_slice ? uk.mr : pr.trans_a ? pr.lda : 1;
    // While a row tile's last K block computes, the next tile's first slice of A and its rows
    // of C are fetched (measured on the weight gradients of the benchmarks' Dense layers, a C
    // of 4-32 MB: 30976 x 32 x 256:tn 11.7 -> 9.1 ms on one thread, 5.6 -> 4.3 on two;
    // 9216 x 128 x 128:tn 5.0 -> 3.9 and 2.1 -> 1.8; the im2col forward 9216 x 288 x 32 1.57
    // -> 1.31 and 1.04 -> 0.86). Only with enough kernel steps per tile to spread them over.
    gemm::PrefetchRows& pf = gemm::prefetch_rows();
    const bool plan = std::min(kb, k) * ceil_div(n, nr) >= 128 &&
                      plan_prefetches(pr.m * (k + n) * int64_t(sizeof(float)));
    const int64_t lda_bytes = pr.lda * int64_t(sizeof(float)), ldc_bytes = pr.ldc * int64_t(sizeof(float));
    for_row_tiles(m0, m1, uk.mr, [&](int64_t i0, int64_t rows) {
        for (int64_t pc = 0; pc < k; pc += kb) {
            const int64_t kcur = std::min(kb, k - pc);
            const float beta = pc == 0 ? pr.beta : 1.f;
            const float* a = pr.a_at(i0, pc);
            if (pack_slice) {
                gemm::pack_a(true, a, pr.lda, rows, kcur, uk.mr, a_panel);
                a = a_panel;
            }
            const int64_t i1 = i0 + rows, next = std::min(rows + 1, m1 - i1);  // (tile heights differ by 1)
            if (plan && pc + kcur == k && next > 0) {
                const int64_t k0 = std::min(kb, k);
                if (pr.trans_a) pf.plan(0, pr.a_at(i1, 0), pr.a_at(i1 + next, 0), lda_bytes, k0);
                else pf.plan(0, pr.a_at(i1, 0), pr.a_at(i1, k0), lda_bytes, next);
                pf.plan(1, pr.c + i1 * pr.ldc, pr.c + i1 * pr.ldc + n, ldc_bytes, next);
            }
            for (int64_t j0 = 0; j0 < n; j0 += nr) {
                int64_t b_rs;
                const float* b = b_tile(pr, uk, bo, pc, j0, b_rs);
                run_tile(uk, kcur, a, a_rs, a_cs, b, b_rs, pr.c + i0 * pr.ldc + j0, pr.ldc, rows,
                         std::min(nr, n - j0), pr.alpha, beta);
            }
            pf.clear();
        }
        apply_epilogue(pr, i0, rows, 0, n);
    });
}

// The columns of one chunk of the column path: a kb x chunk block of packed op(B) in half of L2.
int64_t cols_chunk(const MicroKernel& uk, int64_t kb) {
    return std::max<int64_t>(1, cache_sizes().l2 / 2 / (4 * kb * uk.nr)) * uk.nr;
}

// Whether op(A) read in place puts what a tile reads at once in one set of L1: the rows of a
// row-major A (one per tile row) or, transposed, its steps of k, a multiple of 4 KiB apart.
bool a_reads_share_l1_set(const Problem& pr) { return pr.lda * int64_t(sizeof(float)) % 4096 == 0; }

// Columns [n0, n1) of C, all rows, for few rows and a large op(B) (a Dense layer's forward
// product on a batch: M = 32, K x N = the weights). As the packed path, but A read in
// place (it is small) and row tiles of nearly equal heights: column chunks whose kb x
// chunk block of B fits in L2, then the K blocks (the chunk's block of B packed), then row
// tiles, then column tiles, so each block of B comes from memory once and is reused from
// L2 by the other row tiles.
void cols_product(const Problem& pr, const MicroKernel& uk, int64_t kb, int64_t n0, int64_t n1) {
    const int64_t nr = uk.nr, m = pr.m, k = pr.k;
    const int64_t a_rs = pr.trans_a ? 1 : pr.lda, a_cs = pr.trans_a ? pr.lda : 1;
    const int64_t chunk = cols_chunk(uk, kb);
    // Rows of A read in place a multiple of 4 KiB apart all fall in one set of L1 at each step
    // of k: tiles of at most 12 rows then leave a tile's slice of A in L1 where 14 thrashed
    // (two threads, against the packed path: 1024^3 1.04-1.13x, 1024 x 1024 x 512:nt 1.14-
    // 1.28x, 2048^3 1.04-1.16x over two runs, where the column path's 14-row tiles had lost:
    // 0.92x, 0.77x, 0.94x; 8 and 10 rows measured the same as 12; the few-row products 128 x
    // 9216 x 128 and 32 x 9216 x 128 unchanged, 0.99-1.00x). A transposed A in place takes
    // each step of k from another such row, which no tile height helps: those products keep
    // the packed path (sgemm).
    const int64_t tile_rows = !pr.trans_a && a_reads_share_l1_set(pr) ? std::min<int64_t>(uk.mr, 12) : uk.mr;
    float* b_packed = thread_workspace().b.get(kb * std::min(chunk, round_up(n1 - n0, nr)));
    // While a K block computes, the next one's rows of B are fetched, so that packing them
    // reads L2 instead of waiting on memory row by row (32 x 30976 x 256, the seed VGG's Dense
    // forward: 9.7 -> 8.1 ms on one thread, 5.2 -> 4.6 on two; fetching A's next block as
    // well, or packing A, measured no better).
    gemm::PrefetchRows& pf = gemm::prefetch_rows();
    const bool plan = !pr.trans_b && plan_prefetches(k * pr.n * int64_t(sizeof(float)));
    for (int64_t jc = n0; jc < n1; jc += chunk) {
        const int64_t nb = std::min(chunk, n1 - jc);
        for (int64_t pc = 0; pc < k; pc += kb) {
            const int64_t kcur = std::min(kb, k - pc);
            const float beta = pc == 0 ? pr.beta : 1.f;
            gemm::pack_b(pr.trans_b, pr.b_at(pc, jc), pr.ldb, kcur, nb, uk.nr, b_packed);
            if (plan && pc + kcur < k)
                pf.plan(0, pr.b_at(pc + kcur, jc), pr.b_at(pc + kcur, jc + nb), pr.ldb * int64_t(sizeof(float)),
                        std::min(kb, k - pc - kcur));
            for_row_tiles(0, m, tile_rows, [&](int64_t i0, int64_t rows) {
                const float* a = pr.a_at(i0, pc);
                for (int64_t jr = 0; jr < nb; jr += nr)
                    run_tile(uk, kcur, a, a_rs, a_cs, b_packed + jr * kcur, nr, pr.c + i0 * pr.ldc + jc + jr,
                             pr.ldc, rows, std::min(nr, nb - jr), pr.alpha, beta);
            });
            pf.clear();
        }
        apply_epilogue(pr, 0, m, jc, nb);
    }
}

// The product C^T = op(B)^T op(A)^T, for narrow C (n well short of a whole number of
// vectors, e.g. the 10 classes of an output layer) over many rows, or few rows and a
// transposed op(B) too large to pack (dX = dY W^T on a batch): the m rows then fill the
// vector lanes instead of n. `tp` is the transposed problem (A' = op(B)^T, B' = op(A)^T;
// its C is unused) and `bo` its B' operand. Rows [m0, m1) (m0 on the NR grid) and columns
// [n0, n1) of C, as tiles of NR rows x at most MR columns computed into scratch, which
// the K blocks accumulate into (preloaded with C^T when beta != 0, so each element sees
// the operations it would see in C), then stored transposed. Every element sees the same
// operations as in rows_product (a * b == b * a), so the bits are the same.
void transposed_product(const Problem& pr, const Problem& tp, const MicroKernel& uk, const BOperand& bo,
                        int64_t kb, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const int64_t nr = uk.nr, k = pr.k;
    const int64_t a_rs = tp.trans_a ? 1 : tp.lda, a_cs = tp.trans_a ? tp.lda : 1;
    alignas(64) float tile[gemm::kMaxMR * gemm::kMaxNV * 16];
    // The next tile's rows of A' (op(B)^T read in place: the weights, for dX = dY W^T) are
    // fetched while a tile computes (32 x 256 x 30976:nt, the seed VGG's Dense dX: 6.1 -> 4.5
    // ms on one thread, 3.6 -> 3.0 on two).
    gemm::PrefetchRows& pf = gemm::prefetch_rows();
    const bool plan = a_cs == 1 && plan_prefetches(tp.m * k * int64_t(sizeof(float)));
    for (int64_t i0 = m0; i0 < m1; i0 += nr) {  // NR rows of C: a column tile of C^T
        const int64_t rows = std::min(nr, m1 - i0), nv = ceil_div(rows, uk.vec), width = nv * uk.vec;
        for_row_tiles(n0, n1, uk.mr, [&](int64_t j0, int64_t cols) {  // columns of C: rows of C^T
            float* c = pr.c + i0 * pr.ldc + j0;
            if (pr.beta != 0.f)
                for (int64_t i = 0; i < rows; ++i)
                    for (int64_t j = 0; j < cols; ++j) tile[j * width + i] = c[i * pr.ldc + j];
            for (int64_t pc = 0; pc < k; pc += kb) {
                const int64_t kcur = std::min(kb, k - pc);
                const float beta = pc == 0 ? pr.beta : 1.f;
                int64_t b_rs;
                const float* b = b_tile(tp, uk, bo, pc, i0, b_rs);
                const int64_t j1 = j0 + cols, next = std::min(cols + 1, n1 - j1);
                if (plan && next > 0)
                    pf.plan(0, tp.a_at(j1, pc), tp.a_at(j1, pc + kcur), a_rs * int64_t(sizeof(float)), next);
                uk.variant[cols - 1][nv - 1](kcur, tp.a_at(j0, pc), a_rs, a_cs, b, b_rs, tile, width,
                                             pr.alpha, beta, uk.masked_columns ? rows : width);
                pf.clear();
            }
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) c[i * pr.ldc + j] = tile[j * width + i];
        });
        apply_epilogue(pr, i0, rows, n0, n1 - n0);
    }
}

// ---------------------------------------------------------------- packed path

// The columns of each packed kb x nc block of op(B) for `cols` columns of C. bl.nc sizes the
// block at a quarter of L3, as if the L3 were ours alone; on a VM the L3 is shared with the
// host's other cores (a Zen 5 CCD: 32 MiB for 8 cores), and blocks of several MiB measured
// slower than re-packing A for narrower ones while other tenants loaded the L3 (2048^3 at 140
// GFLOP/s on one thread against 170 in a quiet hour). So past twice 1.5 MiB worth of columns
// (768 at kb = 512), blocks of 1.5 MiB. One thread, random shapes (m, k, n 600-3000, any
// transposes; medians of 7-12 alternated rounds): in such an hour n > 2000 1.09-1.18x, 1536 <
// n < 2000 1.00-1.02x, 2048^3 1.14x; in a quiet hour 0.98-1.04x (`python bench/bench_gemm.py
// --rules`). On two threads, whose tasks already split the columns, 16 random shapes 0.98-1.05x.
// An nc set through GemmTuning is kept as given (so is bl.nc with shared_l3_blocks off).
// The blocks never change a result.
constexpr int64_t kSharedL3Block = int64_t(3) << 19;  // 1.5 MiB of packed B

int64_t packed_cols(const Blocking& bl, const MicroKernel& uk, int64_t kb, int64_t cols) {
    if (g_nc.load(std::memory_order_relaxed) > 0 || !g_shared_l3_blocks.load(std::memory_order_relaxed)) return bl.nc;
    const int64_t narrow = std::max<int64_t>(1, kSharedL3Block / (4 * kb) / uk.nr) * uk.nr;
    return cols > 2 * narrow ? std::min(bl.nc, narrow) : bl.nc;
}

// C[m0:m1, n0:n1] with the five BLIS loops, on the calling thread.
void packed_block(const Problem& pr, const MicroKernel& uk, const Blocking& bl, int64_t m0,
                  int64_t m1, int64_t n0, int64_t n1) {
    const int64_t mr = uk.mr, nr = uk.nr, k = pr.k;
    const int64_t kb = k_block(k, bl.kc), nc = packed_cols(bl, uk, kb, n1 - n0);
    Workspace& ws = thread_workspace();
    float* a_packed = ws.a.get(std::min(bl.mc, round_up(m1 - m0, mr)) * kb);
    float* b_packed = ws.b.get(std::min(nc, round_up(n1 - n0, nr)) * kb);
    for (int64_t jc = n0; jc < n1; jc += nc) {
        const int64_t nb = std::min(nc, n1 - jc);
        for (int64_t pc = 0; pc < k; pc += kb) {
            const int64_t kcur = std::min(kb, k - pc);
            const bool last_k = pc + kcur == k;
            const float beta = pc == 0 ? pr.beta : 1.f;  // later K blocks accumulate
            gemm::pack_b(pr.trans_b, pr.b_at(pc, jc), pr.ldb, kcur, nb, nr, b_packed);
            for (int64_t ic = m0; ic < m1; ic += bl.mc) {
                const int64_t mb = std::min(bl.mc, m1 - ic);
                gemm::pack_a(pr.trans_a, pr.a_at(ic, pc), pr.lda, mb, kcur, uk.mr, a_packed);
                // jr outer: one kc x NR micro-panel of B stays in L1 across the ir loop.
                for (int64_t jr = 0; jr < nb; jr += nr) {
                    const float* bp = b_packed + jr * kcur;
                    for (int64_t ir = 0; ir < mb; ir += mr) {
                        run_tile(uk, kcur, a_packed + ir * kcur, 1, mr, bp, nr,
                                 pr.c + (ic + ir) * pr.ldc + jc + jr, pr.ldc, std::min(mr, mb - ir),
                                 std::min(nr, nb - jr), pr.alpha, beta);
                    }
                }
                if (last_k) apply_epilogue(pr, ic, mb, jc, nb);  // this mc x nc block is final
            }
        }
    }
}

// ---------------------------------------------------------------- threads

// Contention. With 2 cores and another process busy on one of them, a thread of ours
// runs only part of the time, and OpenMP's usual shape collapses: measured on 256^3 with a
// busy-loop child, a fixed split (schedule(static)) ran at 4 GFLOP/s against 100 on one
// thread. Three causes, three answers:
//  1. A fixed split waits for the slow thread's whole share. Here C is split into more
//     tasks than threads, claimed one at a time, so the unhindered thread takes the rest.
//  2. Barriers inside the product (BLIS shares packed B between threads) wait at every K
//     block for a descheduled partner. Here each task packs its own panels: no barrier.
//  3. The wait at the end. libgomp's barrier spins for milliseconds by default, which keeps
//     the core busy, so the scheduler never moves the straggler onto it; OMP_WAIT_POLICY
//     and GOMP_SPINCOUNT are read when libgomp loads, too late for us. So a thread out of
//     tasks spins ~100 us, then sleeps on a condition variable; the others reach libgomp's
//     barrier only when all work is done. Even so, a partner that claimed a task just
//     before being descheduled costs a scheduler slice (milliseconds; Linux leaves a
//     just-run thread where it is), which dwarfs a 0.2 ms product. So a thread that waited
//     for its partner far longer than the split explains (two tasks' time: the cores need
//     not run at the same speed), in two regions in a row (a host's steal of a vCPU delays
//     one), marks the machine contended, and products run on one thread for a back-off
//     period (50 ms, doubling while probes keep finding contention, up to ~1.6 s) before two
//     threads are tried again. The thread count never changes the result.
//     The back-off state (contention.h) is shared with the other threaded kernels.

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Independent tasks (blocks of C) claimed one at a time from a shared counter; see above.
class TaskQueue {
   public:
    explicit TaskQueue(int64_t count) : count_(count) {}

    // The next unclaimed task, or -1.
    int64_t claim() {
        const int64_t t = next_.fetch_add(1, std::memory_order_relaxed);
        return t < count_ ? t : -1;
    }

    void finish() {
        if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
            std::lock_guard<std::mutex> lock(mutex_);
            all_done_.notify_all();
        }
    }

    // Blocks until every task is done: spins briefly, then sleeps. Returns the time waited.
    int64_t wait_all() {
        if (finished()) return 0;
        const int64_t start = now_ns(), spin_until = start + 100'000;
        for (int i = 0; !finished(); ++i) {
            cpu_relax();
            if ((i & 63) == 63 && now_ns() > spin_until) {
                std::unique_lock<std::mutex> lock(mutex_);
                all_done_.wait(lock, [this] { return finished(); });
                break;
            }
        }
        return now_ns() - start;
    }

   private:
    bool finished() const { return done_.load(std::memory_order_acquire) == count_; }

    const int64_t count_;
    std::atomic<int64_t> next_{0}, done_{0};
    std::mutex mutex_;
    std::condition_variable all_done_;
};

// Threads worth using: no fork for products too small to repay it, none when nested,
// none while another process was recently found competing for the cores.
int threads_for(const Problem& pr) {
    const int64_t macs = pr.m * pr.n * pr.k;
    if (macs < 2 * kMinMacsPerThread || omp_in_parallel()) return 1;
    const int64_t useful = macs / kMinMacsPerThread;
    const int threads = int(std::min<int64_t>(omp_get_max_threads(), useful));
    return threads > 1 && contended_recently() ? 1 : threads;
}

// Splits C into tm x tn tasks. Each task packs its own A rows (so A is packed tn times)
// and B columns (B packed tm times); pick the split that packs least, counting a
// transposing pack (row-major A, transposed B) as three times a copying one.
struct TaskGrid {
    int64_t m_step, n_step, tm, tn;
};

TaskGrid task_grid(const Problem& pr, const MicroKernel& uk, int64_t tasks) {
    const int64_t m_tiles = ceil_div(pr.m, uk.mr), n_tiles = ceil_div(pr.n, uk.nr);
    const int64_t wa = pr.trans_a ? 1 : 3, wb = pr.trans_b ? 3 : 1;
    int64_t best_tm = 1, best_tn = 1, best_cost = -1;
    for (int64_t tm = 1; tm <= tasks; ++tm) {
        const int64_t tn = tasks / tm;
        if (tm * tn != tasks || tm > m_tiles || tn > n_tiles) continue;
        const int64_t cost = wa * pr.m * tn + wb * pr.n * tm;
        if (best_cost < 0 || cost < best_cost) best_cost = cost, best_tm = tm, best_tn = tn;
    }
    const int64_t m_step = ceil_div(m_tiles, best_tm) * uk.mr, n_step = ceil_div(n_tiles, best_tn) * uk.nr;
    return {m_step, n_step, ceil_div(pr.m, m_step), ceil_div(pr.n, n_step)};
}

// Runs tasks 0..count-1 through run(t) on `threads` threads; see "Contention" above.
template <class F>
void run_tasks(int threads, int64_t count, const F& run) {
    if (threads <= 1 || count <= 1) {
        for (int64_t t = 0; t < count; ++t) run(t);
        return;
    }
    // The threads take the caller's treatment of subnormals (an LSTM's recurrence flushes
    // them), so a block's result does not depend on which thread computed it.
    const unsigned denormals = DenormalsMode::current();
    if (g_static_split.load(std::memory_order_relaxed)) {
#pragma omp parallel num_threads(threads)
        {
            const DenormalsMode mode(denormals);
#pragma omp for schedule(static)
            for (int64_t t = 0; t < count; ++t) run(t);
        }
        return;
    }
    TaskQueue queue(count);
    std::atomic<int64_t> longest_wait{0};
    const int64_t start = now_ns();
#pragma omp parallel num_threads(threads)
    {
        const DenormalsMode mode(denormals);
        for (int64_t t = queue.claim(); t >= 0; t = queue.claim()) {
            run(t);
            queue.finish();
        }
        const int64_t waited = queue.wait_all();
        int64_t prev = longest_wait.load(std::memory_order_relaxed);
        while (waited > prev && !longest_wait.compare_exchange_weak(prev, waited)) {
        }
    }
    // A thread may wait for its partner's last task: up to about two tasks' time when the
    // cores run at different speeds.
    const int64_t elapsed = now_ns() - start;
    note_parallel_run(longest_wait.load(), elapsed, 2 * elapsed * threads / count);
}

// How many tasks to split a product into: one per thread with the static split, else
// several per thread, but none below kMinMacsPerTask.
int64_t task_count(const Problem& pr, int threads) {
    if (threads <= 1) return 1;
    if (g_static_split.load(std::memory_order_relaxed)) return threads;
    return std::clamp<int64_t>(pr.m * pr.n * pr.k / kMinMacsPerTask, threads, kTasksPerThread * threads);
}

// [0, extent) as at most `tasks` ranges, whole multiples of `unit` but the last. Returns
// the step.
int64_t task_step(int64_t extent, int64_t unit, int64_t& tasks) {
    const int64_t step = ceil_div(ceil_div(extent, unit), std::max<int64_t>(tasks, 1)) * unit;
    tasks = ceil_div(extent, step);
    return step;
}

void packed_product(const Problem& pr, const MicroKernel& uk, const Blocking& bl, int threads) {
    if (threads <= 1) {
        packed_block(pr, uk, bl, 0, pr.m, 0, pr.n);
        return;
    }
    // A weight gradient over a long K (the LSTM's dW = X^T dG, K = batch x steps rows): every
    // task packs its own panels of A and B over all of K, so here one task per thread, which
    // packs least: 173 -> 194 GFLOP/s on 256x1280x512:tn against eight tasks (20 alternated
    // rounds in one process). Elsewhere the finer split, which balances unequal cores, measured
    // as fast or faster.
    const bool long_k = pr.trans_a && !pr.trans_b && pr.k >= 2 * std::max(pr.m, pr.n);
    const TaskGrid grid = task_grid(pr, uk, long_k ? threads : task_count(pr, threads));
    run_tasks(threads, grid.tm * grid.tn, [&](int64_t t) {
        const int64_t m0 = t / grid.tn * grid.m_step, n0 = t % grid.tn * grid.n_step;
        packed_block(pr, uk, bl, m0, std::min(pr.m, m0 + grid.m_step), n0, std::min(pr.n, n0 + grid.n_step));
    });
}

// Row ranges of C as tasks (rows_product).
void rows_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads) {
    const BOperand bo = prepare_b(pr, uk);
    int64_t tasks = task_count(pr, threads);
    const int64_t step = task_step(pr.m, uk.mr, tasks);
    run_tasks(threads, tasks, [&](int64_t t) {
        rows_product(pr, uk, bo, kb, t * step, std::min(pr.m, (t + 1) * step));
    });
}

// Column ranges of C as tasks (cols_product).
void cols_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads) {
    // Every task reads all of A in place. An A larger than L2 (a Dense layer on 9216 or 28224
    // features) comes from memory again for each task, so it is split only as many ways as
    // there are threads: measured 13-24% faster on two threads than eight tasks (smaller A
    // keeps the finer split, which balances cores that run at different speeds).
    int64_t tasks = pr.m * pr.k * int64_t(sizeof(float)) > cache_sizes().l2 ? threads : task_count(pr, threads);
    const int64_t step = task_step(pr.n, uk.nr, tasks);
    run_tasks(threads, tasks, [&](int64_t t) {
        cols_product(pr, uk, kb, t * step, std::min(pr.n, (t + 1) * step));
    });
}

// Blocks of C as tasks (cols_product on a part of the rows): the rows in `threads` parts, the
// columns in chunks of `chunk`, each chunk's parts claimed one after another (by different
// threads, so its columns of B come from memory about once). For products wider than the
// column tasks take: each part of A is read in place once per chunk.
void cols_grid_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads, int64_t chunk) {
    const int64_t row_step = round_up(ceil_div(pr.m, threads), uk.mr), parts = ceil_div(pr.m, row_step);
    run_tasks(threads, parts * ceil_div(pr.n, chunk), [&](int64_t t) {
        const int64_t i0 = t % parts * row_step, j0 = t / parts * chunk;
        Problem part = pr;
        part.m = std::min(row_step, pr.m - i0);
        part.a = pr.a_at(i0, 0);
        part.c = pr.c + i0 * pr.ldc;
        cols_product(part, uk, kb, j0, std::min(pr.n, j0 + chunk));
    });
}

// Ranges of C as tasks (transposed_product), split along whichever side has more tiles.
void transposed_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads) {
    const Problem tp{!pr.trans_b, !pr.trans_a, pr.n, pr.m, pr.k, pr.alpha, pr.b, pr.ldb, pr.a, pr.lda,
                     pr.beta, nullptr, 0, nullptr};
    const BOperand bo = prepare_b(tp, uk);
    int64_t tasks = task_count(pr, threads);
    if (ceil_div(pr.m, uk.nr) >= ceil_div(pr.n, uk.mr)) {
        const int64_t step = task_step(pr.m, uk.nr, tasks);
        run_tasks(threads, tasks, [&](int64_t t) {
            transposed_product(pr, tp, uk, bo, kb, t * step, std::min(pr.m, (t + 1) * step), 0, pr.n);
        });
    } else {
        const int64_t step = task_step(pr.n, uk.mr, tasks);
        run_tasks(threads, tasks, [&](int64_t t) {
            transposed_product(pr, tp, uk, bo, kb, 0, pr.m, t * step, std::min(pr.n, (t + 1) * step));
        });
    }
}

// The frame the streaming and dot paths share. [0, extent) of the large operand (its columns
// for streaming, its rows for dot), k by extent floats in all, split between threads in ranges
// on a `unit` grid, each range in chunks of at most `chunk`; block(i0, width, pc) runs K block
// pc of a chunk, in order, then the epilogue finishes the chunk's rows of C (`rows_of_c`) or
// its columns. Bound by memory rather than by multiply-adds (threads_for counts those), a second
// thread is worth it from about 768 KB of that operand (1 x 512 x 512: 19 -> 14 us; 1 x 784 x
// 512 30 -> 20; 1 x 2304 x 512 190 -> 118; 9216 x 1 x 128:tn 222 -> 110; 512 x 1 x 128:tn, 256
// KB, 6.1 either way).
template <class F>
void chunk_tasks(const Problem& pr, int threads, int64_t kb, int64_t extent, int64_t unit, int64_t chunk,
                 bool rows_of_c, const F& block) {
    constexpr int64_t kBytesPerThread = 384 << 10;
    const int64_t bytes = pr.k * extent * int64_t(sizeof(float));
    if (threads == 1 && bytes >= 2 * kBytesPerThread && !omp_in_parallel() && !contended_recently())
        threads = int(std::min<int64_t>(omp_get_max_threads(), bytes / kBytesPerThread));
    int64_t tasks = threads;
    const int64_t step = task_step(extent, unit, tasks);
    run_tasks(threads, tasks, [&](int64_t t) {
        const int64_t i1 = std::min(extent, (t + 1) * step);
        for (int64_t ic = t * step; ic < i1; ic += chunk) {
            const int64_t w = std::min(chunk, i1 - ic);
            for (int64_t pc = 0; pc < pr.k; pc += kb) block(ic, w, pc);
            if (rows_of_c) apply_epilogue(pr, ic, w, 0, pr.n);
            else apply_epilogue(pr, 0, pr.m, ic, w);
        }
    });
}

// A few rows of C against an op(B) not transposed (a batch of one through a Dense layer:
// 1 x 512 x 784), or, as C^T = op(B)^T op(A)^T, a few columns of C against a transposed A
// (the weight gradient of a Dense(1): 512 x 1 x 128:tn): the large operand read in place row
// after row, each element once (gemm::StreamRowsFn), where the register tiles would copy it
// into panels to use each element once, or walk it in strips of two lines a row. Its columns
// are split between the tasks; a task runs chunks of kStreamCols of them, each through the K
// blocks in order, so every element of C sees the operations it sees on the other paths.
void stream_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads, bool transposed) {
    struct {
        int rows;
        int64_t cols;
        const float* a;
        int64_t a_rs, a_cs;
        const float* b;
        int64_t ldb;
        int64_t c_rs, c_cs;
    } s;
    if (!transposed)  // rows of C: a = op(A), the streamed matrix B (k x n)
        s = {int(pr.m), pr.n, pr.a, pr.trans_a ? 1 : pr.lda, pr.trans_a ? pr.lda : 1, pr.b, pr.ldb, pr.ldc, 1};
    else  // rows of C^T: a(r, p) = op(B)(p, r), the streamed matrix A (k x m), C^T(r, i) = C(i, r)
        s = {int(pr.n), pr.m, pr.b, pr.trans_b ? pr.ldb : 1, pr.trans_b ? 1 : pr.ldb, pr.a, pr.lda, 1, pr.ldc};
    chunk_tasks(pr, threads, kb, s.cols, 64, gemm::kStreamCols, transposed, [&](int64_t jc, int64_t w, int64_t pc) {
        uk.stream_rows(s.rows, std::min(kb, pr.k - pc), w, s.a + pc * s.a_cs, s.a_rs, s.a_cs, s.b + pc * s.ldb + jc,
                       s.ldb, pr.c + jc * s.c_cs, s.c_rs, s.c_cs, pr.alpha, pc == 0 ? pr.beta : 1.f);
    });
}

// A few columns of C against a row-major op(A) (a Dense(1) forward: 512 x 512 x 1), or a few
// rows against a transposed B (1 x 2000 x 512:nt): dot products along the rows of the large
// operand X, which the other paths computed with one useful lane in sixteen or after packing
// X. Its rows become the vector lanes (gemm::DotLanesFn); tasks take ranges of them, each in
// chunks of kDotLanes through the K blocks in order.
void dot_tasks(const Problem& pr, const MicroKernel& uk, int64_t kb, int threads, bool few_cols) {
    struct {
        int vecs;
        int64_t lanes;
        const float* x;
        int64_t ldx;
        const float* v;
        int64_t v_rs, v_cs, c_ls, c_vs;
    } s;
    if (few_cols)  // lanes: rows of op(A) = A (m x k); vectors: columns of op(B)
        s = {int(pr.n), pr.m, pr.a, pr.lda, pr.b, pr.trans_b ? pr.ldb : 1, pr.trans_b ? 1 : pr.ldb, pr.ldc, 1};
    else  // lanes: columns of op(B) = rows of B (n x k); vectors: rows of op(A)
        s = {int(pr.m), pr.n, pr.b, pr.ldb, pr.a, pr.trans_a ? 1 : pr.lda, pr.trans_a ? pr.lda : 1, 1, pr.ldc};
    chunk_tasks(pr, threads, kb, s.lanes, 16, gemm::kDotLanes, few_cols, [&](int64_t ic, int64_t w, int64_t pc) {
        uk.dot_lanes(w, s.vecs, std::min(kb, pr.k - pc), s.x + ic * s.ldx + pc, s.ldx, s.v + pc * s.v_cs, s.v_rs,
                     s.v_cs, pr.c + ic * s.c_ls, s.c_ls, s.c_vs, pr.alpha, pc == 0 ? pr.beta : 1.f);
    });
}

// ---------------------------------------------------------------- AMX path

#if SEQNET_AMX_KERNELS
// K blocks of the AMX path: at most kAmxKc, a multiple of kAmxK, a function of k only. The
// block size does not change a result (C carries the fp32 sums between blocks exactly as the
// tiles hold them), only how often C's tiles are loaded and stored: 512 against 256 measured
// 1.05-1.09x on the LSTM's dx (1280 x 512 x 256:nt) and stacked dW, dU (384 x 1280 x 512:tn),
// 1.02-1.08x at 512^3 to 2048 x 512 x 512 (two threads, alternated call by call, rounds kept
// only while the tile unit ran at its full rate); 128 measured 0.92x.
constexpr int64_t kAmxKc = 512;
// Columns of C one task computes at a time: a kAmxKc x kAmxNc block of op(B)'s planes
// (1.5 MiB) stays in L2 while the task's rows of A pass by.
constexpr int64_t kAmxNc = 512;
// op(A) and op(B) are packed whole, each into at most this many bytes of bf16 planes.
constexpr int64_t kAmxMaxPacked = int64_t(16) << 20;

int64_t amx_k_block(int64_t k) { return std::min(kAmxKc, round_up(ceil_div(k, ceil_div(k, kAmxKc)), gemm::kAmxK)); }

// Bytes of bf16 planes for `side` rows (or columns) by K.
int64_t amx_packed_bytes(int64_t side, int64_t k) {
    const int64_t kb = amx_k_block(k);
    return ceil_div(side, gemm::kAmxPanel) * ceil_div(k, kb) * gemm::amx_panel_size(kb) * 2;
}

// Products worth the tile unit. Packing costs about 0.6 ns per element of op(A) and op(B)
// (a read, the split, three bf16 planes written), against m * n * k multiply-adds at two to
// three times the FP32 rate: the packing's share is about 1/m + 1/n, so the harmonic side
// m n / (m + n) must be large, and short sums (k < 256) lose besides. Measured on two threads
// against the FP32 kernels (median of 8-12 alternated rounds in one process): 1.3x on the
// LSTM's input projection (1280 x 512, k 256), 1.5x on its dx (1280 x 256, k 512), 1.5x at
// 512^3, 1.3x at 1024^3; 0.85-0.9x on mnist_mlp's weight gradients (784 and 512 x 512, k 128),
// 0.75-0.8x on the LSTM's dW and dU apart (256 and 128 x 512: see sgemm_stacked) and on
// mnist_cnn's Dense dW (9216 x 128). Both operands must also be small enough to pack whole
// (2048^3 is not: 25 MB each).
//
// The choice must not depend on the thread count, though kernels that split one product
// between their threads (an LSTM's own-rows dx on a small layer, the im2col forward by row
// blocks) call sgemm on parts whose shapes do. They call it inside a parallel region, active
// or not (one thread), and only products at the top level use the tile unit; and a product
// under 32M multiply-adds (2^25) never does, which covers the small layers that split their
// products only when they have several threads.
bool amx_worth(const Problem& pr) {
    if (pr.k < 256 || pr.m * pr.n < 200 * (pr.m + pr.n) || pr.m * pr.n * pr.k < (int64_t(1) << 25)) return false;
    if (omp_get_level() > 0) return false;
    return amx_packed_bytes(pr.m, pr.k) <= kAmxMaxPacked && amx_packed_bytes(pr.n, pr.k) <= kAmxMaxPacked;
}

// Packed panels of 32 rows of op(A) or 32 columns of op(B) by a K block: panel (p, kp) at
// data + (p * k_blocks + kp) * panel_size.
struct AmxPanels {
    const uint16_t* data;
    int64_t k_blocks, panel_size;
    const uint16_t* panel(int64_t p, int64_t kp) const { return data + (p * k_blocks + kp) * panel_size; }
};

// One 32-row panel of C (fewer rows at the end of a part): rows [i0, i0 + rows) of the part
// `pr` (its own A, C, alpha, beta and epilogue; op(B), n and k are shared by all parts).
struct AmxRowPanel {
    const Problem* pr;
    int64_t i0, rows;
};

// Row panels [p0, p1) by columns [n0, n1) of C on the calling thread: jc (kAmxNc columns) >
// pc (K blocks) > row panels > 32-column panels of B. C holds the running sum in fp32 between
// K blocks; every element sums the same blocks in the same order whatever the task, so the
// result does not depend on the thread count.
void amx_task(const AmxRowPanel* panels, const AmxPanels& ap, const AmxPanels& bp, int64_t kb, bool three,
              int64_t p0, int64_t p1, int64_t n0, int64_t n1) {
    const int64_t P = gemm::kAmxPanel, k = panels[p0].pr->k;
    alignas(64) float edge[32 * 32];
    for (int64_t p = p0; p < p1; ++p) {
        const Problem& pr = *panels[p].pr;
        if (pr.beta != 0.f && pr.beta != 1.f)
            for (int64_t i = panels[p].i0; i < panels[p].i0 + panels[p].rows; ++i)
                for (int64_t j = n0; j < n1; ++j) pr.c[i * pr.ldc + j] *= pr.beta;
    }
    gemm::amx_begin();
    for (int64_t jc = n0; jc < n1; jc += kAmxNc) {
        const int64_t nb = std::min(kAmxNc, n1 - jc);
        for (int64_t pc = 0, kp = 0; pc < k; pc += kb, ++kp) {
            const int64_t steps = ceil_div(std::min(kb, k - pc), gemm::kAmxK);
            const bool last_k = pc + kb >= k;
            for (int64_t p = p0; p < p1; ++p) {
                const Problem& pr = *panels[p].pr;
                const int64_t ir = panels[p].i0, rows = panels[p].rows;
                const bool load = pc > 0 || pr.beta != 0.f;
                const uint16_t* a = ap.panel(p, kp);
                for (int64_t jr = jc; jr < jc + nb; jr += P) {
                    const int64_t cols = std::min(P, jc + nb - jr);
                    const uint16_t* b = bp.panel(jr / P, kp);
                    float* c = pr.c + ir * pr.ldc + jr;
                    if (rows == P && cols == P) {
                        gemm::amx_block(steps, a, b, c, pr.ldc, load, three);
                        continue;
                    }
                    // An edge block: through a full 32 x 32 scratch block.
                    if (load) {
                        std::fill(edge, edge + 32 * 32, 0.f);
                        for (int64_t i = 0; i < rows; ++i) std::copy(c + i * pr.ldc, c + i * pr.ldc + cols, edge + i * 32);
                    }
                    gemm::amx_block(steps, a, b, edge, 32, load, three);
                    for (int64_t i = 0; i < rows; ++i) std::copy(edge + i * 32, edge + i * 32 + cols, c + i * pr.ldc);
                }
                if (last_k) apply_epilogue(pr, ir, rows, jc, nb);
            }
        }
    }
    gemm::amx_end();
}

// The products parts[0..count) (sharing op(B), n and k; each with its own rows of op(A) and
// of C) on the tile unit: op(A) and op(B) packed whole, all threads sharing the work, then C
// split between tasks. Returns false, with C untouched, when an operand holds an infinity
// (see gemm_amx.cpp): the caller then uses the FP32 kernels.
bool amx_product(const Problem* parts, int64_t count, int threads) {
    const Problem& pr0 = parts[0];
    const int64_t P = gemm::kAmxPanel, kb = amx_k_block(pr0.k), k_blocks = ceil_div(pr0.k, kb);
    // Reused, so a product allocates nothing; a local reference, because the tasks below run
    // on other threads, where the name of a thread_local would mean their own copy.
    static thread_local std::vector<AmxRowPanel> panel_storage;
    std::vector<AmxRowPanel>& panels = panel_storage;
    panels.clear();
    for (int64_t q = 0; q < count; ++q)
        for (int64_t i0 = 0; i0 < parts[q].m; i0 += P) panels.push_back({&parts[q], i0, std::min(P, parts[q].m - i0)});
    const int64_t m_panels = int64_t(panels.size()), n_panels = ceil_div(pr0.n, P);
    const int64_t panel_size = gemm::amx_panel_size(kb);
    Workspace& ws = thread_workspace();
    uint16_t* a_packed = reinterpret_cast<uint16_t*>(ws.a.get(m_panels * k_blocks * panel_size / 2));
    uint16_t* b_packed = reinterpret_cast<uint16_t*>(ws.b.get(n_panels * k_blocks * panel_size / 2));
    const int64_t a_items = m_panels * k_blocks, items = a_items + n_panels * k_blocks;
    const int64_t pack_tasks = std::min(items, int64_t(threads));
    std::atomic<bool> infinite{false};
    run_tasks(threads, pack_tasks, [&](int64_t t) {
        bool inf = false;
        for (int64_t i = t; i < items; i += pack_tasks) {
            const bool is_a = i < a_items;
            const int64_t j = is_a ? i : i - a_items, p = j / k_blocks, pc = j % k_blocks * kb;
            const int64_t kcur = std::min(kb, pr0.k - pc);
            if (is_a) {
                const Problem& pr = *panels[p].pr;
                inf |= gemm::amx_pack_a(pr.trans_a, pr.a_at(panels[p].i0, pc), pr.lda, panels[p].rows, kcur, pr.alpha,
                                        a_packed + j * panel_size);
            } else {
                inf |= gemm::amx_pack_b(pr0.trans_b, pr0.b_at(pc, p * P), pr0.ldb, kcur, std::min(P, pr0.n - p * P),
                                        b_packed + j * panel_size);
            }
        }
        if (inf) infinite.store(true, std::memory_order_relaxed);
    });
    if (infinite.load()) return false;
    const AmxPanels ap{a_packed, k_blocks, panel_size}, bp{b_packed, k_blocks, panel_size};
    // A task runs each K block of its columns of op(B) (in L2) past all of its row panels, so
    // it keeps at least four of them where it can and the columns are split instead: with
    // one 32-row panel per task, op(B) streamed from L3 for every panel bounds the kernel.
    Problem stacked = pr0;
    for (int64_t q = 1; q < count; ++q) stacked.m += parts[q].m;
    const int64_t tasks = task_count(stacked, threads);
    const int64_t tm = std::clamp<int64_t>(m_panels / 4, 1, tasks), tn = std::min(ceil_div(tasks, tm), n_panels);
    const int64_t m_step = ceil_div(m_panels, tm), n_step = ceil_div(n_panels, tn) * P;
    const int64_t gm = ceil_div(m_panels, m_step), gn = ceil_div(pr0.n, n_step);
    const bool three = matmul_precision() == MatmulPrecision::High;
    run_tasks(threads, gm * gn, [&](int64_t t) {
        const int64_t p0 = t / gn * m_step, n0 = t % gn * n_step;
        amx_task(panels.data(), ap, bp, kb, three, p0, std::min(m_panels, p0 + m_step), n0, std::min(pr0.n, n0 + n_step));
    });
    return true;
}
#endif

}  // namespace

// ---------------------------------------------------------------- public entry points

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc, const GemmEpilogue* epilogue) {
    if (m <= 0 || n <= 0) return;
    const Problem pr{trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, epilogue};
    if (k <= 0 || alpha == 0.f) {
        scale_only(pr);
        return;
    }
    const int threads = threads_for(pr);
#if SEQNET_AMX_KERNELS
    if (amx_active() && amx_worth(pr) && amx_product(&pr, 1, threads)) return;
#endif
    const MicroKernel& uk = gemm::microkernel_for(active_isa());
    const Blocking bl = blocking_for(uk);
    const int64_t kb = k_block(k, bl.kc);
    // Every path sums the same K blocks with the same operations per element, so the
    // choice may depend on anything, the thread count included.
    // Which way round fills the vector lanes better: n across them, or m (C^T)?
    const double fill_n = double(n) / double(round_up(n, uk.vec));
    const double fill_m = double(m) / double(round_up(m, uk.vec));
    // The operand that streams past each row tile (op(B), or op(A)^T for C^T) must stay in L2.
    auto fits_l2 = [&](int64_t side) { return k * round_up(side, uk.nr) * int64_t(sizeof(float)) <= cache_sizes().l2 / 2; };
    // A few rows (or, as C^T, a few columns) against a larger operand than one column tile of
    // the kernels: streamed (stream_tasks). Measured against the paths below, which pack that
    // operand or walk it in strips (medians of alternated runs, one and two threads): 1 x 512 x
    // 784 2.6x, 1 x 2048 x 2048 2.9-3.1x, 4 x 512 x 512 2.3-3.4x, 1 x 128 x 128 2.3x; 9216 x 1 x
    // 128:tn 3.9x, 2000 x 1 x 2000:tn 4.7-5.2x, 512 x 1 x 128:tn 1.6x. At most one column tile
    // (1 x 32 x 512) the tile kernels stay ahead. Up to 8 rows on AVX-512 (5 x 784 x 512
    // 1.9-2.3x, 8 x 784 x 512 1.5-1.8x, 6 x 2048 x 2048 2.2x; 8 x 512 x 512, whose B fits L2,
    // 0.9x); AVX2's 16 registers hold the sums of 4 (8 rows there measured 0.35-1.4x).
    if (uk.stream_rows) {
        if (m <= uk.stream_max_rows && !trans_b && n > uk.nr) return stream_tasks(pr, uk, kb, threads, false);
        if (n <= 4 && trans_a && m > uk.nr) return stream_tasks(pr, uk, kb, threads, true);
    }
    // The other few-row or few-column products: dot products along the rows of the large
    // operand (dot_tasks). Against the paths below (alternated runs, one and two threads):
    // 512 x 512 x 1 4.5x, 2000 x 512 x 1 2.6-4.4x, 128 x 512 x 1 2.4x, 1 x 2000 x 512:nt 2.0-4.2x,
    // 4 x 784 x 512:nt 2.1-2.2x, 1 x 2000 x 1:nt 3.9x.
    if (uk.dot_lanes) {
        if (n <= gemm::kDotVecs && !trans_a) return dot_tasks(pr, uk, kb, threads, true);
        if (m <= gemm::kDotVecs && trans_b) return dot_tasks(pr, uk, kb, threads, false);
    }
    if (trans_a && fill_m > 1.2 * fill_n && fits_l2(m)) return transposed_tasks(pr, uk, kb, threads);
    // A K block of op(A) within half of L2 (see the last case below).
    const bool small_a = m * kb * int64_t(sizeof(float)) <= cache_sizes().l2 / 2;
    if (fits_l2(n)) {
        // The rows path packs a transposed op(B) whole on the calling thread before its tasks
        // start. For a few rows (dX = dY W^T on a batch: 128 x 512 x 512, 32 x 512 x 512) that
        // serial copy left two threads at 0.7-1.2x of one; the column tasks below pack their
        // own parts of it, in parallel: 1.5-1.7x (in-process, alternated thread counts).
        if (trans_b && threads > 1 && small_a) return cols_tasks(pr, uk, kb, threads);
        // A Dense layer's forward product on a batch (128 x 512 x 512, 32 x 512 x 512) reads
        // its weights in place on the rows path, 2 KiB apart per step of K: when they are not
        // already in L2 (in training, the other layers and the optimizer have run since), the
        // prefetchers cannot follow and every line is a miss from L3. The column tasks stream
        // their part of B into panels instead: 128 x 512 x 512 took 0.76 against 0.89 ms on
        // one thread with B in L2 and 0.79 against 1.09 with it evicted; on two threads 0.41
        // against 0.48 and 0.47 against 0.60; 32 x 512 x 512 on two threads 0.13 against 0.22
        // and 0.20 against 0.39 (medians of 5 alternated rounds). Narrow C (n = 10 classes)
        // and a transposed A (dW) measured no better and keep the rows path.
        if (!trans_a && !trans_b && small_a && n > uk.nr) return cols_tasks(pr, uk, kb, threads);
        return rows_tasks(pr, uk, kb, threads);
    }
    // The column path reads op(A) in place, a row of A per row of a tile (below, for a few rows or
    // a batch of them), where the packed path copies A into panels once per K block and task. On
    // one thread there is one task, so that copy is made once and the tiles then read one
    // contiguous panel instead of up to 14 rows of A at once, which measured faster wherever each
    // panel serves at least 8 column tiles (one thread, Zen 4, medians of 9 rounds alternated in
    // one process, `python bench/bench_gemm.py --rules`, packed_a): mnist_mlp's forward 128 x 784 x
    // 512 1.08x (87% of the peak, from 80), 128 x 512 x 512 1.03x, 256 x 512 x 512 1.06x, 48 x 784 x
    // 512 1.06x, 32 x 512 x 512 1.07x, 32 x 2304 x 512 1.48x, rows 4 KiB apart 96 x 2048 x 512 1.22x
    // and 64 x 1024 x 1024 1.13x; 14 random shapes (m 9-256, k 64-4096, n 256-2048) 1.00-1.15x,
    // median 1.06x. Not taken: narrower C (128 x 9216 x 128, 4 column tiles: 0.95-1.21x by run; n
    // 238-255 0.98-1.01x), a transposed A (whose steps of k the column path reads as contiguous
    // runs: 0.85-1.08x over 9 random shapes) or B (0.95-1.05x), an op(B) past a quarter of L3 (32 x
    // 4096 x 4096 0.85-0.92x: the column path's chunks stream it better), two threads (the column
    // path's tasks copy no A: 128 x 784 x 512 0.97x packed) and the AVX2 kernel, whose 6-row tiles
    // read A in place as well as from a panel (128 x 9216 x 128 0.83x, 128 x 784 x 512 1.01x). In
    // training, mnist_mlp's step on one thread 1.02x (12 alternated epochs of 20 steps).
    const int64_t l3 = cache_sizes().l3 > 0 ? cache_sizes().l3 : 4 * cache_sizes().l2;
    const bool pack_a = g_packed_a.load(std::memory_order_relaxed) && uk.mr > 8 && threads == 1 && !trans_a &&
                        !trans_b && n >= 8 * uk.nr && k * n * int64_t(sizeof(float)) <= l3 / 4;
    // Few rows and a large op(B): read B in place rather than copy all of it for a few
    // row tiles; when B is transposed, as C^T, whose tiles read its rows in place.
    if (m <= 4 * uk.mr && !trans_b) return pack_a ? packed_product(pr, uk, bl, threads) : cols_tasks(pr, uk, kb, threads);
    if (m <= 2 * uk.nr && trans_b && fits_l2(m)) return transposed_tasks(pr, uk, kb, threads);
    // The same for a batch of rows whose K block of A takes at most half of L2 (256 rows at
    // kb = 512; mnist_mlp's 128 x 784 by 784 x 512): the packed path copies A (a transpose)
    // once per task and K block, each task reusing it over a few column tiles only, which
    // measured 22% of a two-thread 128 x 784 x 512 (packing A 11%, B 10%). Against an eighth
    // of L2 as the bound, on Zen 5 (1 MiB L2; medians of 5-10 rounds alternated in one
    // process, two threads): 128 x 784 x 512 0.41 -> 0.35 ms, 128 x 512 x 512:nt 0.33 ->
    // 0.25, 784 x 128 x 512:tn 0.33 -> 0.29, 128 x 9216 x 128 1.78 -> 1.53, 256 x 512 x 512
    // 0.45 -> 0.38, the LSTM's dU 128 x 1280 x 512:tn 0.60 -> 0.48 and dW 256 x 1280 x 512:tn
    // 1.05 -> 0.99; one thread unchanged (within 3%), as were the shapes of the rows path it
    // also moves (400 x 288 x 64, 512 x 256 x 128, 480 x 256 x 256:nt 0.19 -> 0.17).
    if (small_a) return pack_a ? packed_product(pr, uk, bl, threads) : cols_tasks(pr, uk, kb, threads);
    // On several threads, the column tasks also where each thread's share of the columns is
    // one chunk (a K block of it in half of L2, so op(A) is read once per thread): every task
    // of the packed path packs its own panels of A (a transpose when A is row-major) and of
    // B, and here no A is packed and B once. Two threads, medians of 21 rounds alternated in
    // one process: 384 x 1280 x 512:tn 1.05-1.07x, 1280 x 512 x 512:nt 1.12-1.13x, 4096 x 512
    // x 512 1.10x, 2048 x 512 x 512 1.14x, 1000 x 1000 x 512 1.09x, 512 x 4096 x 256:tn
    // 1.20x, 768 x 768 x 512 1.17x, 1536 x 768 x 512:nt 1.24x, 512^3 1.16-1.18x (all four
    // transposes), 1024 x 512 x 512 1.23x, 700 x 600 x 500 1.24x, 3000 x 300 x 400 0.99x;
    // with the AVX2 kernel 1.08-1.16x on 512^3, 1024 x 512 x 512, 1280 x 512 x 512:nt and
    // 700 x 600 x 500, 0.98x on 384 x 1280 x 512:tn. 24 random shapes this rule takes (m
    // 200-4000, k 64-4000, n 256-700, any transposes; medians of 9 alternated rounds): 0.95-
    // 1.44x, median 1.11x (`python bench/bench_gemm.py --rules` repeats it). Not with fewer
    // than four column tiles a thread (as with many threads: each reads all of A for a few
    // columns; the shares measured were 150-256 columns), nor when A is transposed and its
    // steps of k lie a multiple of 4 KiB apart: its reads in place then share one set of L1
    // (1024^3:tn 0.87-0.90x; row-major A that far apart takes shorter tiles, cols_product).
    // Wider products (more than a chunk a thread) as a grid: the rows split between the
    // threads, each part read in place once per chunk of columns (cols_grid_tasks). Against the
    // packed path, two threads, 16 random shapes (m, k, n 600-3000, any transposes; medians of
    // 7 alternated rounds): 0.98-1.20x, median 1.06x; 1500^3 1.11x, 3000 x 1000 x 3000 1.22x,
    // 1024^3:tn 1.09x. The packed path's own split into 2-8 tasks with each one's copy of its
    // panels of A and B, one task a thread, measured 1.00x over the same shapes. A rerun of
    // both regimes (bench_gemm.py --rules, 10 rounds): 12 named shapes 1.05-1.27x (the three
    // left alone 0.99-1.00x), 10 random ones median 1.09x, 0.88x (1202 x 767 x 399:nt) to 1.15x.
    const int64_t share = ceil_div(n, threads), chunk = cols_chunk(uk, kb);
    if (threads > 1 && share >= 4 * uk.nr && !(pr.trans_a && a_reads_share_l1_set(pr)) &&
        g_threaded_cols.load(std::memory_order_relaxed))
        return share <= chunk ? cols_tasks(pr, uk, kb, threads) : cols_grid_tasks(pr, uk, kb, threads, chunk);
    packed_product(pr, uk, bl, threads);
}

namespace gemm {

PrefetchRows& prefetch_rows() {
    static thread_local PrefetchRows rows;
    return rows;
}

int64_t panel_width(const MicroKernel& uk) { return uk.wide_rows > 0 ? uk.nr + uk.vec : uk.nr; }

void panel_update(const MicroKernel& uk, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* panels, float* c, int64_t ldc) {
    const int64_t pw = panel_width(uk), mr = pw > uk.nr ? uk.wide_rows : uk.mr;
    if (m <= 0 || n <= 0 || k <= 0) return;
    for_row_tiles(0, m, mr, [&](int64_t i0, int64_t rows) {
        for (int64_t j0 = 0; j0 < n; j0 += pw)
            run_tile(uk, k, a + i0 * lda, lda, 1, panels + j0 * k, pw, c + i0 * ldc + j0, ldc, rows,
                     std::min(pw, n - j0), 1.f, 1.f);
    });
}

}  // namespace gemm

void sgemm_stacked(bool trans_a, bool trans_b, int64_t parts, const int64_t* m, int64_t n, int64_t k, float alpha,
                   const float* const* a, const int64_t* lda, const float* b, int64_t ldb, float beta, float* const* c,
                   const int64_t* ldc) {
    int64_t total = 0;
    for (int64_t q = 0; q < parts; ++q) total += std::max<int64_t>(m[q], 0);
    if (total <= 0 || n <= 0) return;
#if SEQNET_AMX_KERNELS
    if (k > 0 && alpha != 0.f && amx_active()) {
        static thread_local std::vector<Problem> list;  // reused: no allocation per call
        list.clear();
        for (int64_t q = 0; q < parts; ++q)
            if (m[q] > 0) list.push_back({trans_a, trans_b, m[q], n, k, alpha, a[q], lda[q], b, ldb, beta, c[q], ldc[q], nullptr});
        Problem stacked = list[0];
        stacked.m = total;
        if (amx_worth(stacked) && amx_product(list.data(), int64_t(list.size()), threads_for(stacked))) return;
    }
#endif
    // Otherwise as separate products: none of the parts is large enough for the tile unit
    // when the stack is not, nor when an operand holds an infinity.
    for (int64_t q = 0; q < parts; ++q)
        sgemm(trans_a, trans_b, m[q], n, k, alpha, a[q], lda[q], b, ldb, beta, c[q], ldc[q]);
}

namespace {

MatmulPrecision precision_from_env() {
    const char* s = std::getenv("SEQNET_MATMUL_PRECISION");
    if (!s || !*s || !std::strcmp(s, "highest")) return MatmulPrecision::Highest;
    if (!std::strcmp(s, "high")) return MatmulPrecision::High;
    std::fprintf(stderr, "seqnet: SEQNET_MATMUL_PRECISION='%s' is not 'highest' or 'high'; ignored\n", s);
    return MatmulPrecision::Highest;
}

std::atomic<int>& precision_state() {
    static std::atomic<int> p{static_cast<int>(precision_from_env())};
    return p;
}

}  // namespace

MatmulPrecision matmul_precision() { return static_cast<MatmulPrecision>(precision_state().load(std::memory_order_relaxed)); }
void set_matmul_precision(MatmulPrecision precision) { precision_state().store(static_cast<int>(precision)); }

double amx_tile_product_ns() {
#if SEQNET_AMX_KERNELS
    if (amx_available()) return gemm::amx_tile_product_ns();
#endif
    return 0.0;
}

bool sgemm_uses_amx(int64_t m, int64_t n, int64_t k) {
#if SEQNET_AMX_KERNELS
    const Problem pr{false, false, m, n, k, 1.f, nullptr, k, nullptr, n, 0.f, nullptr, n, nullptr};
    return amx_active() && amx_worth(pr);
#else
    (void)m, (void)n, (void)k;
    return false;
#endif
}

const char* gemm_kernel_name() {
    // With AMX, the products amx_worth picks run on the tile unit, the rest on AVX-512.
    static const std::string with_amx = std::string(gemm::microkernel_for(Isa::Avx512).name) + " + amx bf16x6 32x32";
    static const std::string with_amx3 = std::string(gemm::microkernel_for(Isa::Avx512).name) + " + amx bf16x3 32x32";
    if (amx_active()) return (matmul_precision() == MatmulPrecision::High ? with_amx3 : with_amx).c_str();
    return gemm::microkernel_for(active_isa()).name;
}

GemmTuning gemm_tuning() {
    const Blocking bl = blocking_for(gemm::microkernel_for(active_isa()));
    GemmTuning t;
    t.mc = bl.mc, t.kc = bl.kc, t.nc = bl.nc;
    t.static_split = g_static_split.load();
    t.prefetch = g_prefetch_plans.load();
    t.threaded_cols = g_threaded_cols.load();
    t.shared_l3_blocks = g_shared_l3_blocks.load();
    t.packed_a = g_packed_a.load();
    return t;
}

void set_gemm_tuning(const GemmTuning& t) {
    g_mc.store(t.mc), g_kc.store(t.kc), g_nc.store(t.nc);
    g_static_split.store(t.static_split);
    g_prefetch_plans.store(t.prefetch);
    g_threaded_cols.store(t.threaded_cols);
    g_shared_l3_blocks.store(t.shared_l3_blocks);
    g_packed_a.store(t.packed_a);
}

}  // namespace seqnet
