// Philox kernels built for the generic instruction set; see random_kernels.inl.
#include <omp.h>

#include <cstdint>

#include "nn/philox.h"
#include "random_kernels.h"

namespace seqnet {
namespace generic {

static void philox_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride) {
    philox::blocks_to_words(first, 0, count, stream, key, words, stride);
}

static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale);

#include "random_kernels.inl"

static inline void apply_mask(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                              uint32_t threshold, float scale) {
    apply_mask_scalar(words, x, y, mask, len, threshold, scale);
}

const RandomKernels& random_kernels() { return table; }

}  // namespace generic
}  // namespace seqnet
