// LSTM, GRU, SimpleRNN (and RNN over one of their cells), Bidirectional and TimeDistributed,
// as python/seqnet/layers/recurrent/base_rnn.py and layers/wrappers run them: one engine
// call per sequence, Keras masks, stateful states carried between batches.
#include <algorithm>

#include "layers.h"
#include "seqnet/rnn.h"

namespace seqnet::native {
namespace {

class RnnRunner : public Runner {
public:
    RnnRunner(const json& cfg, const std::string& nm, const std::string& cls, RnnCell cell) : cell_(cell) {
        name = nm;
        class_name = cls;
        supports_masking = true;
        units_ = get_int(cfg, "units", nm, 0);
        o_.activation = activation_from_config(cfg.contains("activation") ? cfg["activation"] : json("tanh"), nm);
        if (cell != RnnCell::SimpleRNN)
            o_.recurrent_activation = activation_from_config(
                cfg.contains("recurrent_activation") ? cfg["recurrent_activation"] : json("hard_sigmoid"), nm);
        for (Activation a : {o_.activation, o_.recurrent_activation})
            if (!rnn_activation_supported(a))
                fail("Layer '" + nm + "' (" + cls + "): the recurrent kernels support linear, relu, sigmoid, hard_sigmoid, tanh and softsign activations only");
        o_.go_backwards = get_bool(cfg, "go_backwards", false);
        o_.reset_after = cell == RnnCell::GRU && get_bool(cfg, "reset_after", false);
        use_bias_ = get_bool(cfg, "use_bias", true);
        return_sequences_ = get_bool(cfg, "return_sequences", false);
        return_state_ = get_bool(cfg, "return_state", false);
        stateful_ = get_bool(cfg, "stateful", false);
        if (get_bool(cfg, "time_major", false)) fail("Layer '" + nm + "' (" + cls + "): time_major=True is not supported");
        dropout_ = get_number(cfg, "dropout", nm, 0.0) > 0 || get_number(cfg, "recurrent_dropout", nm, 0.0) > 0;
        gates_ = rnn_gate_count(cell);
        n_states_ = cell == RnnCell::LSTM ? 2 : 1;
    }
    void set_go_backwards(bool b) { o_.go_backwards = b; }
    bool return_sequences() const { return return_sequences_; }
    bool return_state() const { return return_state_; }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        if (in.size() != 1) fail("Layer '" + name + "' (" + class_name + "): initial states as inputs are not supported natively");
        const Shape& s = in[0];
        if (s.size() != 3 || s[2] < 1) fail("Layer '" + name + "' (" + class_name + ") expects inputs (batch, steps, features), got " + shape_str(s));
        const int64_t gu = checked_mul(gates_, units_, name);
        if (weights.empty()) {
            input_ = s[2];
            weights.push_back(src.next("kernel", {input_, gu}));
            weights.push_back(src.next("recurrent_kernel", {units_, gu}));
            if (use_bias_) weights.push_back(src.next("bias", o_.reset_after ? Shape{2, gu} : Shape{gu}));
        } else if (s[2] != input_) {
            fail("Layer '" + name + "' has a kernel for " + std::to_string(input_) + " features, called on " + shape_str(s));
        }
        Shape out = return_sequences_ ? Shape{s[0], s[1], units_} : Shape{s[0], units_};
        std::vector<Shape> outs = {out};
        if (return_state_)
            for (int k = 0; k < n_states_; ++k) outs.push_back({s[0], units_});
        return outs;
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = *in.at(0);
        if (x.is_int || x.shape.size() != 3 || x.shape[2] != input_)
            fail("Layer '" + name + "' (" + class_name + "): expected float32 input (batch, steps, " + std::to_string(input_) + "), got " + shape_str(x.shape));
        RnnDims d;
        d.batch = x.shape[0], d.steps = x.shape[1], d.input = input_, d.units = units_;
        if (d.steps < 1) fail("Layer '" + name + "': needs at least one time step, got " + shape_str(x.shape));
        const int64_t bu = checked_mul(d.batch, units_, name);
        if (stateful_ && !states_.empty() && static_cast<int64_t>(states_[0].size()) != bu)
            fail("Layer '" + name + "' is stateful with batch size " + std::to_string(states_[0].size() / units_) + ", got a batch of " + std::to_string(d.batch));
        if (stateful_ && states_.empty()) states_.assign(n_states_, std::vector<float>(bu, 0.0f));
        init_.resize(static_cast<size_t>(n_states_));
        for (int k = 0; k < n_states_; ++k) {
            if (stateful_) init_[k] = states_[k];
            else init_[k].assign(static_cast<size_t>(bu), 0.0f);
        }
        const int64_t btu = checked_mul(checked_mul(d.batch, d.steps, name), units_, name);
        gates_buf_.resize(static_cast<size_t>(checked_mul(btu, gates_, name)));
        aux_.resize(static_cast<size_t>(cell_ == RnnCell::SimpleRNN ? 0 : btu));
        scratch_.resize(static_cast<size_t>(rnn_scratch_floats(cell_, d)));
        const size_t n_out = return_state_ ? 1 + n_states_ : 1;
        // the per-step outputs go straight to the layer's output with return_sequences
        std::vector<float>& hs = return_sequences_ ? out_value(out, 0, {d.batch, d.steps, units_}, n_out).f : hs_;
        hs.resize(static_cast<size_t>(btu));
        h_last_.resize(static_cast<size_t>(bu));
        float* h_last = return_state_ ? out_value(out, 1, {d.batch, units_}, n_out).f.data() : h_last_.data();
        float* c_last = nullptr;
        if (n_states_ > 1) {
            c_last_.resize(static_cast<size_t>(bu));
            c_last = return_state_ ? out_value(out, 2, {d.batch, units_}, n_out).f.data() : c_last_.data();
        }
        if (!return_sequences_) out_value(out, 0, {d.batch, units_}, n_out);
        const uint8_t* mask = sequence_mask(x, d);
        const float* w = weights[0]->value.data();
        const float* u = weights[1]->value.data();
        const float* b = use_bias_ ? weights[2]->value.data() : nullptr;
        if (d.batch > 0) {
            if (cell_ == RnnCell::LSTM)
                lstm_forward(x.f.data(), w, u, b, init_[0].data(), init_[1].data(), nullptr, nullptr, mask, gates_buf_.data(),
                             hs.data(), aux_.data(), h_last, c_last, scratch_.data(), d, o_);
            else if (cell_ == RnnCell::GRU)
                gru_forward(x.f.data(), w, u, b, init_[0].data(), nullptr, nullptr, mask, gates_buf_.data(), hs.data(),
                            aux_.data(), h_last, scratch_.data(), d, o_);
            else
                simple_rnn_forward(x.f.data(), w, u, b, init_[0].data(), nullptr, nullptr, mask, gates_buf_.data(), hs.data(),
                                   h_last, scratch_.data(), d, o_);
        }
        if (stateful_) {
            states_[0].assign(h_last, h_last + bu);
            if (n_states_ > 1) states_[1].assign(c_last, c_last + bu);
        }
        if (!return_sequences_) {  // hs[:, -1]: the output of the last step processed
            float* y = out[0].f.data();
            for (int64_t r = 0; r < d.batch; ++r)
                std::copy(hs.begin() + (r * d.steps + d.steps - 1) * units_, hs.begin() + (r * d.steps + d.steps) * units_,
                          y + r * units_);
        }
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        if (!return_sequences_ || !in[0]->has_mask()) return;
        out[0].mask = in[0]->mask;
        out[0].mask_shape = in[0]->mask_shape;
    }
    bool stateful() const override { return stateful_; }
    void reset_states() override { states_.clear(); }
    // Training: Python draws recurrent dropout masks from its own Philox streams; a layer with
    // dropout, a stateful one or one returning its states is not trained from C++.
    bool trainable_natively() const override { return !dropout_ && !stateful_ && !return_state_; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx, bool) override {
        const Value& x = *in[0];
        RnnDims d;
        d.batch = x.shape[0], d.steps = x.shape[1], d.input = input_, d.units = units_;
        const float* hs = return_sequences_ ? out.f.data() : hs_.data();
        const float* dhs = return_sequences_ ? dy.f.data() : nullptr;
        const float* dh_last = return_sequences_ ? nullptr : dy.f.data();
        if (dx) dx->assign(1, make_value(x.shape));
        float* dxp = dx ? (*dx)[0].f.data() : nullptr;
        for (const WeightPtr& w : weights) w->grad.assign(w->value.size(), 0.0f);
        float* db = use_bias_ ? weights[2]->grad.data() : nullptr;
        const float* w = weights[0]->value.data();
        const float* u = weights[1]->value.data();
        const uint8_t* mask = sequence_mask(x, d);
        if (d.batch == 0) return;
        if (cell_ == RnnCell::LSTM)
            lstm_backward(x.f.data(), w, u, init_[0].data(), init_[1].data(), nullptr, nullptr, mask, gates_buf_.data(), hs,
                          aux_.data(), dhs, dh_last, nullptr, dxp, weights[0]->grad.data(), weights[1]->grad.data(), db, nullptr,
                          nullptr, scratch_.data(), d, o_);
        else if (cell_ == RnnCell::GRU)
            gru_backward(x.f.data(), w, u, init_[0].data(), nullptr, nullptr, mask, gates_buf_.data(), hs, aux_.data(), dhs,
                         dh_last, dxp, weights[0]->grad.data(), weights[1]->grad.data(), db, nullptr, scratch_.data(), d, o_);
        else
            simple_rnn_backward(x.f.data(), w, u, init_[0].data(), nullptr, nullptr, mask, gates_buf_.data(), hs, dhs, dh_last,
                                dxp, weights[0]->grad.data(), weights[1]->grad.data(), db, nullptr, scratch_.data(), d, o_);
    }

private:
    // The (batch, steps) mask as the kernel reads it, or null when there is none or it keeps
    // every step (base_rnn._sequence_mask).
    const uint8_t* sequence_mask(const Value& x, const RnnDims& d) {
        if (!x.has_mask()) return nullptr;
        if (x.mask_shape != Shape{d.batch, d.steps})
            fail("Layer '" + name + "': the mask must have shape (batch, timesteps) = " + shape_str({d.batch, d.steps}) +
                 ", got " + shape_str(x.mask_shape));
        mask_.resize(x.mask.size());
        bool all = true;
        for (size_t k = 0; k < x.mask.size(); ++k) {
            mask_[k] = x.mask[k] != 0;
            all &= mask_[k] != 0;
        }
        return all ? nullptr : mask_.data();
    }
    RnnCell cell_;
    RnnOptions o_;
    int64_t units_ = 0, input_ = 0, gates_ = 1;
    int n_states_ = 1;
    bool use_bias_ = true, return_sequences_ = false, return_state_ = false, stateful_ = false, dropout_ = false;
    std::vector<float> scratch_, gates_buf_, aux_, hs_, h_last_, c_last_;
    std::vector<std::vector<float>> init_;
    std::vector<uint8_t> mask_;
    std::vector<std::vector<float>> states_;
};

RnnCell cell_of(const std::string& cls) {
    if (cls == "LSTM" || cls == "LSTMCell") return RnnCell::LSTM;
    if (cls == "GRU" || cls == "GRUCell") return RnnCell::GRU;
    return RnnCell::SimpleRNN;
}

std::unique_ptr<RnnRunner> make_rnn(const json& layer, const std::string& nm, const std::string& what) {
    if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
        fail("Layer '" + nm + "': " + what + " has no class_name");
    const std::string cls = layer["class_name"].get<std::string>();
    if (cls != "LSTM" && cls != "GRU" && cls != "SimpleRNN")
        fail("Layer '" + nm + "': " + what + " of class " + cls + " is not supported natively (LSTM, GRU, SimpleRNN)");
    const json& cfg = layer.contains("config") ? layer["config"] : empty_object();
    return std::make_unique<RnnRunner>(cfg, nm, cls, cell_of(cls));
}

// Reads the weights of the two directions in order: the forward layer's, then the backward's.
class Bidirectional : public Runner {
public:
    Bidirectional(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "Bidirectional";
        supports_masking = true;
        const json& inner = require(cfg, "layer", nm);
        fwd_ = make_rnn(inner, nm + "/forward", "the wrapped layer");
        if (cfg.contains("backward_layer") && !cfg["backward_layer"].is_null()) {
            bwd_ = make_rnn(cfg["backward_layer"], nm + "/backward", "the backward layer");
        } else {
            bwd_ = make_rnn(inner, nm + "/backward", "the wrapped layer");
            const json& ic = inner.contains("config") ? inner["config"] : empty_object();
            bwd_->set_go_backwards(!get_bool(ic, "go_backwards", false));
        }
        if (fwd_->return_state()) fail("Layer '" + nm + "' (Bidirectional): return_state is not supported natively");
        const json& m = cfg.contains("merge_mode") ? cfg["merge_mode"] : json("concat");
        if (m.is_null()) mode_ = "none";
        else if (m.is_string()) mode_ = m.get<std::string>();
        if (mode_ != "concat" && mode_ != "sum" && mode_ != "mul" && mode_ != "ave" && mode_ != "none")
            fail("Layer '" + nm + "' (Bidirectional): unknown merge_mode " + m.dump());
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        auto f = fwd_->build(in, src);
        auto b = bwd_->build(in, src);
        if (weights.empty()) {
            weights = fwd_->weights;
            weights.insert(weights.end(), bwd_->weights.begin(), bwd_->weights.end());
        }
        if (mode_ == "none") return {f[0], b[0]};
        Shape out = f[0];
        if (mode_ == "concat") out.back() += b[0].back();
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override {
        std::vector<Value> f, b;
        fwd_->forward(in, f, training);
        bwd_->forward(in, b, training);
        Value& y = f[0];
        Value y_rev = std::move(b[0]);
        if (fwd_->return_sequences()) {  // back to the input's time order
            Value rev = make_value(y_rev.shape);
            const int64_t n = y_rev.shape[0], t = y_rev.shape[1], u = y_rev.shape[2];
            for (int64_t r = 0; r < n; ++r)
                for (int64_t s = 0; s < t; ++s)
                    std::copy(y_rev.f.begin() + (r * t + t - 1 - s) * u, y_rev.f.begin() + (r * t + t - s) * u,
                              rev.f.begin() + (r * t + s) * u);
            y_rev = std::move(rev);
        }
        out.clear();
        if (mode_ == "none") {
            out.push_back(std::move(y));
            out.push_back(std::move(y_rev));
            return;
        }
        const int64_t u = y.shape.back();
        Shape shape = y.shape;
        if (mode_ == "concat") shape.back() = 2 * u;
        Value o = make_value(shape);
        const int64_t rows = rows_of(y.shape);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < u; ++j) {
                const float a = y.f[r * u + j], c = y_rev.f[r * u + j];
                if (mode_ == "concat") {
                    o.f[r * 2 * u + j] = a;
                    o.f[r * 2 * u + u + j] = c;
                } else if (mode_ == "mul") {
                    o.f[r * u + j] = a * c;
                } else {
                    o.f[r * u + j] = mode_ == "ave" ? (a + c) * 0.5f : a + c;
                }
            }
        out.push_back(std::move(o));
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        if (!fwd_->return_sequences() || !in[0]->has_mask()) return;
        for (Value& o : out) {
            o.mask = in[0]->mask;
            o.mask_shape = in[0]->mask_shape;
        }
    }
    bool stateful() const override { return fwd_->stateful(); }
    void reset_states() override {
        fwd_->reset_states();
        bwd_->reset_states();
    }

private:
    std::unique_ptr<RnnRunner> fwd_, bwd_;
    std::string mode_ = "concat";
};

// RNN over a StackedRNNCells: one runner per cell (rnn.native_runners): every cell but the last
// returns sequences, only the first goes backwards, and a later cell reads the first's outputs
// in processing order (so it gets the mask reversed).
class StackedRnn : public Runner {
public:
    StackedRnn(const json& cfg, const json& cells, const std::string& nm) {
        name = nm;
        class_name = "RNN";
        supports_masking = true;
        if (!cells.is_array() || cells.empty()) fail("Layer '" + nm + "' (RNN): StackedRNNCells without cells");
        go_backwards_ = get_bool(cfg, "go_backwards", false);
        return_sequences_ = get_bool(cfg, "return_sequences", false);
        return_state_ = get_bool(cfg, "return_state", false);
        for (size_t i = 0; i < cells.size(); ++i) {
            const json& cell = cells[i];
            const std::string cc = cell.is_object() && cell.contains("class_name") && cell["class_name"].is_string()
                                       ? cell["class_name"].get<std::string>() : "?";
            if (cc != "LSTMCell" && cc != "GRUCell" && cc != "SimpleRNNCell")
                fail("Layer '" + nm + "' (RNN): a cell of class " + cc + " is not supported natively (LSTMCell, GRUCell, SimpleRNNCell)");
            json merged = cell.contains("config") && cell["config"].is_object() ? cell["config"] : empty_object();
            merged["return_sequences"] = return_sequences_ || i + 1 < cells.size();
            merged["return_state"] = return_state_;
            merged["go_backwards"] = go_backwards_ && i == 0;
            merged["stateful"] = cfg.contains("stateful") ? cfg["stateful"] : json(false);
            merged["time_major"] = cfg.contains("time_major") ? cfg["time_major"] : json(false);
            runners_.push_back(std::make_unique<RnnRunner>(merged, nm + "/cell_" + std::to_string(i), "RNN", cell_of_name(cc)));
        }
    }
    static RnnCell cell_of_name(const std::string& cc) {
        return cc == "LSTMCell" ? RnnCell::LSTM : cc == "GRUCell" ? RnnCell::GRU : RnnCell::SimpleRNN;
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        std::vector<Shape> shapes = in, finals;
        std::vector<std::vector<Shape>> states;
        for (auto& r : runners_) {
            auto outs = r->build({shapes[0]}, src);
            shapes = {outs[0]};
            states.emplace_back(outs.begin() + 1, outs.end());
        }
        if (weights.empty())
            for (auto& r : runners_) weights.insert(weights.end(), r->weights.begin(), r->weights.end());
        std::vector<Shape> out = {shapes[0]};
        for (size_t i = states.size(); i-- > 0;) out.insert(out.end(), states[i].begin(), states[i].end());
        return out;
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override {
        outs_.resize(runners_.size());
        Value masked_input;
        const Value* x = in.at(0);
        for (size_t i = 0; i < runners_.size(); ++i) {
            const Value* input = x;
            if (i > 0 && in[0]->has_mask()) {  // the mask rides along with the previous cell's output
                masked_input.shape = x->shape;
                masked_input.f = x->f;
                masked_input.mask_shape = in[0]->mask_shape;
                masked_input.mask = in[0]->mask;
                if (go_backwards_) {
                    const int64_t b = in[0]->mask_shape[0], t = in[0]->mask_shape[1];
                    for (int64_t r = 0; r < b; ++r)
                        for (int64_t s = 0; s < t; ++s) masked_input.mask[r * t + s] = in[0]->mask[r * t + t - 1 - s];
                }
                input = &masked_input;
            }
            runners_[i]->forward({input}, outs_[i], training);
            x = &outs_[i][0];
        }
        out.clear();
        out.push_back(*x);
        out[0].mask.clear();
        out[0].mask_shape.clear();
        for (size_t i = runners_.size(); i-- > 0;)
            for (size_t k = 1; k < outs_[i].size(); ++k) out.push_back(outs_[i][k]);
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        if (!return_sequences_ || !in[0]->has_mask()) return;
        out[0].mask = in[0]->mask;
        out[0].mask_shape = in[0]->mask_shape;
    }
    bool stateful() const override { return runners_[0]->stateful(); }
    void reset_states() override {
        for (auto& r : runners_) r->reset_states();
    }

private:
    std::vector<std::unique_ptr<RnnRunner>> runners_;
    std::vector<std::vector<Value>> outs_;
    bool go_backwards_ = false, return_sequences_ = false, return_state_ = false;
};

class TimeDistributed : public Runner {
public:
    TimeDistributed(const json& cfg, const std::string& nm) {
        name = nm;
        class_name = "TimeDistributed";
        supports_masking = true;
        inner_ = make_runner(require(cfg, "layer", nm), nm + "/");
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        if (in.size() != 1 || in[0].size() < 3) fail("Layer '" + name + "' (TimeDistributed) expects inputs of rank >= 3");
        Shape inner = {-1};
        inner.insert(inner.end(), in[0].begin() + 2, in[0].end());
        auto outs = inner_->build({inner}, src);
        if (outs.size() != 1) fail("Layer '" + name + "' (TimeDistributed): the wrapped layer must have one output");
        if (weights.empty()) weights = inner_->weights;
        Shape out = {in[0][0], in[0][1]};
        out.insert(out.end(), outs[0].begin() + 1, outs[0].end());
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override {
        const Value& x = *in.at(0);
        if (x.shape.size() < 3) fail("Layer '" + name + "' (TimeDistributed) expects inputs of rank >= 3, got " + shape_str(x.shape));
        const int64_t b = x.shape[0], t = x.shape[1];
        Value merged = x;
        merged.mask.clear();
        merged.mask_shape.clear();
        merged.shape = {checked_mul(b, t, name)};
        merged.shape.insert(merged.shape.end(), x.shape.begin() + 2, x.shape.end());
        std::vector<Value> inner_out;
        inner_->forward({&merged}, inner_out, training);
        Value y = std::move(inner_out.at(0));
        Shape s = {b, t};
        s.insert(s.end(), y.shape.begin() + 1, y.shape.end());
        y.shape = s;
        out.assign(1, std::move(y));
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        const Value& x = *in[0];
        if (!x.has_mask()) return;
        const int64_t b = x.shape[0], t = x.shape[1];
        out[0].mask_shape = {b, t};
        out[0].mask.assign(static_cast<size_t>(b * t), 0);
        const size_t per = x.mask.size() / static_cast<size_t>(std::max<int64_t>(b * t, 1));
        for (size_t k = 0; k < x.mask.size(); ++k) out[0].mask[k / std::max<size_t>(per, 1)] |= x.mask[k];
    }

private:
    std::unique_ptr<Runner> inner_;
};

}  // namespace

std::unique_ptr<Runner> make_rnn_family(const std::string& cls, const json& cfg, const std::string& nm) {
    if (cls == "LSTM" || cls == "GRU" || cls == "SimpleRNN") return std::make_unique<RnnRunner>(cfg, nm, cls, cell_of(cls));
    if (cls == "RNN") {
        const json& cell = require(cfg, "cell", nm);
        const std::string cc = cell.is_object() && cell.contains("class_name") && cell["class_name"].is_string()
                                   ? cell["class_name"].get<std::string>() : "?";
        if (cc == "StackedRNNCells") {
            const json& cc_cfg = cell.contains("config") ? cell["config"] : empty_object();
            return std::make_unique<StackedRnn>(cfg, cc_cfg.is_object() && cc_cfg.contains("cells") ? cc_cfg["cells"] : null_json(), nm);
        }
        if (cc != "LSTMCell" && cc != "GRUCell" && cc != "SimpleRNNCell")
            fail("Layer '" + nm + "' (RNN): a cell of class " + cc + " is not supported natively (LSTMCell, GRUCell, SimpleRNNCell)");
        json merged = cell.contains("config") && cell["config"].is_object() ? cell["config"] : empty_object();
        for (const char* key : {"return_sequences", "return_state", "go_backwards", "stateful", "time_major"})
            merged[key] = cfg.contains(key) ? cfg[key] : json(false);
        return std::make_unique<RnnRunner>(merged, nm, "RNN", cell_of(cc));
    }
    if (cls == "Bidirectional") return std::make_unique<Bidirectional>(cfg, nm);
    if (cls == "TimeDistributed") return std::make_unique<TimeDistributed>(cfg, nm);
    return nullptr;
}

}  // namespace seqnet::native
