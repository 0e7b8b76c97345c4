// Optimizer updates over one flat buffer holding every trainable parameter, so one call
// updates a whole model. Keras 2 (tf_keras.optimizers.legacy) update rules.
#pragma once
#include <cstdint>

namespace seqnet {

// v = momentum v - lr g;  p += nesterov ? momentum v - lr g : v   (plain p -= lr g when v is null).
void sgd_update(float* p, const float* g, float* v, int64_t n, float lr, float momentum, bool nesterov);

// a = rho a + (1 - rho) g^2.
// Without momentum (mom null): p -= lr g / (sqrt(a - mg^2 if centered) + eps).
// With momentum: mom = momentum mom + lr g / sqrt(a - mg^2 + eps); p -= mom (epsilon inside the
// root, as tf_keras.optimizers.legacy.RMSprop). mg (centered) is null when not centered.
void rmsprop_update(float* p, const float* g, float* a, float* mom, float* mg, int64_t n, float lr,
                    float rho, float momentum, float epsilon);

// Plain RMSprop (no momentum, not centered) on chosen rows of a (rows, dim) block, an
// Embedding table whose other rows have a zero gradient. A zero gradient leaves p as it is
// (for eps > 0) and takes a to rho a, bit for bit what rmsprop_update does to such a row, so
// those rows may be brought up to date later: row rows[i] first takes skipped[i] such steps
// (a = rho a each), then the step of rmsprop_update with its gradient row. Rows distinct.
void rmsprop_update_rows(float* p, const float* g, float* a, int64_t dim, const int64_t* rows,
                         const int64_t* skipped, int64_t n, float lr, float rho, float epsilon);
// Brings rows up to date without a gradient: a = rho a, skipped[i] times for row rows[i].
void rmsprop_decay_rows(float* a, int64_t dim, const int64_t* rows, const int64_t* skipped, int64_t n, float rho);

// The adaptive optimizers, Keras 2.2.4 rules. Every buffer holds n floats; the caller passes
// the learning rate with time-based decay applied and the step-dependent scalars, so the
// update is elementwise. eps is added outside the square root unless stated otherwise.

// a += g^2;  p -= lr g / (sqrt(a) + eps).   (Keras 2.2.4 starts a at 0.)
void adagrad_update(float* p, const float* g, float* a, int64_t n, float lr, float epsilon);

// a = rho a + (1 - rho) g^2;  u = g sqrt(d + eps) / sqrt(a + eps);  p -= lr u;
// d = rho d + (1 - rho) u^2   (eps inside both roots).
void adadelta_update(float* p, const float* g, float* a, float* d, int64_t n, float lr, float rho, float epsilon);

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr_t m / (sqrt(v) + eps), or with
// amsgrad (vhat not null) vhat = max(vhat, v) in place of v. lr_t = lr sqrt(1 - b2^t) / (1 - b1^t).
void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n, float lr_t, float beta_1,
                 float beta_2, float epsilon);

// m = b1 m + (1 - b1) g;  u = max(b2 u, |g|);  p -= lr_t m / (u + eps), lr_t = lr / (1 - b1^t).
void adamax_update(float* p, const float* g, float* m, float* u, int64_t n, float lr_t, float beta_1, float beta_2,
                   float epsilon);

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
// p -= lr (grad_coef g + moment_coef m) / (sqrt(v / v_correction) + eps), where with the
// momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t schedule_decay)) and S_t = mu_1 ... mu_t:
// grad_coef = (1 - mu_t) / (1 - S_t), moment_coef = mu_{t+1} / (1 - S_{t+1}), v_correction = 1 - b2^t.
void nadam_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta_1, float beta_2,
                  float epsilon, float grad_coef, float moment_coef, float v_correction);

}  // namespace seqnet
