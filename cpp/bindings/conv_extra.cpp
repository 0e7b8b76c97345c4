// Bindings of the depthwise and transposed convolution kernels. Every shape, dtype and workspace
// size is checked here (ValueError naming the argument and the shapes), then the GIL is released
// for the kernel call.
#include <climits>
#include <initializer_list>
#include <string>
#include <utility>

#include "bindings.h"
#include "seqnet/activation.h"
#include "seqnet/conv.h"
#include "seqnet/conv_transpose.h"
#include "seqnet/depthwise.h"

namespace seqnet {
namespace {

using Pair = std::pair<int64_t, int64_t>;

std::string pair_str(const Pair& p) { return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")"; }

FArray farray(const py::handle& obj, const std::string& what, int ndim) { return checked(obj, what.c_str(), ndim); }

// A writable float32 array of exactly like's shape.
float* out_like(const py::handle& obj, const py::array& like, const std::string& what) {
    FArray a = farray(obj, what, int(like.ndim()));
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        if (a.shape(i) != like.shape(i)) fail(what + ": expected shape " + shape_str(like) + ", got " + shape_str(a));
    writable(a, what);
    return a.mutable_data();
}

// None, or a float32 array of like's shape (read only).
const float* optional_like(const py::object& obj, const py::array& like, const std::string& what) {
    if (obj.is_none()) return nullptr;
    FArray a = farray(obj, what, int(like.ndim()));
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        if (a.shape(i) != like.shape(i)) fail(what + ": expected shape " + shape_str(like) + ", got " + shape_str(a));
    return a.data();
}

// A float32 vector of n floats.
FArray vector_of(const py::object& obj, int64_t n, const std::string& what) {
    FArray v = farray(obj, what, 1);
    if (v.shape(0) != n) fail(what + ": expected shape (" + std::to_string(n) + ",), got " + shape_str(v));
    return v;
}

// None, or the bias (n floats). The caller's object keeps the memory alive.
const float* bias_ptr(const py::object& obj, int64_t n, const std::string& what) {
    return obj.is_none() ? nullptr : vector_of(obj, n, what).data();
}

// None, or a writable bias gradient (n floats).
float* dbias_ptr(const py::object& obj, int64_t n, const std::string& what) {
    if (obj.is_none()) return nullptr;
    FArray v = vector_of(obj, n, what);
    writable(v, what);
    return v.mutable_data();
}

// A workspace of at least `need` floats, or None when need is 0.
float* workspace(const py::object& obj, int64_t need, const std::string& what) {
    if (need == 0 && obj.is_none()) return nullptr;
    if (obj.is_none()) fail(what + " workspace of " + std::to_string(need) + " floats is required");
    FArray a = farray(obj, what, 1);
    if (a.shape(0) < need)
        fail(what + " must hold at least " + std::to_string(need) + " floats, got " + shape_str(a));
    writable(a, what);
    return a.mutable_data();
}

void geometry_args(const Pair& strides, const Pair& dilation, const Pair& pads, const std::string& fn) {
    if (strides.first < 1 || strides.second < 1) fail(fn + ": strides must be positive, got " + pair_str(strides));
    if (dilation.first < 1 || dilation.second < 1)
        fail(fn + ": dilation_rate must be positive, got " + pair_str(dilation));
    if (pads.first < 0 || pads.second < 0) fail(fn + ": padding must be non-negative, got " + pair_str(pads));
}

// ---- depthwise -------------------------------------------------------------------------------
// x (n, h, w, c), kernel (kh, kw, c, dm), y (n, oh, ow, c*dm).
DepthwiseShape depthwise_shape(const FArray& x, const FArray& w, const FArray& y, const Pair& strides,
                               const Pair& dilation, const Pair& pads, const std::string& fn) {
    geometry_args(strides, dilation, pads, fn);
    if (w.shape(2) != x.shape(3))
        fail(fn + ": depthwise_kernel " + shape_str(w) + " expects " + std::to_string(w.shape(2)) +
             " input channels, x has shape " + shape_str(x));
    if (y.shape(0) != x.shape(0) || y.shape(3) != w.shape(2) * w.shape(3))
        fail(fn + ": y has shape " + shape_str(y) + ", inconsistent with x " + shape_str(x) + " and depthwise_kernel " +
             shape_str(w) + " (expected (" + std::to_string(x.shape(0)) + ", oh, ow, " +
             std::to_string(w.shape(2) * w.shape(3)) + "))");
    if (y.shape(3) > INT32_MAX) fail(fn + ": y " + shape_str(y) + " has too many channels");
    DepthwiseShape s;
    s.n = x.shape(0), s.h = x.shape(1), s.w = x.shape(2), s.c = x.shape(3);
    s.oh = y.shape(1), s.ow = y.shape(2), s.dm = w.shape(3);
    s.kh = w.shape(0), s.kw = w.shape(1);
    s.sh = strides.first, s.sw = strides.second;
    s.dh = dilation.first, s.dw = dilation.second;
    s.pad_top = pads.first, s.pad_left = pads.second;
    return s;
}

void depthwise_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
                   const py::handle& y_obj, const py::object& expanded_obj, Pair strides, Pair dilation, Pair pads,
                   Activation code) {
    const std::string fn = "depthwise_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": depthwise_kernel", 4),
           y = farray(y_obj, fn + ": y", 4);
    DepthwiseShape s = depthwise_shape(x, w, y, strides, dilation, pads, fn);
    writable(y, fn + ": y");
    const float* bp = bias_ptr(b_obj, s.out_channels(), fn + ": bias");
    float* zp = z_obj.is_none() ? nullptr : out_like(z_obj, y, fn + ": z");
    float* ep = workspace(expanded_obj, depthwise_expanded_size(s), fn + ": expanded");
    const float *xp = x.data(), *wp = w.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    depthwise_forward(s, xp, wp, bp, zp, yp, ep, act);
}

void depthwise_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
                   const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj,
                   const py::object& db_obj, const py::object& partials_obj, const py::object& expanded_obj,
                   Pair strides, Pair dilation, Pair pads, Activation code, bool dy_is_preactivation) {
    const std::string fn = "depthwise_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": depthwise_kernel", 4),
           y = farray(y_obj, fn + ": y", 4);
    DepthwiseShape s = depthwise_shape(x, w, y, strides, dilation, pads, fn);
    float* dyp = out_like(dy_obj, y, fn + ": dy");
    float* dwp = out_like(dw_obj, w, fn + ": ddepthwise_kernel");
    float* dxp = dx_obj.is_none() ? nullptr : out_like(dx_obj, x, fn + ": dx");
    float* dbp = dbias_ptr(db_obj, s.out_channels(), fn + ": dbias");
    const float* zp = optional_like(z_obj, y, fn + ": z");
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    float* pp = workspace(partials_obj, depthwise_dw_partials_size(s), fn + ": dw_partials");
    float* ep = workspace(expanded_obj, depthwise_expanded_size(s), fn + ": expanded");
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    ComputeScope compute;
    depthwise_backward(s, xp, wp, zp, yp, dyp, dxp, dwp, dbp, pp, ep, act, dy_is_preactivation);
}

