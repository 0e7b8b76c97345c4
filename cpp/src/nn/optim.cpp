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

void rmsprop_update_rows(float* p, const float* g, float* a, int64_t dim, const int64_t* rows,
                         const int64_t* skipped, int64_t n, float lr, float rho, float epsilon) {
    elementwise_kernels().rmsprop_rows(p, g, a, dim, rows, skipped, n, lr, rho, epsilon);
}

void rmsprop_decay_rows(float* a, int64_t dim, const int64_t* rows, const int64_t* skipped, int64_t n, float rho) {
    // one row at a time, flushed as every optimizer update (flushed_chunks)
    flushed_chunks(n, 1, n * dim >= (int64_t(1) << 16), [&](int64_t i, int64_t) {
        float* ar = a + rows[i] * dim;
        for (int64_t k = 0; k < skipped[i]; ++k)
#pragma omp simd
            for (int64_t j = 0; j < dim; ++j) ar[j] = rho * ar[j];
    });
}

void adagrad_update(float* p, const float* g, float* a, int64_t n, float lr, float epsilon) {
    elementwise_kernels().adagrad(p, g, a, n, lr, epsilon);
}

void adadelta_update(float* p, const float* g, float* a, float* d, int64_t n, float lr, float rho, float epsilon) {
    elementwise_kernels().adadelta(p, g, a, d, n, lr, rho, epsilon);
}

void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n, float lr_t, float beta_1,
                 float beta_2, float epsilon) {
    elementwise_kernels().adam(p, g, m, v, vhat, n, lr_t, beta_1, beta_2, epsilon);
}

void adamax_update(float* p, const float* g, float* m, float* u, int64_t n, float lr_t, float beta_1, float beta_2,
                   float epsilon) {
    elementwise_kernels().adamax(p, g, m, u, n, lr_t, beta_1, beta_2, epsilon);
}

void nadam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta_1, float beta_2,
                  float epsilon, float grad_coef, float moment_coef, float v_correction) {
    elementwise_kernels().nadam(p, g, m, v, n, lr, beta_1, beta_2, epsilon, grad_coef, moment_coef, v_correction);
}

}  // namespace seqnet
