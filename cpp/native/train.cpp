// Training from C++: compile, train_on_batch and save_weights, as python/seqnet/engine/training.py
// runs a step on a plain chain: forward (training), the fused loss kernel (value and gradient),
// backward layer by layer, one optimizer kernel over the flat buffer of trainable weights.
#include <cmath>
#include <set>

#include "h5file.h"
#include "layers.h"
#include "model_impl.h"
#include "seqnet/cpu.h"
#include "seqnet/loss.h"
#include "seqnet/optim.h"

namespace seqnet {

using native::fail;
using native::Value;
using native::WeightPtr;

struct Model::Impl::Training {
    Optimizer opt;
    Loss loss = Loss::MeanSquaredError;
    bool fused = false;
    std::vector<WeightPtr> params;  // trainable weights, model order
    std::vector<float> flat, grads;
    std::vector<std::vector<float>> slots;  // optimizer state, each flat
    int64_t iterations = 0;
    double m_schedule = 1.0;  // Nadam
    float lr32 = 0.0f, decay32 = 0.0f;
};

namespace {

Loss loss_of(const std::string& name) {
    if (name == "mse" || name == "mean_squared_error" || name == "MSE") return Loss::MeanSquaredError;
    if (name == "mae" || name == "mean_absolute_error" || name == "MAE") return Loss::MeanAbsoluteError;
    if (name == "binary_crossentropy") return Loss::BinaryCrossentropy;
    if (name == "categorical_crossentropy") return Loss::CategoricalCrossentropy;
    if (name == "sparse_categorical_crossentropy") return Loss::SparseCategoricalCrossentropy;
    fail("compile: loss '" + name + "' is not one the native runtime trains with (mean_squared_error, mean_absolute_error, "
         "binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)");
}

double default_lr(const std::string& name) {
    if (name == "sgd" || name == "adagrad") return 0.01;
    if (name == "rmsprop" || name == "adam") return 0.001;
    if (name == "adadelta") return 1.0;
    if (name == "adamax" || name == "nadam") return 0.002;
    fail("compile: unknown optimizer '" + name + "' (sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam)");
}

Value value_of(const Tensor& t, const std::string& what) {
    Value v;
    v.shape = t.shape;
    const int64_t n = t.size();
    if (t.dtype == DType::Int32) {
        if (static_cast<int64_t>(t.ints.size()) != n) fail(what + ": data does not match its shape");
        v.f.resize(static_cast<size_t>(n));
        for (int64_t k = 0; k < n; ++k) v.f[k] = static_cast<float>(t.ints[k]);
    } else {
        if (static_cast<int64_t>(t.data.size()) != n) fail(what + ": data does not match its shape");
        v.f = t.data;
    }
    return v;
}

}  // namespace

void Model::compile(const Optimizer& optimizer, const std::string& loss) {
    Impl& m = *impl_;
    if (!m.chain)
        fail("compile: training from C++ needs a plain chain of layers (one input, one output, no masks, no shared layers)");
    std::set<native::Runner*> seen;
    for (const auto& st : m.steps)
        if (!st.runner->trainable_natively())
            fail("compile: layer '" + st.runner->name + "' (" + st.runner->class_name + ") cannot be trained from C++ yet");
        else if (!st.runner->training_extra.empty())
            fail("compile: layer '" + st.runner->name + "' (" + st.runner->class_name + ") sets a " +
                 st.runner->training_extra + ", which training from C++ does not apply: it cannot be trained from C++ yet");
    auto t = std::make_shared<Impl::Training>();
    t->opt = optimizer;
    if (t->opt.lr < 0) t->opt.lr = default_lr(t->opt.name);
    default_lr(t->opt.name);  // validates the name
    if (t->opt.rho < 0) t->opt.rho = t->opt.name == "adadelta" ? 0.95 : 0.9;
    if (t->opt.decay < 0 || t->opt.momentum < 0 || t->opt.epsilon < 0) fail("compile: lr, decay, momentum and epsilon must be >= 0");
    // Python keeps lr and decay in float32 backend variables.
    t->lr32 = static_cast<float>(t->opt.lr);
    t->decay32 = static_cast<float>(t->opt.decay);
    t->loss = loss_of(loss);
    const native::Runner* last = m.steps.back().runner;
    const Activation out_act = last->output_activation();
    t->fused = ((t->loss == Loss::CategoricalCrossentropy || t->loss == Loss::SparseCategoricalCrossentropy) && out_act == Activation::Softmax) ||
               (t->loss == Loss::BinaryCrossentropy && out_act == Activation::Sigmoid);
    for (const auto& st : m.steps) {
        if (!st.runner->trainable) continue;
        for (const WeightPtr& w : st.runner->weights)
            if (w->trainable) t->params.push_back(w);
    }
    size_t total = 0;
    for (const WeightPtr& w : t->params) total += w->value.size();
    t->flat.assign(total, 0.0f);
    t->grads.assign(total, 0.0f);
    const std::string& n = t->opt.name;
    const int slots = n == "sgd" ? (t->opt.momentum > 0 ? 1 : 0) : n == "rmsprop" ? (t->opt.momentum > 0 ? 2 : 1)
                      : n == "adagrad" ? 1 : n == "adam" ? (t->opt.amsgrad ? 3 : 2) : 2;
    t->slots.assign(static_cast<size_t>(slots), std::vector<float>(total, 0.0f));
    m.training = t;
}

float Model::train_on_batch(const Tensor& x, const Tensor& y) {
    return train_on_batch(std::vector<Tensor>{x}, std::vector<Tensor>{y});
}

float Model::train_on_batch(const std::vector<Tensor>& xs, const std::vector<Tensor>& ys) {
    Impl& m = *impl_;
    if (!m.training) fail("train_on_batch: call compile() first");
    Impl::Training& t = *m.training;
    if (xs.size() != 1 || ys.size() != 1) fail("train_on_batch: the model takes one input and one target");
    Value x = value_of(xs[0], "train_on_batch: x");
    Value y = value_of(ys[0], "train_on_batch: y");
    const TensorSpec& spec = m.inputs[0];
    bool ok = x.shape.size() == spec.shape.size() && !x.shape.empty();
    for (size_t d = 1; ok && d < x.shape.size(); ++d) ok = spec.shape[d] < 0 || spec.shape[d] == x.shape[d];
    if (!ok) fail("train_on_batch: input expects shape " + native::shape_str(spec.shape) + ", got " + native::shape_str(x.shape));
    if (x.shape[0] < 1 || y.shape.empty() || y.shape[0] != x.shape[0])
        fail("train_on_batch: x and y must have the same (non-zero) number of rows, got " + native::shape_str(x.shape) + " and " + native::shape_str(y.shape));
    std::vector<Value> xs_values;
    xs_values.push_back(std::move(x));
    const FlushScope flush(FlushScope::kPoolKeeps);  // subnormals as zero, as in Python (seqnet/cpu.h)
    const Value& out = *m.run(std::move(xs_values), true)[0];
    const int64_t cols = out.shape.back(), rows = native::rows_of(out.shape);
    if (t.loss == Loss::SparseCategoricalCrossentropy) {
        if (static_cast<int64_t>(y.f.size()) != rows)
            fail("train_on_batch: sparse labels need one entry per row of the output " + native::shape_str(out.shape) + ", got " + native::shape_str(y.shape));
        for (float v : y.f)
            if (!(v >= 0.0f && v < static_cast<float>(cols) && v == std::floor(v)))
                fail("train_on_batch: sparse label " + std::to_string(v) + " is not a class index in [0, " + std::to_string(cols) + ")");
    } else if (y.shape != out.shape) {
        fail("train_on_batch: the target has shape " + native::shape_str(y.shape) + ", the output " + native::shape_str(out.shape));
    }
    const auto& last_step = m.steps.back();
    const std::vector<float>* logits = t.fused ? last_step.runner->logits() : nullptr;
    if (t.fused && !logits) fail("train_on_batch: the output layer kept no logits");
    Value dy = native::make_value(out.shape);
    const float loss = loss_forward_backward(t.loss, y.f.data(), out.f.data(), logits ? logits->data() : nullptr, rows, cols,
                                             nullptr, dy.f.data(), nullptr);
    // backward: step k's input is values[in_slot], its output values[out_slot]
    for (size_t k = m.steps.size(); k-- > 0;) {
        const auto& st = m.steps[k];
        std::vector<const Value*> in = {m.slot[st.in_slots[0]]};
        std::vector<Value> dx;
        st.runner->backward(in, *m.slot[st.out_slots[0]], dy, k > 0 ? &dx : nullptr, t.fused && k + 1 == m.steps.size());
        if (k > 0) dy = std::move(dx[0]);
    }
    // one update over the flat buffers, as ParameterStore + Optimizer.apply_gradients_flat
    size_t at = 0;
    for (const WeightPtr& w : t.params) {
        std::copy(w->value.begin(), w->value.end(), t.flat.begin() + at);
        if (w->grad.size() != w->value.size()) fail("train_on_batch: no gradient for weight '" + w->name + "'");
        std::copy(w->grad.begin(), w->grad.end(), t.grads.begin() + at);
        at += w->value.size();
    }
    double lr = static_cast<double>(t.lr32);
    if (t.decay32 > 0.0f) lr /= 1.0 + static_cast<double>(t.decay32) * static_cast<double>(t.iterations);
    const Optimizer& o = t.opt;
    const int64_t n = static_cast<int64_t>(t.flat.size());
    float* p = t.flat.data();
    const float* g = t.grads.data();
    auto slot = [&](size_t i) { return i < t.slots.size() ? t.slots[i].data() : nullptr; };
    const double tt = static_cast<double>(t.iterations + 1);
    if (o.name == "sgd") {
        sgd_update(p, g, slot(0), n, static_cast<float>(lr), static_cast<float>(o.momentum), o.nesterov);
    } else if (o.name == "rmsprop") {
        rmsprop_update(p, g, slot(0), o.momentum > 0 ? slot(1) : nullptr, nullptr, n, static_cast<float>(lr), static_cast<float>(o.rho),
                       static_cast<float>(o.momentum), static_cast<float>(o.epsilon));
    } else if (o.name == "adagrad") {
        adagrad_update(p, g, slot(0), n, static_cast<float>(lr), static_cast<float>(o.epsilon));
    } else if (o.name == "adadelta") {
        adadelta_update(p, g, slot(0), slot(1), n, static_cast<float>(lr), static_cast<float>(o.rho), static_cast<float>(o.epsilon));
    } else if (o.name == "adam") {
        const double lr_t = lr * std::sqrt(1.0 - std::pow(o.beta_2, tt)) / (1.0 - std::pow(o.beta_1, tt));
        adam_update(p, g, slot(0), slot(1), o.amsgrad ? slot(2) : nullptr, n, static_cast<float>(lr_t), static_cast<float>(o.beta_1),
                    static_cast<float>(o.beta_2), static_cast<float>(o.epsilon));
    } else if (o.name == "adamax") {
        const double lr_t = lr / (1.0 - std::pow(o.beta_1, tt));
        adamax_update(p, g, slot(0), slot(1), n, static_cast<float>(lr_t), static_cast<float>(o.beta_1), static_cast<float>(o.beta_2),
                      static_cast<float>(o.epsilon));
    } else {  // nadam
        const double mu_t = o.beta_1 * (1.0 - 0.5 * std::pow(0.96, tt * o.schedule_decay));
        const double mu_t1 = o.beta_1 * (1.0 - 0.5 * std::pow(0.96, (tt + 1.0) * o.schedule_decay));
        const double m_new = t.m_schedule * mu_t, m_next = m_new * mu_t1;
        nadam_update(p, g, slot(0), slot(1), n, static_cast<float>(lr), static_cast<float>(o.beta_1), static_cast<float>(o.beta_2),
                     static_cast<float>(o.epsilon), static_cast<float>((1.0 - mu_t) / (1.0 - m_new)),
                     static_cast<float>(mu_t1 / (1.0 - m_next)), static_cast<float>(1.0 - std::pow(o.beta_2, tt)));
        t.m_schedule = m_new;
    }
    ++t.iterations;
    at = 0;
    for (const WeightPtr& w : t.params) {
        std::copy(t.flat.begin() + at, t.flat.begin() + at + w->value.size(), w->value.begin());
        at += w->value.size();
    }
    return loss;
}

void Model::save_weights(const std::string& path) const {
    std::vector<native::SavedLayer> layers;
    for (const auto& [name, weights] : impl_->top_layers) {
        native::SavedLayer l;
        l.name = name;
        for (const WeightPtr& w : weights) l.weights.push_back(w.get());
        layers.push_back(l);
    }
    native::write_weights_file(path, layers);
}

}  // namespace seqnet
