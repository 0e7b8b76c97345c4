// Winograd F(m x m, 3 x 3) convolution: the blocking, the threads and the batched products
// around the per-instruction-set transforms (winograd_kernels.inl).
//
// Forward: a block of T tiles at a time per thread, T chosen so the block's transformed input
// ((m+2)² x T x c) and products ((m+2)² x T x f) stay in L2 (about 1 MB): transform the input
// tiles, multiply each of the (m+2)² positions by the transformed kernel with the GEMM
// microkernel (seqnet's, no packing: the transforms write the operands in the layout it reads),
// and transform back with the bias and the activation fused. Kernel gradient:
// dU = Σ_tiles (Bᵀ d B) ⊙ (A dz Aᵀ) per position, as (m+2)² products of c x tiles by tiles x f
// over fixed chunks of tiles, one partial per chunk; the partials are added in chunk order and
// dW = Gᵀ dU G. Threads split only independent outputs (tiles, chunks) and every tile sees the
// same operations wherever it falls, so the results are bit-identical for any thread count.
#include "winograd.h"

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <cstdint>
#include <vector>

#include "../parallel_region.h"
#include "conv_direct.h"
#include "seqnet/cpu.h"
#include "winograd_kernels.h"

namespace seqnet {

const WinogradKernels& winograd_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::winograd_kernels();
        case Isa::Avx2: return avx2::winograd_kernels();
#endif
        default: return generic::winograd_kernels();
    }
}

const gemm::MicroKernel& conv_microkernel() { return gemm::microkernel_for(active_isa()); }

float* conv_scratch(int64_t floats) {
    thread_local std::vector<float> buf;
    const size_t need = size_t(floats) + 16;
    if (buf.size() < need) {
        std::vector<float>().swap(buf);
        buf.resize(need);
    }
    const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
    return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

namespace {

// Transformed tiles per thread: about this many floats (1 MB), which L2 holds with the kernel.
constexpr int64_t kBlockFloats = int64_t(1) << 18;
// Forward blocks per thread at least (while a block keeps a whole tile of rows): the threads
// take blocks as they go, and two cores finish about half a block apart, so a layer of few
// tiles split by L2 alone into 4-5 blocks a thread left one core idle for 5-6% of the call
// (cifar10_cnn's 15x15 layers, batch 32). Eight a thread: those layers' forward and input
// gradient 0.93-0.99x the time (alternated in one process); layers of many tiles keep the
// L2-sized blocks. A block's size never changes a result.
constexpr int64_t kMinBlocksPerThread = 8;
// The kernel gradient is reduced over at most this many chunks of tiles (a fixed number, not
// the thread count, so the summation order never depends on it).
constexpr int64_t kMaxGradChunks = 16;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// C (rows x cols) = A B (+ C when beta == 1), A element (i, p) at a[i * a_rs + p * a_cs], B and
// C row-major; cols a multiple of the microkernel's vector width (the operands are padded).
void tile_gemm(const gemm::MicroKernel& uk, int64_t rows, int64_t cols, int64_t k, const float* a, int64_t a_rs,
               int64_t a_cs, const float* b, int64_t ldb, float* c, int64_t ldc, float beta) {
    for (int64_t j = 0; j < cols; j += uk.nr) {
        const int64_t width = std::min<int64_t>(uk.nr, cols - j);
        const int v = int(width / uk.vec);
        for (int64_t i = 0; i < rows; i += uk.mr) {
            const int r = int(std::min<int64_t>(uk.mr, rows - i));
            uk.variant[r - 1][v - 1](k, a + i * a_rs, a_rs, a_cs, b + j, ldb, c + i * ldc + j, ldc, 1.0f, beta, width);
        }
    }
}

struct Tiling {
    int m, a2;            // output tile m x m, (m+2)² positions
    int64_t tiles;        // in the batch
    int64_t ldf;          // f padded to the microkernel's vector width
    int64_t block;        // tiles per block
};

Tiling tiling(const ConvShape& s, int m, const gemm::MicroKernel& uk) {
    Tiling t;
    t.m = m;
    t.a2 = (m + 2) * (m + 2);
    t.tiles = s.n * ceil_div(s.oh, m) * ceil_div(s.ow, m);
    t.ldf = round_up(s.f, uk.vec);
    t.block = std::max<int64_t>(1, kBlockFloats / (t.a2 * (s.c + t.ldf)));
    return t;
}

// fn(offset, pixels) over the output row segments (offset into (n, oh, ow, f), length in pixels
// of f floats) of tiles [t0, t0+nt): one call per output row of each run of tiles in a tile row.
template <class Fn>
void for_each_output_segment(const ConvShape& s, int m, int64_t t0, int64_t nt, Fn fn) {
    const int64_t tc = ceil_div(s.ow, m), tr = ceil_div(s.oh, m);
    for (int64_t t = t0, end = t0 + nt; t < end;) {
        const int64_t row_tile = t / tc, q0 = t % tc, q1 = std::min(tc, q0 + (end - t));
        const int64_t img = row_tile / tr, oh0 = (row_tile % tr) * m;
        const int64_t ow0 = q0 * m, ow1 = std::min(q1 * m, s.ow);
        for (int64_t oh = oh0; oh < std::min(oh0 + m, s.oh); ++oh)
            fn(((img * s.oh + oh) * s.ow + ow0) * s.f, ow1 - ow0);
        t += q1 - q0;
    }
}

// Whether an output of `floats` floats, written once, is large enough to write with streaming
// stores, which bypass the caches: more than twice L2 (a plain store first reads each line it
// fills; a smaller output the layer reading it next finds in cache). The direct path's output (a
// first layer's) measured slower streamed: the next layer then read it from memory.
bool stream_output(int64_t floats) { return floats * int64_t(sizeof(float)) > 2 * cache_sizes().l2; }

int threads_for(int64_t blocks) {
    if (omp_in_parallel()) return 1;
    return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), blocks)));
}

}  // namespace

