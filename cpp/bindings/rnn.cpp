// Bindings of the recurrent-layer and embedding kernels. Every array's dtype, contiguity,
// shape and writability is checked here, so no call from Python can make a kernel read
// or write out of bounds.
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "seqnet/rnn.h"

namespace seqnet {
namespace {

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

Activation rnn_activation(Activation act, const char* what) {
    const int code = static_cast<int>(act);
    if (code < 0 || code >= static_cast<int>(Activation::Count) || !rnn_activation_supported(act))
        fail(std::string("rnn: ") + what + " code " + std::to_string(code) +
             " is not supported by the recurrent kernels (linear, relu, sigmoid, hard_sigmoid, tanh, softsign)");
    return act;
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
    // A GRU with reset_after has an input and a recurrent bias.
    std::vector<int64_t> bias() const {
        return o.reset_after ? std::vector<int64_t>{2, G * d.units} : std::vector<int64_t>{G * d.units};
    }
};

// x is null when the caller projected the inputs (seqnet/rnn.h): batch and steps then come
// from `gates`, the input width from the kernel.
Call make_call(const char* name, RnnCell cell, const FArray* x, const py::handle& gates_obj, const FArray& w,
               const FArray& u, Activation act, Activation rec, bool back, bool reset_after) {
    Call c;
    c.name = name;
    c.cell = valid_cell(cell);
    c.G = rnn_gate_count(c.cell);
    if (x) {
        if (x->ndim() != 3) fail(c.n("x") + ": expected (batch, steps, input), got " + shape_str(*x));
        c.d.batch = x->shape(0);
        c.d.steps = x->shape(1);
        c.d.input = x->shape(2);
    } else {
        FArray g = checked(gates_obj, c.n("gates").c_str());
        if (g.ndim() != 3) fail(c.n("gates") + ": expected (batch, steps, gates*units), got " + shape_str(g));
        if (w.ndim() != 2) fail(c.n("kernel") + ": expected (input, gates*units), got " + shape_str(w));
        c.d.batch = g.shape(0);
        c.d.steps = g.shape(1);
        c.d.input = w.shape(0);
    }
    if (c.d.steps < 1) fail(c.n(x ? "x" : "gates") + ": needs at least one time step, got " + dims_str({c.d.batch, c.d.steps}));
    if (u.ndim() != 2 || u.shape(0) < 1) fail(c.n("recurrent_kernel") + ": expected (units, gates*units), got " + shape_str(u));
    c.d.units = u.shape(0);
    expect(u, c.n("recurrent_kernel"), {c.d.units, c.G * c.d.units});
    expect(w, c.n("kernel"), {c.d.input, c.G * c.d.units});
    c.o.activation = rnn_activation(act, "activation");
    c.o.recurrent_activation = rnn_activation(rec, "recurrent_activation");
    c.o.go_backwards = back;
    if (reset_after && c.cell != RnnCell::GRU) fail(c.n("reset_after applies to the GRU cell only"));
    c.o.reset_after = reset_after;
    return c;
}

// x, or nothing when it is None (the caller projected the inputs); then `needs_x` (an argument
// that reads x was given) fails with `why`.
std::optional<FArray> optional_x(const py::handle& x_obj, const char* name, bool needs_x, const char* why) {
    if (x_obj.is_none()) {
        if (needs_x) fail(std::string(name) + ": x is None (the inputs projected by the caller), so " + why);
        return std::nullopt;
    }
    return checked(x_obj, (std::string(name) + ": x").c_str());
}

float* scratch_ptr(const py::handle& obj, const Call& c) {
    FArray s = checked(obj, c.n("scratch").c_str(), 1);
    const int64_t need = rnn_scratch_floats(c.cell, c.d);
    if (s.shape(0) < need)
        fail(c.n("scratch") + ": needs " + std::to_string(need) + " floats, got " + shape_str(s));
    if (!s.writeable()) fail(c.n("scratch") + " is read-only");
    return s.mutable_data();
}

// The sequence mask: None, or a C-contiguous bool / uint8 array (batch, steps), time order.
const uint8_t* mask_ptr(const py::object& obj, const Call& c) {
    if (obj.is_none()) return nullptr;
    const std::string what = c.n("mask");
    if (!py::isinstance<py::array>(obj))
        fail(what + ": expected a C-contiguous bool or uint8 array (batch, steps), got " +
             std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
    auto a = py::reinterpret_borrow<py::array>(obj);
    const char kind = a.dtype().kind();
    if (!((kind == 'b' || kind == 'u') && a.itemsize() == 1))
        fail(what + ": expected a bool or uint8 array, got " + std::string(py::str(a.dtype())));
    if (!(a.flags() & py::array::c_style)) fail(what + ": expected a C-contiguous array (non-contiguous)");
    if (a.ndim() != 2 || a.shape(0) != c.d.batch || a.shape(1) != c.d.steps)
        fail(what + ": expected shape " + dims_str({c.d.batch, c.d.steps}) + ", got " + shape_str(a));
    return static_cast<const uint8_t*>(a.data());
}

void rnn_fwd(RnnCell cell, const py::object& x_obj, const py::handle& w_obj, const py::handle& u_obj,
             const py::object& b_obj, const py::handle& h0_obj, const py::object& c0_obj,
             const py::object& in_mask_obj, const py::object& rec_mask_obj, const py::handle& gates_obj,
             const py::handle& hs_obj, const py::object& aux_obj, const py::handle& scratch_obj, Activation act,
             Activation rec, bool go_backwards, const py::object& mask_obj, const py::object& h_last_obj,
             const py::object& c_last_obj, bool reset_after) {
    const std::optional<FArray> x = optional_x(x_obj, "rnn_forward", !in_mask_obj.is_none(),
                                               "in_mask must be None too (dropout applies to x)");
    FArray w = checked(w_obj, "rnn_forward: kernel"), u = checked(u_obj, "rnn_forward: recurrent_kernel");
    Call c = make_call("rnn_forward", cell, x ? &*x : nullptr, gates_obj, w, u, act, rec, go_backwards, reset_after);
    const float* bp = in_ptr(b_obj, c.n("bias"), c.bias());
    const float* h0 = expect(h0_obj, c.n("h0"), c.bu()).data();
    const float* c0 = in_ptr(c0_obj, c.n("c0"), c.bu());
    const float* im = in_ptr(in_mask_obj, c.n("in_mask"), {c.G, c.d.batch, c.d.input});
    const float* rm = in_ptr(rec_mask_obj, c.n("rec_mask"), {c.G, c.d.batch, c.d.units});
    const uint8_t* mask = mask_ptr(mask_obj, c);
    float* gates = expect(gates_obj, c.n("gates"), c.gates(), true).mutable_data();
    float* hs = expect(hs_obj, c.n("hs"), c.btu(), true).mutable_data();
    float* aux = out_ptr(aux_obj, c.n("cs/rh"), c.btu());
    float* h_last = out_ptr(h_last_obj, c.n("h_last"), c.bu());
    float* c_last = out_ptr(c_last_obj, c.n("c_last"), c.bu());
    if (c.cell != RnnCell::SimpleRNN && !aux) fail(c.n("LSTM needs cs and GRU rh (batch, steps, units)"));
    if (c.cell == RnnCell::LSTM && !c0) fail(c.n("LSTM needs c0 (batch, units)"));
    if (c.cell != RnnCell::LSTM && c_last) fail(c.n("c_last is for the LSTM cell only"));
    float* scratch = scratch_ptr(scratch_obj, c);
    const float *xp = x ? x->data() : nullptr, *wp = w.data(), *up = u.data();
    if (c.d.batch == 0) return;
    ComputeScope compute;
    switch (c.cell) {
        case RnnCell::LSTM:
            lstm_forward(xp, wp, up, bp, h0, c0, im, rm, mask, gates, hs, aux, h_last, c_last, scratch, c.d, c.o);
            break;
        case RnnCell::GRU:
            gru_forward(xp, wp, up, bp, h0, im, rm, mask, gates, hs, aux, h_last, scratch, c.d, c.o);
            break;
        default:
            simple_rnn_forward(xp, wp, up, bp, h0, im, rm, mask, gates, hs, h_last, scratch, c.d, c.o);
    }
}

void rnn_bwd(RnnCell cell, const py::object& x_obj, const py::handle& w_obj, const py::handle& u_obj,
             const py::handle& h0_obj, const py::object& c0_obj, const py::object& in_mask_obj,
             const py::object& rec_mask_obj, const py::handle& gates_obj, const py::handle& hs_obj,
             const py::object& aux_obj, const py::object& dhs_obj, const py::object& dh_last_obj,
             const py::object& dc_last_obj, const py::object& dx_obj, const py::object& dw_obj,
             const py::handle& du_obj, const py::object& db_obj, const py::object& dh0_obj,
             const py::object& dc0_obj, const py::handle& scratch_obj, Activation act, Activation rec,
             bool go_backwards, const py::object& mask_obj, bool reset_after) {
    const std::optional<FArray> x =
        optional_x(x_obj, "rnn_backward", !(in_mask_obj.is_none() && dx_obj.is_none() && dw_obj.is_none()),
                   "in_mask, dx and dkernel must be None too");
    FArray w = checked(w_obj, "rnn_backward: kernel"), u = checked(u_obj, "rnn_backward: recurrent_kernel");
    Call c = make_call("rnn_backward", cell, x ? &*x : nullptr, gates_obj, w, u, act, rec, go_backwards, reset_after);
    const int64_t gu = c.G * c.d.units;
    const float* h0 = expect(h0_obj, c.n("h0"), c.bu()).data();
    const float* c0 = in_ptr(c0_obj, c.n("c0"), c.bu());
    const float* im = in_ptr(in_mask_obj, c.n("in_mask"), {c.G, c.d.batch, c.d.input});
    const float* rm = in_ptr(rec_mask_obj, c.n("rec_mask"), {c.G, c.d.batch, c.d.units});
    const uint8_t* mask = mask_ptr(mask_obj, c);
    float* gates = expect(gates_obj, c.n("gates"), c.gates(), true).mutable_data();
    const float* hs = expect(hs_obj, c.n("hs"), c.btu()).data();
    // reset_after's backward overwrites rh with the gradient of the h gate's recurrent product.
    float* aux = nullptr;
    if (!aux_obj.is_none())
        aux = reset_after ? out_ptr(aux_obj, c.n("cs/rh"), c.btu())
                          : const_cast<float*>(in_ptr(aux_obj, c.n("cs/rh"), c.btu()));
    const float* dhs = in_ptr(dhs_obj, c.n("dhs"), c.btu());
    const float* dh_last = in_ptr(dh_last_obj, c.n("dh_last"), c.bu());
    const float* dc_last = in_ptr(dc_last_obj, c.n("dc_last"), c.bu());
    float* dx = out_ptr(dx_obj, c.n("dx"), {c.d.batch, c.d.steps, c.d.input});
    float* dw = out_ptr(dw_obj, c.n("dkernel"), {c.d.input, gu});  // None: dW is the caller's
    float* du = expect(du_obj, c.n("drecurrent_kernel"), {c.d.units, gu}, true).mutable_data();
    float* db = out_ptr(db_obj, c.n("dbias"), c.bias());
    float* dh0 = out_ptr(dh0_obj, c.n("dh0"), c.bu());
    float* dc0 = out_ptr(dc0_obj, c.n("dc0"), c.bu());
    if (c.cell != RnnCell::SimpleRNN && !aux) fail(c.n("LSTM needs cs and GRU rh (batch, steps, units)"));
    if (c.cell == RnnCell::LSTM && !c0) fail(c.n("LSTM needs c0 (batch, units)"));
    float* scratch = scratch_ptr(scratch_obj, c);
    const float *xp = x ? x->data() : nullptr, *wp = w.data(), *up = u.data();
    ComputeScope compute;
    switch (c.cell) {
        case RnnCell::LSTM:
            lstm_backward(xp, wp, up, h0, c0, im, rm, mask, gates, hs, aux, dhs, dh_last, dc_last, dx, dw, du, db,
                          dh0, dc0, scratch, c.d, c.o);
            break;
        case RnnCell::GRU:
            gru_backward(xp, wp, up, h0, im, rm, mask, gates, hs, aux, dhs, dh_last, dx, dw, du, db, dh0, scratch,
                         c.d, c.o);
            break;
        default:
            simple_rnn_backward(xp, wp, up, h0, im, rm, mask, gates, hs, dhs, dh_last, dx, dw, du, db, dh0, scratch,
                                c.d, c.o);
    }
}

int64_t scratch_size(RnnCell cell, int64_t batch, int64_t steps, int64_t input, int64_t units) {
    if (batch < 0 || steps < 0 || input < 0 || units < 0) fail("rnn_scratch_size: sizes must be >= 0");
    RnnDims d;
    d.batch = batch;
    d.steps = steps;
    d.input = input;
    d.units = units;
    return rnn_scratch_floats(valid_cell(cell), d);
}

// Embedding indices: int32 or int64 (any table size), or float32 holding exact integers below
// 2^24 (what a float32 model input can carry). C-contiguous; never converted.
enum class IndexType { I32, I64, F32 };

struct Indices {
    py::array arr;
    IndexType type;
};

Indices index_array(const py::handle& obj, const char* what) {
    auto arr = py::array::ensure(obj);
    if (!arr) fail(std::string(what) + ": expected a NumPy array of int32, int64 or float32, got " +
                   std::string(py::str(py::type::handle_of(obj))));
    IndexType type;
    const py::dtype dt = arr.dtype();
    if (dt.equal(py::dtype::of<int32_t>())) type = IndexType::I32;
    else if (dt.equal(py::dtype::of<int64_t>())) type = IndexType::I64;
    else if (dt.equal(py::dtype::of<float>())) type = IndexType::F32;
    else fail(std::string(what) + ": expected int32, int64 or float32 indices, got " + std::string(py::str(dt)));
    if (!(arr.flags() & py::array::c_style)) fail(std::string(what) + ": expected a C-contiguous array (non-contiguous)");
    return {arr, type};
}

template <typename Fn>
int64_t with_indices(const Indices& idx, Fn&& fn) {
    switch (idx.type) {
        case IndexType::I32: return fn(static_cast<const int32_t*>(idx.arr.data()));
        case IndexType::I64: return fn(static_cast<const int64_t*>(idx.arr.data()));
        default: return fn(static_cast<const float*>(idx.arr.data()));
    }
}

// The message for the first bad index, quoting it exactly as given (integers as integers).
[[noreturn]] void bad_index(const char* what, const Indices& idx, int64_t pos, int64_t input_dim) {
    std::string value;
    bool big_float = false;
    switch (idx.type) {
        case IndexType::I32: value = std::to_string(static_cast<const int32_t*>(idx.arr.data())[pos]); break;
        case IndexType::I64: value = std::to_string(static_cast<const int64_t*>(idx.arr.data())[pos]); break;
        default: {
            const float v = static_cast<const float*>(idx.arr.data())[pos];
            value = py::repr(py::float_(v)).cast<std::string>();
            big_float = v >= 16777216.0f;
        }
    }
    fail(std::string(what) + ": index " + value + " at flat position " + std::to_string(pos) +
         " is not an integer in [0, input_dim=" + std::to_string(input_dim) + ")" +
         (big_float ? "; float32 indices must be below 2**24 = 16777216, pass int32 or int64 indices" : ""));
}

void embedding_fwd(const py::handle& idx_obj, const py::handle& table_obj, const py::handle& out_obj) {
    const Indices idx = index_array(idx_obj, "embedding_forward: indices");
    FArray table = checked(table_obj, "embedding_forward: embeddings", 2);
    const int64_t n = idx.arr.size(), input_dim = table.shape(0), dim = table.shape(1);
    std::vector<int64_t> out_dims(idx.arr.shape(), idx.arr.shape() + idx.arr.ndim());
    out_dims.push_back(dim);
    float* out = expect(out_obj, "embedding_forward: out", out_dims, true).mutable_data();
    const float* tp = table.data();
    int64_t bad;
    {
        ComputeScope compute;
        bad = with_indices(idx, [&](auto ip) { return embedding_forward(ip, n, tp, input_dim, dim, out); });
    }
    if (bad >= 0) bad_index("Embedding", idx, bad, input_dim);
}

// The arguments both Embedding backward bindings take, checked: indices, dy (indices' shape
// + (dim,)), and the writable table gradient (input_dim, dim).
struct TableGradArgs {
    Indices idx;
    const float* dy;
    float* dtable;
    int64_t n, input_dim, dim;
};

TableGradArgs table_grad_args(const py::handle& idx_obj, const py::handle& dy_obj, const py::handle& dtable_obj,
                              const std::string& fn) {
    Indices idx = index_array(idx_obj, (fn + ": indices").c_str());
    FArray dtable = checked(dtable_obj, (fn + ": dembeddings").c_str(), 2);
    if (!dtable.writeable()) fail(fn + ": dembeddings is read-only");
    const int64_t n = idx.arr.size(), input_dim = dtable.shape(0), dim = dtable.shape(1);
    std::vector<int64_t> dy_dims(idx.arr.shape(), idx.arr.shape() + idx.arr.ndim());
    dy_dims.push_back(dim);
    const float* dy = expect(dy_obj, (fn + ": dy").c_str(), dy_dims).data();
    return {std::move(idx), dy, dtable.mutable_data(), n, input_dim, dim};
}

void embedding_bwd(const py::handle& idx_obj, const py::handle& dy_obj, const py::handle& dtable_obj) {
    const TableGradArgs a = table_grad_args(idx_obj, dy_obj, dtable_obj, "embedding_backward");
    int64_t bad;
    {
        ComputeScope compute;
        // The kernel checks every index before writing: nothing outside dtable is reachable.
        bad = with_indices(a.idx, [&](auto ip) { return embedding_backward(ip, a.n, a.dy, a.input_dim, a.dim, a.dtable); });
    }
    if (bad >= 0) bad_index("embedding_backward", a.idx, bad, a.input_dim);
}

// The row-sparse backward (embedding_backward_rows): returns how many rows it wrote to rows_out.
// `clear` may be a view of rows_out (the rows the previous call listed): it is read before
// rows_out is written.
int64_t embedding_bwd_rows(const py::handle& idx_obj, const py::handle& dy_obj, const py::handle& dtable_obj,
                           const py::handle& clear_obj, const py::handle& rows_obj) {
    const std::string fn = "embedding_backward_rows";
    const TableGradArgs a = table_grad_args(idx_obj, dy_obj, dtable_obj, fn);
    auto int64_vector = [&](const py::handle& obj, const char* what) {
        if (!Int64Array::check_(obj) || py::reinterpret_borrow<py::array>(obj).ndim() != 1)
            fail(fn + ": " + what + " must be a 1-D C-contiguous int64 array");
        return py::reinterpret_borrow<Int64Array>(obj);
    };
    Int64Array clear = int64_vector(clear_obj, "clear"), rows = int64_vector(rows_obj, "rows_out");
    if (!rows.writeable()) fail(fn + ": rows_out is read-only");
    if (rows.size() < a.n)
        fail(fn + ": rows_out must hold one row per index (" + std::to_string(a.n) + "), got " +
             std::to_string(rows.size()));
    const int64_t n_clear = clear.size(), *cl = clear.data();
    check_increasing_rows(cl, n_clear, a.input_dim, fn + ": clear must be strictly increasing rows");
    int64_t* out = rows.mutable_data();
    int64_t bad, written = 0;
    {
        ComputeScope compute;
        bad = with_indices(a.idx, [&](auto ip) {
            return embedding_backward_rows(ip, a.n, a.dy, a.input_dim, a.dim, a.dtable, cl, n_clear, out, &written);
        });
    }
    if (bad >= 0) bad_index(fn.c_str(), a.idx, bad, a.input_dim);
    return written;
}

int64_t embedding_distinct_rows(const py::handle& idx_obj, int64_t input_dim, const py::handle& distinct_obj,
                                const py::handle& inverse_obj) {
    const std::string fn = "embedding_distinct";
    const Indices idx = index_array(idx_obj, (fn + ": indices").c_str());
    if (input_dim < 0) fail(fn + ": input_dim must be >= 0, got " + std::to_string(input_dim));
    const int64_t n = idx.arr.size();
    if (n > INT32_MAX) fail(fn + ": at most 2**31 - 1 indices, got " + std::to_string(n));
    auto int64_out = [&](const py::handle& obj, const char* what) {
        if (!Int64Array::check_(obj)) fail(fn + ": " + what + " must be a C-contiguous int64 array");
        auto a = py::reinterpret_borrow<Int64Array>(obj);
        if (!a.writeable()) fail(fn + ": " + what + " is read-only");
        return a;
    };
    Int64Array distinct = int64_out(distinct_obj, "distinct_out"), inverse = int64_out(inverse_obj, "inverse_out");
    if (distinct.ndim() != 1 || distinct.size() < n)
        fail(fn + ": distinct_out must be 1-D with room for one row per index (" + std::to_string(n) + "), got " +
             shape_str(distinct));
    std::vector<int64_t> dims(idx.arr.shape(), idx.arr.shape() + idx.arr.ndim());
    bool same = inverse.ndim() == idx.arr.ndim();
    for (py::ssize_t k = 0; same && k < inverse.ndim(); ++k) same = inverse.shape(k) == dims[size_t(k)];
    if (!same) fail(fn + ": inverse_out must have the indices' shape " + dims_str(dims) + ", got " + shape_str(inverse));
    int64_t bad, count = 0;
    int64_t *dp = distinct.mutable_data(), *ip = inverse.mutable_data();
    bad = with_indices(idx, [&](auto p) { return embedding_distinct(p, n, input_dim, dp, ip, &count); });
    if (bad >= 0) bad_index("Embedding", idx, bad, input_dim);
    return count;
}

}  // namespace

void bind_rnn(py::module_& m) {
    using py::arg;
    m.def("rnn_forward", &rnn_fwd, arg("cell"), arg("x"), arg("kernel"), arg("recurrent_kernel"), arg("bias"),
          arg("h0"), arg("c0"), arg("in_mask"), arg("rec_mask"), arg("gates"), arg("hs"), arg("aux"),
          arg("scratch"), arg("act"), arg("rec_act"), arg("go_backwards"), py::kw_only(), arg("mask") = py::none(),
          arg("h_last") = py::none(), arg("c_last") = py::none(), arg("reset_after") = false,
          "Recurrent layer forward over a sequence. aux: cs (LSTM), rh (GRU) or None; hs receives the "
          "outputs of every step (step order). mask: None or bool/uint8 (batch, steps) in time order (0 = "
          "skip the step, Keras semantics); h_last, c_last: optional (batch, units) outputs of the final "
          "states; reset_after: GRU with bias (2, 3*units). x None (with in_mask None): gates hold the "
          "input projection x W + b on entry (b: the input half of a GRU(reset_after)'s bias).");
    m.def("rnn_backward", &rnn_bwd, arg("cell"), arg("x"), arg("kernel"), arg("recurrent_kernel"), arg("h0"),
          arg("c0"), arg("in_mask"), arg("rec_mask"), arg("gates"), arg("hs"), arg("aux"), arg("dhs"),
          arg("dh_last"), arg("dc_last"), arg("dx"), arg("dkernel"), arg("drecurrent_kernel"), arg("dbias"),
          arg("dh0"), arg("dc0"), arg("scratch"), arg("act"), arg("rec_act"), arg("go_backwards"), py::kw_only(),
          arg("mask") = py::none(), arg("reset_after") = false,
          "Backward through time; overwrites gates (and, with reset_after, aux) with gradients. mask and "
          "reset_after as given to rnn_forward. dkernel None: no dW (x may then be None, with in_mask and dx "
          "None); the gate gradients left in gates give it.");
    m.def("rnn_thread_speeds", &rnn_thread_speeds,
          "Relative speeds of the threads of an LSTM recurrence, which set its split of the batch rows.");
    m.def(
        "set_rnn_thread_speeds",
        [](const std::vector<float>& speeds) {
            if (speeds.size() > 8) fail("set_rnn_thread_speeds: at most 8 speeds, got " + std::to_string(speeds.size()));
            for (float v : speeds)
                if (!(v >= 0.25f && v <= 4.f))
                    fail("set_rnn_thread_speeds: each speed must be in [0.25, 4], got " + std::to_string(v));
            set_rnn_thread_speeds(speeds);
        },
        arg("speeds"), "Sets the relative thread speeds the next LSTM recurrence splits its rows by.");
    m.def("rnn_scratch_size", &scratch_size, arg("cell"), arg("batch"), arg("steps"), arg("input"), arg("units"));
    m.def("rnn_activation_supported",
          [](Activation act) { return rnn_activation_supported(valid_activation(act)); }, arg("act"),
          "True for the activations the recurrent kernels implement.");
    m.def("embedding_forward", &embedding_fwd, arg("indices"), arg("embeddings"), arg("out"),
          "out = embeddings[indices]. indices: int32, int64, or float32 holding exact integers below 2**24; "
          "ValueError naming the first index outside [0, input_dim).");
    m.def("embedding_backward", &embedding_bwd, arg("indices"), arg("dy"), arg("dembeddings"),
          "dembeddings = 0, then dembeddings[indices[i]] += dy[i] in order; indices as for embedding_forward.");
    m.def("embedding_distinct", &embedding_distinct_rows, arg("indices"), arg("input_dim"), arg("distinct_out"),
          arg("inverse_out"),
          "The distinct rows of indices (as for embedding_forward, checked against input_dim) in order of first "
          "appearance to distinct_out (int64, room for indices.size), each index's position among them to "
          "inverse_out (int64, the indices' shape); returns their count.");
    m.def("embedding_backward_rows", &embedding_bwd_rows, arg("indices"), arg("dy"), arg("dembeddings"),
          arg("clear"), arg("rows_out"),
          "Row-sparse backward: dembeddings[clear] = 0 (clear: strictly increasing int64 rows), then "
          "dembeddings[indices[i]] += dy[i] in order; writes the distinct rows of indices, increasing, to "
          "rows_out (int64, room for indices.size) and returns their count. clear may be a view of rows_out.");
}

}  // namespace seqnet
