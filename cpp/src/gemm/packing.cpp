// Packing of A and B panels into the contiguous, zero-padded layout the microkernels
// stream through. Portable C++: the same code serves every instruction set. The panel
// width is a template parameter for the widths our kernels use, so the inner loops unroll.
#include <algorithm>
#include <cstring>

#include "gemm_kernels.h"

namespace seqnet {
namespace gemm {
namespace {

// One k x MR panel of op(A) with `rows` <= MR valid rows starting at a.
template <int MR>
SEQNET_INLINE_COPIES void pack_a_panel(bool trans, const float* a, int64_t lda, int64_t rows, int64_t k, float* dst) {
    if (trans) {
        // op(A)(i, p) = a[p * lda + i]: each p is a contiguous run of rows.
        for (int64_t p = 0; p < k; ++p) {
            const float* src = a + p * lda;
            float* d = dst + p * MR;
            if (rows == MR) {
                std::memcpy(d, src, MR * sizeof(float));
            } else {
                for (int64_t i = 0; i < rows; ++i) d[i] = src[i];
                for (int64_t i = rows; i < MR; ++i) d[i] = 0.f;
            }
        }
        return;
    }
    // op(A)(i, p) = a[i * lda + p]: a transpose. Read each row sequentially (prefetch
    // friendly) and scatter into the panel, which is small enough to stay in L1.
    if (rows == MR) {
        const float* r[MR];
        for (int i = 0; i < MR; ++i) r[i] = a + i * lda;
        for (int64_t p = 0; p < k; ++p) {
            float* d = dst + p * MR;
#pragma GCC unroll 32
            for (int i = 0; i < MR; ++i) d[i] = r[i][p];
        }
        return;
    }
    for (int64_t p = 0; p < k; ++p) {
        float* d = dst + p * MR;
        for (int64_t i = 0; i < rows; ++i) d[i] = a[i * lda + p];
        for (int64_t i = rows; i < MR; ++i) d[i] = 0.f;
    }
}

// One k x NR panel of op(B) with `cols` <= NR valid columns starting at b.
template <int NR>
SEQNET_INLINE_COPIES void pack_b_panel(bool trans, const float* b, int64_t ldb, int64_t cols, int64_t k, float* dst) {
    if (!trans) {
        // op(B)(p, j) = b[p * ldb + j]: each p is a contiguous run of columns.
        for (int64_t p = 0; p < k; ++p) {
            const float* src = b + p * ldb;
            float* d = dst + p * NR;
            if (cols == NR) {
                std::memcpy(d, src, NR * sizeof(float));
            } else {
                for (int64_t j = 0; j < cols; ++j) d[j] = src[j];
                for (int64_t j = cols; j < NR; ++j) d[j] = 0.f;
            }
        }
        return;
    }
    // op(B)(p, j) = b[j * ldb + p]: a transpose, in blocks of kStep rows of the panel, so
    // the block being written (kStep x NR, a few KB) and the pieces of the `cols` rows of b
    // being read stay in L1. Column by column over the whole k, every store would land on
    // a different line of a panel larger than L1: that cost as much as the product itself.
    constexpr int64_t kStep = 16;
    for (int64_t p0 = 0; p0 < k; p0 += kStep) {
        const int64_t pn = std::min(kStep, k - p0);
        float* d = dst + p0 * NR;
        if (pn == kStep) {
            for (int64_t j = 0; j < cols; ++j) {
                const float* src = b + j * ldb + p0;
#pragma GCC unroll 16
                for (int64_t p = 0; p < kStep; ++p) d[p * NR + j] = src[p];
            }
        } else {
            for (int64_t j = 0; j < cols; ++j) {
                const float* src = b + j * ldb + p0;
                for (int64_t p = 0; p < pn; ++p) d[p * NR + j] = src[p];
            }
        }
        for (int64_t p = 0; p < pn; ++p)
            for (int64_t j = cols; j < NR; ++j) d[p * NR + j] = 0.f;
    }
}

template <int MR>
void pack_a_all(bool trans, const float* a, int64_t lda, int64_t m, int64_t k, float* dst) {
    for (int64_t i = 0; i < m; i += MR, dst += k * MR) {
        const float* src = trans ? a + i : a + i * lda;
        pack_a_panel<MR>(trans, src, lda, std::min<int64_t>(MR, m - i), k, dst);
    }
}

template <int NR>
SEQNET_INLINE_COPIES void pack_b_all(bool trans, const float* b, int64_t ldb, int64_t k, int64_t n, float* dst) {
    if (!trans) {
        // Row by row of op(B) across all panels: each row of b is read sequentially from
        // start to end, which memory (a B much larger than the caches) streams far better
        // than a column of NR-wide pieces a row apart.
        const int64_t full = n / NR, rest = n - full * NR;
        for (int64_t p = 0; p < k; ++p) {
            const float* src = b + p * ldb;
            float* d = dst + p * NR;
            for (int64_t s = 0; s < full; ++s) std::memcpy(d + s * k * NR, src + s * NR, NR * sizeof(float));
            if (rest) {
                float* dr = d + full * k * NR;
                const float* sr = src + full * NR;
                for (int64_t j = 0; j < rest; ++j) dr[j] = sr[j];
                for (int64_t j = rest; j < NR; ++j) dr[j] = 0.f;
            }
        }
        return;
    }
    for (int64_t j = 0; j < n; j += NR, dst += k * NR) {
        const float* src = trans ? b + j * ldb : b + j;
        pack_b_panel<NR>(trans, src, ldb, std::min<int64_t>(NR, n - j), k, dst);
    }
}

}  // namespace

void pack_a(bool trans, const float* a, int64_t lda, int64_t m, int64_t k, int mr, float* dst) {
    // A row-major op(A) through the active instruction set's transposing copy, where it has one.
    const MicroKernel& uk = microkernel_for(active_isa());
    if (!trans && uk.pack_a_rows && mr <= uk.vec) {
        for (int64_t i = 0; i < m; i += mr, dst += k * mr)
            uk.pack_a_rows(a + i * lda, lda, k, std::min<int64_t>(mr, m - i), mr, dst);
        return;
    }
    switch (mr) {
        case 4: return pack_a_all<4>(trans, a, lda, m, k, dst);
        case 6: return pack_a_all<6>(trans, a, lda, m, k, dst);
        case 8: return pack_a_all<8>(trans, a, lda, m, k, dst);
        case 12: return pack_a_all<12>(trans, a, lda, m, k, dst);
        case 14: return pack_a_all<14>(trans, a, lda, m, k, dst);
        case 16: return pack_a_all<16>(trans, a, lda, m, k, dst);
        default: break;
    }
    // Any other width: the slow but general loop.
    for (int64_t i0 = 0; i0 < m; i0 += mr, dst += k * mr)
        for (int64_t p = 0; p < k; ++p)
            for (int64_t i = 0; i < mr; ++i)
                dst[p * mr + i] = i0 + i < m ? (trans ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p]) : 0.f;
}

void pack_b(bool trans, const float* b, int64_t ldb, int64_t k, int64_t n, int nr, float* dst) {
    // A transposed op(B) through the active instruction set's transposing copy, where it has one.
    const MicroKernel& uk = microkernel_for(active_isa());
    if (trans && uk.pack_b_trans && nr % uk.vec == 0) {
        for (int64_t j = 0; j < n; j += nr, dst += k * nr)
            uk.pack_b_trans(b + j * ldb, ldb, k, std::min<int64_t>(nr, n - j), nr, dst);
        return;
    }
    switch (nr) {
        case 8: return pack_b_all<8>(trans, b, ldb, k, n, dst);
        case 16: return pack_b_all<16>(trans, b, ldb, k, n, dst);
        case 32: return pack_b_all<32>(trans, b, ldb, k, n, dst);
        case 48: return pack_b_all<48>(trans, b, ldb, k, n, dst);
        case 64: return pack_b_all<64>(trans, b, ldb, k, n, dst);
        default: break;
    }
    for (int64_t j0 = 0; j0 < n; j0 += nr, dst += k * nr)
        for (int64_t p = 0; p < k; ++p)
            for (int64_t j = 0; j < nr; ++j)
                dst[p * nr + j] = j0 + j < n ? (trans ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j]) : 0.f;
}

}  // namespace gemm
}  // namespace seqnet