// ---- transposed convolution ------------------------------------------------------------------
// x (n, h, w, cin), kernel (kh, kw, f, cin), y (n, oh, ow, f): the convolution y -> x.
ConvShape transpose_shape(const FArray& x, const FArray& w, const FArray& y, const Pair& strides, const Pair& dilation,
                          const Pair& pads, const std::string& fn) {
    geometry_args(strides, dilation, pads, fn);
    if (w.shape(3) != x.shape(3))
        fail(fn + ": kernel " + shape_str(w) + " expects " + std::to_string(w.shape(3)) +
             " input channels (its last axis), x has shape " + shape_str(x));
    if (y.shape(0) != x.shape(0) || y.shape(3) != w.shape(2))
        fail(fn + ": y has shape " + shape_str(y) + ", inconsistent with x " + shape_str(x) + " and kernel " +
             shape_str(w) + " (expected (" + std::to_string(x.shape(0)) + ", oh, ow, " + std::to_string(w.shape(2)) +
             "))");
    ConvShape s;
    s.n = x.shape(0);
    s.h = y.shape(1), s.w = y.shape(2), s.c = y.shape(3);
    s.oh = x.shape(1), s.ow = x.shape(2), s.f = x.shape(3);
    s.kh = w.shape(0), s.kw = w.shape(1);
    s.sh = strides.first, s.sw = strides.second;
    s.dh = dilation.first, s.dw = dilation.second;
    s.pad_top = pads.first, s.pad_left = pads.second;
    return s;
}

