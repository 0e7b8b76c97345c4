// Internal: the per-instruction-set table of elementwise kernels (see elementwise.inl).
#pragma once
#include <cstdint>

#include "seqnet/activation.h"
#include "seqnet/cpu.h"

namespace seqnet {

struct ElementwiseKernels {
    void (*act_forward)(Activation, const float*, float*, int64_t, int64_t);
    void (*act_backward)(Activation, const float*, const float*, const float*, float*, int64_t, int64_t);
    void (*sgd)(float*, const float*, float*, int64_t, float, float, bool);
    void (*rmsprop)(float*, const float*, float*, float*, float*, int64_t, float, float, float, float);
    void (*rmsprop_rows)(float*, const float*, float*, int64_t, const int64_t*, const int64_t*, int64_t, float, float,
                         float);
    void (*adagrad)(float*, const float*, float*, int64_t, float, float);
    void (*adadelta)(float*, const float*, float*, float*, int64_t, float, float, float);
    void (*adam)(float*, const float*, float*, float*, float*, int64_t, float, float, float, float);
    void (*adamax)(float*, const float*, float*, float*, int64_t, float, float, float, float);
    void (*nadam)(float*, const float*, float*, float*, int64_t, float, float, float, float, float, float, float);
    void (*dropout_backward)(const float*, const uint8_t*, float*, int64_t, float);
};

namespace generic { const ElementwiseKernels& elementwise_kernels(); }
namespace avx2 { const ElementwiseKernels& elementwise_kernels(); }
namespace avx512 { const ElementwiseKernels& elementwise_kernels(); }

// The table for the active instruction set (seqnet/cpu.h).
const ElementwiseKernels& elementwise_kernels();

// fn(begin, end) over [0, n) in chunks of `chunk`, on the threads (a static split) when
// `threaded`, each with subnormals flushed (DenormalsMode): how every optimizer update runs.
// A slot that decays where a weight's gradient is zero (RMSprop's mean square or Adam's v
// under a dead ReLU unit or a pixel that is always 0, SGD's momentum) reaches the subnormal
// range after some hundreds of steps, and every update of it then costs an assist of about a
// hundred cycles: mnist_mlp's RMSprop step took 0.3 ms in its first epoch and 3.1 ms in its
// third, with 90% of its mean squares subnormal. Flushed, such a slot is 0: sqrt(a) below
// 1.1e-19 is lost against any epsilon above about 1e-30 anyway, so the weights move as they
// would have (TensorFlow's CPU kernels flush too). Fixed chunks keep every element's
// arithmetic independent of the thread count.
template <class F>
static inline void flushed_chunks(int64_t n, int64_t chunk, bool threaded, F&& fn) {
#pragma omp parallel if (threaded)
    {
        const DenormalsMode flush(DenormalsMode::kFlush);
#pragma omp for schedule(static)
        for (int64_t s = 0; s < n; s += chunk) fn(s, s + chunk < n ? s + chunk : n);
    }
}

}  // namespace seqnet
