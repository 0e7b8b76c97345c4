// Philox4x32-10 (Salmon et al., SC'11) as a branch-free inline function, so loops over
// counters vectorise (32x32->64-bit multiplies map to vpmuludq). Static: every per-ISA
// translation unit gets its own copy.
#pragma once
#include <cstdint>

namespace seqnet {
namespace philox {

// Word `word` (0..3) of the block at counter (position, stream) under `key`.
static inline void block(uint64_t position, uint64_t stream, uint64_t key, uint32_t out[4]) {
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
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// Blocks first+from .. first+count-1, word j of block b to words[j * stride + b]: the scalar
// path, and the tail the vectorised paths leave.
static inline void blocks_to_words(uint64_t first, int64_t from, int64_t count, uint64_t stream, uint64_t key,
                                   uint32_t* words, int64_t stride) {
    for (int64_t b = from; b < count; ++b) {
        uint32_t v[4];
        block(first + static_cast<uint64_t>(b), stream, key, v);
        for (int j = 0; j < 4; ++j) words[j * stride + b] = v[j];
    }
}

}  // namespace philox
}  // namespace seqnet
