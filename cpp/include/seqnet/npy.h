// NumPy .npy files (format versions 1.0-3.0, little-endian, C order) for seqnet::Tensor.
#pragma once
#include <string>

#include "seqnet/model.h"

namespace seqnet {

// Reads a float32 (`<f4`) or int32 (`<i4`) array; float64 and int64 are converted (int64
// values outside int32 are an error). Throws ModelError naming the file on anything else:
// a bad header, Fortran order, a shape whose size overflows, a truncated file.
Tensor read_npy(const std::string& path);

// Writes `t` as a version 1.0 .npy file (`<f4` or `<i4`).
void write_npy(const std::string& path, const Tensor& t);

}  // namespace seqnet
