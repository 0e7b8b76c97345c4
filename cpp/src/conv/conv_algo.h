// Internal: the per-shape choice between im2col + GEMM and Winograd (seqnet/conv.h, ConvAlgo).
#pragma once
#include <functional>

#include "seqnet/conv.h"

namespace seqnet {

// Runs `run` with the algorithm for this shape and pass: im2col when Winograd does not apply,
// the forced one when conv_algo() is not Auto, the remembered choice, or, at the first call,
// every candidate timed in turn (the chosen one run last, so its results are the ones left).
// `run` must be repeatable: it overwrites all its outputs and reads none of them.
ConvAlgo run_conv_algo(const ConvShape& s, ConvPass pass, const std::function<void(ConvAlgo)>& run);

// True when run_conv_algo would measure (so the caller must make `run` repeatable first).
bool conv_algo_will_measure(const ConvShape& s, ConvPass pass);

// The Winograd output tile (2 or 4) of a Winograd algorithm.
inline int winograd_tile(ConvAlgo a) { return a == ConvAlgo::Winograd4 ? 4 : 2; }

}  // namespace seqnet
