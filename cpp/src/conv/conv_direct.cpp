// Direct convolution for stride-1, undilated kernels, with no im2col matrix: along an output row,
// kernel row i's patches are a strided view of input row oh - pad_top + i (pixel q's kw*c
// values start at (q - pad_left)*c), so the GEMM microkernel reads them in place (row stride c)
// and multiplies them by the kernel's rows (i, ., ., .), all kernel rows in one pass of the
// microkernel (gemm::SegmentedKernelFn). Rows that need horizontal zero padding are first copied
// into a padded row. This is the path for few input channels (a network's first layer), where
// im2col moves more memory than it computes.
// Forward: output rows in parallel, bias and ReLU applied by the kernel in registers (another
// activation to each row in cache). Kernel gradient: [dW; db] += [patches | 1]ᵀ dz over the same
// fixed blocks of output rows as the im2col path, the patches of a few output rows at a time
// copied into a small panel, one partial per block, summed in block order. Bit-identical for
// any number of threads.
#include "conv_direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "../parallel_region.h"

namespace seqnet {
namespace {

constexpr int kMaxKernelRows = 16;
// Pixels per chunk of the kernel gradient's product (whole output rows, at least one): its
// panel of patches and its rows of dz (128 x 32 floats) stay in L1 across the tiles.
constexpr int64_t kDwChunkPixels = 128;

int64_t round16(int64_t a) { return (a + 15) / 16 * 16; }

int threads_for(int64_t units) {
    if (omp_in_parallel()) return 1;
    return int(std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), units)));
}

// Floats of one thread's padded rows.
int64_t row_floats(const ConvShape& s) { return round16(s.kh * (s.ow + s.kw - 1) * s.c); }

// rows[i] = where pixel 0 of output row r's kernel row i starts (pixel q at + q*c), or null when
// that input row is padding; rows that need horizontal padding are copied into buf. The rows
// that are not null are consecutive and equally far apart: returns that distance.
int64_t kernel_rows(const ConvShape& s, const float* x, int64_t r, float* buf, const float** rows) {
    const int64_t C = s.c, img = r / s.oh, oh = r % s.oh, span = s.ow + s.kw - 1;
    const bool in_place = s.pad_left == 0 && span <= s.w;
    const int64_t lo = std::min(span, std::max<int64_t>(0, s.pad_left));      // first column inside
    const int64_t hi = std::max(lo, std::min(span, s.w + s.pad_left));          // past the last one
    for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t ih = oh - s.pad_top + i;
        if (ih < 0 || ih >= s.h) {
            rows[i] = nullptr;
            continue;
        }
        const float* src = x + (img * s.h + ih) * s.w * C;
        if (in_place) {
            rows[i] = src;
            continue;
        }
        float* dst = buf + i * span * C;
        std::memset(dst, 0, size_t(lo * C) * sizeof(float));
        std::memcpy(dst + lo * C, src + (lo - s.pad_left) * C, size_t((hi - lo) * C) * sizeof(float));
        std::memset(dst + hi * C, 0, size_t((span - hi) * C) * sizeof(float));
        rows[i] = dst;
    }
    return in_place ? s.w * C : span * C;
}

// The kernel gradient's pixel-major panel for output row r: pixel q's patch at dst + q * Pp (kernel
// row i's kw * c floats at + i * kw * c), then a 1 (the db row). KWc: kw * c when known at compile
// time (fixed-size copies), 0 otherwise.
template <int KWc>
void pack_patches(const ConvShape& s, const float* const* rows, int64_t Pp, float* dst) {
    const int64_t KW = KWc ? KWc : s.kw * s.c, C = s.c, P = s.kh * KW;
    for (int64_t q = 0; q < s.ow; ++q, dst += Pp) {
        for (int64_t i = 0; i < s.kh; ++i) {
            float* d = dst + i * KW;
            if (rows[i]) std::memcpy(d, rows[i] + q * C, size_t(KW) * sizeof(float));
            else std::memset(d, 0, size_t(KW) * sizeof(float));
        }
        dst[P] = 1.0f;
    }
}

}  // namespace

bool direct_applicable(const ConvShape& s) {
    const gemm::MicroKernel& uk = conv_microkernel();
    return s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.kh <= kMaxKernelRows && s.n > 0 && s.oh > 0 &&
           s.ow > 0 && s.c > 0 && s.f > 0 && (uk.masked_columns || s.f % uk.vec == 0);
}

