// Bindings of the 3-D convolution (and its transpose) and pooling kernels and of the locally-connected ones. Every
// shape, dtype and workspace size is checked here (ValueError naming the argument and the
// shapes), then the GIL is released for the kernel call.
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

#include "bindings.h"
#include "seqnet/conv3d.h"
#include "seqnet/conv3d_transpose.h"
#include "seqnet/local.h"
#include "seqnet/pool3d.h"

namespace seqnet {
namespace {

using IArray = py::array_t<int32_t, py::array::c_style>;
using Triple = std::array<int64_t, 3>;
using Pair = std::array<int64_t, 2>;

template <size_t N>
std::string tuple_str(const std::array<int64_t, N>& t) {
    std::string out = "(";
    for (size_t i = 0; i < N; ++i) out += (i ? ", " : "") + std::to_string(t[i]);
    return out + ")";
}

std::string dims_str(const std::vector<int64_t>& dims) {
    std::string out = "(";
    for (size_t i = 0; i < dims.size(); ++i) out += (i ? ", " : "") + std::to_string(dims[i]);
    return out + (dims.size() == 1 ? ",)" : ")");
}

template <size_t N>
void at_least(const std::array<int64_t, N>& t, int64_t low, const std::string& what) {
    for (int64_t v : t)
        if (v < low) fail(what + " must be " + (low ? "positive" : "non-negative") + ", got " + tuple_str(t));
}

std::vector<int64_t> dims_of(const py::array& a) { return std::vector<int64_t>(a.shape(), a.shape() + a.ndim()); }

// A float32, C-contiguous array of `ndim` dimensions (any when -1), else ValueError with its shape.
FArray farray(const py::handle& obj, const std::string& what, int ndim) {
    FArray a = checked(obj, what.c_str());
    if (ndim >= 0 && a.ndim() != ndim)
        fail(what + ": expected " + std::to_string(ndim) + " dimensions, got shape " + shape_str(a));
    return a;
}

// An optional float32 array (None gives a null pointer) of exactly the shape `dims`.
float* optional_exact(const py::object& obj, const std::string& what, const std::vector<int64_t>& dims) {
    if (obj.is_none()) return nullptr;
    FArray a = farray(obj, what, -1);
    if (dims_of(a) != dims) fail(what + ": expected shape " + dims_str(dims) + ", got " + shape_str(a));
    if (!a.writeable()) fail(what + " is read-only");
    return a.mutable_data();
}

float* exact(const py::handle& obj, const std::string& what, const std::vector<int64_t>& dims) {
    if (obj.is_none()) fail(what + ": expected a float32 array of shape " + dims_str(dims) + ", got None");
    return optional_exact(py::reinterpret_borrow<py::object>(obj), what, dims);
}

const float* input(const py::object& obj, const std::string& what, const std::vector<int64_t>& dims) {
    if (obj.is_none()) return nullptr;
    FArray a = farray(obj, what, -1);
    if (dims_of(a) != dims) fail(what + ": expected shape " + dims_str(dims) + ", got " + shape_str(a));
    return a.data();
}

// A flat float32 workspace of at least `need` floats (None allowed when need is 0).
float* workspace(const py::object& obj, const std::string& what, int64_t need) {
    if (obj.is_none()) {
        if (need > 0) fail(what + ": a workspace of " + std::to_string(need) + " floats is required, got None");
        return nullptr;
    }
    FArray a = farray(obj, what, -1);
    if (a.size() < need) fail(what + " must hold at least " + std::to_string(need) + " floats, got " + shape_str(a));
    if (!a.writeable()) fail(what + " is read-only");
    return a.mutable_data();
}

int32_t* int_exact(const py::handle& obj, const std::string& what, const std::vector<int64_t>& dims, bool write) {
    if (!IArray::check_(obj)) {
        auto arr = py::array::ensure(obj);
        std::string got = arr ? std::string(py::str(arr.dtype())) : std::string(py::str(py::type::handle_of(obj)));
        fail(what + ": expected a C-contiguous int32 array, got " + got);
    }
    auto a = py::reinterpret_borrow<IArray>(obj);
    bool ok = a.ndim() == py::ssize_t(dims.size());
    for (size_t i = 0; ok && i < dims.size(); ++i) ok = a.shape(i) == dims[i];
    if (!ok) fail(what + ": expected shape " + dims_str(dims) + ", got " + shape_str(a));
    if (write && !a.writeable()) fail(what + " is read-only");
    return a.mutable_data();
}


// ---- Conv3D ---------------------------------------------------------------------------------
// x (n, d, h, w, c), kernel (kd, kh, kw, c, f), y (n, od, oh, ow, f).
Conv3dShape conv3d_shape(const std::vector<int64_t>& x, const std::vector<int64_t>& k, const std::vector<int64_t>& y,
                         const Triple& strides, const Triple& dilation, const Triple& pads, const std::string& fn) {
    at_least(strides, 1, fn + ": strides");
    at_least(dilation, 1, fn + ": dilation_rate");
    at_least(pads, 0, fn + ": pads");
    if (k[3] != x[4])
        fail(fn + ": kernel " + dims_str(k) + " expects " + std::to_string(k[3]) + " input channels, x has shape " +
             dims_str(x));
    if (y[0] != x[0] || y[4] != k[4])
        fail(fn + ": y has shape " + dims_str(y) + ", inconsistent with x " + dims_str(x) + " and kernel " +
             dims_str(k));
    for (int a = 0; a < 3; ++a)
        if (k[a] < 1) fail(fn + ": kernel " + dims_str(k) + " has an empty spatial axis");
    Conv3dShape s;
    s.n = x[0], s.d = x[1], s.h = x[2], s.w = x[3], s.c = x[4];
    s.od = y[1], s.oh = y[2], s.ow = y[3], s.f = y[4];
    s.kd = k[0], s.kh = k[1], s.kw = k[2];
    s.sd = strides[0], s.sh = strides[1], s.sw = strides[2];
    s.dd = dilation[0], s.dh = dilation[1], s.dw = dilation[2];
    s.pad_front = pads[0], s.pad_top = pads[1], s.pad_left = pads[2];
    return s;
}

// The plane convolution's im2col workspace (rows >= oh*ow, kh*kw*kd*c), or None when pointwise.
std::pair<float*, int64_t> conv3d_col(const py::object& col_obj, const Conv3dShape& s, const std::string& fn) {
    const ConvShape p = s.plane();
    if (col_obj.is_none()) {
        if (!p.pointwise() && p.n > 0) fail(fn + ": col workspace is required unless kh = kw = 1, stride 1, unpadded");
        return {nullptr, 0};
    }
    FArray col = farray(col_obj, fn + ": col", 2);
    if (col.shape(1) != p.patch() || col.shape(0) < p.out_pixels())
        fail(fn + ": col must have shape (k >= " + std::to_string(p.out_pixels()) + ", " + std::to_string(p.patch()) +
             "), got " + shape_str(col));
    if (!col.writeable()) fail(fn + ": col is read-only");
    return {col.mutable_data(), static_cast<int64_t>(col.shape(0))};
}

void conv3d_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
                const py::handle& y_obj, const py::object& col_obj, const py::object& unfold_obj,
                const py::object& kbuf_obj, Triple strides, Triple dilation, Triple pads, Activation code) {
    const std::string fn = "conv3d_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 5), w = farray(w_obj, fn + ": kernel", 5), y = farray(y_obj, fn + ": y", 5);
    Conv3dShape s = conv3d_shape(dims_of(x), dims_of(w), dims_of(y), strides, dilation, pads, fn);
    float* yp = exact(y_obj, fn + ": y", dims_of(y));
    const float* bp = input(b_obj, fn + ": bias", {s.f});
    float* zp = optional_exact(z_obj, fn + ": z", dims_of(y));
    auto col = conv3d_col(col_obj, s, fn);
    float* up = workspace(unfold_obj, fn + ": unfold", s.unfold_size());
    float* kp = workspace(kbuf_obj, fn + ": kernel_buffer", s.kernel_buffer_size());
    const float *xp = x.data(), *wp = w.data();
    ComputeScope compute;
    conv3d_forward(s, xp, wp, bp, zp, yp, up, kp, col.first, col.second, act);
}

void conv3d_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
                const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj, const py::object& db_obj,
                const py::object& col_obj, const py::object& partials_obj, const py::object& unfold_obj,
                const py::object& kbuf_obj, const py::object& dunfold_obj, Triple strides, Triple dilation, Triple pads,
                Activation code, bool dy_is_preactivation) {
    const std::string fn = "conv3d_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 5), w = farray(w_obj, fn + ": kernel", 5), y = farray(y_obj, fn + ": y", 5);
    Conv3dShape s = conv3d_shape(dims_of(x), dims_of(w), dims_of(y), strides, dilation, pads, fn);
    float* dyp = exact(dy_obj, fn + ": dy", dims_of(y));
    float* dwp = exact(dw_obj, fn + ": dkernel", dims_of(w));
    float* dxp = optional_exact(dx_obj, fn + ": dx", dims_of(x));
    float* dbp = optional_exact(db_obj, fn + ": dbias", {s.f});
    const float* zp = input(z_obj, fn + ": z", dims_of(y));
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    auto col = conv3d_col(col_obj, s, fn);
    float* pp = nullptr;
    if (col.first) pp = workspace(partials_obj, fn + ": dw_partials", conv_dw_partials_size(s.plane()));
    float* up = workspace(unfold_obj, fn + ": unfold", s.unfold_size());
    float* kp = workspace(kbuf_obj, fn + ": kernel_buffer", s.kernel_buffer_size());
    float* dup = workspace(dunfold_obj, fn + ": dunfold", dxp ? s.unfold_size() : 0);
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    ComputeScope compute;
    conv3d_backward(s, wp, zp, yp, dyp, dxp, dwp, dbp, xp, up, kp, dup, col.first, col.second, pp, act,
                    dy_is_preactivation);
}

