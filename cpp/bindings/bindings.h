// Shared helpers for the pybind11 glue: typed views of NumPy arrays with checked shapes.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
// Every binding file sees the same type casters (std::vector arguments): one definition each.
#include <pybind11/stl.h>

#include <cstdint>
#include <string>

#include "seqnet/activation.h"
#include "seqnet/cpu.h"
#include "seqnet/loss.h"
#include "seqnet/rnn.h"

namespace seqnet {

namespace py = pybind11;
using FArray = py::array_t<float, py::array::c_style>;

// What every binding that computes holds while the engine runs: subnormals flushed on this
// thread and its workers, as every engine computation has them (seqnet/cpu.h, FlushScope; the
// caller's mode comes back afterwards, so NumPy on it keeps IEEE subnormals), and the GIL
// released. Declared after the arguments are read, before the kernels run.
struct ComputeScope {
    FlushScope flush{FlushScope::kPoolFlushes};
    py::gil_scoped_release release;
};

// A float32, C-contiguous array of exactly `ndim` dimensions, or ValueError naming `what`.
// Never converts: the engine works on the caller's memory.
inline FArray checked(const py::handle& obj, const char* what, int ndim = -1) {
    if (!FArray::check_(obj)) {
        auto arr = py::array::ensure(obj);
        std::string got = arr ? std::string(py::str(arr.dtype())) : std::string(py::str(py::type::handle_of(obj)));
        throw py::value_error(std::string(what) + ": expected a C-contiguous float32 array, got " + got +
                              (arr && !(arr.flags() & py::array::c_style) ? " (non-contiguous)" : ""));
    }
    auto a = py::reinterpret_borrow<FArray>(obj);
    if (ndim >= 0 && a.ndim() != ndim)
        throw py::value_error(std::string(what) + ": expected " + std::to_string(ndim) +
                              " dimensions, got " + std::to_string(a.ndim()));
    return a;
}

std::string shape_str(const py::array& a);

// The checks every binding file shares: ValueError with the argument's name and the shapes.
[[noreturn]] inline void fail(const std::string& msg) { throw py::value_error(msg); }

inline void writable(const py::array& a, const std::string& what) {
    if (!a.writeable()) fail(what + " is read-only");
}

// `a` must have exactly `like`'s shape.
inline void same_shape(const py::array& like, const py::array& a, const std::string& what) {
    bool ok = like.ndim() == a.ndim();
    for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = like.shape(i) == a.shape(i);
    if (!ok) fail(what + ": expected shape " + shape_str(like) + ", got " + shape_str(a));
}

// Row numbers of a table (int64): each in [0, limit) and greater than the one before, else
// ValueError "<prefix> in [0, limit), got <row> at position <i>".
using Int64Array = py::array_t<int64_t, py::array::c_style>;
inline void check_increasing_rows(const int64_t* rows, int64_t n, int64_t limit, const std::string& prefix) {
    for (int64_t i = 0; i < n; ++i)
        if (rows[i] < 0 || rows[i] >= limit || (i > 0 && rows[i] <= rows[i - 1]))
            fail(prefix + " in [0, " + std::to_string(limit) + "), got " + std::to_string(rows[i]) + " at position " +
                 std::to_string(i));
}

// enums.cpp: an enum received from Python (which may have been a plain int) checked to
// be one of the members, else ValueError ("unknown activation code 13").
Activation valid_activation(Activation act);
Loss valid_loss(Loss loss);
Accuracy valid_accuracy(Accuracy kind);
RnnCell valid_cell(RnnCell cell);

void bind_enums(py::module_& m);  // enums.cpp: Activation, Loss, Accuracy, RnnCell, Isa; first
void bind_gemm(py::module_& m);
void bind_nn(py::module_& m);
void bind_conv(py::module_& m);  // conv.cpp: convolution and pooling
void bind_rnn(py::module_& m);   // rnn.cpp: recurrent layers and embeddings
void bind_batchnorm(py::module_& m);   // batchnorm.cpp: BatchNormalization
void bind_conv3d(py::module_& m);      // conv3d.cpp: Conv3D, 3-D pooling, locally connected
void bind_conv_extra(py::module_& m);  // conv_extra.cpp: depthwise and transposed convolution

}  // namespace seqnet
