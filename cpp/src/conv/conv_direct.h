// Internal: direct convolution for stride-1, undilated kernels (conv_direct.cpp), and the helpers
// it shares with the im2col and Winograd paths.
#pragma once
#include <cstdint>

#include "../gemm/gemm_kernels.h"
#include "seqnet/activation.h"
#include "seqnet/conv.h"

namespace seqnet {

// True when direct_forward / direct_dw_db serve the shape on the active instruction set: stride
// 1, dilation 1, a kernel of at most 16 rows, and f a whole number of vectors unless the
// microkernel masks columns.
bool direct_applicable(const ConvShape& s);

// out (n, oh, ow, f) = act(conv(x, w) + b), b optional; act is elementwise or Linear.
void direct_forward(const ConvShape& s, const float* x, const float* w, const float* b, float* out, Activation act);

// dw, db (optional) over the fixed blocks of conv_dw_block_units(s) output rows that conv_backward
// uses, one partial per block in `partials`, summed in block order. With act_bwd, dL/dz is formed
// chunk by chunk: into dy when keep_dz (the input gradient reads it next), else into a scratch
// chunk, leaving dy as it was (a first layer: its dz is not written back to memory).
void direct_dw_db(const ConvShape& s, const float* x, const float* z, const float* y, float* dy, float* dw,
                  float* db, float* partials, Activation act, bool act_bwd, bool keep_dz);

// conv.cpp: dw (wsize floats) and db (optional, stride - wsize floats) from `blocks` partials of
// `stride` floats each (dw's, then db's), added in block order (bits independent of threads).
void sum_partials(const float* partials, int64_t blocks, int64_t stride, int64_t wsize, float* dw, float* db);
// The same for a convolution's partials (patch*f floats of dW, then f of db, each).
void sum_dw_partials(const ConvShape& s, const float* partials, int64_t blocks, float* dw, float* db);

// winograd.cpp: the GEMM's microkernel for the active instruction set (as sgemm picks it), and
// the calling thread's scratch (64-byte aligned, grown on demand, kept for the next call).
const gemm::MicroKernel& conv_microkernel();
float* conv_scratch(int64_t floats);

}  // namespace seqnet
