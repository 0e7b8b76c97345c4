// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
// Counter = (position, stream), key = the seed: any element can be computed alone,
// so results are the same for any thread count.
#include "seqnet/random.h"

#include <cmath>

namespace seqnet {
namespace {

struct Block {
    uint32_t v[4];
};

inline Block philox(uint64_t position, uint64_t stream, uint64_t key) {
    uint32_t c0 = static_cast<uint32_t>(position), c1 = static_cast<uint32_t>(position >> 32);
    uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
    uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
    for (int round = 0; round < 10; ++round) {
        uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
        uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
        uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return {{c0, c1, c2, c3}};
}

// [0, 1) with 24 random bits, and (0, 1] for logarithms.
inline float unit(uint32_t r) { return static_cast<float>(r >> 8) * (1.0f / 16777216.0f); }
inline float unit_open(uint32_t r) { return (static_cast<float>(r >> 8) + 1.0f) * (1.0f / 16777216.0f); }

// Standard normal number `index` of a stream (Box-Muller on one Philox block per pair).
inline float normal_at(uint64_t index, uint64_t stream, uint64_t key) {
    Block b = philox(index >> 1, stream, key);
    float r = std::sqrt(-2.0f * std::log(unit_open(b.v[0])));
    float t = 6.283185307179586f * unit(b.v[1]);
    return (index & 1) ? r * std::sin(t) : r * std::cos(t);
}

constexpr int64_t kChunk = 4096;  // elements per parallel task

}  // namespace

void random_uniform(float* out, int64_t n, float low, float high, uint64_t key, uint64_t stream) {
    const float span = high - low;
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; ++i) {
            Block b = philox(static_cast<uint64_t>(i) >> 2, stream, key);
            out[i] = low + span * unit(b.v[i & 3]);
        }
    }
}

void random_normal(float* out, int64_t n, float mean, float stddev, uint64_t key, uint64_t stream) {
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; ++i) out[i] = mean + stddev * normal_at(i, stream, key);
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

void dropout_forward(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                     uint64_t stream) {
    const float scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
        for (int64_t i = s; i < e; i += 4) {
            Block b = philox(static_cast<uint64_t>(i) >> 2, stream, key);
            for (int64_t j = i; j < i + 4 && j < e; ++j) {
                uint8_t keep = unit(b.v[j & 3]) >= rate;
                mask[j] = keep;
                y[j] = keep ? x[j] * scale : 0.0f;
            }
        }
    }
}

void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float rate) {
    const float scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
#pragma omp parallel for if (n >= 65536)
    for (int64_t s = 0; s < n; s += kChunk) {
        int64_t e = s + kChunk < n ? s + kChunk : n;
#pragma omp simd
        for (int64_t i = s; i < e; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
    }
}

}  // namespace seqnet