py::dict conv3d_sizes(const std::vector<int64_t>& x, const std::vector<int64_t>& k, const std::vector<int64_t>& y,
                      Triple strides, Triple dilation, Triple pads) {
    const std::string fn = "conv3d_workspace_sizes";
    if (x.size() != 5 || k.size() != 5 || y.size() != 5)
        fail(fn + ": x_shape, kernel_shape and y_shape must have 5 entries, got " + dims_str(x) + ", " + dims_str(k) +
             ", " + dims_str(y));
    for (const auto* dims : {&x, &k, &y})
        for (int64_t v : *dims)
            if (v < 0) fail(fn + ": shapes must be non-negative, got " + dims_str(*dims));
    Conv3dShape s = conv3d_shape(x, k, y, strides, dilation, pads, fn);
    const ConvShape p = s.plane();
    py::dict out;
    out["unfold"] = s.unfold_size();
    out["kernel_buffer"] = s.kernel_buffer_size();
    out["col_rows"] = p.pointwise() ? int64_t(0) : p.out_pixels();  // per plane image; 0: no col needed
    out["col_cols"] = p.patch();
    out["dw_partials"] = p.pointwise() ? int64_t(0) : conv_dw_partials_size(p);
    return out;
}

// ---- Conv3DTranspose -------------------------------------------------------------------------
// x (n, od, oh, ow, f), kernel (kd, kh, kw, c, f) (Keras' (.., filters, in_channels)), y (n, d, h,
// w, c): the convolution y -> x, described by conv3d_shape with the roles swapped.
Conv3dShape conv3d_transpose_shape(const std::vector<int64_t>& x, const std::vector<int64_t>& k,
                                   const std::vector<int64_t>& y, const Triple& strides, const Triple& dilation,
                                   const Triple& pads, const std::string& fn) {
    if (k[4] != x[4])
        fail(fn + ": kernel " + dims_str(k) + " expects " + std::to_string(k[4]) + " input channels, x has shape " +
             dims_str(x));
    if (y[0] != x[0] || y[4] != k[3])
        fail(fn + ": y has shape " + dims_str(y) + ", inconsistent with x " + dims_str(x) + " and kernel " +
             dims_str(k));
    return conv3d_shape(y, k, x, strides, dilation, pads, fn);
}