void winograd_forward(const ConvShape& s, int m, const float* x, const float* w, const float* b, float* out,
                      Activation act, float* pooled, int32_t* argmax, const PooledGrad* unpool) {
    const WinogradKernels& wk = winograd_kernels();
    const gemm::MicroKernel& uk = conv_microkernel();
    const int mi = m == 6 ? 2 : m == 4;
    const Tiling tl = tiling(s, m, uk);
    const int64_t C = s.c, F = s.f, ldf = tl.ldf;
    int64_t T = std::max<int64_t>(uk.mr, tl.block / uk.mr * uk.mr);  // the L2-sized block
    const int cores = threads_for(tl.tiles);
    if (cores > 1) T = std::min(T, round_up(ceil_div(tl.tiles, kMinBlocksPerThread * cores), uk.mr));
    const int64_t blocks = ceil_div(tl.tiles, T);
    const int threads = threads_for(blocks);
    const int64_t ufloats = tl.a2 * C * ldf, zfloats = round_up(std::max(C, F), 16);
    const int64_t per = round_up(tl.a2 * T * (C + ldf) + ldf, 16);
    float* u = conv_scratch(ufloats + zfloats + threads * per);
    float* zero = u + ufloats;
    std::fill(zero, zero + zfloats, 0.0f);
    wk.weight_transform[mi](w, C, F, u, ldf);
    const bool relu = act == Activation::Relu, other = !relu && act != Activation::Linear;
    // An output that no cache level of ours holds is written with streaming stores (see
    // wg_stream); a smaller one stays in cache for the layer that reads it next. Not with an
    // activation applied in a second pass, which reads the output back.
    const bool stream = !other && stream_output(s.n * s.oh * s.ow * F);
    if (pooled && other) throw std::invalid_argument("winograd_forward: pooling only after a linear or relu output");
    run_region(threads, [&](int tid) {
        float* dummy = zero + zfloats + tid * per;  // on a cache line, as streaming stores need
        float* v = dummy + ldf;
        float* mb = v + tl.a2 * T * C;
#pragma omp for schedule(dynamic)
        for (int64_t blk = 0; blk < blocks; ++blk) {
            const int64_t t0 = blk * T, nt = std::min(T, tl.tiles - t0);
            wk.input_tiles[mi](s, x, t0, nt, v, T * C, zero, unpool);
            for (int k = 0; k < tl.a2; ++k)
                tile_gemm(uk, nt, ldf, C, v + k * T * C, C, 1, u + k * C * ldf, ldf, mb + k * T * ldf, ldf, 0.0f);
            if (pooled) {
                wk.output_tiles_pooled[mi](s, mb, T * ldf, ldf, t0, nt, b, relu, pooled, argmax);
                continue;
            }
            wk.output_tiles[mi](s, mb, T * ldf, ldf, t0, nt, b, relu, out, dummy, stream);
            if (other)
                for_each_output_segment(s, m, t0, nt, [&](int64_t off, int64_t pixels) {
                    activation_forward(act, out + off, out + off, pixels, F);
                });
        }
    });
}

