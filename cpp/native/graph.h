// Internals of the native model: the values that flow between layers, the layer runner
// interface, and the checked helpers every runner uses. Not installed.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "seqnet/activation.h"
#include "seqnet/model.h"

namespace seqnet::native {

using json = nlohmann::json;
using Shape = std::vector<int64_t>;  // -1: not known from the configuration

[[noreturn]] void fail(const std::string& msg);
std::string shape_str(const Shape& s);
// The product of `s`; ModelError (naming `what`) on a negative axis or an overflow past 2^40.
int64_t checked_size(const Shape& s, const std::string& what);
int64_t checked_mul(int64_t a, int64_t b, const std::string& what);

// An array between two layers: float32 data (or int32 indices on an Embedding's input) and
// an optional Keras mask (one byte per position of shape[:mask_rank]).
struct Value {
    Shape shape;
    bool is_int = false;
    std::vector<float> f;
    std::vector<int32_t> i;
    std::vector<uint8_t> mask;
    Shape mask_shape;  // empty: no mask
    int64_t size() const;
    bool has_mask() const { return !mask_shape.empty(); }
};

// A weight as read from the file (or folded): shape and float32 values.
struct Weight {
    std::string name;
    Shape shape;
    std::vector<float> value;
    std::vector<float> grad;  // training only
    bool trainable = true;
};
using WeightPtr = std::shared_ptr<Weight>;

// Reads the next weights of a layer, in the file's order, each checked against `shape`.
class WeightSource {
public:
    virtual ~WeightSource() = default;
    virtual WeightPtr next(const std::string& what, const Shape& shape) = 0;
};

// One layer: configured from its JSON config, built for its input shapes (its weights read
// and checked then), and run on values. A runner called at several nodes (a shared layer)
// is run once per node with the same weights.
class Runner {
public:
    virtual ~Runner() = default;
    std::string name, class_name;
    std::vector<WeightPtr> weights;  // Keras order
    bool supports_masking = false;
    bool trainable = true;  // the config's `trainable`
    bool has_activity_regularizer = false;
    // Its Python layer computes with NumPy on the calling thread, outside the engine's
    // FlushScope, so subnormals stay subnormal there (a Masking value of 1e-40 is not 0): the
    // model runs it with the caller's denormals mode kept, not flushed.
    bool numpy_side = false;
    // The first weight regularizer or constraint the config sets (e.g. "kernel_regularizer"),
    // wrapped layers' included; empty when none. Training from C++ applies neither, so compile
    // refuses such a model rather than train it without them.
    std::string training_extra;
    // Output shapes for the input shapes; reads the weights from `src` on the first call.
    virtual std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) = 0;
    // Runs on `in` (inference unless `training`), writing `out` (sized by the runner).
    virtual void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) = 0;
    // Default: with supports_masking, the first input's mask passes on; else no mask.
    virtual void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out);
    // True when forward would copy its one input unchanged (dropout at inference): the plan
    // then hands the input on without running it.
    virtual bool passes_through(bool /*training*/) const { return false; }
    virtual bool stateful() const { return false; }
    virtual void reset_states() {}
    // Training: dL/d(inputs) from dL/d(output); weight gradients into weights[i]->grad.
    virtual bool trainable_natively() const { return false; }
    virtual void backward(const std::vector<const Value*>& in, const Value& out, Value& dy,
                          std::vector<Value>* dx, bool dy_is_preactivation);
    // Dense/Conv with a softmax or sigmoid output: the name of the fused loss activation.
    virtual Activation output_activation() const { return Activation::Linear; }
    virtual const std::vector<float>* logits() const { return nullptr; }
};

// A runner for one layer config ({"class_name", "config"}); ModelError naming the layer
// and class when seqnet cannot run it.
std::unique_ptr<Runner> make_runner(const json& layer, const std::string& prefix);
// The Keras activation named by a config value ("relu", {"class_name": ...}, null).
Activation activation_from_config(const json& v, const std::string& layer);

// Fallbacks that a `cond ? cfg[key] : fallback` can bind to without copying cfg[key] (a copy of
// a deep config would recurse once per level).
inline const json& empty_object() {
    static const json value = json::object();
    return value;
}
inline const json& null_json() {
    static const json value;
    return value;
}
// The deepest nesting of objects and arrays in `v` (iteratively: the config may be hostile).
int json_depth(const json& v);

// Checked access to config values.
const json& require(const json& cfg, const char* key, const std::string& layer);
int64_t get_int(const json& cfg, const char* key, const std::string& layer, int64_t fallback, int64_t min_value = 1);
bool get_bool(const json& cfg, const char* key, bool fallback);
double get_number(const json& cfg, const char* key, const std::string& layer, double fallback);
std::string get_string(const json& cfg, const char* key, const std::string& layer, const std::string& fallback);
// An int or a list of `rank` ints (each >= min_value).
std::vector<int64_t> get_tuple(const json& cfg, const char* key, const std::string& layer, int rank,
                               std::vector<int64_t> fallback, int64_t min_value = 1);

}  // namespace seqnet::native
