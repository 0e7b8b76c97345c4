// Bindings of the layer, loss, optimizer and random kernels. Every shape is checked here
// so that no call from Python can make a kernel read or write out of bounds.
#include <string>
#include <vector>

#include "bindings.h"
#include "seqnet/activation.h"
#include "seqnet/dense.h"
#include "seqnet/gather.h"
#include "seqnet/loss.h"
#include "seqnet/optim.h"
#include "seqnet/random.h"

namespace seqnet {
namespace {

// A (rows, cols) view of an array of any rank >= 1: cols is the last axis.
struct Matrix {
    int64_t rows, cols;
};
Matrix as_matrix(const py::array& a) {
    if (a.ndim() < 1) fail("expected an array with at least one dimension, got a scalar");
    int64_t cols = a.shape(a.ndim() - 1);
    return {cols ? static_cast<int64_t>(a.size()) / cols : 0, cols};
}

float* optional_out(const py::object& obj, const py::array& like, const char* what) {
    if (obj.is_none()) return nullptr;
    FArray a = checked(obj, what);
    same_shape(like, a, what);
    writable(a, what);
    return a.mutable_data();
}

const float* optional_in(const py::object& obj, const py::array& like, const char* what) {
    if (obj.is_none()) return nullptr;
    FArray a = checked(obj, what);
    same_shape(like, a, what);
    return a.data();
}

void act_forward(Activation code, const py::handle& x_obj, const py::handle& y_obj) {
    Activation act = valid_activation(code);
    FArray x = checked(x_obj, "activation_forward: x"), y = checked(y_obj, "activation_forward: y");
    same_shape(x, y, "activation_forward: y");
    writable(y, "activation_forward: y");
    Matrix m = as_matrix(x);
    const float* xp = x.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    activation_forward(act, xp, yp, m.rows, m.cols);
}

void act_backward(Activation code, const py::object& x_obj, const py::handle& y_obj, const py::handle& dy_obj,
                  const py::handle& dx_obj) {
    Activation act = valid_activation(code);
    FArray y = checked(y_obj, "activation_backward: y"), dy = checked(dy_obj, "activation_backward: dy"),
           dx = checked(dx_obj, "activation_backward: dx");
    same_shape(y, dy, "activation_backward: dy");
    same_shape(y, dx, "activation_backward: dx");
    writable(dx, "activation_backward: dx");
    const float* xp = optional_in(x_obj, y, "activation_backward: x");
    if (!xp && activation_backward_needs_input(act)) fail("activation_backward: this activation needs x");
    Matrix m = as_matrix(y);
    const float *yp = y.data(), *dyp = dy.data();
    float* dxp = dx.mutable_data();
    ComputeScope compute;
    activation_backward(act, xp, yp, dyp, dxp, m.rows, m.cols);
}

void add_act_forward(Activation code, const py::sequence& xs_obj, const py::object& z_obj, const py::handle& y_obj) {
    Activation act = valid_activation(code);
    if (act == Activation::Softmax) fail("add_activation_forward: act must be elementwise, got softmax");
    FArray y = checked(y_obj, "add_activation_forward: y");
    writable(y, "add_activation_forward: y");
    const py::ssize_t count = py::len(xs_obj);
    if (count < 2) fail("add_activation_forward: xs must hold at least 2 arrays, got " + std::to_string(count));
    std::vector<FArray> xs;
    std::vector<const float*> ptrs;
    for (py::ssize_t i = 0; i < count; ++i) {
        const std::string what = "add_activation_forward: xs[" + std::to_string(i) + "]";
        xs.push_back(checked(xs_obj[i], what.c_str()));
        same_shape(y, xs.back(), what);
        ptrs.push_back(xs.back().data());
    }
    float* zp = optional_out(z_obj, y, "add_activation_forward: z");
    float* yp = y.mutable_data();
    ComputeScope compute;
    add_activation_forward(act, ptrs.data(), int64_t(count), zp, yp, int64_t(y.size()));
}

// x (..., in), w (in, out), y (..., out): Dense applies to the last axis.
Matrix dense_shapes(const FArray& x, const FArray& w, const FArray& y, const char* fn) {
    if (w.ndim() != 2) fail(std::string(fn) + ": kernel must be 2-D, got " + shape_str(w));
    Matrix m = as_matrix(x);
    if (m.cols != w.shape(0))
        fail(std::string(fn) + ": input's last axis is " + std::to_string(m.cols) + " but the kernel has shape " +
             shape_str(w));
    Matrix o = as_matrix(y);
    if (o.rows != m.rows || o.cols != w.shape(1) || y.ndim() != x.ndim())
        fail(std::string(fn) + ": output has shape " + shape_str(y) + ", inconsistent with input " + shape_str(x) +
             " and kernel " + shape_str(w));
    return m;
}

void dense_fwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj, const py::object& z_obj,
               const py::handle& y_obj, Activation code) {
    Activation act = valid_activation(code);
    FArray x = checked(x_obj, "dense_forward: x"), w = checked(w_obj, "dense_forward: kernel"),
           y = checked(y_obj, "dense_forward: y");
    Matrix m = dense_shapes(x, w, y, "dense_forward");
    writable(y, "dense_forward: y");
    const float* bp = nullptr;
    if (!b_obj.is_none()) {
        FArray b = checked(b_obj, "dense_forward: bias", 1);
        if (b.shape(0) != w.shape(1)) fail("dense_forward: bias has shape " + shape_str(b) + ", kernel " + shape_str(w));
        bp = b.data();
    }
    float* zp = optional_out(z_obj, y, "dense_forward: z");
    const float *xp = x.data(), *wp = w.data();
    float* yp = y.mutable_data();
    int64_t out = w.shape(1);
    ComputeScope compute;
    dense_forward(xp, wp, bp, zp, yp, m.rows, m.cols, out, act);
}

void dense_bwd(const py::handle& x_obj, const py::handle& w_obj, const py::object& z_obj, const py::handle& y_obj,
               const py::handle& dy_obj, const py::object& dx_obj, const py::handle& dw_obj, const py::object& db_obj,
               Activation code, bool dy_is_preactivation) {
    Activation act = valid_activation(code);
    FArray x = checked(x_obj, "dense_backward: x"), w = checked(w_obj, "dense_backward: kernel"),
           y = checked(y_obj, "dense_backward: y"), dy = checked(dy_obj, "dense_backward: dy"),
           dw = checked(dw_obj, "dense_backward: dkernel");
    Matrix m = dense_shapes(x, w, y, "dense_backward");
    same_shape(y, dy, "dense_backward: dy");
    same_shape(w, dw, "dense_backward: dkernel");
    writable(dy, "dense_backward: dy");
    writable(dw, "dense_backward: dkernel");
    const float* zp = optional_in(z_obj, y, "dense_backward: z");
    if (!zp && !dy_is_preactivation && activation_backward_needs_input(act))
        fail("dense_backward: this activation needs the pre-activation z");
    float* dxp = optional_out(dx_obj, x, "dense_backward: dx");
    float* dbp = nullptr;
    if (!db_obj.is_none()) {
        FArray db = checked(db_obj, "dense_backward: dbias", 1);
        if (db.shape(0) != w.shape(1)) fail("dense_backward: dbias has shape " + shape_str(db));
        writable(db, "dense_backward: dbias");
        dbp = db.mutable_data();
    }
    const float *xp = x.data(), *wp = w.data(), *yp = y.data();
    float *dyp = dy.mutable_data(), *dwp = dw.mutable_data();
    int64_t out = w.shape(1);
    ComputeScope compute;
    dense_backward(xp, wp, zp, yp, dyp, dxp, dwp, dbp, m.rows, m.cols, out, act, dy_is_preactivation);
}

float loss_fb(Loss code, const py::handle& yt_obj, const py::handle& yp_obj, const py::object& logits_obj,
              const py::object& sw_obj, const py::object& grad_obj, const py::object& per_sample_obj) {
    Loss loss = valid_loss(code);
    FArray yt = checked(yt_obj, "loss: y_true"), yp = checked(yp_obj, "loss: y_pred");
    Matrix m = as_matrix(yp);
    if (loss == Loss::SparseCategoricalCrossentropy) {
        if (yt.size() != m.rows)
            fail("loss: sparse labels must have one entry per row of y_pred " + shape_str(yp) + ", got " + shape_str(yt));
        const float* lab = yt.data();
        for (int64_t i = 0; i < m.rows; ++i)
            if (!(lab[i] >= 0.0f && lab[i] < static_cast<float>(m.cols) && lab[i] == static_cast<float>(static_cast<int64_t>(lab[i]))))
                fail("loss: sparse label " + std::to_string(lab[i]) + " is not a class index in [0, " +
                     std::to_string(m.cols) + ")");
    } else {
        same_shape(yp, yt, "loss: y_true");
    }
    const float* lp = optional_in(logits_obj, yp, "loss: logits");
    float* gp = optional_out(grad_obj, yp, "loss: grad");
    const float* swp = nullptr;
    if (!sw_obj.is_none()) {
        FArray sw = checked(sw_obj, "loss: sample_weight");
        if (sw.size() != m.rows) fail("loss: sample_weight needs " + std::to_string(m.rows) + " entries, got " + shape_str(sw));
        swp = sw.data();
    }
    float* psp = nullptr;
    if (!per_sample_obj.is_none()) {
        FArray ps = checked(per_sample_obj, "loss: per_sample");
        if (ps.size() != m.rows) fail("loss: per_sample needs " + std::to_string(m.rows) + " entries, got " + shape_str(ps));
        writable(ps, "loss: per_sample");
        psp = ps.mutable_data();
    }
    const float *ytp = yt.data(), *ypp = yp.data();
    ComputeScope compute;
    return loss_forward_backward(loss, ytp, ypp, lp, m.rows, m.cols, swp, gp, psp);
}

double accuracy(Accuracy code, const py::handle& yt_obj, const py::handle& yp_obj, float threshold) {
    Accuracy kind = valid_accuracy(code);
    FArray yt = checked(yt_obj, "accuracy: y_true"), yp = checked(yp_obj, "accuracy: y_pred");
    Matrix m = as_matrix(yp);
    if (kind == Accuracy::SparseCategorical) {
        if (yt.size() != m.rows) fail("accuracy: sparse labels " + shape_str(yt) + " do not match y_pred " + shape_str(yp));
    } else {
        same_shape(yp, yt, "accuracy: y_true");
    }
    ComputeScope compute;
    return accuracy_sum(kind, yt.data(), yp.data(), m.rows, m.cols, threshold);
}

void sgd(const py::handle& p_obj, const py::handle& g_obj, const py::object& v_obj, float lr, float momentum,
         bool nesterov) {
    FArray p = checked(p_obj, "sgd_update: params"), g = checked(g_obj, "sgd_update: grads");
    same_shape(p, g, "sgd_update: grads");
    writable(p, "sgd_update: params");
    float* vp = optional_out(v_obj, p, "sgd_update: moments");
    float* pp = p.mutable_data();
    const float* gp = g.data();
    ComputeScope compute;
    sgd_update(pp, gp, vp, p.size(), lr, momentum, nesterov);
}

void rmsprop(const py::handle& p_obj, const py::handle& g_obj, const py::handle& a_obj, const py::object& mom_obj,
             const py::object& mg_obj, float lr, float rho, float momentum, float epsilon) {
    FArray p = checked(p_obj, "rmsprop_update: params"), g = checked(g_obj, "rmsprop_update: grads"),
           a = checked(a_obj, "rmsprop_update: accumulators");
    same_shape(p, g, "rmsprop_update: grads");
    same_shape(p, a, "rmsprop_update: accumulators");
    writable(p, "rmsprop_update: params");
    writable(a, "rmsprop_update: accumulators");
    float* momp = optional_out(mom_obj, p, "rmsprop_update: moments");
    float* mgp = optional_out(mg_obj, p, "rmsprop_update: mean_grads");
    float *pp = p.mutable_data(), *ap = a.mutable_data();
    const float* gp = g.data();
    ComputeScope compute;
    rmsprop_update(pp, gp, ap, momp, mgp, p.size(), lr, rho, momentum, epsilon);
}

// rows and skipped (int64, one per row): rows strictly increasing in [0, table_rows),
// skipped >= 0. Returns their length.
int64_t checked_rows(const Int64Array& rows, const Int64Array& skipped, int64_t table_rows, const std::string& fn) {
    if (rows.ndim() != 1 || skipped.ndim() != 1 || rows.size() != skipped.size())
        fail(fn + ": rows and skipped must be 1-D and of one length, got " + shape_str(rows) + " and " +
             shape_str(skipped));
    const int64_t n = rows.size(), *k = skipped.data();
    check_increasing_rows(rows.data(), n, table_rows, fn + ": rows must be strictly increasing");
    for (int64_t i = 0; i < n; ++i)
        if (k[i] < 0) fail(fn + ": skipped must be >= 0, got " + std::to_string(k[i]) + " at position " + std::to_string(i));
    return n;
}

void rmsprop_rows(const py::handle& p_obj, const py::handle& g_obj, const py::handle& a_obj, const Int64Array& rows,
                  const Int64Array& skipped, float lr, float rho, float epsilon) {
    const std::string fn = "rmsprop_update_rows";
    FArray p = checked(p_obj, (fn + ": params").c_str(), 2), g = checked(g_obj, (fn + ": grads").c_str(), 2),
           a = checked(a_obj, (fn + ": accumulators").c_str(), 2);
    same_shape(p, g, fn + ": grads");
    same_shape(p, a, fn + ": accumulators");
    writable(p, fn + ": params");
    writable(a, fn + ": accumulators");
    const int64_t n = checked_rows(rows, skipped, p.shape(0), fn);
    float *pp = p.mutable_data(), *ap = a.mutable_data();
    const float* gp = g.data();
    ComputeScope compute;
    rmsprop_update_rows(pp, gp, ap, p.shape(1), rows.data(), skipped.data(), n, lr, rho, epsilon);
}

void rmsprop_decay(const py::handle& a_obj, const Int64Array& rows, const Int64Array& skipped, float rho) {
    const std::string fn = "rmsprop_decay_rows";
    FArray a = checked(a_obj, (fn + ": accumulators").c_str(), 2);
    writable(a, fn + ": accumulators");
    const int64_t n = checked_rows(rows, skipped, a.shape(0), fn);
    float* ap = a.mutable_data();
    ComputeScope compute;
    rmsprop_decay_rows(ap, a.shape(1), rows.data(), skipped.data(), n, rho);
}

// A required optimizer slot: float32, C-contiguous, the shape of params, writable.
float* slot(const py::handle& obj, const py::array& params, const char* what) {
    FArray a = checked(obj, what);
    same_shape(params, a, what);
    writable(a, what);
    return a.mutable_data();
}

// params (writable) and grads of the same shape, the two arguments every update takes.
struct Update {
    FArray p, g;
    Update(const py::handle& p_obj, const py::handle& g_obj, const std::string& fn)
        : p(checked(p_obj, (fn + ": params").c_str())), g(checked(g_obj, (fn + ": grads").c_str())) {
        same_shape(p, g, (fn + ": grads").c_str());
        writable(p, (fn + ": params").c_str());
    }
};

void adagrad(const py::handle& p_obj, const py::handle& g_obj, const py::handle& a_obj, float lr, float epsilon) {
    Update u(p_obj, g_obj, "adagrad_update");
    float* ap = slot(a_obj, u.p, "adagrad_update: accumulators");
    float* pp = u.p.mutable_data();
    const float* gp = u.g.data();
    ComputeScope compute;
    adagrad_update(pp, gp, ap, u.p.size(), lr, epsilon);
}

void adadelta(const py::handle& p_obj, const py::handle& g_obj, const py::handle& a_obj, const py::handle& d_obj,
              float lr, float rho, float epsilon) {
    Update u(p_obj, g_obj, "adadelta_update");
    float* ap = slot(a_obj, u.p, "adadelta_update: accumulators");
    float* dp = slot(d_obj, u.p, "adadelta_update: delta_accumulators");
    float* pp = u.p.mutable_data();
    const float* gp = u.g.data();
    ComputeScope compute;
    adadelta_update(pp, gp, ap, dp, u.p.size(), lr, rho, epsilon);
}

void adam(const py::handle& p_obj, const py::handle& g_obj, const py::handle& m_obj, const py::handle& v_obj,
          const py::object& vhat_obj, float lr_t, float beta_1, float beta_2, float epsilon) {
    Update u(p_obj, g_obj, "adam_update");
    float* mp = slot(m_obj, u.p, "adam_update: m");
    float* vp = slot(v_obj, u.p, "adam_update: v");
    float* vhatp = optional_out(vhat_obj, u.p, "adam_update: vhat");
    float* pp = u.p.mutable_data();
    const float* gp = u.g.data();
    ComputeScope compute;
    adam_update(pp, gp, mp, vp, vhatp, u.p.size(), lr_t, beta_1, beta_2, epsilon);
}

void adamax(const py::handle& p_obj, const py::handle& g_obj, const py::handle& m_obj, const py::handle& u_obj,
            float lr_t, float beta_1, float beta_2, float epsilon) {
    Update u(p_obj, g_obj, "adamax_update");
    float* mp = slot(m_obj, u.p, "adamax_update: m");
    float* up = slot(u_obj, u.p, "adamax_update: u");
    float* pp = u.p.mutable_data();
    const float* gp = u.g.data();
    ComputeScope compute;
    adamax_update(pp, gp, mp, up, u.p.size(), lr_t, beta_1, beta_2, epsilon);
}

void nadam(const py::handle& p_obj, const py::handle& g_obj, const py::handle& m_obj, const py::handle& v_obj,
           float lr, float beta_1, float beta_2, float epsilon, float grad_coef, float moment_coef,
           float v_correction) {
    Update u(p_obj, g_obj, "nadam_update");
    float* mp = slot(m_obj, u.p, "nadam_update: m");
    float* vp = slot(v_obj, u.p, "nadam_update: v");
    float* pp = u.p.mutable_data();
    const float* gp = u.g.data();
    ComputeScope compute;
    nadam_update(pp, gp, mp, vp, u.p.size(), lr, beta_1, beta_2, epsilon, grad_coef, moment_coef, v_correction);
}

using U8Array = py::array_t<uint8_t, py::array::c_style>;

U8Array checked_mask(const py::handle& obj, const py::array& like, const char* what) {
    if (!U8Array::check_(obj)) fail(std::string(what) + ": expected a C-contiguous uint8 array");
    auto m = py::reinterpret_borrow<U8Array>(obj);
    if (m.size() != like.size()) fail(std::string(what) + ": expected " + std::to_string(like.size()) + " entries, got " + shape_str(m));
    return m;
}

void check_offset(int64_t offset, const char* what) {
    if (offset < 0) fail(std::string(what) + ": offset must be >= 0, got " + std::to_string(offset));
}

void dropout_fwd(const py::handle& x_obj, const py::handle& y_obj, const py::handle& mask_obj, float rate,
                 uint64_t key, uint64_t stream, int64_t offset) {
    check_offset(offset, "dropout_forward");
    FArray x = checked(x_obj, "dropout_forward: x"), y = checked(y_obj, "dropout_forward: y");
    same_shape(x, y, "dropout_forward: y");
    writable(y, "dropout_forward: y");
    U8Array mask = checked_mask(mask_obj, x, "dropout_forward: mask");
    writable(mask, "dropout_forward: mask");
    if (!(rate >= 0.0f && rate < 1.0f)) fail("dropout_forward: rate must be in [0, 1), got " + std::to_string(rate));
    const float* xp = x.data();
    float* yp = y.mutable_data();
    uint8_t* mp = mask.mutable_data();
    ComputeScope compute;
    dropout_forward(xp, yp, mp, x.size(), rate, key, stream, offset);
}

void dropout_bwd(const py::handle& dy_obj, const py::handle& mask_obj, const py::handle& dx_obj, float rate) {
    FArray dy = checked(dy_obj, "dropout_backward: dy"), dx = checked(dx_obj, "dropout_backward: dx");
    same_shape(dy, dx, "dropout_backward: dx");
    writable(dx, "dropout_backward: dx");
    U8Array mask = checked_mask(mask_obj, dy, "dropout_backward: mask");
    if (!(rate >= 0.0f && rate < 1.0f)) fail("dropout_backward: rate must be in [0, 1), got " + std::to_string(rate));
    const float* dyp = dy.data();
    const uint8_t* mp = mask.data();
    float* dxp = dx.mutable_data();
    ComputeScope compute;
    dropout_backward(dyp, mp, dxp, dy.size(), rate);
}

template <void (*Fill)(float*, int64_t, float, float, uint64_t, uint64_t)>
void fill(const py::handle& out_obj, float a, float b, uint64_t key, uint64_t stream) {
    FArray out = checked(out_obj, "random: out");
    writable(out, "random: out");
    float* op = out.mutable_data();
    int64_t n = out.size();
    ComputeScope compute;
    Fill(op, n, a, b, key, stream);
}

// out[i] = element offset + i of the stream (a slice of a larger draw).
template <void (*Fill)(float*, int64_t, float, float, uint64_t, uint64_t, int64_t)>
void fill_at(const py::handle& out_obj, float a, float b, uint64_t key, uint64_t stream, int64_t offset) {
    check_offset(offset, "random");
    FArray out = checked(out_obj, "random: out");
    writable(out, "random: out");
    float* op = out.mutable_data();
    int64_t n = out.size();
    ComputeScope compute;
    Fill(op, n, a, b, key, stream, offset);
}

void gather(const py::handle& src_obj, const py::handle& idx_obj, const py::handle& dst_obj) {
    FArray src = checked(src_obj, "gather_rows: src"), dst = checked(dst_obj, "gather_rows: dst");
    using IArray = py::array_t<int64_t, py::array::c_style>;
    if (!IArray::check_(idx_obj)) fail("gather_rows: index must be a C-contiguous int64 array");
    auto idx = py::reinterpret_borrow<IArray>(idx_obj);
    if (src.ndim() < 1 || dst.ndim() != src.ndim() || idx.ndim() != 1 || dst.shape(0) != idx.shape(0))
        fail("gather_rows: src " + shape_str(src) + ", index " + shape_str(idx) + " and dst " + shape_str(dst) +
             " do not fit together");
    for (py::ssize_t i = 1; i < src.ndim(); ++i)
        if (src.shape(i) != dst.shape(i)) fail("gather_rows: rows of src " + shape_str(src) + " and dst " + shape_str(dst) + " differ");
    writable(dst, "gather_rows: dst");
    int64_t row_len = src.shape(0) ? src.size() / src.shape(0) : 0;
    bool ok;
    {
        const float* sp = src.data();
        const int64_t* ip = idx.data();
        float* dp = dst.mutable_data();
        ComputeScope compute;
        ok = gather_rows(sp, src.shape(0), row_len, ip, idx.shape(0), dp);
    }
    if (!ok) fail("gather_rows: an index is outside [0, " + std::to_string(src.shape(0)) + ")");
}

}  // namespace

