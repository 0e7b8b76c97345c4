// What the convolution and pooling runners share (conv_utils.py): TensorFlow's output-length
// and padding rules, the channels_first <-> channels_last copies. Internal.
#pragma once
#include <algorithm>
#include <string>

#include "layers.h"

namespace seqnet::native {

// The im2col matrix of one chunk of images holds at most this many floats (base_conv._COL_BUDGET).
inline constexpr int64_t kColBudget = int64_t(1) << 23;

inline bool channels_first_of(const json& cfg, const std::string& layer) {
    const std::string f = get_string(cfg, "data_format", layer, "channels_last");
    if (f != "channels_last" && f != "channels_first")
        fail("Layer '" + layer + "': data_format must be 'channels_last' or 'channels_first', got '" + f + "'");
    return f == "channels_first";
}

// Keras' conv_output_length and TensorFlow's padding before the first element.
inline int64_t output_length(int64_t length, int64_t window, const std::string& padding, int64_t stride, int64_t dilation) {
    if (length < 0) return -1;
    const int64_t span = (window - 1) * dilation + 1;
    if (padding == "valid") return (length - span + stride) / stride - ((length - span + stride) % stride < 0 ? 1 : 0);
    return (length + stride - 1) / stride;
}

// tf-keras' (and Keras 2.2.4's) output length of a transposed convolution.
inline int64_t deconv_output_length(int64_t length, int64_t window, const std::string& padding, int64_t output_padding,
                             int64_t stride, int64_t dilation) {
    if (length < 0) return -1;
    const int64_t span = (window - 1) * dilation + 1;
    if (output_padding < 0) return padding == "valid" ? length * stride + std::max<int64_t>(span - stride, 0) : length * stride;
    const int64_t pad = padding == "same" ? span / 2 : 0;
    return (length - 1) * stride + span - 2 * pad + output_padding;
}

inline int64_t pad_before(int64_t length, int64_t out, int64_t window, const std::string& padding, int64_t stride, int64_t dilation) {
    const int64_t span = (window - 1) * dilation + 1;
    if (padding == "valid") return 0;
    if (padding == "causal") return span - 1;
    return std::max<int64_t>((out - 1) * stride + span - length, 0) / 2;
}

// (n, ..., c) channels_first <-> channels_last copies (ChannelsMover).
inline Value to_last(const Value& x) {
    const Shape& s = x.shape;
    Shape t = {s[0]};
    for (size_t a = 2; a < s.size(); ++a) t.push_back(s[a]);
    t.push_back(s[1]);
    Value y = make_value(t);
    const int64_t n = s[0], c = s[1], inner = c ? checked_size(s, "x") / (n * c) : 0;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t p = 0; p < inner; ++p) y.f[(b * inner + p) * c + ch] = x.f[(b * c + ch) * inner + p];
    return y;
}

inline Value to_first(const Value& x) {
    const Shape& s = x.shape;
    Shape t = {s[0], s.back()};
    for (size_t a = 1; a + 1 < s.size(); ++a) t.push_back(s[a]);
    Value y = make_value(t);
    const int64_t n = s[0], c = s.back(), inner = c && n ? checked_size(s, "x") / (n * c) : 0;
    for (int64_t b = 0; b < n; ++b)
        for (int64_t p = 0; p < inner; ++p)
            for (int64_t ch = 0; ch < c; ++ch) y.f[(b * c + ch) * inner + p] = x.f[(b * inner + p) * c + ch];
    return y;
}

inline void check_rank(const Shape& s, size_t rank, const std::string& layer, const char* cls) {
    if (s.size() != rank + 2)
        fail("Layer '" + layer + "' (" + cls + ") expects inputs of rank " + std::to_string(rank + 2) + ", got " + shape_str(s));
}

}  // namespace seqnet::native
