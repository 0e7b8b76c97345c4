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

}  // namespace seqnet
