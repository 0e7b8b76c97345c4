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

// The vectorised kernels' loop (random_avx2.cpp, random_avx512.cpp), over an ISA's `Ops`:
//   using V (a vector of Ops::kLanes 32-bit words); V set1(uint32_t);
//   void counters(uint64_t pos, V& c0, V& c1): words pos + lane, low and high;
//   void round(V& c0, V& c1, V& c2, V& c3, V k0, V k1): one round, as block();
//   V add(V, V); void store(uint32_t*, V).
// B registers' worth of blocks at a time: a round is a chain of dependent multiplies, shifts
// and xors, and one register alone leaves the vector units waiting on it. With B = 2, dropout
// on 2.36M floats (the seed VGG's first Dropout) took 2.0-2.1 ms on one thread instead of
// 2.3-2.6 (avx512; avx2 3.3-3.5 instead of 3.8-4.5); B = 4 spills registers. Every block gets
// block()'s words whatever B.
template <class Ops, int B>
static inline void vector_group(uint64_t first, int64_t b, uint64_t stream, uint64_t key, uint32_t* words,
                                int64_t stride) {
    using V = typename Ops::V;
    constexpr int L = Ops::kLanes;
    V c0[B], c1[B], c2[B], c3[B];
#pragma GCC unroll 4
    for (int h = 0; h < B; ++h) {
        Ops::counters(first + static_cast<uint64_t>(b + L * h), c0[h], c1[h]);
        c2[h] = Ops::set1(static_cast<uint32_t>(stream));
        c3[h] = Ops::set1(static_cast<uint32_t>(stream >> 32));
    }
    V k0 = Ops::set1(static_cast<uint32_t>(key)), k1 = Ops::set1(static_cast<uint32_t>(key >> 32));
    const V w0 = Ops::set1(0x9E3779B9u), w1 = Ops::set1(0xBB67AE85u);
#pragma GCC unroll 10
    for (int round = 0; round < 10; ++round) {
#pragma GCC unroll 4
        for (int h = 0; h < B; ++h) Ops::round(c0[h], c1[h], c2[h], c3[h], k0, k1);
        k0 = Ops::add(k0, w0);
        k1 = Ops::add(k1, w1);
    }
#pragma GCC unroll 4
    for (int h = 0; h < B; ++h) {
        Ops::store(words + b + L * h, c0[h]);
        Ops::store(words + stride + b + L * h, c1[h]);
        Ops::store(words + 2 * stride + b + L * h, c2[h]);
        Ops::store(words + 3 * stride + b + L * h, c3[h]);
    }
}

// philox_blocks for an ISA (see vector_group): whole registers two at a time, then one, then
// the scalar tail.
template <class Ops>
static inline void vector_blocks(uint64_t first, int64_t count, uint64_t stream, uint64_t key, uint32_t* words,
                                 int64_t stride) {
    constexpr int L = Ops::kLanes;
    int64_t b = 0;
    for (; b + 2 * L <= count; b += 2 * L) vector_group<Ops, 2>(first, b, stream, key, words, stride);
    for (; b + L <= count; b += L) vector_group<Ops, 1>(first, b, stream, key, words, stride);
    blocks_to_words(first, b, count, stream, key, words, stride);
}

}  // namespace philox
}  // namespace seqnet
