// The streaming path's kernel (StreamRowsFn in gemm_kernels.h), written once for the vector
// instruction sets with FMA: microkernel_avx2.cpp and microkernel_avx512.cpp include this
// file inside their anonymous namespace after defining `struct Vec`: the register type T,
// its width in floats, how many rows of B one pass reads (kUnroll, as the registers allow;
// half as many for more than 4 rows of C, whose broadcasts take twice the registers),
// and load, store, set1, zero, mul and fma (a * b + c, rounded once). Edge columns past the
// last whole vector use scalar std::fma, which rounds exactly as one lane does.

// Rows of the running sums lie kAccStride floats apart: a whole 4 KiB apart, every row's sum
// at column j would share its L1 set and its address bits below 4 KiB with the others', and each
// load would wait on the other rows' stores to the same low bits (4K aliasing).
constexpr int64_t kAccStride = kStreamCols + 16;

// acc (rows x kAccStride) = the fma chains of rows R over k rows of B, columns [0, cols).
template <int R>
void stream_chains(int64_t k, int64_t cols, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                   int64_t ldb, float* acc) {
    using T = typename Vec::T;
    constexpr int W = Vec::kWidth, U = R <= 4 ? Vec::kUnroll : (Vec::kUnroll > 1 ? Vec::kUnroll / 2 : 1);
    const int64_t full = cols / W * W;
    for (int r = 0; r < R; ++r)
        for (int64_t j = 0; j < cols; j += W) Vec::store(acc + r * kAccStride + j, Vec::zero());
    int64_t p = 0;
    // U rows of B at a time: each running sum is loaded and stored once per U products, in
    // p order, so its chain is the same as one step at a time.
    for (; p + U <= k; p += U) {
        T av[R][U];
        float as[R][U];
        for (int r = 0; r < R; ++r)
            for (int u = 0; u < U; ++u) {
                as[r][u] = a[r * a_rs + (p + u) * a_cs];
                av[r][u] = Vec::set1(as[r][u]);
            }
        const float* bp = b + p * ldb;
        for (int64_t j = 0; j < full; j += W) {
            T x[U];
            for (int u = 0; u < U; ++u) x[u] = Vec::load(bp + u * ldb + j);
            for (int r = 0; r < R; ++r) {
                float* s = acc + r * kAccStride + j;
                T v = Vec::load(s);
                for (int u = 0; u < U; ++u) v = Vec::fma(av[r][u], x[u], v);
                Vec::store(s, v);
            }
        }
        for (int64_t j = full; j < cols; ++j)
            for (int r = 0; r < R; ++r) {
                float v = acc[r * kAccStride + j];
                for (int u = 0; u < U; ++u) v = std::fma(as[r][u], bp[u * ldb + j], v);
                acc[r * kAccStride + j] = v;
            }
    }
    for (; p < k; ++p) {
        const float* bp = b + p * ldb;
        for (int r = 0; r < R; ++r) {
            const float ar = a[r * a_rs + p * a_cs];
            const T av = Vec::set1(ar);
            float* s = acc + r * kAccStride;
            for (int64_t j = 0; j < full; j += W) Vec::store(s + j, Vec::fma(av, Vec::load(bp + j), Vec::load(s + j)));
            for (int64_t j = full; j < cols; ++j) s[j] = std::fma(ar, bp[j], s[j]);
        }
    }
}

void stream_rows(int rows, int64_t k, int64_t cols, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                 int64_t ldb, float* c, int64_t c_rs, int64_t c_cs, float alpha, float beta) {
    using T = typename Vec::T;
    constexpr int W = Vec::kWidth;
    alignas(64) float acc[kStreamRows * kAccStride];
    switch (rows) {
        case 1: stream_chains<1>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 2: stream_chains<2>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 3: stream_chains<3>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 4: stream_chains<4>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 5: stream_chains<5>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 6: stream_chains<6>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        case 7: stream_chains<7>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
        default: stream_chains<8>(k, cols, a, a_rs, a_cs, b, ldb, acc); break;
    }
    // C = alpha * acc (+ beta * C, rounded once), as the microkernels store a tile.
    const int64_t full = c_cs == 1 ? cols / W * W : 0;
    const T va = Vec::set1(alpha), vb = Vec::set1(beta);
    for (int r = 0; r < rows; ++r) {
        const float* s = acc + r * kAccStride;
        float* cr = c + r * c_rs;
        for (int64_t j = 0; j < full; j += W) {
            const T t = Vec::mul(Vec::load(s + j), va);
            Vec::store(cr + j, beta == 0.f ? t : Vec::fma(vb, Vec::load(cr + j), t));
        }
        for (int64_t j = full; j < cols; ++j) {
            const float t = s[j] * alpha;
            float& cj = cr[j * c_cs];
            cj = beta == 0.f ? t : std::fma(beta, cj, t);
        }
    }
}