void conv3d_transpose_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj,
                          const py::object& z_obj, const py::handle& y_obj, const py::object& col_obj,
                          const py::object& unfold_obj, const py::object& kbuf_obj, Triple strides, Triple dilation,
                          Triple pads, Activation code) {
    const std::string fn = "conv3d_transpose_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 5), w = farray(w_obj, fn + ": kernel", 5), y = farray(y_obj, fn + ": y", 5);
    Conv3dShape s = conv3d_transpose_shape(dims_of(x), dims_of(w), dims_of(y), strides, dilation, pads, fn);
    float* yp = exact(y_obj, fn + ": y", dims_of(y));
    const float* bp = input(b_obj, fn + ": bias", {s.c});
    float* zp = optional_exact(z_obj, fn + ": z", dims_of(y));
    auto col = conv3d_col(col_obj, s, fn);
    float* up = workspace(unfold_obj, fn + ": unfold", s.unfold_size());
    float* kp = workspace(kbuf_obj, fn + ": kernel_buffer", s.kernel_buffer_size());
    const float *xp = x.data(), *wp = w.data();
    ComputeScope compute;
    conv3d_transpose_forward(s, xp, wp, bp, zp, yp, up, kp, col.first, col.second, act);
}

void conv3d_transpose_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj,
                          const py::handle& y_obj, const py::handle& dy_obj, const py::object& dx_obj,
                          const py::handle& dw_obj, const py::object& db_obj, const py::object& col_obj,
                          const py::object& partials_obj, const py::object& unfold_obj, const py::object& kbuf_obj,
                          Triple strides, Triple dilation, Triple pads, Activation code, bool dy_is_preactivation) {
    const std::string fn = "conv3d_transpose_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 5), w = farray(w_obj, fn + ": kernel", 5), y = farray(y_obj, fn + ": y", 5);
    Conv3dShape s = conv3d_transpose_shape(dims_of(x), dims_of(w), dims_of(y), strides, dilation, pads, fn);
    float* dyp = exact(dy_obj, fn + ": dy", dims_of(y));
    float* dwp = exact(dw_obj, fn + ": dkernel", dims_of(w));
    float* dxp = optional_exact(dx_obj, fn + ": dx", dims_of(x));
    float* dbp = optional_exact(db_obj, fn + ": dbias", {s.c});
    const float* zp = input(z_obj, fn + ": z", dims_of(y));
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    auto col = conv3d_col(col_obj, s, fn);
    float* pp = workspace(partials_obj, fn + ": dw_partials", col.first ? conv3d_transpose_partials_size(s) : 0);
    float* up = workspace(unfold_obj, fn + ": unfold", s.unfold_size());
    float* kp = workspace(kbuf_obj, fn + ": kernel_buffer", s.kernel_buffer_size());
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    ComputeScope compute;
    conv3d_transpose_backward(s, xp, wp, zp, yp, dyp, dxp, dwp, dbp, up, kp, col.first, col.second, pp, act,
                              dy_is_preactivation);
}

