// Dense, BatchNormalization and Embedding runners, and the factory of every runner. Each
// calls the kernel its Python layer calls, with the same arguments (python/seqnet/layers).
#include <algorithm>
#include <cmath>

#include "layers.h"
#include "seqnet/batchnorm.h"
#include "seqnet/dense.h"
#include "seqnet/rnn.h"

namespace seqnet::native {

Value make_value(const Shape& shape) {
    Value v;
    v.shape = shape;
    v.f.assign(static_cast<size_t>(checked_size(shape, "output")), 0.0f);
    return v;
}

Value& out_value(std::vector<Value>& out, size_t i, const Shape& shape, size_t count) {
    if (out.size() != count) out.resize(count);
    Value& v = out[i];
    v.shape = shape;
    v.is_int = false;
    v.i.clear();
    v.mask.clear();
    v.mask_shape.clear();
    v.f.resize(static_cast<size_t>(checked_size(shape, "output")));
    return v;
}

int64_t rows_of(const Shape& s) {
    int64_t cols = s.empty() ? 1 : s.back();
    return cols ? checked_size(s, "rows") / cols : 0;
}

namespace {

// The last axis of a layer's input must be known and positive.
int64_t last_axis(const Shape& s, const std::string& layer) {
    if (s.size() < 2 || s.back() < 1)
        fail("Layer '" + layer + "': the last axis of the input must be defined, got " + shape_str(s));
    return s.back();
}

void require_inputs(const std::vector<const Value*>& in, size_t n, const std::string& layer) {
    if (in.size() != n) fail("Layer '" + layer + "' expects " + std::to_string(n) + " input(s), got " + std::to_string(in.size()));
    for (const Value* v : in)
        if (v->is_int) fail("Layer '" + layer + "' expects float32 input, got int32 (only an Embedding reads indices)");
}

}  // namespace

// ---- Dense ------------------------------------------------------------------------------------
DenseRunner::DenseRunner(const json& cfg, const std::string& nm) {
    name = nm;
    class_name = "Dense";
    supports_masking = true;
    units_ = get_int(cfg, "units", nm, 0);
    use_bias_ = get_bool(cfg, "use_bias", true);
    act_ = activation_from_config(cfg.contains("activation") ? cfg["activation"] : null_json(), nm);
    keep_z_ = activation_backward_needs_input(act_) || act_ == Activation::Softmax || act_ == Activation::Sigmoid;
}

std::vector<Shape> DenseRunner::build(const std::vector<Shape>& in, WeightSource& src) {
    if (in.size() != 1) fail("Layer '" + name + "' (Dense) expects one input");
    int64_t d = last_axis(in[0], name);
    if (weights.empty()) {
        in_ = d;
        weights.push_back(src.next("kernel", {d, units_}));
        if (use_bias_) weights.push_back(src.next("bias", {units_}));
    } else if (d != in_) {
        fail("Layer '" + name + "' (Dense) has a kernel for inputs of " + std::to_string(in_) + " features, called on " + shape_str(in[0]));
    }
    Shape out = in[0];
    out.back() = units_;
    return {out};
}

void DenseRunner::forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) {
    require_inputs(in, 1, name);
    const Value& x = *in[0];
    if (x.shape.empty() || x.shape.back() != in_)
        fail("Layer '" + name + "' (Dense): expected inputs with last axis " + std::to_string(in_) + ", got " + shape_str(x.shape));
    Shape shape = x.shape;
    shape.back() = units_;
    Value& y = out_value(out, 0, shape);
    const int64_t rows = rows_of(x.shape);
    float* z = nullptr;
    if (keep_z_) {
        z_.resize(y.f.size());
        z = z_.data();
    }
    dense_forward(x.f.data(), weights[0]->value.data(), use_bias_ ? weights[1]->value.data() : nullptr, z,
                  y.f.data(), rows, in_, units_, act_);
}

void DenseRunner::backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                           bool pre) {
    const Value& x = *in[0];
    const int64_t rows = rows_of(x.shape);
    if (dx) dx->assign(1, make_value(x.shape));
    Weight& k = *weights[0];
    k.grad.assign(k.value.size(), 0.0f);
    float* db = nullptr;
    if (use_bias_) {
        weights[1]->grad.assign(weights[1]->value.size(), 0.0f);
        db = weights[1]->grad.data();
    }
    dense_backward(x.f.data(), k.value.data(), keep_z_ ? z_.data() : nullptr, out.f.data(), dy.f.data(),
                   dx ? (*dx)[0].f.data() : nullptr, k.grad.data(), db, rows, in_, units_, act_, pre);
}