// The column workspace: (rows >= h*w of x, kh*kw*f), or None for a 1x1 unpadded stride-1 kernel.
std::pair<float*, int64_t> transpose_col(const py::object& col_obj, const ConvShape& s, const std::string& fn) {
    if (col_obj.is_none()) {
        if (!s.pointwise() && s.n > 0)
            fail(fn + ": col workspace is required unless the kernel is 1x1, stride 1, unpadded");
        return {nullptr, 0};
    }
    FArray col = farray(col_obj, fn + ": col", 2);
    if (col.shape(1) != s.patch() || col.shape(0) < s.out_pixels())
        fail(fn + ": col must have shape (k >= " + std::to_string(s.out_pixels()) + ", " + std::to_string(s.patch()) +
             "), got " + shape_str(col));
    writable(col, fn + ": col");
    return {col.mutable_data(), static_cast<int64_t>(col.shape(0))};
}

void transpose_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
                   const py::handle& y_obj, const py::object& col_obj, Pair strides, Pair dilation, Pair pads,
                   Activation code) {
    const std::string fn = "conv_transpose_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 4), y = farray(y_obj, fn + ": y", 4);
    ConvShape s = transpose_shape(x, w, y, strides, dilation, pads, fn);
    writable(y, fn + ": y");
    const float* bp = bias_ptr(b_obj, s.c, fn + ": bias");
    float* zp = z_obj.is_none() ? nullptr : out_like(z_obj, y, fn + ": z");
    auto col = transpose_col(col_obj, s, fn);
    const float *xp = x.data(), *wp = w.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    conv_transpose_forward(s, xp, wp, bp, zp, yp, col.first, col.second, act);
}

void transpose_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
                   const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj,
                   const py::object& db_obj, const py::object& col_obj, const py::object& partials_obj, Pair strides,
                   Pair dilation, Pair pads, Activation code, bool dy_is_preactivation) {
    const std::string fn = "conv_transpose_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 4), y = farray(y_obj, fn + ": y", 4);
    ConvShape s = transpose_shape(x, w, y, strides, dilation, pads, fn);
    float* dyp = out_like(dy_obj, y, fn + ": dy");
    float* dwp = out_like(dw_obj, w, fn + ": dkernel");
    float* dxp = dx_obj.is_none() ? nullptr : out_like(dx_obj, x, fn + ": dx");
    float* dbp = dbias_ptr(db_obj, s.c, fn + ": dbias");
    const float* zp = optional_like(z_obj, y, fn + ": z");
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    auto col = transpose_col(col_obj, s, fn);
    float* pp = workspace(partials_obj, col.first ? conv_transpose_partials_size(s) : 0, fn + ": dw_partials");
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    ComputeScope compute;
    conv_transpose_backward(s, xp, wp, zp, yp, dyp, dxp, dwp, dbp, col.first, col.second, pp, act, dy_is_preactivation);
}

void sizes_non_negative(std::initializer_list<int64_t> sizes, const std::string& fn) {
    for (int64_t v : sizes)
        if (v < 0) fail(fn + ": sizes must be non-negative, kernel sizes and depth_multiplier positive");
}

}  // namespace