// ---- 3-D pooling ----------------------------------------------------------------------------
// x (n, d, h, w, c) and y (n, od, oh, ow, c).
Pool3dShape pool3d_shape(const FArray& x, const FArray& y, const Triple& pool, const Triple& strides,
                         const Triple& pads, const std::string& fn, const char* xname, const char* yname) {
    at_least(pool, 1, fn + ": pool_size");
    at_least(strides, 1, fn + ": strides");
    at_least(pads, 0, fn + ": pads");
    if (x.shape(0) != y.shape(0) || x.shape(4) != y.shape(4))
        fail(fn + ": " + yname + " has shape " + shape_str(y) + ", inconsistent with " + xname + " " + shape_str(x));
    if (x.shape(2) * x.shape(3) > INT32_MAX || x.shape(1) * y.shape(2) * y.shape(3) > INT32_MAX)
        fail(fn + ": " + xname + " " + shape_str(x) + " is too large");
    Pool3dShape s;
    s.n = x.shape(0), s.d = x.shape(1), s.h = x.shape(2), s.w = x.shape(3), s.c = x.shape(4);
    s.od = y.shape(1), s.oh = y.shape(2), s.ow = y.shape(3);
    s.pd = pool[0], s.ph = pool[1], s.pw = pool[2];
    s.sd = strides[0], s.sh = strides[1], s.sw = strides[2];
    s.pad_front = pads[0], s.pad_top = pads[1], s.pad_left = pads[2];
    return s;
}