std::vector<WeightPtr> folded_weights(const Weight& kernel_weight, const std::string& name,
                                      const std::vector<float>& kernel, const std::vector<float>& bias) {
    auto k = std::make_shared<Weight>(kernel_weight);
    k->value = kernel;
    auto b = std::make_shared<Weight>();
    b->name = name + "/bias:0";
    b->shape = {int64_t(bias.size())};
    b->value = bias;
    return {k, b};
}

std::unique_ptr<Runner> DenseRunner::folded(const std::vector<float>& kernel, const std::vector<float>& bias) const {
    auto r = std::make_unique<DenseRunner>(*this);
    r->weights = folded_weights(*weights[0], name, kernel, bias);
    r->use_bias_ = true;
    return r;
}

// ---- BatchNormalization -----------------------------------------------------------------------
BatchNormRunner::BatchNormRunner(const json& cfg, const std::string& nm) {
    name = nm;
    class_name = "BatchNormalization";
    supports_masking = true;
    const json* axis = cfg.contains("axis") ? &cfg["axis"] : nullptr;
    if (axis && axis->is_array() && axis->size() == 1) axis = &(*axis)[0];
    if (axis && !axis->is_null()) {
        if (!axis->is_number_integer()) fail("Layer '" + nm + "' (BatchNormalization): axis must be one integer, got " + axis->dump());
        axis_arg_ = axis->get<int64_t>();
    }
    epsilon_ = get_number(cfg, "epsilon", nm, 1e-3);
    momentum_ = get_number(cfg, "momentum", nm, 0.99);
    if (epsilon_ < 0) fail("Layer '" + nm + "' (BatchNormalization): epsilon must be >= 0");
    center_ = get_bool(cfg, "center", true);
    scale_ = get_bool(cfg, "scale", true);
    for (const char* key : {"renorm", "synchronized"})
        if (get_bool(cfg, key, false)) fail("Layer '" + nm + "' (BatchNormalization): " + key + "=True is not supported");
}

std::vector<Shape> BatchNormRunner::build(const std::vector<Shape>& in, WeightSource& src) {
    if (in.size() != 1) fail("Layer '" + name + "' (BatchNormalization) expects one input");
    const int64_t nd = static_cast<int64_t>(in[0].size());
    if (axis_arg_ < -nd || axis_arg_ >= nd || (axis_arg_ + nd) % nd == 0)
        fail("Layer '" + name + "' (BatchNormalization): axis=" + std::to_string(axis_arg_) + " does not fit inputs " + shape_str(in[0]));
    const int64_t axis = (axis_arg_ + nd) % nd;
    const int64_t c = in[0][axis];
    if (c < 1) fail("Layer '" + name + "' (BatchNormalization): the channel axis of " + shape_str(in[0]) + " must be defined");
    if (weights.empty()) {
        axis_ = axis;
        ndim_ = nd;
        if (scale_) weights.push_back(gamma_ = src.next("gamma", {c}));
        if (center_) weights.push_back(beta_ = src.next("beta", {c}));
        weights.push_back(mean_ = src.next("moving_mean", {c}));
        weights.push_back(var_ = src.next("moving_variance", {c}));
        mean_->trainable = var_->trainable = false;
    } else if (axis != axis_ || c != static_cast<int64_t>(mean_->value.size())) {
        fail("Layer '" + name + "' (BatchNormalization) called on inputs " + shape_str(in[0]) + " of another channel count");
    }
    return {in[0]};
}

BatchNormShape BatchNormRunner::shape_of(const Shape& x) const {
    const int64_t nd = static_cast<int64_t>(x.size());
    if (nd != ndim_ || x[axis_] != static_cast<int64_t>(mean_->value.size()))
        fail("Layer '" + name + "' (BatchNormalization): input " + shape_str(x) + " does not match the layer");
    BatchNormShape s{1, x[axis_], 1};
    for (int64_t i = 0; i < axis_; ++i) s.outer *= x[i];
    for (int64_t i = axis_ + 1; i < nd; ++i) s.inner *= x[i];
    return s;
}

