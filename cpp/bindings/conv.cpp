// Bindings of the convolution and pooling kernels. Every shape, dtype and workspace size is
// checked here (ValueError naming the argument and the shapes), then the GIL is released
// for the one kernel call.
#include <string>
#include <utility>

#include "bindings.h"
#include "seqnet/activation.h"
#include "seqnet/conv.h"
#include "seqnet/pool.h"

namespace seqnet {
namespace {

using IArray = py::array_t<int32_t, py::array::c_style>;
using Pair = std::pair<int64_t, int64_t>;

std::string pair_str(const Pair& p) { return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")"; }

FArray farray(const py::handle& obj, const std::string& what, int ndim) { return checked(obj, what.c_str(), ndim); }

IArray iarray(const py::handle& obj, const std::string& what) {
    if (!IArray::check_(obj)) {
        auto arr = py::array::ensure(obj);
        std::string got = arr ? std::string(py::str(arr.dtype())) : std::string(py::str(py::type::handle_of(obj)));
        fail(what + ": expected a C-contiguous int32 array, got " + got);
    }
    return py::reinterpret_borrow<IArray>(obj);
}

void positive(const Pair& p, const std::string& what) {
    if (p.first < 1 || p.second < 1) fail(what + " must be positive, got " + pair_str(p));
}

void non_negative(const Pair& p, const std::string& what) {
    if (p.first < 0 || p.second < 0) fail(what + " must be non-negative, got " + pair_str(p));
}

// The geometry of x (n, h, w, c), kernel (kh, kw, c, f) and y (n, oh, ow, f).
ConvShape conv_shape(const FArray& x, const FArray& w, const FArray& y, const Pair& strides, const Pair& dilation,
                     const Pair& pads, const std::string& fn) {
    positive(strides, fn + ": strides");
    positive(dilation, fn + ": dilation_rate");
    non_negative(pads, fn + ": padding");
    if (w.shape(2) != x.shape(3))
        fail(fn + ": kernel " + shape_str(w) + " expects " + std::to_string(w.shape(2)) + " input channels, x has shape " +
             shape_str(x));
    if (y.shape(0) != x.shape(0) || y.shape(3) != w.shape(3))
        fail(fn + ": y has shape " + shape_str(y) + ", inconsistent with x " + shape_str(x) + " and kernel " + shape_str(w));
    ConvShape s;
    s.n = x.shape(0), s.h = x.shape(1), s.w = x.shape(2), s.c = x.shape(3);
    s.oh = y.shape(1), s.ow = y.shape(2), s.f = y.shape(3);
    s.kh = w.shape(0), s.kw = w.shape(1);
    s.sh = strides.first, s.sw = strides.second;
    s.dh = dilation.first, s.dw = dilation.second;
    s.pad_top = pads.first, s.pad_left = pads.second;
    return s;
}

// The im2col workspace: (rows, kh*kw*c) with room for one image's patches, or None when
// the convolution is pointwise.
std::pair<float*, int64_t> conv_col(const py::object& col_obj, const ConvShape& s, const std::string& fn) {
    if (col_obj.is_none()) {
        if (!s.pointwise() && s.n > 0) fail(fn + ": col workspace is required unless the kernel is 1x1, stride 1, unpadded");
        return {nullptr, 0};
    }
    FArray col = farray(col_obj, fn + ": col", 2);
    if (col.shape(1) != s.patch() || col.shape(0) < s.out_pixels())
        fail(fn + ": col must have shape (k >= " + std::to_string(s.out_pixels()) + ", " + std::to_string(s.patch()) +
             "), got " + shape_str(col));
    writable(col, fn + ": col");
    return {col.mutable_data(), static_cast<int64_t>(col.shape(0))};
}

const float* bias_of(const py::object& b_obj, const FArray& w, const std::string& what) {
    if (b_obj.is_none()) return nullptr;
    FArray b = farray(b_obj, what, 1);
    if (b.shape(0) != w.shape(3)) fail(what + " has shape " + shape_str(b) + ", kernel " + shape_str(w));
    return b.data();
}

// A 2x2 stride-2 max pooling's array of the convolution's output (n, oh // 2, ow // 2, f) and its
// argmax (int32, the same shape); `what` names the first, as "fn: arg".
void check_pooled(const FArray& a, const IArray& argmax, const ConvShape& s, const std::string& what) {
    const int64_t want[4] = {s.n, s.oh / 2, s.ow / 2, s.f};
    bool ok = true;
    for (int d = 0; d < 4; ++d) ok = ok && a.shape(d) == want[d];
    if (!ok)
        fail(what + " must have shape (n, oh // 2, ow // 2, filters) = (" + std::to_string(want[0]) + ", " +
             std::to_string(want[1]) + ", " + std::to_string(want[2]) + ", " + std::to_string(want[3]) + "), got " +
             shape_str(a));
    same_shape(a, argmax, what.substr(0, what.rfind(':')) + ": pool_argmax");
}

void conv_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
              const py::handle& y_obj, const py::object& col_obj, Pair strides, Pair dilation, Pair pads, Activation code,
              const py::object& pool_y_obj, const py::object& pool_argmax_obj) {
    const std::string fn = "conv_forward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 4), y = farray(y_obj, fn + ": y", 4);
    ConvShape s = conv_shape(x, w, y, strides, dilation, pads, fn);
    writable(y, fn + ": y");
    const float* bp = bias_of(b_obj, w, fn + ": bias");
    float* zp = nullptr;
    if (!z_obj.is_none()) {
        FArray z = farray(z_obj, fn + ": z", 4);
        same_shape(y, z, fn + ": z");
        writable(z, fn + ": z");
        zp = z.mutable_data();
    }
    auto col = conv_col(col_obj, s, fn);
    float* pyp = nullptr;
    int32_t* pap = nullptr;
    if (pool_y_obj.is_none() != pool_argmax_obj.is_none()) fail(fn + ": pass pool_y and pool_argmax together");
    if (!pool_y_obj.is_none()) {
        FArray py_ = farray(pool_y_obj, fn + ": pool_y", 4);
        IArray pa = iarray(pool_argmax_obj, fn + ": pool_argmax");
        check_pooled(py_, pa, s, fn + ": pool_y");
        writable(py_, fn + ": pool_y");
        writable(pa, fn + ": pool_argmax");
        pyp = py_.mutable_data();
        pap = pa.mutable_data();
    }
    const float *xp = x.data(), *wp = w.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    conv_forward(s, xp, wp, bp, zp, yp, col.first, col.second, act, pyp, pap);
}

void conv_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
              const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj, const py::object& db_obj,
              const py::object& col_obj, const py::object& partials_obj, Pair strides, Pair dilation, Pair pads, Activation code,
              bool dy_is_preactivation, const py::object& pool_dy_obj, const py::object& pool_argmax_obj,
              const py::object& pool_gate_obj) {
    const std::string fn = "conv_backward";
    Activation act = valid_activation(code);
    FArray x = farray(x_obj, fn + ": x", 4), w = farray(w_obj, fn + ": kernel", 4), y = farray(y_obj, fn + ": y", 4),
           dy = farray(dy_obj, fn + ": dy", 4), dw = farray(dw_obj, fn + ": dkernel", 4);
    ConvShape s = conv_shape(x, w, y, strides, dilation, pads, fn);
    same_shape(y, dy, fn + ": dy");
    same_shape(w, dw, fn + ": dkernel");
    writable(dy, fn + ": dy");
    writable(dw, fn + ": dkernel");
    const float* zp = nullptr;
    if (!z_obj.is_none()) {
        FArray z = farray(z_obj, fn + ": z", 4);
        same_shape(y, z, fn + ": z");
        zp = z.data();
    }
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail(fn + ": this activation needs the pre-activation z");
    float* dxp = nullptr;
    if (!dx_obj.is_none()) {
        FArray dx = farray(dx_obj, fn + ": dx", 4);
        same_shape(x, dx, fn + ": dx");
        writable(dx, fn + ": dx");
        dxp = dx.mutable_data();
    }
    float* dbp = nullptr;
    if (!db_obj.is_none()) {
        FArray db = farray(db_obj, fn + ": dbias", 1);
        if (db.shape(0) != w.shape(3)) fail(fn + ": dbias has shape " + shape_str(db) + ", kernel " + shape_str(w));
        writable(db, fn + ": dbias");
        dbp = db.mutable_data();
    }
    auto col = conv_col(col_obj, s, fn);
    float* pp = nullptr;
    if (col.first) {
        const int64_t need = conv_dw_partials_size(s, col.second);
        if (partials_obj.is_none()) fail(fn + ": dw_partials workspace of " + std::to_string(need) + " floats is required");
        FArray partials = farray(partials_obj, fn + ": dw_partials", 1);
        if (partials.shape(0) < need)
            fail(fn + ": dw_partials must hold at least " + std::to_string(need) + " floats, got " + shape_str(partials));
        writable(partials, fn + ": dw_partials");
        pp = partials.mutable_data();
    }
    // The gradient of the 2x2 stride-2 max pooling of y, in place of dy's contents (PooledGrad).
    PooledGrad pooled{nullptr, nullptr, nullptr};
    if (pool_dy_obj.is_none() != pool_argmax_obj.is_none()) fail(fn + ": pass pool_dy and pool_argmax together");
    if (!pool_gate_obj.is_none() && pool_dy_obj.is_none()) fail(fn + ": pool_gate needs pool_dy and pool_argmax");
    if (!pool_dy_obj.is_none()) {
        FArray pdy = farray(pool_dy_obj, fn + ": pool_dy", 4);
        IArray pa = iarray(pool_argmax_obj, fn + ": pool_argmax");
        check_pooled(pdy, pa, s, fn + ": pool_dy");
        if (act != Activation::Linear && !dy_is_preactivation)
            fail(fn + ": pool_dy is the gradient before the activation: pass dy_is_preactivation=True (or a linear activation)");
        pooled.dy = pdy.data();
        pooled.argmax = pa.data();
        if (!pool_gate_obj.is_none()) {
            FArray gate = farray(pool_gate_obj, fn + ": pool_gate", 4);
            same_shape(pdy, gate, fn + ": pool_gate");
            pooled.gate = gate.data();
        }
    }
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    float *dyp = dy.mutable_data(), *dwp = dw.mutable_data();
    ComputeScope compute;
    conv_backward(s, xp, wp, zp, yp, dyp, dxp, dwp, dbp, col.first, col.second, pp, act, dy_is_preactivation,
                  pooled.dy ? &pooled : nullptr);
}