std::vector<int64_t> mid_dims(const Pool3dShape& s) { return {s.n, s.d, s.oh, s.ow, s.c}; }

void max_pool3d_fwd(const py::handle& x_obj, const py::handle& y_obj, const py::handle& a_obj,
                    const py::handle& mid_obj, const py::handle& mid_a_obj, Triple pool, Triple strides, Triple pads) {
    const std::string fn = "max_pool3d_forward";
    FArray x = farray(x_obj, fn + ": x", 5), y = farray(y_obj, fn + ": y", 5);
    Pool3dShape s = pool3d_shape(x, y, pool, strides, pads, fn, "x", "y");
    float* yp = exact(y_obj, fn + ": y", dims_of(y));
    int32_t* ap = int_exact(a_obj, fn + ": argmax", dims_of(y), true);
    float* mp = exact(mid_obj, fn + ": mid", mid_dims(s));
    int32_t* map = int_exact(mid_a_obj, fn + ": mid_argmax", mid_dims(s), true);
    const float* xp = x.data();
    ComputeScope compute;
    max_pool3d_forward(s, xp, mp, map, yp, ap);
}

void max_pool3d_bwd(const py::handle& dy_obj, const py::handle& a_obj, const py::handle& mid_a_obj,
                    const py::handle& dmid_obj, const py::handle& dx_obj, Triple pool, Triple strides, Triple pads) {
    const std::string fn = "max_pool3d_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 5), dx = farray(dx_obj, fn + ": dx", 5);
    Pool3dShape s = pool3d_shape(dx, dy, pool, strides, pads, fn, "dx", "dy");
    float* dxp = exact(dx_obj, fn + ": dx", dims_of(dx));
    const int32_t* ap = int_exact(a_obj, fn + ": argmax", dims_of(dy), false);
    const int32_t* map = int_exact(mid_a_obj, fn + ": mid_argmax", mid_dims(s), false);
    float* dmp = exact(dmid_obj, fn + ": dmid", mid_dims(s));
    const float* dyp = dy.data();
    ComputeScope compute;
    max_pool3d_backward(s, dyp, ap, map, dmp, dxp);
}

void avg_pool3d_fwd(const py::handle& x_obj, const py::handle& y_obj, const py::handle& mid_obj, Triple pool,
                    Triple strides, Triple pads) {
    const std::string fn = "avg_pool3d_forward";
    FArray x = farray(x_obj, fn + ": x", 5), y = farray(y_obj, fn + ": y", 5);
    Pool3dShape s = pool3d_shape(x, y, pool, strides, pads, fn, "x", "y");
    float* yp = exact(y_obj, fn + ": y", dims_of(y));
    float* mp = exact(mid_obj, fn + ": mid", mid_dims(s));
    const float* xp = x.data();
    ComputeScope compute;
    avg_pool3d_forward(s, xp, mp, yp);
}

void avg_pool3d_bwd(const py::handle& dy_obj, const py::handle& dmid_obj, const py::handle& dx_obj, Triple pool,
                    Triple strides, Triple pads) {
    const std::string fn = "avg_pool3d_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 5), dx = farray(dx_obj, fn + ": dx", 5);
    Pool3dShape s = pool3d_shape(dx, dy, pool, strides, pads, fn, "dx", "dy");
    float* dxp = exact(dx_obj, fn + ": dx", dims_of(dx));
    float* dmp = exact(dmid_obj, fn + ": dmid", mid_dims(s));
    const float* dyp = dy.data();
    ComputeScope compute;
    avg_pool3d_backward(s, dyp, dmp, dxp);
}