void BatchNormRunner::forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) {
    require_inputs(in, 1, name);
    const Value& x = *in[0];
    const BatchNormShape s = shape_of(x.shape);
    out_value(out, 0, x.shape);
    ws_.resize(static_cast<size_t>(std::max<int64_t>(1, batchnorm_workspace_size(s))));
    mean_ws_.resize(static_cast<size_t>(s.channels));
    inv_ws_.resize(static_cast<size_t>(s.channels));
    batch_stats_ = training;
    if (training) {  // Keras 2.2.4: a frozen layer still normalizes with the batch's statistics, updates nothing
        batchnorm_forward_training(x.f.data(), gamma_ ? gamma_->value.data() : nullptr, beta_ ? beta_->value.data() : nullptr,
                                   out[0].f.data(), mean_ws_.data(), inv_ws_.data(), trainable ? mean_->value.data() : nullptr,
                                   trainable ? var_->value.data() : nullptr, ws_.data(), s, static_cast<float>(epsilon_),
                                   static_cast<float>(momentum_));
        return;
    }
    batchnorm_forward_inference(x.f.data(), gamma_ ? gamma_->value.data() : nullptr, beta_ ? beta_->value.data() : nullptr,
                                mean_->value.data(), var_->value.data(), out[0].f.data(), mean_ws_.data(),
                                inv_ws_.data(), ws_.data(), s, static_cast<float>(epsilon_));
}

void BatchNormRunner::backward(const std::vector<const Value*>& in, const Value&, Value& dy, std::vector<Value>* dx, bool) {
    const Value& x = *in[0];
    const BatchNormShape s = shape_of(x.shape);
    float* dgamma = nullptr;
    float* dbeta = nullptr;
    if (trainable && gamma_) dgamma = (gamma_->grad.assign(gamma_->value.size(), 0.0f), gamma_->grad.data());
    if (trainable && beta_) dbeta = (beta_->grad.assign(beta_->value.size(), 0.0f), beta_->grad.data());
    if (dx) dx->assign(1, make_value(x.shape));
    batchnorm_backward(x.f.data(), dy.f.data(), gamma_ ? gamma_->value.data() : nullptr, mean_ws_.data(), inv_ws_.data(),
                       dx ? (*dx)[0].f.data() : nullptr, dgamma, dbeta, ws_.data(), s, batch_stats_);
}

void BatchNormRunner::fold(const std::vector<float>& kernel, const std::vector<float>* bias, std::vector<float>& kernel_out,
                           std::vector<float>& bias_out) const {
    const size_t c = mean_->value.size();
    std::vector<double> scale(c), shift(c);
    for (size_t j = 0; j < c; ++j) {
        const double inv = 1.0 / std::sqrt(static_cast<double>(var_->value[j]) + epsilon_);
        scale[j] = gamma_ ? inv * static_cast<double>(gamma_->value[j]) : inv;
        shift[j] = static_cast<double>(-mean_->value[j]) * scale[j] + (beta_ ? static_cast<double>(beta_->value[j]) : 0.0);
    }
    kernel_out.resize(kernel.size());
    for (size_t i = 0; i < kernel.size(); ++i)
        kernel_out[i] = static_cast<float>(static_cast<double>(kernel[i]) * scale[i % c]);
    bias_out.resize(c);
    for (size_t j = 0; j < c; ++j) {
        const double b = bias ? static_cast<double>((*bias)[j]) : 0.0;
        bias_out[j] = static_cast<float>(b * scale[j] + shift[j]);
    }
}

// ---- Embedding ----------------------------------------------------------------------------------
EmbeddingRunner::EmbeddingRunner(const json& cfg, const std::string& nm) {
    name = nm;
    class_name = "Embedding";
    input_dim_ = get_int(cfg, "input_dim", nm, 0);
    output_dim_ = get_int(cfg, "output_dim", nm, 0);
    mask_zero_ = get_bool(cfg, "mask_zero", false);
}

std::vector<Shape> EmbeddingRunner::build(const std::vector<Shape>& in, WeightSource& src) {
    if (in.size() != 1) fail("Layer '" + name + "' (Embedding) expects one input");
    if (weights.empty()) weights.push_back(src.next("embeddings", {input_dim_, output_dim_}));
    Shape out = in[0];
    out.push_back(output_dim_);
    return {out};
}