void bind_nn(py::module_& m) {
    using py::arg;
    m.def("activation_forward", &act_forward, arg("act"), arg("x"), arg("y"));
    m.def("activation_backward", &act_backward, arg("act"), arg("x"), arg("y"), arg("dy"), arg("dx"));
    m.def("add_activation_forward", &add_act_forward, arg("act"), arg("xs"), arg("z"), arg("y"),
          "y = act(xs[0] + xs[1] + ...) in one pass (the sum in input order), and z = the sum unless None: "
          "an Add merge with the elementwise Activation after it fused in.");
    m.def("activation_backward_needs_input",
          [](Activation act) { return activation_backward_needs_input(valid_activation(act)); }, arg("act"),
          "True when the activation's gradient needs its input (swish, gelu), not only its output.");
    m.def("dense_forward", &dense_fwd, arg("x"), arg("kernel"), arg("bias"), arg("z"), arg("y"), arg("act"));
    m.def("dense_backward", &dense_bwd, arg("x"), arg("kernel"), arg("z"), arg("y"), arg("dy"), arg("dx"),
          arg("dkernel"), arg("dbias"), arg("act"), arg("dy_is_preactivation"));
    m.def("loss", &loss_fb, arg("loss"), arg("y_true"), arg("y_pred"), arg("logits"), arg("sample_weight"),
          arg("grad"), arg("per_sample"));
    m.def("accuracy_sum", &accuracy, arg("kind"), arg("y_true"), arg("y_pred"), arg("threshold") = 0.5f);
    m.def("sgd_update", &sgd, arg("params"), arg("grads"), arg("moments"), arg("lr"), arg("momentum"), arg("nesterov"));
    m.def("rmsprop_update", &rmsprop, arg("params"), arg("grads"), arg("accumulators"), arg("moments"),
          arg("mean_grads"), arg("lr"), arg("rho"), arg("momentum"), arg("epsilon"));
    m.def("rmsprop_update_rows", &rmsprop_rows, arg("params"), arg("grads"), arg("accumulators"), arg("rows"),
          arg("skipped"), arg("lr"), arg("rho"), arg("epsilon"),
          "Plain RMSprop on rows `rows` (int64, increasing) of (rows, dim) blocks, each row's accumulator first "
          "decayed through `skipped` zero-gradient steps: the dense update's bits for an Embedding table's "
          "touched rows.");
    m.def("rmsprop_decay_rows", &rmsprop_decay, arg("accumulators"), arg("rows"), arg("skipped"), arg("rho"),
          "a = rho * a, `skipped` times, on rows `rows` (int64, increasing) of a (rows, dim) block.");
    m.def("adagrad_update", &adagrad, arg("params"), arg("grads"), arg("accumulators"), arg("lr"), arg("epsilon"));
    m.def("adadelta_update", &adadelta, arg("params"), arg("grads"), arg("accumulators"), arg("delta_accumulators"),
          arg("lr"), arg("rho"), arg("epsilon"));
    m.def("adam_update", &adam, arg("params"), arg("grads"), arg("m"), arg("v"), arg("vhat"), arg("lr_t"),
          arg("beta_1"), arg("beta_2"), arg("epsilon"));
    m.def("adamax_update", &adamax, arg("params"), arg("grads"), arg("m"), arg("u"), arg("lr_t"), arg("beta_1"),
          arg("beta_2"), arg("epsilon"));
    m.def("nadam_update", &nadam, arg("params"), arg("grads"), arg("m"), arg("v"), arg("lr"), arg("beta_1"),
          arg("beta_2"), arg("epsilon"), arg("grad_coef"), arg("moment_coef"), arg("v_correction"));
    m.def("dropout_forward", &dropout_fwd, arg("x"), arg("y"), arg("mask"), arg("rate"), arg("key"), arg("stream"),
          arg("offset") = 0);
    m.def("dropout_backward", &dropout_bwd, arg("dy"), arg("mask"), arg("dx"), arg("rate"));
    m.def("random_uniform", &fill_at<random_uniform>, arg("out"), arg("low"), arg("high"), arg("key"), arg("stream"),
          arg("offset") = 0);
    m.def("random_normal", &fill_at<random_normal>, arg("out"), arg("mean"), arg("stddev"), arg("key"), arg("stream"),
          arg("offset") = 0);
    m.def("random_truncated_normal", &fill<random_truncated_normal>, arg("out"), arg("mean"), arg("stddev"),
          arg("key"), arg("stream"));
    m.def("gather_rows", &gather, arg("src"), arg("index"), arg("dst"));
}

}  // namespace seqnet
