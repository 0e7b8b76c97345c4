#include "seqnet/optim.h"

#include "elementwise_kernels.h"

namespace seqnet {

void sgd_update(float* p, const float* g, float* v, int64_t n, float lr, float momentum, bool nesterov) {
    elementwise_kernels().sgd(p, g, v, n, lr, momentum, nesterov);
}

void rmsprop_update(float* p, const float* g, float* a, float* mom, float* mg, int64_t n, float lr,
                    float rho, float momentum, float epsilon) {
    elementwise_kernels().rmsprop(p, g, a, mom, mg, n, lr, rho, momentum, epsilon);
}

}  // namespace seqnet