// x (n, h, w, c) and y (n, oh, ow, c).
PoolShape pool_shape(const FArray& x, const FArray& y, const Pair& pool, const Pair& strides, const Pair& pads,
                     const std::string& fn, const char* xname, const char* yname) {
    positive(pool, fn + ": pool_size");
    positive(strides, fn + ": strides");
    non_negative(pads, fn + ": padding");
    if (x.shape(0) != y.shape(0) || x.shape(3) != y.shape(3))
        fail(fn + ": " + yname + " has shape " + shape_str(y) + ", inconsistent with " + xname + " " + shape_str(x));
    if (x.shape(1) * x.shape(2) > INT32_MAX) fail(fn + ": " + xname + " " + shape_str(x) + " is too large");
    PoolShape s;
    s.n = x.shape(0), s.h = x.shape(1), s.w = x.shape(2), s.c = x.shape(3);
    s.oh = y.shape(1), s.ow = y.shape(2);
    s.ph = pool.first, s.pw = pool.second;
    s.sh = strides.first, s.sw = strides.second;
    s.pad_top = pads.first, s.pad_left = pads.second;
    return s;
}

void max_pool_fwd(const py::handle& x_obj, const py::handle& y_obj, const py::handle& a_obj, Pair pool, Pair strides,
                  Pair pads) {
    const std::string fn = "max_pool_forward";
    FArray x = farray(x_obj, fn + ": x", 4), y = farray(y_obj, fn + ": y", 4);
    PoolShape s = pool_shape(x, y, pool, strides, pads, fn, "x", "y");
    IArray a = iarray(a_obj, fn + ": argmax");
    same_shape(y, a, fn + ": argmax");
    writable(y, fn + ": y");
    writable(a, fn + ": argmax");
    const float* xp = x.data();
    float* yp = y.mutable_data();
    int32_t* ap = a.mutable_data();
    ComputeScope compute;
    max_pool_forward(s, xp, yp, ap);
}

