// Internal: the per-instruction-set table of Philox kernels (see random_kernels.inl).
#pragma once
#include <cstdint>

namespace seqnet {

struct RandomKernels {
    // words[j * stride + b] = word j (0..3) of Philox4x32-10 block first + b, b < count, of
    // (key, stream): the same bits as philox::block on every instruction set.
    void (*philox_blocks)(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                          int64_t stride);
    // Dropout of elements offset .. offset + n - 1 of the stream (seqnet/random.h).
    void (*dropout_forward)(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                            uint64_t stream, int64_t offset);
};

namespace generic { const RandomKernels& random_kernels(); }
namespace avx2 { const RandomKernels& random_kernels(); }
namespace avx512 { const RandomKernels& random_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const RandomKernels& random_kernels();

}  // namespace seqnet