void bind_conv_extra(py::module_& m) {
    m.def("depthwise_forward", &depthwise_fwd, py::arg("x"), py::arg("depthwise_kernel"), py::arg("bias"), py::arg("z"),
          py::arg("y"), py::arg("expanded"), py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"),
          py::arg("activation"),
          "y (n, oh, ow, c*dm) = act(depthwise(x (n, h, w, c), depthwise_kernel (kh, kw, c, dm)) + bias); output "
          "channel ci*dm + m reads input channel ci; pads = (top, left); z (optional) keeps the pre-activation; "
          "expanded is a workspace of depthwise_expanded_size(...) floats, None when dm == 1.");
    m.def("depthwise_backward", &depthwise_bwd, py::arg("x"), py::arg("depthwise_kernel"), py::arg("z"), py::arg("y"),
          py::arg("dy"), py::arg("dx"), py::arg("ddepthwise_kernel"), py::arg("dbias"), py::arg("dw_partials"),
          py::arg("expanded"), py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"),
          py::arg("dy_is_preactivation"),
          "Writes ddepthwise_kernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz "
          "unless dy_is_preactivation; dw_partials holds depthwise_dw_partials_size(...) floats, expanded "
          "depthwise_expanded_size(...) (None when dm == 1).");
    m.def(
        "depthwise_dw_partials_size",
        [](int64_t n, int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t c, int64_t dm) {
            sizes_non_negative({n, oh, ow, c, dm - 1, kh - 1, kw - 1}, "depthwise_dw_partials_size");
            DepthwiseShape s{};
            s.n = n, s.oh = oh, s.ow = ow, s.kh = kh, s.kw = kw, s.c = c, s.dm = dm;
            return depthwise_dw_partials_size(s);
        },
        py::arg("n"), py::arg("oh"), py::arg("ow"), py::arg("kh"), py::arg("kw"), py::arg("c"),
        py::arg("depth_multiplier"),
        "Floats of the dw_partials workspace depthwise_backward needs for these sizes.");
    m.def(
        "depthwise_expanded_size",
        [](int64_t n, int64_t h, int64_t w, int64_t c, int64_t dm) {
            sizes_non_negative({n, h, w, c, dm - 1}, "depthwise_expanded_size");
            DepthwiseShape s{};
            s.n = n, s.h = h, s.w = w, s.c = c, s.dm = dm;
            return depthwise_expanded_size(s);
        },
        py::arg("n"), py::arg("h"), py::arg("w"), py::arg("c"), py::arg("depth_multiplier"),
        "Floats of the expanded workspace depthwise_forward and depthwise_backward need for an input x of "
        "(n, h, w, c): the input with each channel repeated depth_multiplier times, 0 when it is 1.");
    m.def("conv_transpose_forward", &transpose_fwd, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("z"),
          py::arg("y"), py::arg("col"), py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"),
          py::arg("activation"),
          "y (n, oh, ow, f) = act(conv_transpose(x (n, h, w, cin), kernel (kh, kw, f, cin)) + bias): the input "
          "gradient of the convolution y -> x with these strides, dilation and pads (top, left); col is the "
          "column workspace (rows >= h*w, kh*kw*f), None only for a 1x1 unpadded stride-1 kernel.");
    m.def("conv_transpose_backward", &transpose_bwd, py::arg("x"), py::arg("kernel"), py::arg("z"), py::arg("y"),
          py::arg("dy"), py::arg("dx"), py::arg("dkernel"), py::arg("dbias"), py::arg("col"), py::arg("dw_partials"),
          py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"),
          py::arg("dy_is_preactivation"),
          "Writes dkernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz unless "
          "dy_is_preactivation; dw_partials holds conv_transpose_partials_size(...) floats (None with col None).");
    m.def(
        "conv_transpose_partials_size",
        [](int64_t n, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t filters, int64_t in_channels) {
            sizes_non_negative({n, h, w, filters, in_channels, kh - 1, kw - 1}, "conv_transpose_partials_size");
            ConvShape s{};
            s.n = n, s.oh = h, s.ow = w, s.kh = kh, s.kw = kw, s.c = filters, s.f = in_channels;
            return conv_dw_partials_size(s);
        },
        py::arg("n"), py::arg("h"), py::arg("w"), py::arg("kh"), py::arg("kw"), py::arg("filters"),
        py::arg("in_channels"),
        "Floats of the dw_partials workspace conv_transpose_backward needs for an input x of (n, h, w, in_channels) "
        "and a kernel (kh, kw, filters, in_channels), when it is given a col workspace.");
}

}  // namespace seqnet