void max_pool_bwd(const py::handle& dy_obj, const py::handle& a_obj, const py::handle& dx_obj, Pair pool, Pair strides,
                  Pair pads, const py::handle& gate_obj) {
    const std::string fn = "max_pool_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 4), dx = farray(dx_obj, fn + ": dx", 4);
    PoolShape s = pool_shape(dx, dy, pool, strides, pads, fn, "dx", "dy");
    IArray a = iarray(a_obj, fn + ": argmax");
    same_shape(dy, a, fn + ": argmax");
    writable(dx, fn + ": dx");
    FArray gate;
    if (!gate_obj.is_none()) {
        gate = farray(gate_obj, fn + ": gate", 4);
        same_shape(dy, gate, fn + ": gate");
    }
    const float* dyp = dy.data();
    const int32_t* ap = a.data();
    const float* gp = gate_obj.is_none() ? nullptr : gate.data();
    float* dxp = dx.mutable_data();
    ComputeScope compute;
    max_pool_backward(s, dyp, ap, dxp, gp);
}

void avg_pool_fwd(const py::handle& x_obj, const py::handle& y_obj, Pair pool, Pair strides, Pair pads) {
    const std::string fn = "avg_pool_forward";
    FArray x = farray(x_obj, fn + ": x", 4), y = farray(y_obj, fn + ": y", 4);
    PoolShape s = pool_shape(x, y, pool, strides, pads, fn, "x", "y");
    writable(y, fn + ": y");
    const float* xp = x.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    avg_pool_forward(s, xp, yp);
}

