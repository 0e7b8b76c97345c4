// Branch-free float math that GCC vectorises inside `#pragma omp simd` loops
// (libm calls would not). Static: each per-ISA translation unit gets its own copy,
// so no AVX-512 instruction can leak into the portable build through the linker.
// Accuracy: a few ulp, and relative accuracy kept near 0
// (expm1, log1p, tanh), so activations match TensorFlow to rtol 1e-6 or better.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace seqnet {
namespace vecmath {

static inline float bits_to_float(int32_t i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

static inline int32_t float_to_bits(float f) {
    int32_t i;
    std::memcpy(&i, &f, sizeof i);
    return i;
}

// Round to nearest integer (valid for |v| < 2^22) without a libm call.
static inline float round_near(float v) {
    const float magic = 12582912.0f;  // 1.5 * 2^23
    return (v + magic) - magic;
}

// exp(x): Cody-Waite range reduction and a degree-6 polynomial (Cephes expf).
static inline float exp(float x) {
    float xc = x < -87.33654f ? -87.33654f : (x > 88.3762626f ? 88.3762626f : x);
    float n = round_near(xc * 1.44269504088896341f);
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    float scale = bits_to_float((static_cast<int32_t>(n) + 127) << 23);
    float y = p * scale;
    y = x > 88.72283905f ? INFINITY : y;
    y = x < -87.33654f ? 0.0f : y;
    return x != x ? x : y;
}

// exp(x) - 1, accurate near 0 (Taylor series for |x| < 0.5).
static inline float expm1(float x) {
    float t = 1.0f / 5040.0f;
    t = t * x + 1.0f / 720.0f;
    t = t * x + 1.0f / 120.0f;
    t = t * x + 1.0f / 24.0f;
    t = t * x + 1.0f / 6.0f;
    t = t * x + 0.5f;
    float small = (t * x) * x + x;
    float big = exp(x) - 1.0f;
    return (x > -0.5f && x < 0.5f) ? small : big;
}

// log(x) for x > 0 (Cephes logf); 0 -> -inf, negative -> NaN.
static inline float log(float x) {
    int32_t bits = float_to_bits(x);
    int32_t e = ((bits >> 23) & 0xff) - 126;
    float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);  // mantissa in [0.5, 1)
    bool small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    float fe = static_cast<float>(e);
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    float r = m + y + 0.693359375f * fe;
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f ? NAN : r;
    r = x == INFINITY ? INFINITY : r;
    return x != x ? x : r;
}

// log(1 + u), accurate for small u (the log(w) * u / (w - 1) correction, w = 1 + u).
static inline float log1p(float u) {
    float w = 1.0f + u;
    float d = w - 1.0f;
    float r = log(w) * (u / (d == 0.0f ? 1.0f : d));
    return d == 0.0f ? u : (w == INFINITY ? INFINITY : r);
}

static inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

// tanh: odd polynomial below 0.625 (Cephes tanhf), 1 - 2/(exp(2|x|)+1) above.
static inline float tanh(float x) {
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float big = 1.0f - 2.0f / (exp(ax + ax) + 1.0f);
    big = x < 0.0f ? -big : big;
    return ax < 0.625f ? small : big;
}

// erfc(z), fractional error below 1.2e-7 everywhere (Chebyshev fit, Numerical Recipes erfcc).
static inline float erfc(float z) {
    float az = z < 0.0f ? -z : z;
    float t = 1.0f / (1.0f + 0.5f * az);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float ans = t * exp(-az * az + p);
    return z >= 0.0f ? ans : 2.0f - ans;
}

}  // namespace vecmath
}  // namespace seqnet
