// Checked reading of layer configs, shape arithmetic, and the runner defaults.
#include <algorithm>
#include <cmath>
#include <limits>

#include "graph.h"

namespace seqnet::native {

void fail(const std::string& msg) { throw ModelError(msg); }

std::string shape_str(const Shape& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + (s[i] < 0 ? std::string("None") : std::to_string(s[i]));
    return out + (s.size() == 1 ? ",)" : ")");
}

// No single array of a model may hold more than 2^40 elements: a bound far above any real
// model that keeps every size product (and its byte count) inside int64.
constexpr int64_t kMaxElements = int64_t(1) << 40;

int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
    if (a < 0 || b < 0) fail(what + ": negative size");
    if (a != 0 && b > kMaxElements / a) fail(what + ": size " + std::to_string(a) + " x " + std::to_string(b) + " is too large");
    return a * b;
}

int64_t checked_size(const Shape& s, const std::string& what) {
    int64_t n = 1;
    for (int64_t d : s) {
        if (d < 0) fail(what + ": shape " + shape_str(s) + " is not fully defined");
        n = checked_mul(n, d, what + " " + shape_str(s));
    }
    return n;
}

int64_t Value::size() const { return checked_size(shape, "value"); }

void Runner::compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) {
    if (!supports_masking || in.empty() || !in[0]->has_mask()) return;
    for (Value& o : out) {
        o.mask = in[0]->mask;
        o.mask_shape = in[0]->mask_shape;
    }
}

void Runner::backward(const std::vector<const Value*>&, const Value&, Value&, std::vector<Value>*, bool) {
    fail("Layer '" + name + "' (" + class_name + "): training from C++ is not supported for this layer");
}

Activation activation_from_config(const json& v, const std::string& layer) {
    static const char* names[] = {"linear", "relu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "softplus",
                                  "softsign", "elu", "selu", "exponential", "swish", "gelu"};
    if (v.is_null()) return Activation::Linear;
    std::string name;
    if (v.is_string()) {
        name = v.get<std::string>();
    } else if (v.is_object()) {  // tf-keras: {"class_name": "relu"} / {"config": {"name": ...}} / {"name"}
        if (v.contains("config") && v["config"].is_object() && v["config"].contains("name") && v["config"]["name"].is_string())
            name = v["config"]["name"].get<std::string>();
        else if (v.contains("class_name") && v["class_name"].is_string())
            name = v["class_name"].get<std::string>();
        else if (v.contains("name") && v["name"].is_string())
            name = v["name"].get<std::string>();
    }
    if (name == "silu") name = "swish";
    for (int i = 0; i < static_cast<int>(Activation::Count); ++i)
        if (name == names[i]) return static_cast<Activation>(i);
    fail("Layer '" + layer + "': activation " + v.dump() + " is not one seqnet's native runtime knows (" +
         "linear, relu, sigmoid, hard_sigmoid, tanh, softmax, softplus, softsign, elu, selu, exponential, swish, gelu)");
}

int json_depth(const json& v) {
    std::vector<std::pair<const json*, int>> stack = {{&v, 1}};
    int deepest = 0;
    while (!stack.empty()) {
        auto [node, depth] = stack.back();
        stack.pop_back();
        deepest = std::max(deepest, depth);
        if (node->is_structured())
            for (const json& child : *node) stack.push_back({&child, depth + 1});
    }
    return deepest;
}

const json& require(const json& cfg, const char* key, const std::string& layer) {
    if (!cfg.is_object() || !cfg.contains(key)) fail("Layer '" + layer + "': the config has no '" + key + "'");
    return cfg[key];
}

int64_t get_int(const json& cfg, const char* key, const std::string& layer, int64_t fallback, int64_t min_value) {
    if (!cfg.is_object() || !cfg.contains(key) || cfg[key].is_null()) {
        if (fallback < min_value) fail("Layer '" + layer + "': the config has no '" + key + "'");
        return fallback;
    }
    const json& v = cfg[key];
    if (!v.is_number_integer()) fail("Layer '" + layer + "': '" + key + "' must be an integer, got " + v.dump());
    int64_t x = v.get<int64_t>();
    if (x < min_value || x > (int64_t(1) << 40))
        fail("Layer '" + layer + "': '" + key + "' must be an integer >= " + std::to_string(min_value) + ", got " + v.dump());
    return x;
}

bool get_bool(const json& cfg, const char* key, bool fallback) {
    if (!cfg.is_object() || !cfg.contains(key) || !cfg[key].is_boolean()) return fallback;
    return cfg[key].get<bool>();
}

double get_number(const json& cfg, const char* key, const std::string& layer, double fallback) {
    if (!cfg.is_object() || !cfg.contains(key) || cfg[key].is_null()) return fallback;
    const json& v = cfg[key];
    if (!v.is_number()) fail("Layer '" + layer + "': '" + key + "' must be a number, got " + v.dump());
    double x = v.get<double>();
    if (!std::isfinite(x)) fail("Layer '" + layer + "': '" + key + "' must be finite, got " + v.dump());
    return x;
}

std::string get_string(const json& cfg, const char* key, const std::string& layer, const std::string& fallback) {
    if (!cfg.is_object() || !cfg.contains(key) || cfg[key].is_null()) return fallback;
    if (!cfg[key].is_string()) fail("Layer '" + layer + "': '" + key + "' must be a string, got " + cfg[key].dump());
    return cfg[key].get<std::string>();
}

std::vector<int64_t> get_tuple(const json& cfg, const char* key, const std::string& layer, int rank,
                               std::vector<int64_t> fallback, int64_t min_value) {
    if (!cfg.is_object() || !cfg.contains(key) || cfg[key].is_null()) {
        if (fallback.empty()) fail("Layer '" + layer + "': the config has no '" + key + "'");
        return fallback;
    }
    const json& v = cfg[key];
    std::vector<int64_t> out;
    auto bad = [&] {
        fail("Layer '" + layer + "': '" + key + "' must be an integer or a list of " + std::to_string(rank) +
             " integers >= " + std::to_string(min_value) + ", got " + v.dump());
    };
    if (v.is_number_integer()) {
        out.assign(rank, v.get<int64_t>());
    } else if (v.is_array() && static_cast<int>(v.size()) == rank) {
        for (const json& e : v) {
            if (!e.is_number_integer()) bad();
            out.push_back(e.get<int64_t>());
        }
    } else {
        bad();
    }
    for (int64_t x : out)
        if (x < min_value || x > (int64_t(1) << 30)) bad();
    return out;
}

}  // namespace seqnet::native
