// Internal: the per-instruction-set loops of fma_peak_gflops (fma_peak.cpp).
#pragma once
#include <cstdint>

namespace seqnet {

// `iters` rounds of kFmaChains independent chains of multiply-adds on the widest vectors of
// the instruction set and nothing else; returns the FLOPs done (a multiply-add counts 2).
constexpr int kFmaChains = 12;  // covers 2 FMA pipes x a latency of up to 6 cycles

namespace generic { double fma_chains(int64_t iters); }
namespace avx2 { double fma_chains(int64_t iters); }
namespace avx512 { double fma_chains(int64_t iters); }

}  // namespace seqnet
