// Activation, the identity-at-inference layers (dropout, noise), shape layers (Flatten,
// Reshape, Permute, RepeatVector), Masking and the advanced activations.
// Where the Python layer computes with NumPy, the same float32 operations in the same order.
#include <cmath>
#include <random>

#include "layers.h"

namespace seqnet::native {
namespace {

const Value& single(const std::vector<const Value*>& in, const std::string& layer) {
    if (in.size() != 1) fail("Layer '" + layer + "' expects one input, got " + std::to_string(in.size()));
    if (in[0]->is_int) fail("Layer '" + layer + "' expects float32 input, got int32");
    return *in[0];
}

Value same_as(const Value& x) {
    Value y = make_value(x.shape);
    return y;
}

class ActivationRunner : public Runner {
public:
    ActivationRunner(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "Activation";
        supports_masking = true;
        act_ = activation_from_config(require(cfg, "activation", nm), nm);
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override { return {in.at(0)}; }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        Value& y = out_value(out, 0, x.shape);
        activation_forward(act_, x.f.data(), y.f.data(), rows_of(x.shape), x.shape.empty() ? 1 : x.shape.back());
        if (act_ == Activation::Softmax || act_ == Activation::Sigmoid) logits_ = x.f;  // a fused loss reads them
    }
    bool trainable_natively() const override { return true; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx, bool pre) override {
        if (!pre && act_ != Activation::Linear)
            activation_backward(act_, activation_backward_needs_input(act_) ? in[0]->f.data() : nullptr, out.f.data(),
                                dy.f.data(), dy.f.data(), rows_of(dy.shape), dy.shape.back());
        if (dx) dx->assign(1, dy);
    }
    Activation output_activation() const override { return act_; }
    const std::vector<float>* logits() const override { return logits_.empty() ? nullptr : &logits_; }

private:
    Activation act_;
    std::vector<float> logits_;
};

// Dropout and the noise layers: the identity at inference. Training (C++ only): inverted
// dropout with the runtime's own generator (not Python's Philox streams). The other layers
// here act in training too (noise, channel dropout, an activity penalty in the loss), which the
// runtime does not do: a model with one that would act is not trained from C++ (compile names
// it) rather than trained without it; so is a Dropout with a noise_shape.
class IdentityRunner : public Runner {
public:
    IdentityRunner(const json& cfg, const std::string& nm, const std::string& cls, bool dropout) {
        name = nm;
        class_name = cls;
        supports_masking = true;
        if (dropout) rate_ = get_number(cfg, "rate", nm, 0.0);
        if (rate_ < 0 || rate_ >= 1) fail("Layer '" + nm + "': rate must be in [0, 1)");
        if (dropout) {
            const bool shaped = cfg.is_object() && cfg.contains("noise_shape") && !cfg["noise_shape"].is_null();
            trainable_ = rate_ <= 0 || !shaped;
        } else {
            // Inactive in training as well: a zero rate, standard deviation or penalty.
            trainable_ = true;
            for (const char* key : {"rate", "stddev", "l1", "l2"})
                if (get_number(cfg, key, nm, 0.0) != 0.0) trainable_ = false;
        }
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override { return {in.at(0)}; }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override {
        const Value& x = single(in, name);
        std::copy(x.f.begin(), x.f.end(), out_value(out, 0, x.shape).f.begin());
        keep_.clear();
        if (!training || rate_ <= 0 || class_name != "Dropout") return;
        std::bernoulli_distribution keep(1.0 - rate_);
        const float scale = static_cast<float>(1.0 / (1.0 - rate_));
        keep_.resize(x.f.size());
        for (size_t k = 0; k < x.f.size(); ++k) {
            keep_[k] = keep(rng_) ? scale : 0.0f;
            out[0].f[k] *= keep_[k];
        }
    }
    bool passes_through(bool training) const override { return !training || rate_ <= 0 || class_name != "Dropout"; }
    bool trainable_natively() const override { return trainable_; }
    void backward(const std::vector<const Value*>&, const Value&, Value& dy, std::vector<Value>* dx, bool) override {
        for (size_t k = 0; k < keep_.size(); ++k) dy.f[k] *= keep_[k];
        if (dx) dx->assign(1, dy);
    }

private:
    double rate_ = 0.0;
    bool trainable_ = true;
    std::vector<float> keep_;
    std::mt19937_64 rng_{12345};
};

// Flatten and Reshape: a new shape for the same data (Flatten of channels_first input moves
// the channels last first, as Keras).
class ReshapeRunner : public Runner {
public:
    ReshapeRunner(const json& cfg, const std::string& nm, const std::string& cls) {
        name = nm;
        class_name = cls;
        if (cls == "Flatten") {
            first_ = get_string(cfg, "data_format", nm, "channels_last") == "channels_first";
            return;
        }
        const json& t = require(cfg, "target_shape", nm);
        if (!t.is_array()) fail("Layer '" + nm + "' (Reshape): target_shape must be a list, got " + t.dump());
        int unknown = 0;
        for (const json& e : t) {
            if (!e.is_number_integer() || (e.get<int64_t>() < 1 && e.get<int64_t>() != -1) || e.get<int64_t>() > (int64_t(1) << 40))
                fail("Layer '" + nm + "' (Reshape): bad target_shape " + t.dump());
            target_.push_back(e.get<int64_t>());
            unknown += e.get<int64_t>() == -1;
        }
        if (unknown > 1) fail("Layer '" + nm + "' (Reshape): more than one -1 in target_shape " + t.dump());
    }
    Shape out_shape(const Shape& s) const {
        Shape rest(s.begin() + 1, s.end());
        for (int64_t d : rest)
            if (d < 0) fail("Layer '" + name + "' (" + class_name + "): input shape " + shape_str(s) + " must be fully defined");
        const int64_t n = checked_size(rest, name);
        if (class_name == "Flatten") return {s[0], n};
        Shape out = {s[0]};
        int64_t known = 1;
        for (int64_t d : target_)
            if (d != -1) known = checked_mul(known, d, name);
        for (int64_t d : target_) out.push_back(d == -1 ? (known ? n / known : 0) : d);
        bool has_unknown = false;
        for (int64_t d : target_) has_unknown |= d == -1;
        if ((has_unknown && (known == 0 || n % known)) || (!has_unknown && known != n))
            fail("Layer '" + name + "' (Reshape): target_shape does not fit an input of shape " + shape_str(s));
        return out;
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        if (in[0].size() < 2) fail("Layer '" + name + "': input must have a batch axis");
        return {out_shape(in[0])};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        Value y;
        if (first_ && x.shape.size() > 2) {  // np.moveaxis(x, 1, -1), then flatten
            const int64_t n = x.shape[0], c = x.shape[1], inner = n && c ? x.size() / (n * c) : 0;
            y = make_value(x.shape);
            for (int64_t b = 0; b < n; ++b)
                for (int64_t ch = 0; ch < c; ++ch)
                    for (int64_t p = 0; p < inner; ++p) y.f[(b * inner + p) * c + ch] = x.f[(b * c + ch) * inner + p];
        } else {
            y = x;
            y.mask.clear();
            y.mask_shape.clear();
        }
        y.shape = out_shape(x.shape);
        out.assign(1, std::move(y));
    }
    bool trainable_natively() const override { return !first_; }
    void backward(const std::vector<const Value*>& in, const Value&, Value& dy, std::vector<Value>* dx, bool) override {
        if (!dx) return;
        dx->assign(1, dy);
        (*dx)[0].shape = in[0]->shape;
    }

private:
    bool first_ = false;
    Shape target_;
};

class PermuteRunner : public Runner {
public:
    PermuteRunner(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "Permute";
        const json& d = require(cfg, "dims", nm);
        if (!d.is_array()) fail("Layer '" + nm + "' (Permute): dims must be a list");
        std::vector<bool> seen(d.size() + 1, false);
        for (const json& e : d) {
            if (!e.is_number_integer() || e.get<int64_t>() < 1 || e.get<int64_t>() > static_cast<int64_t>(d.size()) || seen[e.get<int64_t>()])
                fail("Layer '" + nm + "' (Permute): dims must be a permutation of 1..n, got " + d.dump());
            seen[e.get<int64_t>()] = true;
            perm_.push_back(e.get<int64_t>());
        }
        perm_.insert(perm_.begin(), 0);
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1 || in[0].size() != perm_.size())
            fail("Layer '" + name + "' (Permute): dims need inputs of rank " + std::to_string(perm_.size()));
        Shape out;
        for (int64_t p : perm_) out.push_back(in[0][p]);
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        if (x.shape.size() != perm_.size()) fail("Layer '" + name + "' (Permute): input " + shape_str(x.shape) + " has the wrong rank");
        const size_t nd = perm_.size();
        Shape ys;
        for (int64_t p : perm_) ys.push_back(x.shape[p]);
        Value y = make_value(ys);
        std::vector<int64_t> xstride(nd, 1);
        for (size_t d = nd - 1; d > 0; --d) xstride[d - 1] = xstride[d] * x.shape[d];
        std::vector<int64_t> idx(nd, 0);
        const int64_t n = y.size();
        for (int64_t k = 0; k < n; ++k) {
            int64_t src = 0;
            for (size_t d = 0; d < nd; ++d) src += idx[d] * xstride[perm_[d]];
            y.f[k] = x.f[src];
            for (size_t d = nd; d-- > 0;) {
                if (++idx[d] < ys[d]) break;
                idx[d] = 0;
            }
        }
        out.assign(1, std::move(y));
    }

private:
    Shape perm_;
};

class RepeatVectorRunner : public Runner {
public:
    RepeatVectorRunner(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "RepeatVector";
        n_ = get_int(cfg, "n", nm, 0);
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1 || in[0].size() != 2) fail("Layer '" + name + "' (RepeatVector) expects inputs of rank 2");
        return {{in[0][0], n_, in[0][1]}};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        if (x.shape.size() != 2) fail("Layer '" + name + "' (RepeatVector) expects inputs of rank 2, got " + shape_str(x.shape));
        const int64_t b = x.shape[0], f = x.shape[1];
        Value y = make_value({b, n_, f});
        for (int64_t r = 0; r < b; ++r)
            for (int64_t t = 0; t < n_; ++t) std::copy(x.f.begin() + r * f, x.f.begin() + (r + 1) * f, y.f.begin() + (r * n_ + t) * f);
        out.assign(1, std::move(y));
    }

private:
    int64_t n_;
};

class MaskingRunner : public Runner {
public:
    MaskingRunner(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "Masking";
        numpy_side = true;
        value_ = static_cast<float>(get_number(cfg, "mask_value", nm, 0.0));
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override { return {in.at(0)}; }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        const int64_t cols = x.shape.back(), rows = rows_of(x.shape);
        Value y = same_as(x);
        keep_.assign(static_cast<size_t>(rows), 0);
        for (int64_t r = 0; r < rows; ++r) {
            bool any = false;
            for (int64_t c = 0; c < cols; ++c) any |= x.f[r * cols + c] != value_;
            keep_[r] = any;
            const float k = any ? 1.0f : 0.0f;
            for (int64_t c = 0; c < cols; ++c) y.f[r * cols + c] = x.f[r * cols + c] * k;
        }
        out.assign(1, std::move(y));
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        out[0].mask = keep_;
        out[0].mask_shape = Shape(in[0]->shape.begin(), in[0]->shape.end() - 1);
    }

private:
    float value_;
    std::vector<uint8_t> keep_;
};

// LeakyReLU, ThresholdedReLU, ReLU, ELU, Softmax (last axis), PReLU.
class AdvancedActivationRunner : public Runner {
public:
    AdvancedActivationRunner(const json& cfg, const std::string& nm, const std::string& cls) {
        name = nm;
        class_name = cls;
        supports_masking = true;
        numpy_side = cls != "Softmax";  // Python's Softmax (last axis) runs the engine's kernel
        if (cls == "LeakyReLU") alpha_ = static_cast<float>(get_number(cfg, "alpha", nm, get_number(cfg, "negative_slope", nm, 0.3)));
        if (cls == "ELU") alpha_ = static_cast<float>(get_number(cfg, "alpha", nm, 1.0));
        if (cls == "ThresholdedReLU") theta_ = static_cast<float>(get_number(cfg, "theta", nm, 1.0));
        if (cls == "ReLU") {
            alpha_ = static_cast<float>(get_number(cfg, "negative_slope", nm, 0.0));
            theta_ = static_cast<float>(get_number(cfg, "threshold", nm, 0.0));
            has_cap_ = cfg.contains("max_value") && !cfg["max_value"].is_null();
            if (has_cap_) cap_ = static_cast<float>(get_number(cfg, "max_value", nm, 0.0));
        }
        if (cls == "Softmax") {
            const json& a = cfg.contains("axis") ? cfg["axis"] : json(-1);
            if (!(a.is_number_integer() && a.get<int64_t>() == -1) && !(a.is_array() && a.size() == 1 && a[0] == -1))
                fail("Layer '" + nm + "' (Softmax): only axis=-1 is supported natively, got " + a.dump());
        }
        if (cls == "PReLU") {
            const json& s = cfg.contains("shared_axes") ? cfg["shared_axes"] : null_json();
            if (s.is_number_integer()) shared_.push_back(s.get<int64_t>());
            else if (s.is_array())
                for (const json& e : s) {
                    if (!e.is_number_integer()) fail("Layer '" + nm + "' (PReLU): bad shared_axes " + s.dump());
                    shared_.push_back(e.get<int64_t>());
                }
        }
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        if (class_name == "PReLU" && weights.empty()) {
            Shape p(in[0].begin() + 1, in[0].end());
            for (int64_t a : shared_) {
                if (a < 1 || a > static_cast<int64_t>(p.size())) fail("Layer '" + name + "' (PReLU): shared axis " + std::to_string(a) + " out of range");
                p[a - 1] = 1;
            }
            for (int64_t d : p)
                if (d < 1) fail("Layer '" + name + "' (PReLU): the input shape " + shape_str(in[0]) + " must be defined");
            alpha_shape_ = p;
            weights.push_back(src.next("alpha", p));
        }
        return {in[0]};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = single(in, name);
        Value y = same_as(x);
        const size_t n = x.f.size();
        const float* a = x.f.data();
        float* o = y.f.data();
        if (class_name == "LeakyReLU") {
            for (size_t k = 0; k < n; ++k) o[k] = a[k] > 0.0f ? a[k] : a[k] * alpha_;
        } else if (class_name == "ThresholdedReLU") {
            for (size_t k = 0; k < n; ++k) o[k] = a[k] * (a[k] > theta_ ? 1.0f : 0.0f);
        } else if (class_name == "ELU") {  // NumPy: exp(min(x, 0)) * alpha - alpha where x <= 0
            for (size_t k = 0; k < n; ++k) o[k] = a[k] > 0.0f ? a[k] : std::exp(std::min(a[k], 0.0f)) * alpha_ - alpha_;
        } else if (class_name == "Softmax") {
            activation_forward(Activation::Softmax, a, o, rows_of(x.shape), x.shape.back());
        } else if (class_name == "ReLU") {
            relu(a, o, n);
        } else {
            prelu(x, y);
        }
        out.assign(1, std::move(y));
    }

private:
    void relu(const float* x, float* y, size_t n) const {
        if (alpha_ != 0.0f && !has_cap_ && theta_ == 0.0f) {
            for (size_t k = 0; k < n; ++k) y[k] = x[k] > 0.0f ? x[k] : x[k] * alpha_;
            return;
        }
        for (size_t k = 0; k < n; ++k) {
            float v = x[k] * (x[k] > theta_ ? 1.0f : 0.0f);
            if (has_cap_) v = std::min(std::max(v, 0.0f), cap_);
            if (alpha_ != 0.0f) v += alpha_ * (x[k] - theta_) * (x[k] < theta_ ? 1.0f : 0.0f);
            y[k] = v;
        }
    }
    void prelu(const Value& x, Value& y) const {  // max(x, 0) + alpha * min(x, 0), alpha broadcast
        if (Shape(x.shape.begin() + 1, x.shape.end()).size() != alpha_shape_.size())
            fail("Layer '" + name + "' (PReLU): input " + shape_str(x.shape) + " does not match alpha " + shape_str(alpha_shape_));
        const size_t nd = alpha_shape_.size();
        for (size_t d = 0; d < nd; ++d)
            if (alpha_shape_[d] != 1 && alpha_shape_[d] != x.shape[d + 1])
                fail("Layer '" + name + "' (PReLU): input " + shape_str(x.shape) + " does not match alpha " + shape_str(alpha_shape_));
        const float* alpha = weights[0]->value.data();
        const int64_t per = checked_size(Shape(x.shape.begin() + 1, x.shape.end()), name);
        std::vector<int64_t> idx(nd, 0);
        for (int64_t p = 0; p < per; ++p) {
            int64_t ai = 0;
            for (size_t d = 0; d < nd; ++d) ai = ai * alpha_shape_[d] + (alpha_shape_[d] == 1 ? 0 : idx[d]);
            for (int64_t b = 0; b < x.shape[0]; ++b) {
                const float v = x.f[b * per + p];
                y.f[b * per + p] = std::max(v, 0.0f) + alpha[ai] * std::min(v, 0.0f);
            }
            for (size_t d = nd; d-- > 0;) {
                if (++idx[d] < x.shape[d + 1]) break;
                idx[d] = 0;
            }
        }
    }
    float alpha_ = 0.0f, theta_ = 0.0f, cap_ = 0.0f;
    bool has_cap_ = false;
    std::vector<int64_t> shared_;
    Shape alpha_shape_;
};

}  // namespace

std::unique_ptr<Runner> make_misc_family(const std::string& cls, const json& cfg, const std::string& nm) {
    if (cls == "Activation") return std::make_unique<ActivationRunner>(cfg, nm);
    if (cls == "Dropout") return std::make_unique<IdentityRunner>(cfg, nm, cls, true);
    for (const char* c : {"GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
                          "SpatialDropout3D", "ActivityRegularization"})
        if (cls == c) return std::make_unique<IdentityRunner>(cfg, nm, cls, false);
    if (cls == "Flatten" || cls == "Reshape") return std::make_unique<ReshapeRunner>(cfg, nm, cls);
    if (cls == "Permute") return std::make_unique<PermuteRunner>(cfg, nm);
    if (cls == "RepeatVector") return std::make_unique<RepeatVectorRunner>(cfg, nm);
    if (cls == "Masking") return std::make_unique<MaskingRunner>(cfg, nm);
    for (const char* c : {"LeakyReLU", "ThresholdedReLU", "ReLU", "ELU", "Softmax", "PReLU"})
        if (cls == c) return std::make_unique<AdvancedActivationRunner>(cfg, nm, cls);
    return make_merge_family(cls, cfg, nm);
}

}  // namespace seqnet::native
