// The dot path's kernel (DotLanesFn in gemm_kernels.h), written once for AVX2 and AVX-512:
// microkernel_avx2.cpp and microkernel_avx512.cpp include this file inside their anonymous
// namespace after defining `struct Vec` (as for stream_rows.inl), which also has load_block
// (a W x W block of X, rows as lanes after a transpose in registers) and store_lanes.
//
// R chains per group of W lanes; each W x W block costs W loads and a transpose (64 shuffles
// for AVX-512's 16 x 16), which out-of-order execution overlaps with the chains of the block
// before. A group runs through the whole K block before the next one starts: W rows of X read
// line after line, streams the prefetchers can follow (all four groups at once, 64 streams,
// were 2.5x slower on 2000 x 512 x 1).
template <int R>
void dot_chains(int64_t lanes, int64_t k, const float* x, int64_t ldx, const float* v, int64_t v_rs, int64_t v_cs,
                float* acc) {
    using T = typename Vec::T;
    constexpr int W = Vec::kWidth;
    for (int64_t g = 0; W * g < lanes; ++g) {
        T sum[R];
        for (int r = 0; r < R; ++r) sum[r] = Vec::zero();
        const int64_t rows = std::min<int64_t>(W, lanes - W * g);
        const float* xg = x + W * g * ldx;
        for (int64_t p0 = 0; p0 < k; p0 += W) {
            const int pn = int(std::min<int64_t>(W, k - p0));
            T blk[W];
            Vec::load_block(xg + p0, ldx, rows, pn, blk);
            for (int q = 0; q < pn; ++q)
                for (int r = 0; r < R; ++r)
                    sum[r] = Vec::fma(blk[q], Vec::set1(v[r * v_rs + (p0 + q) * v_cs]), sum[r]);
        }
        for (int r = 0; r < R; ++r) Vec::store(acc + (g * kDotVecs + r) * W, sum[r]);
    }
}

void dot_lanes(int64_t lanes, int vecs, int64_t k, const float* x, int64_t ldx, const float* v, int64_t v_rs,
               int64_t v_cs, float* c, int64_t c_ls, int64_t c_vs, float alpha, float beta) {
    using T = typename Vec::T;
    constexpr int W = Vec::kWidth;
    alignas(64) float acc[kDotLanes * kDotVecs];  // group g, vector r: W sums at (g * kDotVecs + r) * W
    switch (vecs) {
        case 1: dot_chains<1>(lanes, k, x, ldx, v, v_rs, v_cs, acc); break;
        case 2: dot_chains<2>(lanes, k, x, ldx, v, v_rs, v_cs, acc); break;
        case 3: dot_chains<3>(lanes, k, x, ldx, v, v_rs, v_cs, acc); break;
        default: dot_chains<4>(lanes, k, x, ldx, v, v_rs, v_cs, acc); break;
    }
    // out = alpha * acc (+ beta * out, rounded once), as the microkernels store a tile
    const T va = Vec::set1(alpha);
    for (int64_t g = 0; W * g < lanes; ++g)
        for (int r = 0; r < vecs; ++r) {
            const int64_t n = std::min<int64_t>(W, lanes - W * g);
            float* out = c + W * g * c_ls + r * c_vs;
            float* sums = acc + (g * kDotVecs + r) * W;
            const T t = Vec::mul(Vec::load(sums), va);
            if (c_ls == 1) {
                Vec::store_lanes(out, n, t, beta);
                continue;
            }
            Vec::store(sums, t);
            for (int64_t i = 0; i < n; ++i) {
                float& o = out[i * c_ls];
                o = beta == 0.f ? sums[i] : std::fma(beta, o, sums[i]);
            }
        }
}
