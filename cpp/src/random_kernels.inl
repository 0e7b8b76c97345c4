// Dropout on top of philox_blocks and apply_mask (defined per instruction set by the including
// file),
// included once per instruction set inside namespace seqnet::<isa>.
//
// Positions are taken in chunks of 4096: element l of chunk c uses word l / 1024 of Philox
// block c * 1024 + l % 1024 (key, stream), so each word array is contiguous. An element is
// kept, with probability 1 - rate, when the top 24 bits of its word reach rate * 2^24. The
// mapping depends on the position in the stream alone, not on n, the offset or threads.
// The tail (or all, generic) of a chunk: keep when the top 24 bits reach the threshold; y is the
// scaled x or +0, the mask 0/1.
static inline void apply_mask_scalar(const uint32_t* words, const float* x, float* y, uint8_t* mask, int64_t len,
                                     uint32_t threshold, float scale) {
    for (int64_t l = 0; l < len; ++l) {
        const bool keep = (words[l] >> 8) >= threshold;
        mask[l] = uint8_t(keep);
        y[l] = keep ? x[l] * scale : 0.0f;
    }
}

static void dropout_fwd(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                        uint64_t stream, int64_t offset) {
    if (n <= 0) return;
    constexpr int64_t kBlocks = 1024, kWords = 4 * kBlocks;
    const float scale = 1.0f / (1.0f - rate);
    const uint32_t threshold = static_cast<uint32_t>(__builtin_ceilf(rate * 16777216.0f));
    const int64_t first_chunk = offset / kWords, last_chunk = (offset + n - 1) / kWords;
#pragma omp parallel for if (n >= 65536 && !omp_in_parallel())
    for (int64_t c = first_chunk; c <= last_chunk; ++c) {
        const int64_t base = c * kWords;
        const int64_t lo = (offset > base ? offset : base) - base;
        const int64_t hi = (offset + n < base + kWords ? offset + n : base + kWords) - base;
        // Blocks [b0, b1) hold every word of [lo, hi): all of them unless one word array does.
        int64_t b0 = 0, b1 = kBlocks;
        if (lo / kBlocks == (hi - 1) / kBlocks) b0 = lo % kBlocks, b1 = (hi - 1) % kBlocks + 1;
        alignas(64) uint32_t words[kWords];
        philox_blocks(static_cast<uint64_t>(c * kBlocks + b0), b1 - b0, stream, key, words + b0, kBlocks);
        const int64_t shift = base - offset;
        float* yc = y + shift;
        uint8_t* mc = mask + shift;
        const float* xc = x + shift;
        apply_mask(words + lo, xc + lo, yc + lo, mc + lo, hi - lo, threshold, scale);
    }
}

static const RandomKernels table = {philox_blocks, dropout_fwd};
