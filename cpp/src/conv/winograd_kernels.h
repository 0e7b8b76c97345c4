// Internal: the per-instruction-set table of Winograd F(m x m, 3 x 3) transforms
// (winograd_kernels.inl, compiled by winograd_{generic,avx2,avx512}.cpp); winograd.cpp owns the
// blocking, the threads and the batched products. Index [0] of each entry is F(2x2, 3x3), [1]
// is F(4x4, 3x3): tiles of m x m outputs read (m+2) x (m+2) inputs, tile t of the batch is image
// t / (tr*tc), tile row (t / tc) % tr, tile column t % tc, with tr = ceil(oh/m), tc = ceil(ow/m).
// Transformed tiles are laid out per position k < (m+2)^2: element (k, tile, channel) at
// buf[k * stride + tile * ld + channel].
#pragma once
#include <cstdint>

#include "seqnet/conv.h"

namespace seqnet {

struct WinogradKernels {
    // v (k, tile, c) = (Bᵀ d B)[k] for tiles [t0, t0+nt) of input x (ld = s.c); inputs outside
    // the image read as zero (`zero` holds s.c zeros).
    // With `unpool`, x's pixels are instead those of the max-pooled gradient's scatter (PooledGrad,
    // pooled (n, h/2, w/2, c)), with the bits max_pool_backward gives them.
    void (*input_tiles[3])(const ConvShape& s, const float* x, int64_t t0, int64_t nt, float* v, int64_t vstride,
                           const float* zero, const PooledGrad* unpool);
    // out (n, oh, ow, f) of tiles [t0, t0+nt) = Aᵀ M A + bias (may be null), then relu when asked;
    // M (k, tile, f) has row length ldm. Outputs past oh/ow go to `dummy` (ldm floats, scratch).
    // stream: write out with stores that bypass the caches when it starts on a vector boundary and f
    // is a whole number of vectors (else plain stores); `dummy` must then start on one too.
    void (*output_tiles[3])(const ConvShape& s, const float* mb, int64_t mstride, int64_t ldm, int64_t t0,
                            int64_t nt, const float* bias, bool relu, float* out, float* dummy, bool stream);
    // q (k, tile, f) = (A dz Aᵀ)[k] (row length ldq, columns f..ldq zero) for tiles [t0, t0+nt) of
    // dz (n, oh, ow, f); db (optional) += dz's pixels in tile order. `zero` holds s.f zeros.
    // With `unpool`, dz's pixels likewise (pooled (n, oh/2, ow/2, f)).
    void (*grad_tiles[3])(const ConvShape& s, const float* dz, int64_t t0, int64_t nt, float* q, int64_t qstride,
                          int64_t ldq, float* db, const float* zero, const PooledGrad* unpool);
    // u (k, c, ldu) = G g Gᵀ of each kernel (3, 3, c, f) column, zero in columns f..ldu.
    void (*weight_transform[3])(const float* w, int64_t c, int64_t f, float* u, int64_t ldu);
    // dw (3, 3, c, f) = Gᵀ du G of du (k, c, ldu).
    void (*weight_grad[3])(const float* du, int64_t c, int64_t f, int64_t ldu, float* dw);
    // As output_tiles, with 2x2 stride-2 max pooling applied: pooled (n, oh/2, ow/2, f) and its
    // argmax (positions in the convolution's output image), as max_pool_forward gives them.
    void (*output_tiles_pooled[3])(const ConvShape& s, const float* mb, int64_t mstride, int64_t ldm, int64_t t0,
                                   int64_t nt, const float* bias, bool relu, float* pooled, int32_t* argmax);
};

namespace generic { const WinogradKernels& winograd_kernels(); }
namespace avx2 { const WinogradKernels& winograd_kernels(); }
namespace avx512 { const WinogradKernels& winograd_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const WinogradKernels& winograd_kernels();

}  // namespace seqnet