void winograd_kernel_grad(const ConvShape& s, int m, const float* x, const float* z, const float* y, float* dy,
                          float* dw, float* db, Activation act, bool act_bwd, const PooledGrad* unpool) {
    if (unpool && act_bwd) throw std::invalid_argument("winograd_kernel_grad: a pooled gradient comes before the activation");
    const WinogradKernels& wk = winograd_kernels();
    const gemm::MicroKernel& uk = conv_microkernel();
    const int mi = m == 6 ? 2 : m == 4;
    const Tiling tl = tiling(s, m, uk);
    const int64_t C = s.c, F = s.f, ldf = tl.ldf, T = tl.block;
    // Fixed chunks of whole blocks: the summation order depends on the shape only.
    const int64_t blocks = ceil_div(tl.tiles, T), per_chunk = ceil_div(blocks, kMaxGradChunks);
    const int64_t chunks = ceil_div(blocks, per_chunk);
    const int threads = threads_for(chunks);
    const int64_t ufloats = tl.a2 * C * ldf, pstride = round_up(ufloats + ldf, 16);
    const int64_t zfloats = round_up(std::max(C, F), 16), per = round_up(tl.a2 * T * (C + ldf), 16);
    float* partials = conv_scratch(chunks * pstride + zfloats + threads * per);
    float* zero = partials + chunks * pstride;
    std::fill(zero, zero + zfloats, 0.0f);
    run_region(threads, [&](int tid) {
        float* v = zero + zfloats + tid * per;
        float* q = v + tl.a2 * T * C;
#pragma omp for schedule(dynamic)
        for (int64_t ch = 0; ch < chunks; ++ch) {
            float* pw = partials + ch * pstride;
            float* pb = pw + ufloats;
            std::fill(pb, pb + ldf, 0.0f);
            const int64_t b1 = std::min(blocks, (ch + 1) * per_chunk);
            for (int64_t blk = ch * per_chunk; blk < b1; ++blk) {
                const int64_t t0 = blk * T, nt = std::min(T, tl.tiles - t0);
                if (act_bwd)
                    for_each_output_segment(s, m, t0, nt, [&](int64_t off, int64_t pixels) {
                        activation_backward(act, z ? z + off : nullptr, y + off, dy + off, dy + off, pixels, F);
                    });
                wk.input_tiles[mi](s, x, t0, nt, v, T * C, zero, nullptr);
                wk.grad_tiles[mi](s, dy, t0, nt, q, T * ldf, ldf, pb, zero, unpool);
                const float beta = blk == ch * per_chunk ? 0.0f : 1.0f;
                for (int k = 0; k < tl.a2; ++k)
                    tile_gemm(uk, C, ldf, nt, v + k * T * C, 1, C, q + k * T * ldf, ldf, pw + k * C * ldf, ldf, beta);
            }
        }
    });
    // The partials added in chunk order, into chunk 0's.
    if (chunks > 1) {
        const int64_t len = ufloats + ldf;
        const bool par = len * chunks > (int64_t(1) << 16) && !omp_in_parallel();
#pragma omp parallel for schedule(static) if (par)
        for (int64_t e0 = 0; e0 < len; e0 += 256) {
            const int64_t e1 = std::min(len, e0 + 256);
            for (int64_t ch = 1; ch < chunks; ++ch) {
                const float* p = partials + ch * pstride;
#pragma omp simd
                for (int64_t e = e0; e < e1; ++e) partials[e] += p[e];
            }
        }
    }
    wk.weight_grad[mi](partials, C, F, ldf, dw);
    if (db) std::copy(partials + ufloats, partials + ufloats + F, db);
}

}  // namespace seqnet
