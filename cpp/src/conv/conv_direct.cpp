// Direct convolution for stride-1, undilated kernels, with no im2col matrix: along an output row,
// kernel row i's patches are a strided view of input row oh - pad_top + i (pixel q's kw*c
// values start at (q - pad_left)*c), so the GEMM microkernel reads them in place (row stride c)
// and multiplies them by the kernel's rows (i, ., ., .), all kernel rows in one pass of the
// microkernel (gemm::SegmentedKernelFn). Rows that need horizontal zero padding are first copied
// into a padded row. This is the path for few input channels (a network's first layer), where
// im2col moves more memory than it computes.
// Forward: output rows in parallel, bias and activation applied to each row in cache. Kernel
// gradient: dW_i += (patches_i)ᵀ dz over the same fixed blocks of output rows as the im2col path,
// one partial per block, summed in block order. Bit-identical for any number of threads.
#include "conv_direct.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "../parallel_region.h"

namespace seqnet {
namespace {

constexpr int kMaxKernelRows = 16;

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
    const bool elementwise = act != Activation::Linear && act != Activation::Softmax;
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
            if (i0 == i1) std::fill(o, o + s.ow * F, 0.0f);
            for (int64_t j = 0; j < F && i0 < i1; j += uk.nr) {
                const int64_t width = std::min<int64_t>(uk.nr, F - j);
                const int v = int((width + uk.vec - 1) / uk.vec);
                for (int64_t q = 0; q < s.ow; q += uk.mr) {
                    const int rr = int(std::min<int64_t>(uk.mr, s.ow - q));
                    uk.segmented[rr - 1][v - 1](i1 - i0, KW, apart, rows[i0] + q * C, C, w + i0 * KW * F + j, F,
                                                o + q * F + j, F, 1.0f, 0.0f, width);
                }
            }
            if (b)
                for (int64_t q = 0; q < s.ow; ++q) {
                    float* row = o + q * F;
#pragma omp simd
                    for (int64_t j = 0; j < F; ++j) row[j] += b[j];
                }
            if (elementwise) activation_forward(act, o, o, s.ow, F);
        }
    });
}

void direct_dw_db(const ConvShape& s, const float* x, const float* z, const float* y, float* dy, float* dw,
                  float* db, float* partials, Activation act, bool act_bwd) {
    const gemm::MicroKernel& uk = conv_microkernel();
    const int64_t C = s.c, F = s.f, KW = s.kw * C, KF = s.patch() * F, stride = KF + F, units = s.n * s.oh;
    const int64_t D = conv_dw_block_units(s), blocks = (units + D - 1) / D, per = row_floats(s);
    const int threads = threads_for(blocks);
    float* scratch = conv_scratch(threads * per);
    run_region(threads, [&](int tid) {
        float* buf = scratch + tid * per;
        const float* rows[kMaxKernelRows];
#pragma omp for schedule(dynamic)
        for (int64_t bi = 0; bi < blocks; ++bi) {
            float* pw = partials + bi * stride;
            float* pb = pw + KF;
            std::fill(pb, pb + F, 0.0f);
            bool started[kMaxKernelRows] = {};
            for (int64_t r = bi * D; r < std::min(units, (bi + 1) * D); ++r) {
                const int64_t off = r * s.ow * F;
                float* dz = dy + off;
                if (act_bwd) activation_backward(act, z ? z + off : nullptr, y + off, dz, dz, s.ow, F);
                for (int64_t q = 0; q < s.ow; ++q) {
                    const float* row = dz + q * F;
#pragma omp simd
                    for (int64_t j = 0; j < F; ++j) pb[j] += row[j];
                }
                kernel_rows(s, x, r, buf, rows);
                for (int64_t i = 0; i < s.kh; ++i) {
                    if (!rows[i]) continue;
                    float* pwi = pw + i * KW * F;
                    for (int64_t j = 0; j < F; j += uk.nr) {
                        const int64_t width = std::min<int64_t>(uk.nr, F - j);
                        const int v = int((width + uk.vec - 1) / uk.vec);
                        for (int64_t p = 0; p < KW; p += uk.mr) {
                            const int rr = int(std::min<int64_t>(uk.mr, KW - p));
                            uk.variant[rr - 1][v - 1](s.ow, rows[i] + p, 1, C, dz + j, F, pwi + p * F + j, F, 1.0f,
                                                      started[i] ? 1.0f : 0.0f, width);
                        }
                    }
                    started[i] = true;
                }
            }
            for (int64_t i = 0; i < s.kh; ++i)
                if (!started[i]) std::fill(pw + i * KW * F, pw + (i + 1) * KW * F, 0.0f);
        }
    });
    sum_dw_partials(s, partials, blocks, dw, db);
}

}  // namespace seqnet
