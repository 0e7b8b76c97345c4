// Assembling a mini-batch: copying chosen rows of a data set into a reused buffer.
#pragma once
#include <cstdint>

namespace seqnet {

// dst[r] = src[index[r]] for r < n, rows of row_len floats. Returns false, writing
// nothing, if any index is outside [0, src_rows).
bool gather_rows(const float* src, int64_t src_rows, int64_t row_len, const int64_t* index, int64_t n,
                 float* dst);

}  // namespace seqnet
