// Internal: the per-shape choice between im2col + GEMM and Winograd (seqnet/conv.h, ConvAlgo).
#pragma once
#include <functional>

#include "seqnet/conv.h"

namespace seqnet {

// The algorithm for this shape when it is fixed (im2col where Winograd does not apply, the
// forced one, or Auto's rule); ConvAlgo::Tune when it is measured (tune_conv_algo).
ConvAlgo conv_algo_fixed(const ConvShape& s);

// Tune: runs `run` with the remembered choice for this shape and pass or, at the first call,
// with every candidate timed in turn (the chosen one run last, so its results are the ones left).
// `run` must be repeatable: it overwrites all its outputs and reads none of them.
ConvAlgo tune_conv_algo(const ConvShape& s, ConvPass pass, const std::function<void(ConvAlgo)>& run);

// Runs `run` with the algorithm for this shape and pass; no allocation unless tuning.
template <class Run>
ConvAlgo run_conv_algo(const ConvShape& s, ConvPass pass, const Run& run) {
    const ConvAlgo algo = conv_algo_fixed(s);
    if (algo != ConvAlgo::Tune) {
        run(algo);
        return algo;
    }
    return tune_conv_algo(s, pass, run);
}

// True when run_conv_algo would measure (so the caller must make `run` repeatable first).
bool conv_algo_will_measure(const ConvShape& s, ConvPass pass);

// The algorithm run_conv_algo will run for this shape and pass without measuring: the fixed one, or
// Tune's remembered choice. False while Tune has yet to measure it.
bool conv_algo_settled(const ConvShape& s, ConvPass pass, ConvAlgo* algo);

// The Winograd output tile (2, 4 or 6) of a Winograd algorithm.
inline int winograd_tile(ConvAlgo a) { return a == ConvAlgo::Winograd6 ? 6 : a == ConvAlgo::Winograd4 ? 4 : 2; }

}  // namespace seqnet
