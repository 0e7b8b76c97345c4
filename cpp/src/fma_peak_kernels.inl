// fma_peak_gflops' loop (fma_peak.cpp), compiled once per instruction set: fma_peak_{avx2,
// avx512}.cpp define the vector operations (struct FmaOps: V, kLanes, set1, fma, add, store)
// and include this file inside their own namespace.

double fma_chains(int64_t iters) {
    using V = FmaOps::V;
    // Distinct starting values, so that the compiler cannot merge the chains; x slightly above
    // 1 and y tiny keep every value normal (no assists) for any count.
    V acc[kFmaChains];
    for (int c = 0; c < kFmaChains; ++c) acc[c] = FmaOps::set1(float(c));
    const V x = FmaOps::set1(1.0000001f), y = FmaOps::set1(1e-7f);
    for (int64_t it = 0; it < iters; ++it)
        for (int c = 0; c < kFmaChains; ++c) acc[c] = FmaOps::fma(acc[c], x, y);
    V sum = acc[0];
    for (int c = 1; c < kFmaChains; ++c) sum = FmaOps::add(sum, acc[c]);
    alignas(64) float out[FmaOps::kLanes];
    FmaOps::store(out, sum);
    volatile float sink = out[0];  // the chains' results are used
    (void)sink;
    return 2.0 * FmaOps::kLanes * kFmaChains * double(iters);
}