void EmbeddingRunner::forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) {
    if (in.size() != 1) fail("Layer '" + name + "' (Embedding) expects one input");
    const Value& x = *in[0];
    Shape shape = x.shape;
    shape.push_back(output_dim_);
    out_value(out, 0, shape);
    const int64_t n = x.size();
    const float* table = weights[0]->value.data();
    const int64_t bad = x.is_int ? embedding_forward(x.i.data(), n, table, input_dim_, output_dim_, out[0].f.data())
                                 : embedding_forward(x.f.data(), n, table, input_dim_, output_dim_, out[0].f.data());
    if (bad >= 0) {
        const std::string got = x.is_int ? std::to_string(x.i[bad]) : std::to_string(x.f[bad]);
        fail("Layer '" + name + "' (Embedding): index " + got + " at flat position " + std::to_string(bad) +
             " is not an integer in [0, " + std::to_string(input_dim_) + ")");
    }
}

void EmbeddingRunner::backward(const std::vector<const Value*>& in, const Value&, Value& dy, std::vector<Value>* dx, bool) {
    const Value& x = *in[0];
    Weight& table = *weights[0];
    table.grad.assign(table.value.size(), 0.0f);
    const int64_t n = x.size();
    const int64_t bad = x.is_int ? embedding_backward(x.i.data(), n, dy.f.data(), input_dim_, output_dim_, table.grad.data())
                                 : embedding_backward(x.f.data(), n, dy.f.data(), input_dim_, output_dim_, table.grad.data());
    if (bad >= 0) fail("Layer '" + name + "' (Embedding): bad index at flat position " + std::to_string(bad));
    if (dx) dx->assign(1, make_value(x.shape));  // indices have no gradient
}

void EmbeddingRunner::compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) {
    if (!mask_zero_) return;
    const Value& x = *in[0];
    const int64_t n = x.size();
    out[0].mask_shape = x.shape;
    out[0].mask.resize(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) out[0].mask[k] = x.is_int ? x.i[k] != 0 : x.f[k] != 0.0f;
}

// ---- the factory ------------------------------------------------------------------------------
// The first key of a config (or of a wrapped layer's, depth-first) that sets a weight regularizer
// or a constraint: "kernel_regularizer", "recurrent_constraint", ...; empty when none does.
static std::string weight_regularizer_or_constraint(const json& cfg, int depth) {
    if (!cfg.is_object() || depth > 64) return {};
    auto ends_with = [](const std::string& s, const std::string& suffix) {
        return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    for (auto it = cfg.begin(); it != cfg.end(); ++it) {
        const std::string& key = it.key();
        if (key != "activity_regularizer" && (ends_with(key, "_regularizer") || ends_with(key, "_constraint")) &&
            !it.value().is_null())
            return key;
        if (it.value().is_object()) {
            std::string inner = weight_regularizer_or_constraint(it.value(), depth + 1);
            if (!inner.empty()) return inner;
        }
    }
    return {};
}

std::unique_ptr<Runner> make_runner(const json& layer, const std::string& prefix) {
    if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
        fail("model_config: a layer entry has no 'class_name' string: " + layer.dump().substr(0, 200));
    const std::string cls = layer["class_name"].get<std::string>();
    const json& cfg = layer.contains("config") ? layer["config"] : empty_object();
    if (!cfg.is_object()) fail("model_config: the config of a " + cls + " layer is not an object");
    std::string nm = cfg.contains("name") && cfg["name"].is_string() ? cfg["name"].get<std::string>()
                     : layer.contains("name") && layer["name"].is_string() ? layer["name"].get<std::string>() : cls;
    nm = prefix + nm;
    if (std::count(prefix.begin(), prefix.end(), '/') > 64) fail("model_config: layers wrapped or nested more than 64 deep");
    std::unique_ptr<Runner> r;
    if (cls == "Dense") r = std::make_unique<DenseRunner>(cfg, nm);
    else if (cls == "BatchNormalization") r = std::make_unique<BatchNormRunner>(cfg, nm);
    else if (cls == "Embedding") r = std::make_unique<EmbeddingRunner>(cfg, nm);
    if (!r) r = make_conv_family(cls, cfg, nm);
    if (!r) r = make_rnn_family(cls, cfg, nm);
    if (!r) r = make_misc_family(cls, cfg, nm);
    if (!r)
        fail("Layer '" + nm + "' of class " + cls + " is not supported by seqnet's native runtime" +
             (cls == "Lambda" ? " (a Lambda layer runs Python code)" : " (a custom or unknown layer class)"));
    const json& reg = cfg.contains("activity_regularizer") ? cfg["activity_regularizer"] : null_json();
    r->has_activity_regularizer = !reg.is_null();
    r->training_extra = weight_regularizer_or_constraint(cfg, 0);
    r->trainable = get_bool(cfg, "trainable", true);
    return r;
}

}  // namespace seqnet::native
