// Counter-based random numbers (Philox4x32-10): the value at position i of stream s under
// key k depends on (k, s, i) alone, so results never depend on threads or call order.
#pragma once
#include <cstdint>

namespace seqnet {

void random_uniform(float* out, int64_t n, float low, float high, uint64_t key, uint64_t stream);
void random_normal(float* out, int64_t n, float mean, float stddev, uint64_t key, uint64_t stream);
// The same values from element `offset` of the stream on: out[i] is element offset + i, so a
// slice of a batch (one rank's samples in data-parallel training) draws what the whole batch
// would draw at those positions.
void random_uniform(float* out, int64_t n, float low, float high, uint64_t key, uint64_t stream,
                    int64_t offset);
void random_normal(float* out, int64_t n, float mean, float stddev, uint64_t key, uint64_t stream,
                   int64_t offset);
// Normal values redrawn until within two standard deviations (Keras' truncated_normal).
void random_truncated_normal(float* out, int64_t n, float mean, float stddev, uint64_t key,
                             uint64_t stream);

// Inverted dropout: y = x * mask / (1 - rate), mask[i] = 1 with probability 1 - rate.
// mask receives 0/1 bytes for the backward pass.
void dropout_forward(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                     uint64_t stream);
// The same with mask element i drawn as element offset + i of the stream (see random_uniform).
void dropout_forward(const float* x, float* y, uint8_t* mask, int64_t n, float rate, uint64_t key,
                     uint64_t stream, int64_t offset);
// dx = dy * mask / (1 - rate); dx may alias dy.
void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float rate);

}  // namespace seqnet
