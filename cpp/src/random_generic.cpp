// Philox kernels built for the generic instruction set; see random_kernels.inl.
#include <omp.h>

#include <cstdint>

#include "nn/philox.h"
#include "random_kernels.h"

namespace seqnet {
namespace generic {

static void philox_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride) {
    for (int64_t b = 0; b < count; ++b) {
        uint32_t v[4];
        philox::block(first + static_cast<uint64_t>(b), stream, key, v);
        for (int j = 0; j < 4; ++j) words[j * stride + b] = v[j];
    }
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