// ---- locally connected ----------------------------------------------------------------------
// x (n, h, w, c) or (n, c, h, w), kernel (oh*ow, kh*kw*c, f), y (n, oh, ow, f) with 'valid' windows.
LocalShape local_shape(const FArray& x, const FArray& w, const FArray& y, const Pair& kernel_size, const Pair& strides,
                       bool channels_first, const std::string& fn) {
    at_least(kernel_size, 1, fn + ": kernel_size");
    at_least(strides, 1, fn + ": strides");
    LocalShape s;
    s.channels_first = channels_first;
    s.n = x.shape(0);
    s.c = channels_first ? x.shape(1) : x.shape(3);
    s.h = channels_first ? x.shape(2) : x.shape(1);
    s.w = channels_first ? x.shape(3) : x.shape(2);
    s.kh = kernel_size[0], s.kw = kernel_size[1];
    s.sh = strides[0], s.sw = strides[1];
    if (s.h < s.kh || s.w < s.kw)
        fail(fn + ": kernel_size " + tuple_str(kernel_size) + " is larger than the input's spatial size, x has shape " +
             shape_str(x));
    s.oh = (s.h - s.kh) / s.sh + 1, s.ow = (s.w - s.kw) / s.sw + 1, s.f = w.shape(2);
    const std::vector<int64_t> want_w{s.positions(), s.patch(), s.f}, want_y{s.n, s.oh, s.ow, s.f};
    if (dims_of(w) != want_w)
        fail(fn + ": kernel must have shape " + dims_str(want_w) + " for x " + shape_str(x) + ", kernel_size " +
             tuple_str(kernel_size) + " and strides " + tuple_str(strides) + ", got " + shape_str(w));
    if (dims_of(y) != want_y)
        fail(fn + ": y must have shape " + dims_str(want_y) + " for x " + shape_str(x) + " and kernel " + shape_str(w) +
             ", got " + shape_str(y));
    return s;
}

void local_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
               const py::handle& y_obj, const py::handle& col_obj, Pair kernel_size, Pair strides, bool channels_first,
               Activation code) {
    const std::string fn = "local_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 3), y = farray(y_obj, fn + ": y", 4);
    LocalShape s = local_shape(x, w, y, kernel_size, strides, channels_first, fn);
    float* yp = exact(y_obj, fn + ": y", dims_of(y));
    const float* bp = input(b_obj, fn + ": bias", {s.positions(), s.f});
    float* zp = optional_exact(z_obj, fn + ": z", dims_of(y));
    float* cp = exact(col_obj, fn + ": col", {s.n, s.positions(), s.patch()});
    const float *xp = x.data(), *wp = w.data();
    ComputeScope compute;
    local_forward(s, xp, wp, bp, zp, yp, cp, act);
}

void local_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
               const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj, const py::object& db_obj,
               const py::handle& col_obj, Pair kernel_size, Pair strides, bool channels_first, Activation code,
               bool dy_is_preactivation) {
    const std::string fn = "local_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 3), y = farray(y_obj, fn + ": y", 4);
    LocalShape s = local_shape(x, w, y, kernel_size, strides, channels_first, fn);
    float* dyp = exact(dy_obj, fn + ": dy", dims_of(y));
    float* dwp = exact(dw_obj, fn + ": dkernel", dims_of(w));
    float* dxp = optional_exact(dx_obj, fn + ": dx", dims_of(x));
    float* dbp = optional_exact(db_obj, fn + ": dbias", {s.positions(), s.f});
    float* cp = exact(col_obj, fn + ": col", {s.n, s.positions(), s.patch()});
    const float* zp = input(z_obj, fn + ": z", dims_of(y));
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    const float *wp = w.data(), *yp = y.data();
    ComputeScope compute;
    local_backward(s, wp, zp, yp, dyp, dxp, dwp, dbp, cp, act, dy_is_preactivation);
}

}  // namespace

