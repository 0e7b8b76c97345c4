// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
// Counter = (position, stream), key = the seed: any element can be computed alone,
// so results are the same for any thread count.
#include "seqnet/random.h"

#include <cmath>

#include "nn/philox.h"
#include "nn/elementwise_kernels.h"
#include "random_kernels.h"
#include "seqnet/cpu.h"

namespace seqnet {
namespace {

struct Block {
    uint32_t v[4];
};

inline Block philox_block(uint64_t position, uint64_t stream, uint64_t key) {
    Block b;
    philox::block(position, stream, key, b.v);
    return b;
}

// [0, 1) with 24 random bits, and (0, 1] for logarithms.
inline float unit(uint32_t r) { return static_cast<float>(r >> 8) * (1.0f / 16777216.0f); }
inline float unit_open(uint32_t r) { return (static_cast<float>(r >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// Standard normal number `index` of a stream (Box-Muller on one Philox block per pair).
inline float normal_at(uint64_t index, uint64_t stream, uint64_t key) {
    Block b = philox_block(index >> 1, stream, key);
    float r = std::sqrt(-2.0f * std::log(unit_open(b.v[0])));
    float t = 6.283185307179586f * unit(b.v[1]);
    return (index & 1) ? r * std::sin(t) : r * std::cos(t);
}

constexpr int64_t kChunk = 4096;  // elements per parallel task

}  // namespace

void random_uniform(float* out, int64_t n, float low, float high, uint64_t key, uint64_t stream) {
    random_uniform(out, n, low, high, key, stream, 0);
}

void random_uniform(float* out, int64_t n, float low, float high, uint64_t key, uint64_t stream,
                    int64_t offset) {
    const float span = high - low;
    const uint64_t first = static_cast<uint64_t>(offset);
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; ++i) {
            const uint64_t g = first + static_cast<uint64_t>(i);
            Block b = philox_block(g >> 2, stream, key);
            out[i] = low + span * unit(b.v[g & 3]);
        }
    }
}

void random_normal(float* out, int64_t n, float mean, float stddev, uint64_t key, uint64_t stream) {
    random_normal(out, n, mean, stddev, key, stream, 0);
}

void random_normal(float* out, int64_t n, float mean, float stddev, uint64_t key, uint64_t stream,
                   int64_t offset) {
    const uint64_t first = static_cast<uint64_t>(offset);
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; ++i) out[i] = mean + stddev * normal_at(first + i, stream, key);
    }
}

void random_truncated_normal(float* out, int64_t n, float mean, float stddev, uint64_t key,
                             uint64_t stream) {
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; ++i) {
            // Attempt a of element i draws normal number i * 64 + a: still position-keyed.
            float v = 0.0f;
            for (uint64_t a = 0; a < 64; ++a) {
                v = normal_at(static_cast<uint64_t>(i) * 64 + a, stream, key);
                if (v >= -2.0f && v <= 2.0f) break;
            }
            out[i] = mean + stddev * (v < -2.0f ? -2.0f : (v > 2.0f ? 2.0f : v));
        }
    }
}

const RandomKernels& random_kernels() {
    switch (active_isa()) {
#if SEQNET_X86_KERNELS
        case Isa::Avx512: return avx512::random_kernels();
        case Isa::Avx2: return avx2::random_kernels();
#endif
        default: return generic::random_kernels();
    }
}

void dropout_forward(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                     uint64_t stream) {
    random_kernels().dropout_forward(x, y, mask, n, rate, key, stream, 0);
}

// The mask bits are vectorised Philox blocks, the same for every offset (random_kernels.inl).
void dropout_forward(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                     uint64_t stream, int64_t offset) {
    random_kernels().dropout_forward(x, y, mask, n, rate, key, stream, offset);
}

void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float rate) {
    elementwise_kernels().dropout_backward(dy, mask, dx, n, rate);
}

}  // namespace seqnet
