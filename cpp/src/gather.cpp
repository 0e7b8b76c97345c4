#include "seqnet/gather.h"

#include <cstring>

namespace seqnet {

bool gather_rows(const float* src, int64_t src_rows, int64_t row_len, const int64_t* index, int64_t n,
                 float* dst) {
    for (int64_t r = 0; r < n; ++r)
        if (index[r] < 0 || index[r] >= src_rows) return false;
    const size_t bytes = static_cast<size_t>(row_len) * sizeof(float);
#pragma omp parallel for if (n * row_len >= (int64_t(1) << 18))
    for (int64_t r = 0; r < n; ++r) std::memcpy(dst + r * row_len, src + index[r] * row_len, bytes);
    return true;
}

}  // namespace seqnet