void avg_pool_bwd(const py::handle& dy_obj, const py::handle& dx_obj, Pair pool, Pair strides, Pair pads) {
    const std::string fn = "avg_pool_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 4), dx = farray(dx_obj, fn + ": dx", 4);
    PoolShape s = pool_shape(dx, dy, pool, strides, pads, fn, "dx", "dy");
    writable(dx, fn + ": dx");
    const float* dyp = dy.data();
    float* dxp = dx.mutable_data();
    ComputeScope compute;
    avg_pool_backward(s, dyp, dxp);
}

// x (n, l, c) and y (n, c).
void global_shapes(const FArray& x, const FArray& y, const std::string& fn, const char* xname, const char* yname) {
    if (y.shape(0) != x.shape(0) || y.shape(1) != x.shape(2))
        fail(fn + ": " + yname + " must have shape (" + std::to_string(x.shape(0)) + ", " + std::to_string(x.shape(2)) +
             "), got " + shape_str(y) + " for " + xname + " " + shape_str(x));
    if (x.shape(1) > INT32_MAX) fail(fn + ": " + xname + " " + shape_str(x) + " is too large");
}

void gap_fwd(const py::handle& x_obj, const py::handle& y_obj) {
    const std::string fn = "global_avg_pool_forward";
    FArray x = farray(x_obj, fn + ": x", 3), y = farray(y_obj, fn + ": y", 2);
    global_shapes(x, y, fn, "x", "y");
    writable(y, fn + ": y");
    const float* xp = x.data();
    float* yp = y.mutable_data();
    int64_t n = x.shape(0), l = x.shape(1), c = x.shape(2);
    ComputeScope compute;
    global_avg_pool_forward(xp, yp, n, l, c);
}

void gap_bwd(const py::handle& dy_obj, const py::handle& dx_obj) {
    const std::string fn = "global_avg_pool_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 2), dx = farray(dx_obj, fn + ": dx", 3);
    global_shapes(dx, dy, fn, "dx", "dy");
    writable(dx, fn + ": dx");
    const float* dyp = dy.data();
    float* dxp = dx.mutable_data();
    int64_t n = dx.shape(0), l = dx.shape(1), c = dx.shape(2);
    ComputeScope compute;
    global_avg_pool_backward(dyp, dxp, n, l, c);
}

void gmp_fwd(const py::handle& x_obj, const py::handle& y_obj, const py::handle& a_obj) {
    const std::string fn = "global_max_pool_forward";
    FArray x = farray(x_obj, fn + ": x", 3), y = farray(y_obj, fn + ": y", 2);
    global_shapes(x, y, fn, "x", "y");
    IArray a = iarray(a_obj, fn + ": argmax");
    same_shape(y, a, fn + ": argmax");
    writable(y, fn + ": y");
    writable(a, fn + ": argmax");
    const float* xp = x.data();
    float* yp = y.mutable_data();
    int32_t* ap = a.mutable_data();
    int64_t n = x.shape(0), l = x.shape(1), c = x.shape(2);
    ComputeScope compute;
    global_max_pool_forward(xp, yp, ap, n, l, c);
}