void direct_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* out, Activation act) {
    const gemm::MicroKernel& uk = conv_microkernel();
    const int64_t C = s.c, F = s.f, KW = s.kw * C, units = s.n * s.oh, per = row_floats(s);
    const int threads = threads_for(units);
    float* scratch = conv_scratch(threads * per);
    // Bias and ReLU are applied by the kernel to each tile in registers (the separate passes over
    // the output row cost the mnist_cnn first layer's forward half as much again as its products);
    // any other elementwise activation runs over each finished row while it is in L1.
    const bool relu = act == Activation::Relu;
    const bool elementwise = !relu && act != Activation::Linear && act != Activation::Softmax;
    run_region(threads, [&](int tid) {
        float* buf = scratch + tid * per;
        const float* rows[kMaxKernelRows];
#pragma omp for schedule(dynamic, 4)
        for (int64_t r = 0; r < units; ++r) {
            const int64_t apart = kernel_rows(s, x, r, buf, rows);
            float* o = out + r * s.ow * F;
            // The kernel rows inside the image, [i0, i1), all in one pass per tile: each output
            // sums its patch in one fma chain, as the im2col path does, instead of storing and
            // reloading the tile once per kernel row (which cost more than the 3 to 27 products
            // a row adds on a first layer's few channels).
            int64_t i0 = 0;
            while (i0 < s.kh && !rows[i0]) ++i0;
            int64_t i1 = i0;
            while (i1 < s.kh && rows[i1]) ++i1;
            if (i0 == i1) {  // a row of vertical padding only: no products, the bias (then the ReLU) on zeros
                for (int64_t q = 0; q < s.ow; ++q)
                    for (int64_t j = 0; j < F; ++j) o[q * F + j] = b ? 0.0f + b[j] : 0.0f;
                if (relu) activation_forward(act, o, o, s.ow, F);
            }
            for (int64_t j = 0; j < F && i0 < i1; j += uk.nr) {
                const int64_t width = std::min<int64_t>(uk.nr, F - j);
                const int v = int((width + uk.vec - 1) / uk.vec);
                for (int64_t q = 0; q < s.ow; q += uk.mr) {
                    const int rr = int(std::min<int64_t>(uk.mr, s.ow - q));
                    uk.segmented[rr - 1][v - 1](i1 - i0, KW, apart, rows[i0] + q * C, C, w + i0 * KW * F + j, F,
                                                o + q * F + j, F, b ? b + j : nullptr, relu, width);
                }
            }
            if (elementwise) activation_forward(act, o, o, s.ow, F);
        }
    });
}

void direct_dw_db(const ConvShape& s, const float* x, const float* z, const float* y, float* dy, float* dw,
                  float* db, float* partials, Activation act, bool act_bwd, bool keep_dz) {
    const gemm::MicroKernel& uk = conv_microkernel();
    const int64_t C = s.c, F = s.f, KW = s.kw * C, P = s.patch(), stride = P * F + F, units = s.n * s.oh;
    const int64_t D = conv_dw_block_units(s), blocks = (units + D - 1) / D;
    // A block's partial is one product, (patches | 1)^T dz: P + 1 rows of A (the patch, then a
    // column of ones whose row of C is db) by F columns, over the block's pixels. The pixels
    // come in chunks of whole output rows, each chunk's patches copied into an L1 panel (pixel-
    // major, P + 1 floats a pixel: the kernel's packed-A layout) and its dz read in place. On a
    // first layer (P = 9 or 27) a product per kernel row and output row ran 3 or 9 rows of tile
    // over 26-98 pixels, and summing db was a pass of its own as costly as the products.
    const int64_t g = std::clamp<int64_t>(kDwChunkPixels / s.ow, 1, D), Pp = P + 1;
    const int64_t panel = round16(Pp * g * s.ow), tiles = (Pp + uk.mr - 1) / uk.mr;
    const int64_t dz_floats = act_bwd && !keep_dz ? round16(g * s.ow * F) : 0, per = row_floats(s) + panel + dz_floats;
    const int threads = threads_for(blocks);
    float* scratch = conv_scratch(threads * per);
    run_region(threads, [&](int tid) {
        float* pan = scratch + tid * per;
        float* chunk_dz = pan + panel;
        float* buf = chunk_dz + dz_floats;
        const float* rows[kMaxKernelRows];
#pragma omp for schedule(dynamic)
        for (int64_t bi = 0; bi < blocks; ++bi) {
            float* pw = partials + bi * stride;
            const int64_t r1 = std::min(units, (bi + 1) * D);
            for (int64_t r0 = bi * D; r0 < r1; r0 += g) {
                const int64_t nr = std::min(g, r1 - r0), pixels = nr * s.ow, off = r0 * s.ow * F;
                float* dz = dy + off;
                if (act_bwd) {
                    float* to = keep_dz ? dz : chunk_dz;
                    activation_backward(act, z ? z + off : nullptr, y + off, dz, to, pixels, F);
                    dz = to;
                }
                for (int64_t r = r0; r < r0 + nr; ++r) {
                    kernel_rows(s, x, r, buf, rows);
                    float* dst = pan + (r - r0) * s.ow * Pp;
                    if (KW == 3) pack_patches<3>(s, rows, Pp, dst);
                    else if (KW == 9) pack_patches<9>(s, rows, Pp, dst);
                    else pack_patches<0>(s, rows, Pp, dst);
                }
                const float beta = r0 == bi * D ? 0.0f : 1.0f;
                for (int64_t t = 0, e0 = 0; t < tiles; ++t) {
                    const int64_t rr = Pp / tiles + (t < Pp % tiles ? 1 : 0);  // nearly equal heights
                    for (int64_t j = 0; j < F; j += uk.nr) {
                        const int64_t width = std::min<int64_t>(uk.nr, F - j);
                        const int v = int((width + uk.vec - 1) / uk.vec);
                        uk.variant[rr - 1][v - 1](pixels, pan + e0, 1, Pp, dz + j, F, pw + e0 * F + j, F, 1.0f, beta,
                                                  width);
                    }
                    e0 += rr;
                }
            }
        }
    });
    sum_dw_partials(s, partials, blocks, dw, db);
}

}  // namespace seqnet