void bind_conv3d(py::module_& m) {
    m.def("conv3d_forward", &conv3d_fwd, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("z"), py::arg("y"),
          py::arg("col"), py::arg("unfold"), py::arg("kernel_buffer"), py::arg("strides"), py::arg("dilation_rate"),
          py::arg("pads"), py::arg("activation"),
          "y (n, od, oh, ow, f) = act(conv3d(x (n, d, h, w, c), kernel (kd, kh, kw, c, f)) + bias); pads = (front, "
          "top, left); workspaces sized by conv3d_workspace_sizes (unfold keeps the unfolded x for conv3d_backward).");
    m.def("conv3d_backward", &conv3d_bwd, py::arg("x"), py::arg("kernel"), py::arg("z"), py::arg("y"), py::arg("dy"),
          py::arg("dx"), py::arg("dkernel"), py::arg("dbias"), py::arg("col"), py::arg("dw_partials"),
          py::arg("unfold"), py::arg("kernel_buffer"), py::arg("dunfold"), py::arg("strides"),
          py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"), py::arg("dy_is_preactivation"));
    m.def("conv3d_workspace_sizes", &conv3d_sizes, py::arg("x_shape"), py::arg("kernel_shape"), py::arg("y_shape"),
          py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"),
          "Sizes of conv3d's workspaces: unfold, kernel_buffer and dw_partials (floats); col is (k * col_rows, "
          "col_cols) for k >= 1, or None when col_rows is 0.");
    m.def("conv3d_transpose_forward", &conv3d_transpose_fwd, py::arg("x"), py::arg("kernel"), py::arg("bias"),
          py::arg("z"), py::arg("y"), py::arg("col"), py::arg("unfold"), py::arg("kernel_buffer"), py::arg("strides"),
          py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"),
          "y (n, d, h, w, f) = act(conv3d_transpose(x (n, od, oh, ow, cin), kernel (kd, kh, kw, f, cin)) + bias): the "
          "input gradient of the convolution y -> x with these strides, dilation and pads (front, top, left); "
          "workspaces sized by conv3d_workspace_sizes(y.shape, kernel.shape, x.shape, ...) (scratch only).");
    m.def("conv3d_transpose_backward", &conv3d_transpose_bwd, py::arg("x"), py::arg("kernel"), py::arg("z"),
          py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("dkernel"), py::arg("dbias"), py::arg("col"),
          py::arg("dw_partials"), py::arg("unfold"), py::arg("kernel_buffer"), py::arg("strides"),
          py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"), py::arg("dy_is_preactivation"),
          "Writes dkernel, dbias (optional) and dx (optional) from dy, which it overwrites with dL/dz unless "
          "dy_is_preactivation; workspaces as for conv3d_transpose_forward.");
    m.def("max_pool3d_forward", &max_pool3d_fwd, py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("mid"),
          py::arg("mid_argmax"), py::arg("pool_size"), py::arg("strides"), py::arg("pads"),
          "y (n, od, oh, ow, c) = max over windows of x (n, d, h, w, c); mid and mid_argmax (n, d, oh, ow, c) keep "
          "the (h, w) pass for max_pool3d_backward.");
    m.def("max_pool3d_backward", &max_pool3d_bwd, py::arg("dy"), py::arg("argmax"), py::arg("mid_argmax"),
          py::arg("dmid"), py::arg("dx"), py::arg("pool_size"), py::arg("strides"), py::arg("pads"));
    m.def("avg_pool3d_forward", &avg_pool3d_fwd, py::arg("x"), py::arg("y"), py::arg("mid"), py::arg("pool_size"),
          py::arg("strides"), py::arg("pads"));
    m.def("avg_pool3d_backward", &avg_pool3d_bwd, py::arg("dy"), py::arg("dmid"), py::arg("dx"), py::arg("pool_size"),
          py::arg("strides"), py::arg("pads"));
    m.def("local_forward", &local_fwd, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("z"), py::arg("y"),
          py::arg("col"), py::arg("kernel_size"), py::arg("strides"), py::arg("channels_first"), py::arg("activation"),
          "Locally connected ('valid'): y (n, oh, ow, f) = act(patches(x) kernel[p] + bias[p]) per position p; x is "
          "(n, h, w, c), or (n, c, h, w) when channels_first; kernel (oh*ow, kh*kw*c, f); bias (oh*ow, f); col "
          "(n, oh*ow, kh*kw*c) receives the patches for local_backward.");
    m.def("local_backward", &local_bwd, py::arg("x"), py::arg("kernel"), py::arg("z"), py::arg("y"), py::arg("dy"),
          py::arg("dx"), py::arg("dkernel"), py::arg("dbias"), py::arg("col"), py::arg("kernel_size"),
          py::arg("strides"), py::arg("channels_first"), py::arg("activation"), py::arg("dy_is_preactivation"));
}

}  // namespace seqnet