void gmp_bwd(const py::handle& dy_obj, const py::handle& a_obj, const py::handle& dx_obj) {
    const std::string fn = "global_max_pool_backward";
    FArray dy = farray(dy_obj, fn + ": dy", 2), dx = farray(dx_obj, fn + ": dx", 3);
    global_shapes(dx, dy, fn, "dx", "dy");
    IArray a = iarray(a_obj, fn + ": argmax");
    same_shape(dy, a, fn + ": argmax");
    writable(dx, fn + ": dx");
    const float* dyp = dy.data();
    const int32_t* ap = a.data();
    float* dxp = dx.mutable_data();
    int64_t n = dx.shape(0), l = dx.shape(1), c = dx.shape(2);
    ComputeScope compute;
    global_max_pool_backward(dyp, ap, dxp, n, l, c);
}

}  // namespace

void bind_conv(py::module_& m) {
    m.def("conv_forward", &conv_fwd, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("z"), py::arg("y"),
          py::arg("col"), py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"),
          py::arg("pool_y") = py::none(), py::arg("pool_argmax") = py::none(),
          "y (n, oh, ow, f) = act(conv(x (n, h, w, c), kernel (kh, kw, c, f)) + bias); pads = (top, left); col is the "
          "im2col workspace (rows >= oh*ow, kh*kw*c), None only for a 1x1 unpadded stride-1 kernel. With pool_y "
          "(n, oh // 2, ow // 2, f) and pool_argmax (int32, same shape): also the 2x2 stride-2 max pooling of y, as "
          "max_pool_forward gives it, and y's contents are then unspecified (a Winograd convolution never writes "
          "it).");
    m.def("conv_backward", &conv_bwd, py::arg("x"), py::arg("kernel"), py::arg("z"), py::arg("y"), py::arg("dy"),
          py::arg("dx"), py::arg("dkernel"), py::arg("dbias"), py::arg("col"), py::arg("dw_partials"), py::arg("strides"),
          py::arg("dilation_rate"), py::arg("pads"), py::arg("activation"), py::arg("dy_is_preactivation"),
          py::arg("pool_dy") = py::none(), py::arg("pool_argmax") = py::none(), py::arg("pool_gate") = py::none(),
          "The gradients of conv_forward: dkernel, dbias (optional) and dx (optional) from dy, the gradient of y "
          "(overwritten with that of the pre-activation unless dy_is_preactivation). With pool_dy (n, oh // 2, ow // 2, "
          "f), pool_argmax (int32) and optionally pool_gate, the same shape: dy's contents are instead the scatter of "
          "that 2x2 stride-2 max pooling's gradient, as max_pool_backward(pool_dy, pool_argmax, dy, gate=pool_gate) "
          "forms it (dy_is_preactivation or a linear activation); a Winograd convolution reads them in place and "
          "leaves dy unwritten, others scatter them into dy first. The same bits either way.");
    m.attr("conv_dw_block_rows") = kConvDwBlockRows;
    m.def(
        "conv_dw_partials_size",
        [](int64_t n, int64_t oh, int64_t ow, int64_t kh, int64_t kw, int64_t c, int64_t f) {
            if (n < 0 || oh < 0 || ow < 0 || kh < 1 || kw < 1 || c < 0 || f < 0)
                fail("conv_dw_partials_size: sizes must be non-negative (kernel sizes positive)");
            ConvShape s{};
            s.n = n, s.oh = oh, s.ow = ow, s.kh = kh, s.kw = kw, s.c = c, s.f = f;
            return conv_dw_partials_size(s);
        },
        py::arg("n"), py::arg("oh"), py::arg("ow"), py::arg("kh"), py::arg("kw"), py::arg("c"), py::arg("f"),
        "Floats of the dw_partials workspace conv_backward needs for these sizes.");
    m.def(
        "conv_algo", [] { return std::string(conv_algo_name(conv_algo())); },
        "The convolution algorithm setting: 'auto' (a fixed rule per shape), 'tune' (measured per shape and "
        "pass), 'im2col', 'direct', 'winograd2', 'winograd4' or 'winograd6' (SEQNET_CONV_ALGO at first use, or "
        "set_conv_algo).");
    m.def(
        "set_conv_algo",
        [](const std::string& name) {
            ConvAlgo algo;
            if (!conv_algo_from_name(name.c_str(), &algo))
                fail("set_conv_algo: algo must be one of 'auto', 'tune', 'im2col', 'direct', 'winograd', 'winograd2', "
                     "'winograd4', 'winograd6', got '" + name + "'");
            return std::string(conv_algo_name(set_conv_algo(algo)));
        },
        py::arg("algo"),
        "Sets the algorithm of 3x3 stride-1 convolutions ('winograd' is 'winograd4'); returns the previous setting.");
    m.def(
        "conv_algo_rule",
        [](const FArray& x, const FArray& w, const FArray& y, const Pair& strides, const Pair& dilation,
           const Pair& pads) {
            return std::string(conv_algo_name(conv_algo_rule(conv_shape(x, w, y, strides, dilation, pads, "conv_algo_rule"))));
        },
        py::arg("x"), py::arg("kernel"), py::arg("y"), py::arg("strides"), py::arg("dilation_rate"), py::arg("pads"),
        "The algorithm the 'auto' setting runs for this convolution (as conv_forward's arguments; the input "
        "gradient runs as the forward convolution of dy by the flipped kernel): 'im2col', 'direct', 'winograd2' "
        "or 'winograd4'.");
    m.def(
        "conv_algo_choices",
        [] {
            static const char* passes[] = {"forward", "input_grad", "kernel_grad"};
            py::list out;
            for (const ConvAlgoChoice& c : conv_algo_choices()) {
                const ConvShape& s = c.shape;
                py::dict seconds;
                for (ConvAlgo a : {ConvAlgo::Im2col, ConvAlgo::Direct, ConvAlgo::Winograd2, ConvAlgo::Winograd4,
                                   ConvAlgo::Winograd6})
                    seconds[conv_algo_name(a)] = c.seconds[static_cast<int>(a)];
                py::dict d;
                d["input"] = py::make_tuple(s.n, s.h, s.w, s.c);
                d["output"] = py::make_tuple(s.n, s.oh, s.ow, s.f);
                d["pads"] = py::make_tuple(s.pad_top, s.pad_left);
                d["pass"] = passes[static_cast<int>(c.pass)];
                d["threads"] = c.threads;
                d["algo"] = conv_algo_name(c.algo);
                d["seconds"] = seconds;
                out.append(d);
            }
            return out;
        },
        "The choices measured so far in this process (setting 'tune'): one dict per shape, pass and thread count.");
    m.def("clear_conv_algo_choices", &clear_conv_algo_choices, "Forgets the measured choices (they are measured again).");
    m.def("max_pool_forward", &max_pool_fwd, py::arg("x"), py::arg("y"), py::arg("argmax"), py::arg("pool_size"),
          py::arg("strides"), py::arg("pads"));
    m.def("max_pool_backward", &max_pool_bwd, py::arg("dy"), py::arg("argmax"), py::arg("dx"), py::arg("pool_size"),
          py::arg("strides"), py::arg("pads"), py::arg("gate") = py::none(),
          "dx of max pooling; with gate (the forward's output, when its input came out of a ReLU) the gradient "
          "before that ReLU: a window's gradient reaches its argmax only where the gate is not <= 0.");
    m.def("avg_pool_forward", &avg_pool_fwd, py::arg("x"), py::arg("y"), py::arg("pool_size"), py::arg("strides"),
          py::arg("pads"));
    m.def("avg_pool_backward", &avg_pool_bwd, py::arg("dy"), py::arg("dx"), py::arg("pool_size"), py::arg("strides"),
          py::arg("pads"));
    m.def("global_avg_pool_forward", &gap_fwd, py::arg("x"), py::arg("y"));
    m.def("global_avg_pool_backward", &gap_bwd, py::arg("dy"), py::arg("dx"));
    m.def("global_max_pool_forward", &gmp_fwd, py::arg("x"), py::arg("y"), py::arg("argmax"));
    m.def("global_max_pool_backward", &gmp_bwd, py::arg("dy"), py::arg("argmax"), py::arg("dx"));
}

}  // namespace seqnet
