// Bindings of the recurrent-layer and embedding kernels. Every array's dtype, contiguity,
// shape and writability is checked here, so no call from Python can make a kernel read
// or write out of bounds.
#include <string>
#include <vector>

#include "bindings.h"
#include "seqnet/rnn.h"

namespace seqnet {
namespace {

[[noreturn]] void fail(const std::string& msg) { throw py::value_error(msg); }

std::string dims_str(const std::vector<int64_t>& dims) {
    std::string s = "(";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + (dims.size() == 1 ? ",)" : ")");
}

// The float32 C-contiguous array `obj` of exactly `dims`, else ValueError naming `what`.
FArray expect(const py::handle& obj, const std::string& what, const std::vector<int64_t>& dims,
              bool write = false) {
    FArray a = checked(obj, what.c_str());
    bool ok = a.ndim() == static_cast<py::ssize_t>(dims.size());
    for (size_t i = 0; ok && i < dims.size(); ++i) ok = a.shape(i) == dims[i];
    if (!ok) fail(what + ": expected shape " + dims_str(dims) + ", got " + shape_str(a));
    if (write && !a.writeable()) fail(what + " is read-only");
    return a;
}

const float* in_ptr(const py::object& obj, const std::string& what, const std::vector<int64_t>& dims) {
    return obj.is_none() ? nullptr : expect(obj, what, dims).data();
}

float* out_ptr(const py::object& obj, const std::string& what, const std::vector<int64_t>& dims) {
    return obj.is_none() ? nullptr : expect(obj, what, dims, true).mutable_data();
}

RnnCell cell_from(int code) {
    if (code < 0 || code > 2) fail("rnn: unknown cell code " + std::to_string(code));
    return static_cast<RnnCell>(code);
}

Activation rnn_activation(int code, const char* what) {
    if (code < 0 || code >= static_cast<int>(Activation::Count) ||
        !rnn_activation_supported(static_cast<Activation>(code)))
        fail(std::string("rnn: ") + what + " code " + std::to_string(code) +
             " is not supported by the recurrent kernels (linear, relu, sigmoid, hard_sigmoid, tanh, softsign)");
    return static_cast<Activation>(code);
}

// Shapes of one call, read from x and the kernels, with the common checks.
struct Call {
    RnnCell cell;
    RnnDims d;
    int64_t G;
    RnnOptions o;
    const char* name;
    std::string n(const char* what) const { return std::string(name) + ": " + what; }
    std::vector<int64_t> bu() const { return {d.batch, d.units}; }
    std::vector<int64_t> btu() const { return {d.batch, d.steps, d.units}; }
    std::vector<int64_t> gates() const { return {d.batch, d.steps, G * d.units}; }
};

Call make_call(const char* name, int cell_code, const FArray& x, const FArray& w, const FArray& u, int act,
               int rec, bool back) {
    Call c;
    c.name = name;
    c.cell = cell_from(cell_code);
    c.G = rnn_gate_count(c.cell);
    if (x.ndim() != 3) fail(c.n("x") + ": expected (batch, steps, input), got " + shape_str(x));
    c.d.batch = x.shape(0);
    c.d.steps = x.shape(1);
    c.d.input = x.shape(2);
    if (c.d.steps < 1) fail(c.n("x") + ": needs at least one time step, got " + shape_str(x));
    if (u.ndim() != 2 || u.shape(0) < 1) fail(c.n("recurrent_kernel") + ": expected (units, gates*units), got " + shape_str(u));
    c.d.units = u.shape(0);
    expect(u, c.n("recurrent_kernel"), {c.d.units, c.G * c.d.units});
    expect(w, c.n("kernel"), {c.d.input, c.G * c.d.units});
    c.o.activation = rnn_activation(act, "activation");
    c.o.recurrent_activation = rnn_activation(rec, "recurrent_activation");
    c.o.go_backwards = back;
    return c;
}

float* scratch_ptr(const py::handle& obj, const Call& c) {
    FArray s = checked(obj, c.n("scratch").c_str(), 1);
    const int64_t need = rnn_scratch_floats(c.cell, c.d);
    if (s.shape(0) < need)
        fail(c.n("scratch") + ": needs " + std::to_string(need) + " floats, got " + shape_str(s));
    if (!s.writeable()) fail(c.n("scratch") + " is read-only");
    return s.mutable_data();
}

void rnn_fwd(int cell_code, const py::handle& x_obj, const py::handle& w_obj, const py::handle& u_obj,
             const py::object& b_obj, const py::handle& h0_obj, const py::object& c0_obj,
             const py::object& in_mask_obj, const py::object& rec_mask_obj, const py::handle& gates_obj,
             const py::handle& hs_obj, const py::object& aux_obj, const py::handle& scratch_obj, int act, int rec,
             bool go_backwards) {
    FArray x = checked(x_obj, "rnn_forward: x"), w = checked(w_obj, "rnn_forward: kernel"),
           u = checked(u_obj, "rnn_forward: recurrent_kernel");
    Call c = make_call("rnn_forward", cell_code, x, w, u, act, rec, go_backwards);
    const float* bp = in_ptr(b_obj, c.n("bias"), {c.G * c.d.units});
    const float* h0 = expect(h0_obj, c.n("h0"), c.bu()).data();
    const float* c0 = in_ptr(c0_obj, c.n("c0"), c.bu());
    const float* im = in_ptr(in_mask_obj, c.n("in_mask"), {c.G, c.d.batch, c.d.input});
    const float* rm = in_ptr(rec_mask_obj, c.n("rec_mask"), {c.G, c.d.batch, c.d.units});
    float* gates = expect(gates_obj, c.n("gates"), c.gates(), true).mutable_data();
    float* hs = expect(hs_obj, c.n("hs"), c.btu(), true).mutable_data();
    float* aux = out_ptr(aux_obj, c.n("cs/rh"), c.btu());
    if (c.cell != RnnCell::SimpleRNN && !aux) fail(c.n("LSTM needs cs and GRU rh (batch, steps, units)"));
    if (c.cell == RnnCell::LSTM && !c0) fail(c.n("LSTM needs c0 (batch, units)"));
    float* scratch = scratch_ptr(scratch_obj, c);
    const float *xp = x.data(), *wp = w.data(), *up = u.data();
    if (c.d.batch == 0) return;
    py::gil_scoped_release release;
    switch (c.cell) {
        case RnnCell::LSTM:
            lstm_forward(xp, wp, up, bp, h0, c0, im, rm, gates, hs, aux, scratch, c.d, c.o);
            break;
        case RnnCell::GRU:
            gru_forward(xp, wp, up, bp, h0, im, rm, gates, hs, aux, scratch, c.d, c.o);
            break;
        default:
            simple_rnn_forward(xp, wp, up, bp, h0, im, rm, gates, hs, scratch, c.d, c.o);
    }
}

void rnn_bwd(int cell_code, const py::handle& x_obj, const py::handle& w_obj, const py::handle& u_obj,
             const py::handle& h0_obj, const py::object& c0_obj, const py::object& in_mask_obj,
             const py::object& rec_mask_obj, const py::handle& gates_obj, const py::handle& hs_obj,
             const py::object& aux_obj, const py::object& dhs_obj, const py::object& dh_last_obj,
             const py::object& dc_last_obj, const py::object& dx_obj, const py::handle& dw_obj,
             const py::handle& du_obj, const py::object& db_obj, const py::object& dh0_obj,
             const py::object& dc0_obj, const py::handle& scratch_obj, int act, int rec, bool go_backwards) {
    FArray x = checked(x_obj, "rnn_backward: x"), w = checked(w_obj, "rnn_backward: kernel"),
           u = checked(u_obj, "rnn_backward: recurrent_kernel");
    Call c = make_call("rnn_backward", cell_code, x, w, u, act, rec, go_backwards);
    const int64_t gu = c.G * c.d.units;
    const float* h0 = expect(h0_obj, c.n("h0"), c.bu()).data();
    const float* c0 = in_ptr(c0_obj, c.n("c0"), c.bu());
    const float* im = in_ptr(in_mask_obj, c.n("in_mask"), {c.G, c.d.batch, c.d.input});
    const float* rm = in_ptr(rec_mask_obj, c.n("rec_mask"), {c.G, c.d.batch, c.d.units});
    float* gates = expect(gates_obj, c.n("gates"), c.gates(), true).mutable_data();
    const float* hs = expect(hs_obj, c.n("hs"), c.btu()).data();
    const float* aux = in_ptr(aux_obj, c.n("cs/rh"), c.btu());
    const float* dhs = in_ptr(dhs_obj, c.n("dhs"), c.btu());
    const float* dh_last = in_ptr(dh_last_obj, c.n("dh_last"), c.bu());
    const float* dc_last = in_ptr(dc_last_obj, c.n("dc_last"), c.bu());
    float* dx = out_ptr(dx_obj, c.n("dx"), {c.d.batch, c.d.steps, c.d.input});
    float* dw = expect(dw_obj, c.n("dkernel"), {c.d.input, gu}, true).mutable_data();
    float* du = expect(du_obj, c.n("drecurrent_kernel"), {c.d.units, gu}, true).mutable_data();
    float* db = out_ptr(db_obj, c.n("dbias"), {gu});
    float* dh0 = out_ptr(dh0_obj, c.n("dh0"), c.bu());
    float* dc0 = out_ptr(dc0_obj, c.n("dc0"), c.bu());
    if (c.cell != RnnCell::SimpleRNN && !aux) fail(c.n("LSTM needs cs and GRU rh (batch, steps, units)"));
    if (c.cell == RnnCell::LSTM && !c0) fail(c.n("LSTM needs c0 (batch, units)"));
    float* scratch = scratch_ptr(scratch_obj, c);
    const float *xp = x.data(), *wp = w.data(), *up = u.data();
    py::gil_scoped_release release;
    switch (c.cell) {
        case RnnCell::LSTM:
            lstm_backward(xp, wp, up, h0, c0, im, rm, gates, hs, aux, dhs, dh_last, dc_last, dx, dw, du, db, dh0,
                          dc0, scratch, c.d, c.o);
            break;
        case RnnCell::GRU:
            gru_backward(xp, wp, up, h0, im, rm, gates, hs, aux, dhs, dh_last, dx, dw, du, db, dh0, scratch, c.d,
                         c.o);
            break;
        default:
            simple_rnn_backward(xp, wp, up, h0, im, rm, gates, hs, dhs, dh_last, dx, dw, du, db, dh0, scratch,
                                c.d, c.o);
    }
}

int64_t scratch_size(int cell_code, int64_t batch, int64_t steps, int64_t input, int64_t units) {
    if (batch < 0 || steps < 0 || input < 0 || units < 0) fail("rnn_scratch_size: sizes must be >= 0");
    RnnDims d;
    d.batch = batch;
    d.steps = steps;
    d.input = input;
    d.units = units;
    return rnn_scratch_floats(cell_from(cell_code), d);
}

void embedding_fwd(const py::handle& idx_obj, const py::handle& table_obj, const py::handle& out_obj) {
    FArray idx = checked(idx_obj, "embedding_forward: indices");
    FArray table = checked(table_obj, "embedding_forward: embeddings", 2);
    const int64_t n = idx.size(), input_dim = table.shape(0), dim = table.shape(1);
    std::vector<int64_t> out_dims(idx.shape(), idx.shape() + idx.ndim());
    out_dims.push_back(dim);
    float* out = expect(out_obj, "embedding_forward: out", out_dims, true).mutable_data();
    const float *ip = idx.data(), *tp = table.data();
    int64_t bad;
    {
        py::gil_scoped_release release;
        bad = embedding_forward(ip, n, tp, input_dim, dim, out);
    }
    if (bad >= 0)
        fail("Embedding: index " + py::str(py::float_(ip[bad])).cast<std::string>() + " at flat position " +
             std::to_string(bad) + " is not an integer in [0, input_dim=" + std::to_string(input_dim) + ")");
}

void embedding_bwd(const py::handle& idx_obj, const py::handle& dy_obj, const py::handle& dtable_obj) {
    FArray idx = checked(idx_obj, "embedding_backward: indices");
    FArray dtable = checked(dtable_obj, "embedding_backward: dembeddings", 2);
    if (!dtable.writeable()) fail("embedding_backward: dembeddings is read-only");
    const int64_t n = idx.size(), input_dim = dtable.shape(0), dim = dtable.shape(1);
    std::vector<int64_t> dy_dims(idx.shape(), idx.shape() + idx.ndim());
    dy_dims.push_back(dim);
    const float* dy = expect(dy_obj, "embedding_backward: dy", dy_dims).data();
    const float* ip = idx.data();
    // Checked again here: backward must never write outside dtable, whatever it is given.
    for (int64_t i = 0; i < n; ++i) {
        const float v = ip[i];
        if (!(v >= 0.0f && v < static_cast<float>(input_dim)) || v != static_cast<float>(static_cast<int64_t>(v)))
            fail("embedding_backward: index at flat position " + std::to_string(i) + " is not in [0, " +
                 std::to_string(input_dim) + ")");
    }
    float* dt = dtable.mutable_data();
    py::gil_scoped_release release;
    embedding_backward(ip, n, dy, input_dim, dim, dt);
}

}  // namespace

void bind_rnn(py::module_& m) {
    using py::arg;
    m.def("rnn_forward", &rnn_fwd, arg("cell"), arg("x"), arg("kernel"), arg("recurrent_kernel"), arg("bias"),
          arg("h0"), arg("c0"), arg("in_mask"), arg("rec_mask"), arg("gates"), arg("hs"), arg("aux"),
          arg("scratch"), arg("act"), arg("rec_act"), arg("go_backwards"),
          "Recurrent layer forward over a sequence. cell: 0 SimpleRNN, 1 GRU, 2 LSTM; aux: cs (LSTM), "
          "rh (GRU) or None.");
    m.def("rnn_backward", &rnn_bwd, arg("cell"), arg("x"), arg("kernel"), arg("recurrent_kernel"), arg("h0"),
          arg("c0"), arg("in_mask"), arg("rec_mask"), arg("gates"), arg("hs"), arg("aux"), arg("dhs"),
          arg("dh_last"), arg("dc_last"), arg("dx"), arg("dkernel"), arg("drecurrent_kernel"), arg("dbias"),
          arg("dh0"), arg("dc0"), arg("scratch"), arg("act"), arg("rec_act"), arg("go_backwards"),
          "Backward through time; overwrites gates with the gate pre-activation gradients.");
    m.def("rnn_scratch_size", &scratch_size, arg("cell"), arg("batch"), arg("steps"), arg("input"), arg("units"));
    m.def("embedding_forward", &embedding_fwd, arg("indices"), arg("embeddings"), arg("out"));
    m.def("embedding_backward", &embedding_bwd, arg("indices"), arg("dy"), arg("dembeddings"));
}

}  // namespace seqnet
