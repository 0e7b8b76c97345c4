// Bindings of the batch normalization kernels. The tensor is seen as (outer, channels, inner)
// around `axis`; every per-channel vector, output and the workspace are checked against that
// view here (ValueError naming the argument and the shapes), then the GIL is released for
// the one kernel call.
#include <string>
#include <vector>

#include "bindings.h"
#include "seqnet/batchnorm.h"

namespace seqnet {
namespace {

BatchNormShape view(const std::vector<int64_t>& shape, int64_t axis, const std::string& fn) {
    const int64_t ndim = static_cast<int64_t>(shape.size());
    if (axis < -ndim || axis >= ndim)
        fail(fn + ": axis " + std::to_string(axis) + " is out of range for an input of " + std::to_string(ndim) +
             " dimensions");
    if (axis < 0) axis += ndim;
    BatchNormShape s{1, shape[axis], 1};
    for (int64_t i = 0; i < axis; ++i) s.outer *= shape[i];
    for (int64_t i = axis + 1; i < ndim; ++i) s.inner *= shape[i];
    return s;
}

BatchNormShape view(const FArray& x, int64_t axis, const std::string& fn) {
    std::vector<int64_t> shape(x.shape(), x.shape() + x.ndim());
    return view(shape, axis, fn);
}

// A (channels,) float32 vector, or nullptr for None when `optional`.
const float* channel_in(const py::object& obj, int64_t C, const std::string& what, bool optional = true) {
    if (obj.is_none()) {
        if (!optional) fail(what + " is required");
        return nullptr;
    }
    FArray a = checked(obj, what.c_str(), 1);
    if (a.shape(0) != C)
        fail(what + ": expected shape (" + std::to_string(C) + ",) for the channel axis, got " + shape_str(a));
    return a.data();
}

float* channel_out(const py::object& obj, int64_t C, const std::string& what, bool optional = true) {
    const float* p = channel_in(obj, C, what, optional);
    if (!p) return nullptr;
    writable(py::reinterpret_borrow<py::array>(obj), what);
    return const_cast<float*>(p);
}

float* workspace_of(const py::handle& obj, const BatchNormShape& s, const std::string& fn) {
    FArray w = checked(obj, (fn + ": workspace").c_str(), 1);
    writable(w, fn + ": workspace");
    const int64_t need = batchnorm_workspace_size(s);
    if (w.shape(0) < need)
        fail(fn + ": workspace has shape " + shape_str(w) + ", needs at least " + std::to_string(need) +
             " floats (batchnorm_workspace_size)");
    return w.mutable_data();
}

float finite_in(float v, const std::string& what, float lo, float hi) {
    if (!(v >= lo && v <= hi))
        fail(what + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
    return v;
}

void forward_training(const py::handle& x_obj, const py::object& gamma_obj, const py::object& beta_obj,
                      const py::handle& y_obj, const py::handle& mean_obj, const py::handle& inv_obj,
                      const py::object& mm_obj, const py::object& mv_obj, const py::handle& ws_obj, int64_t axis,
                      float epsilon, float momentum, bool relu) {
    const std::string fn = "batchnorm_forward_training";
    FArray x = checked(x_obj, (fn + ": x").c_str()), y = checked(y_obj, (fn + ": y").c_str());
    same_shape(x, y, fn + ": y");
    writable(y, fn + ": y");
    const BatchNormShape s = view(x, axis, fn);
    const int64_t C = s.channels;
    finite_in(epsilon, fn + ": epsilon", 0.0f, 3.4e38f);
    finite_in(momentum, fn + ": momentum", 0.0f, 1.0f);
    const float* gamma = channel_in(gamma_obj, C, fn + ": gamma");
    const float* beta = channel_in(beta_obj, C, fn + ": beta");
    float* mean = channel_out(py::reinterpret_borrow<py::object>(mean_obj), C, fn + ": mean", false);
    float* inv = channel_out(py::reinterpret_borrow<py::object>(inv_obj), C, fn + ": inv_std", false);
    float* mm = channel_out(mm_obj, C, fn + ": moving_mean");
    float* mv = channel_out(mv_obj, C, fn + ": moving_variance");
    if ((mm == nullptr) != (mv == nullptr)) fail(fn + ": give both moving_mean and moving_variance, or neither");
    float* ws = workspace_of(ws_obj, s, fn);
    const float* xp = x.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    batchnorm_forward_training(xp, gamma, beta, yp, mean, inv, mm, mv, ws, s, epsilon, momentum, relu);
}

void forward_inference(const py::handle& x_obj, const py::object& gamma_obj, const py::object& beta_obj,
                       const py::handle& mm_obj, const py::handle& mv_obj, const py::handle& y_obj,
                       const py::object& mean_obj, const py::object& inv_obj, const py::handle& ws_obj, int64_t axis,
                       float epsilon, bool relu) {
    const std::string fn = "batchnorm_forward_inference";
    FArray x = checked(x_obj, (fn + ": x").c_str()), y = checked(y_obj, (fn + ": y").c_str());
    same_shape(x, y, fn + ": y");
    writable(y, fn + ": y");
    const BatchNormShape s = view(x, axis, fn);
    const int64_t C = s.channels;
    finite_in(epsilon, fn + ": epsilon", 0.0f, 3.4e38f);
    const float* gamma = channel_in(gamma_obj, C, fn + ": gamma");
    const float* beta = channel_in(beta_obj, C, fn + ": beta");
    const float* mm = channel_in(py::reinterpret_borrow<py::object>(mm_obj), C, fn + ": moving_mean", false);
    const float* mv = channel_in(py::reinterpret_borrow<py::object>(mv_obj), C, fn + ": moving_variance", false);
    float* mean = channel_out(mean_obj, C, fn + ": mean");
    float* inv = channel_out(inv_obj, C, fn + ": inv_std");
    float* ws = workspace_of(ws_obj, s, fn);
    const float* xp = x.data();
    float* yp = y.mutable_data();
    ComputeScope compute;
    batchnorm_forward_inference(xp, gamma, beta, mm, mv, yp, mean, inv, ws, s, epsilon, relu);
}

void backward(const py::handle& x_obj, const py::handle& dy_obj, const py::object& gamma_obj,
              const py::handle& mean_obj, const py::handle& inv_obj, const py::object& dx_obj,
              const py::object& dgamma_obj, const py::object& dbeta_obj, const py::handle& ws_obj, int64_t axis,
              bool batch_stats, const py::object& relu_y_obj) {
    const std::string fn = "batchnorm_backward";
    FArray x = checked(x_obj, (fn + ": x").c_str()), dy = checked(dy_obj, (fn + ": dy").c_str());
    same_shape(x, dy, fn + ": dy");
    const BatchNormShape s = view(x, axis, fn);
    const int64_t C = s.channels;
    float* dx = nullptr;
    if (!dx_obj.is_none()) {
        FArray d = checked(dx_obj, (fn + ": dx").c_str());
        same_shape(x, d, fn + ": dx");
        writable(d, fn + ": dx");
        dx = d.mutable_data();
    }
    const float* gamma = channel_in(gamma_obj, C, fn + ": gamma");
    const float* mean = channel_in(py::reinterpret_borrow<py::object>(mean_obj), C, fn + ": mean", false);
    const float* inv = channel_in(py::reinterpret_borrow<py::object>(inv_obj), C, fn + ": inv_std", false);
    float* dgamma = channel_out(dgamma_obj, C, fn + ": dgamma");
    float* dbeta = channel_out(dbeta_obj, C, fn + ": dbeta");
    float* ws = workspace_of(ws_obj, s, fn);
    const float* relu_y = nullptr;
    if (!relu_y_obj.is_none()) {
        FArray r = checked(relu_y_obj, (fn + ": relu_y").c_str());
        same_shape(x, r, fn + ": relu_y");
        if (dx && r.data() == dx) fail(fn + ": relu_y must not be dx");
        relu_y = r.data();
    }
    const float *xp = x.data(), *dyp = dy.data();
    ComputeScope compute;
    batchnorm_backward(xp, dyp, gamma, mean, inv, dx, dgamma, dbeta, ws, s, batch_stats, relu_y);
}

}  // namespace

void bind_batchnorm(py::module_& m) {
    m.def("batchnorm_workspace_size",
          [](const py::sequence& dims, int64_t axis) {
              std::vector<int64_t> shape;
              for (const py::handle& d : dims) {
                  shape.push_back(d.cast<int64_t>());
                  if (shape.back() < 0) fail("batchnorm_workspace_size: negative dimension in the shape");
              }
              return batchnorm_workspace_size(view(shape, axis, "batchnorm_workspace_size"));
          },
          py::arg("shape"), py::arg("axis"),
          "Floats of workspace the batchnorm_* kernels need for an input of `shape` normalised along `axis`.");
    m.def("batchnorm_forward_training", &forward_training, py::arg("x"), py::arg("gamma"), py::arg("beta"),
          py::arg("y"), py::arg("mean"), py::arg("inv_std"), py::arg("moving_mean"), py::arg("moving_variance"),
          py::arg("workspace"), py::arg("axis"), py::arg("epsilon"), py::arg("momentum"), py::arg("relu") = false,
          "Batch statistics along `axis`, y = (x - mean) * inv_std * gamma + beta (then y <= 0 ? 0 : y with "
          "relu); writes mean and inv_std, and updates moving_mean / moving_variance (both or None) as Keras 2.2.4 "
          "does.");
    m.def("batchnorm_forward_inference", &forward_inference, py::arg("x"), py::arg("gamma"), py::arg("beta"),
          py::arg("moving_mean"), py::arg("moving_variance"), py::arg("y"), py::arg("mean"), py::arg("inv_std"),
          py::arg("workspace"), py::arg("axis"), py::arg("epsilon"), py::arg("relu") = false,
          "y = (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta (then y <= 0 ? 0 : y with "
          "relu); mean / inv_std (optional) receive what batchnorm_backward needs.");
    m.def("batchnorm_backward", &backward, py::arg("x"), py::arg("dy"), py::arg("gamma"), py::arg("mean"),
          py::arg("inv_std"), py::arg("dx"), py::arg("dgamma"), py::arg("dbeta"), py::arg("workspace"),
          py::arg("axis"), py::arg("batch_stats"), py::arg("relu_y") = py::none(),
          "dx (may be dy itself), dgamma, dbeta (each optional) from dy and the forward's mean and inv_std; "
          "batch_stats: the forward used the batch's statistics; relu_y: the y of a forward with relu (dy is "
          "taken through that ReLU first).");
}

}  // namespace seqnet
