// Model::load: reads model_config and model_weights into the plan (tensor slots and one step per
// layer call; nested models inlined, their layers shared between calls), checking every weight
// against the shape the configuration implies before reading it.
#include <algorithm>
#include <set>

#include "h5file.h"
#include "layers.h"
#include "model_impl.h"

namespace seqnet {

using native::fail;
using native::json;
using native::empty_object;
using native::null_json;
using native::Runner;
using native::Shape;
using native::Value;
using native::WeightPtr;

namespace {

// ---- weights --------------------------------------------------------------------------------------
// A top-level layer's weights: group model_weights/<layer>, in the order of its weight_names.
class GroupSource : public native::WeightSource {
public:
    GroupSource(const native::H5Reader& f, hid_t weights_root, const std::string& layer) : f_(f), layer_(layer) {
        if (!f.has_group(weights_root, layer)) return;
        group_ = f.group(weights_root, "layer '" + layer + "'", layer);
        names_ = f.names_attr(group_.get(), "layer '" + layer + "'", "weight_names");
    }
    WeightPtr next(const std::string& what, const Shape& shape) override {
        if (!group_.valid()) fail(f_.path() + ": layer '" + layer_ + "' has weights in the model config but no group in 'model_weights'");
        if (at_ >= names_.size())
            fail(f_.path() + ": layer '" + layer_ + "' needs more weights than the " + std::to_string(names_.size()) + " the file lists (reading '" + what + "')");
        auto w = std::make_shared<native::Weight>();
        w->name = names_[at_];
        w->shape = shape;
        w->value = f_.dataset(group_.get(), "layer '" + layer_ + "' weight '" + what + "'", names_[at_], shape);
        ++at_;
        return w;
    }
    void finish() const {
        if (at_ != names_.size())
            fail(f_.path() + ": layer '" + layer_ + "' has " + std::to_string(at_) + " weights in the model config, but " +
                 std::to_string(names_.size()) + " in the file");
    }
    bool empty() const { return names_.empty(); }

protected:
    const native::H5Reader& f_;
    std::string layer_;
    native::H5Handle group_;
    std::vector<std::string> names_;
    size_t at_ = 0;
};

// A nested model's weights: the group of the outermost nested model holds every inner
// layer's weights, named "<inner layer>/<weight>"; an inner layer takes the ones named after
// it, in order (or, for files that do not name them so, the next ones in order).
class NestedPool {
public:
    NestedPool(const native::H5Reader& f, hid_t weights_root, const std::string& model) : f_(f), model_(model) {
        if (!f.has_group(weights_root, model)) return;
        group_ = f.group(weights_root, "model '" + model + "'", model);
        names_ = f.names_attr(group_.get(), "model '" + model + "'", "weight_names");
        used_.assign(names_.size(), false);
    }
    WeightPtr take(const std::string& layer, const std::string& what, const Shape& shape) {
        if (!group_.valid()) fail(f_.path() + ": nested model '" + model_ + "' has no group in 'model_weights'");
        size_t pick = names_.size();
        for (size_t k = 0; k < names_.size() && pick == names_.size(); ++k)
            if (!used_[k] && names_[k].compare(0, layer.size() + 1, layer + "/") == 0) pick = k;
        for (size_t k = 0; k < names_.size() && pick == names_.size(); ++k)
            if (!used_[k]) pick = k;
        if (pick == names_.size())
            fail(f_.path() + ": nested model '" + model_ + "': no weight left in the file for layer '" + layer + "' (" + what + ")");
        used_[pick] = true;
        auto w = std::make_shared<native::Weight>();
        w->name = names_[pick];
        w->shape = shape;
        w->value = f_.dataset(group_.get(), "layer '" + layer + "' weight '" + what + "'", names_[pick], shape);
        return w;
    }
    void finish() const {
        for (bool u : used_)
            if (!u) fail(f_.path() + ": nested model '" + model_ + "' has more weights in the file than its layers use");
    }
    const std::string& model() const { return model_; }

private:
    const native::H5Reader& f_;
    std::string model_;
    native::H5Handle group_;
    std::vector<std::string> names_;
    std::vector<bool> used_;
};

class PoolSource : public native::WeightSource {
public:
    PoolSource(NestedPool& pool, const std::string& layer) : pool_(pool), layer_(layer) {}
    WeightPtr next(const std::string& what, const Shape& shape) override { return pool_.take(layer_, what, shape); }

private:
    NestedPool& pool_;
    std::string layer_;
};

// ---- the plan --------------------------------------------------------------------------------------
struct Builder {
    Builder(Model::Impl& impl, const native::H5Reader& file, hid_t root) : m(impl), f(file), weights_root(root) {}
    Model::Impl& m;
    const native::H5Reader& f;
    hid_t weights_root;
    std::vector<Shape> slot_shapes;
    std::vector<bool> slot_masked;
    std::vector<Runner*> slot_producer;

    int new_slot(const Shape& s, bool masked, Runner* producer) {
        slot_shapes.push_back(s);
        slot_masked.push_back(masked);
        slot_producer.push_back(producer);
        return m.n_slots++;
    }

    static std::string layer_name(const json& layer, const std::string& fallback) {
        if (layer.contains("config") && layer["config"].is_object() && layer["config"].contains("name") &&
            layer["config"]["name"].is_string())
            return layer["config"]["name"].get<std::string>();
        if (layer.contains("name") && layer["name"].is_string()) return layer["name"].get<std::string>();
        return fallback;
    }
    static bool is_model(const std::string& cls) { return cls == "Sequential" || cls == "Model" || cls == "Functional"; }

    static Shape input_shape_of(const json& cfg, const std::string& layer) {
        const json* s = nullptr;
        if (cfg.contains("batch_input_shape") && !cfg["batch_input_shape"].is_null()) s = &cfg["batch_input_shape"];
        else if (cfg.contains("batch_shape") && !cfg["batch_shape"].is_null()) s = &cfg["batch_shape"];
        if (!s) return {};
        if (!s->is_array() || s->empty() || s->size() > 16) fail("Layer '" + layer + "': bad batch_input_shape " + s->dump());
        Shape out;
        for (const json& d : *s) {
            if (d.is_null()) out.push_back(-1);
            else if (d.is_number_integer() && d.get<int64_t>() >= 0 && d.get<int64_t>() <= (int64_t(1) << 40)) out.push_back(d.get<int64_t>());
            else fail("Layer '" + layer + "': bad batch_input_shape " + s->dump());
        }
        out[0] = -1;  // predict takes any batch size
        return out;
    }

    // The batch_input_shape of a Sequential model's first layer (looking into a nested model).
    // Models nest at most this deep (a hostile config must not exhaust the stack).
    static constexpr int kMaxDepth = 32;
    int depth = 0;

    static Shape first_input_shape(const json& layer, const std::string& name, int depth = 0) {
        if (depth > kMaxDepth) fail("model_config: models nested more than " + std::to_string(kMaxDepth) + " deep");
        const json& cfg = layer.contains("config") ? layer["config"] : empty_object();
        Shape s = input_shape_of(cfg, name);
        if (!s.empty() || !layer.contains("class_name") || !layer["class_name"].is_string()) return s;
        const std::string cls = layer["class_name"].get<std::string>();
        const json& inner = cfg.is_array() ? cfg : (cfg.contains("layers") ? cfg["layers"] : null_json());
        if (!inner.is_array() || inner.empty()) return s;
        if (cls == "Sequential") return first_input_shape(inner[0], name, depth + 1);
        if (cls == "Model" || cls == "Functional")
            for (const json& l : inner)
                if (l.is_object() && l.contains("class_name") && l["class_name"] == "InputLayer") return first_input_shape(l, name, depth + 1);
        return s;
    }

    // One call of a (non-model) layer on `ins`; the runner is built (weights read) on its first call.
    std::vector<int> call(Runner* r, native::WeightSource& src, const std::vector<int>& ins, bool top) {
        std::vector<Shape> shapes;
        bool masked = false;
        for (int s : ins) {
            shapes.push_back(slot_shapes[s]);
            masked |= slot_masked[s];
        }
        std::vector<Shape> outs = r->build(shapes, src);
        // Only whether the graph has masks at all matters here (a plain chain has none).
        const bool out_masked = masked || produces_mask_.count(r) || r->class_name == "Masking";
        Model::Impl::Step st;
        st.runner = r;
        st.in_slots = ins;
        for (const Shape& s : outs) st.out_slots.push_back(new_slot(s, out_masked, r));
        m.steps.push_back(st);
        m.top_level.push_back(top);
        return st.out_slots;
    }
    std::set<Runner*> produces_mask_;
    std::map<std::string, std::vector<WeightPtr>> nested_weights;  // top-level nested models
    std::map<std::string, Runner*> by_full_name;  // a nested model called twice shares its layers

    Runner* make(const json& layer, const std::string& prefix) {
        m.runners.push_back(native::make_runner(layer, prefix));
        Runner* r = m.runners.back().get();
        const json& cfg = layer.contains("config") ? layer["config"] : empty_object();
        if (r->class_name == "Embedding" && native::get_bool(cfg, "mask_zero", false)) produces_mask_.insert(r);
        return r;
    }

    // A model (top level: `ins` empty, creating the inputs; nested: called on `ins`).
    std::vector<int> network(const json& model, const std::string& prefix, const std::vector<int>& ins, NestedPool* pool,
                             bool top) {
        const std::string cls = model.contains("class_name") && model["class_name"].is_string() ? model["class_name"].get<std::string>() : "";
        if (!model.contains("config")) fail("model_config: a " + cls + " has no config");
        if (cls == "Sequential") return sequential(model["config"], prefix, ins, pool, top);
        if (cls == "Model" || cls == "Functional") return functional(model["config"], prefix, ins, pool, top);
        fail("model_config: the model class '" + cls + "' is not Sequential, Model or Functional");
    }

    // A layer of a model; a nested model is inlined (its weights from its own group).
    std::vector<int> layer_call(const json& layer, Runner*& runner, const std::string& prefix, const std::vector<int>& ins,
                                NestedPool* pool, bool top, std::unique_ptr<NestedPool>& own_pool,
                                std::unique_ptr<GroupSource>& own_src) {
        const std::string cls = layer["class_name"].get<std::string>();
        const std::string name = layer_name(layer, cls);
        if (is_model(cls)) {
            NestedPool* p = pool;
            if (!p) {
                if (!own_pool) own_pool = std::make_unique<NestedPool>(f, weights_root, name);
                p = own_pool.get();
            }
            const size_t before = m.runners.size();
            if (++depth > kMaxDepth) fail("model_config: models nested more than " + std::to_string(kMaxDepth) + " deep");
            auto outs = network(layer, prefix + name + "/", ins, p, false);
            --depth;
            if (top && !nested_weights.count(name)) {
                auto& ws = nested_weights[name];
                for (size_t k = before; k < m.runners.size(); ++k)
                    for (const WeightPtr& w : m.runners[k]->weights) ws.push_back(w);
            }
            return outs;
        }
        if (!runner) {
            auto it = by_full_name.find(prefix + name);
            runner = it != by_full_name.end() ? it->second : (by_full_name[prefix + name] = make(layer, prefix));
        }
        if (pool) {
            PoolSource src(*pool, name);
            return call(runner, src, ins, top);
        }
        if (!own_src) own_src = std::make_unique<GroupSource>(f, weights_root, name);
        auto outs = call(runner, *own_src, ins, top);
        return outs;
    }

    std::vector<int> sequential(const json& cfg, const std::string& prefix, const std::vector<int>& ins, NestedPool* pool,
                                bool top) {
        const json& layers = cfg.is_array() ? cfg : (cfg.contains("layers") ? cfg["layers"] : null_json());
        if (!layers.is_array() || layers.empty()) fail("model_config: a Sequential model without layers");
        std::vector<int> cur = ins;
        size_t first = 0;
        if (cur.empty()) {  // the top-level input: an InputLayer, or the first layer's batch_input_shape
            const json& l0 = layers[0];
            if (!l0.is_object() || !l0.contains("class_name")) fail("model_config: bad first layer");
            const json& c0 = l0.contains("config") ? l0["config"] : empty_object();
            std::string in_name = layer_name(l0, "input");
            Shape s = first_input_shape(l0, in_name);
            if (l0["class_name"] == "InputLayer") {
                first = 1;
            } else {
                in_name += "_input";
            }
            if (s.empty()) fail("model_config: the first layer of Sequential model has no batch_input_shape; the runtime needs the input shape");
            add_input(in_name, s, c0);
            cur = {0};
        } else if (layers[0].is_object() && layers[0].contains("class_name") && layers[0]["class_name"] == "InputLayer") {
            first = 1;
        }
        for (size_t k = first; k < layers.size(); ++k) {
            const json& layer = layers[k];
            if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
                fail("model_config: layer " + std::to_string(k) + " has no class_name");
            if (layer["class_name"] == "InputLayer") fail("model_config: an InputLayer in the middle of a Sequential model");
            Runner* r = nullptr;
            std::unique_ptr<NestedPool> own_pool;
            std::unique_ptr<GroupSource> own_src;
            cur = layer_call(layer, r, prefix, cur, pool, top, own_pool, own_src);
            if (cur.size() != 1) fail("Layer '" + layer_name(layer, "?") + "' of a Sequential model must have one output");
            finish(r, own_pool.get(), own_src.get(), top, layer);
            if (top && !r) m.top_layers.push_back({layer_name(layer, "?"), nested_weights[layer_name(layer, "?")]});
        }
        if (!ins.empty() && ins.size() != 1) fail("model_config: a nested Sequential model called on several inputs");
        return cur;
    }

    void finish(Runner* r, NestedPool* own_pool, GroupSource* own_src, bool top, const json& layer) {
        if (own_pool) own_pool->finish();
        if (own_src) own_src->finish();
        if (top && r) m.top_layers.push_back({layer_name(layer, r->name), r->weights});
    }

    void add_input(const std::string& name, const Shape& s, const json& cfg) {
        TensorSpec spec;
        spec.name = name;
        spec.shape = s;
        spec.dtype = DType::Float32;
        (void)cfg;
        m.inputs.push_back(spec);
        new_slot(s, false, nullptr);
    }

    // Keras 2's functional config: layers with inbound_nodes [[[name, node, tensor, kwargs], ...], ...].
    std::vector<int> functional(const json& cfg, const std::string& prefix, const std::vector<int>& ins, NestedPool* pool,
                                bool top) {
        const json& layers = cfg.contains("layers") ? cfg["layers"] : null_json();
        if (!layers.is_array()) fail("model_config: a functional model without 'layers'");
        auto refs = [&](const char* key) {
            const json& v = cfg.contains(key) ? cfg[key] : null_json();
            std::vector<std::tuple<std::string, int64_t, int64_t>> out;
            if (!v.is_array()) fail(std::string("model_config: '") + key + "' must be a list");
            const bool single = v.size() == 3 && v[0].is_string();  // tf-keras writes one [name, 0, 0] unwrapped
            auto one = [&](const json& e) {
                if (!e.is_array() || e.size() < 3 || !e[0].is_string() || !e[1].is_number_integer() || !e[2].is_number_integer())
                    fail(std::string("model_config: bad entry in '") + key + "': " + e.dump());
                out.emplace_back(e[0].get<std::string>(), e[1].get<int64_t>(), e[2].get<int64_t>());
            };
            if (single) one(v);
            else
                for (const json& e : v) one(e);
            return out;
        };
        const auto in_refs = refs("input_layers"), out_refs = refs("output_layers");
        if (!ins.empty() && ins.size() != in_refs.size())
            fail("model_config: nested model called on " + std::to_string(ins.size()) + " inputs, but it has " + std::to_string(in_refs.size()));
        // tensors: (layer, node, index) -> slot
        std::map<std::tuple<std::string, int64_t, int64_t>, int> tensors;
        std::map<std::string, const json*> by_name;
        for (const json& layer : layers) {
            if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
                fail("model_config: a layer without class_name");
            const std::string n = layer_name(layer, "");
            if (n.empty() || by_name.count(n)) fail("model_config: layer name '" + n + "' is missing or used twice");
            by_name[n] = &layer;
        }
        for (size_t k = 0; k < in_refs.size(); ++k) {
            const std::string& n = std::get<0>(in_refs[k]);
            auto it = by_name.find(n);
            if (it == by_name.end() || (*it->second)["class_name"] != "InputLayer")
                fail("model_config: input '" + n + "' is not an InputLayer of the model");
            int slot;
            if (ins.empty()) {
                const json& c = (*it->second).contains("config") ? (*it->second)["config"] : empty_object();
                Shape s = input_shape_of(c, n);
                if (s.empty()) fail("model_config: input '" + n + "' has no batch_input_shape");
                add_input(n, s, c);
                slot = m.n_slots - 1;
            } else {
                slot = ins[k];
            }
            tensors[{n, 0, 0}] = slot;
        }
        // Layers in config order; a node waits until its inputs exist (Keras' from_config).
        struct Pending { const json* layer; size_t node; };
        std::map<std::string, Runner*> runners;
        std::map<std::string, std::unique_ptr<NestedPool>> pools;
        std::map<std::string, std::unique_ptr<GroupSource>> sources;
        std::map<std::string, int64_t> next_node;
        std::vector<Pending> queue;
        for (const json& layer : layers) {
            if (layer["class_name"] == "InputLayer") continue;
            if (!layer.contains("inbound_nodes")) continue;  // never called
            const json& nodes = layer["inbound_nodes"];
            if (!nodes.is_array()) fail("model_config: layer '" + layer_name(layer, "?") + "': inbound_nodes must be a list");
            for (size_t n = 0; n < nodes.size(); ++n) queue.push_back({&layer, n});
        }
        bool progress = true;
        while (!queue.empty() && progress) {
            progress = false;
            std::vector<Pending> rest;
            for (const Pending& p : queue) {
                const json& layer = *p.layer;
                const std::string name = layer_name(layer, "?");
                if (next_node[name] != static_cast<int64_t>(p.node)) {  // a layer's nodes in order
                    rest.push_back(p);
                    continue;
                }
                const json& node = layer["inbound_nodes"][p.node];
                if (!node.is_array() || node.empty()) fail("model_config: layer '" + name + "': bad inbound node " + node.dump());
                std::vector<int> in_slots;
                bool ready = true;
                for (const json& e : node) {
                    if (!e.is_array() || e.size() < 3 || !e[0].is_string() || !e[1].is_number_integer() || !e[2].is_number_integer())
                        fail("model_config: layer '" + name + "': bad inbound node entry " + e.dump());
                    if (e.size() > 3 && !(e[3].is_object() && e[3].empty()) && !e[3].is_null())
                        fail("Layer '" + name + "': call arguments " + e[3].dump() + " are not supported natively");
                    auto it = tensors.find({e[0].get<std::string>(), e[1].get<int64_t>(), e[2].get<int64_t>()});
                    if (it == tensors.end()) {
                        ready = false;
                        break;
                    }
                    in_slots.push_back(it->second);
                }
                if (!ready) {
                    rest.push_back(p);
                    continue;
                }
                Runner*& r = runners[name];
                auto outs = layer_call(layer, r, prefix, in_slots, pool, top, pools[name], sources[name]);
                // A nested model's node 0 is its own creation (Keras 2): its calls are nodes 1, 2, ...
                const bool model_layer = is_model(layer["class_name"].get<std::string>());
                const int64_t node_id = static_cast<int64_t>(p.node) + (model_layer ? 1 : 0);
                for (size_t t = 0; t < outs.size(); ++t) {
                    tensors[{name, node_id, static_cast<int64_t>(t)}] = outs[t];
                    if (model_layer && layer["inbound_nodes"].size() == 1) tensors[{name, 0, static_cast<int64_t>(t)}] = outs[t];
                }
                ++next_node[name];
                progress = true;
            }
            queue.swap(rest);
        }
        if (!queue.empty()) fail("model_config: graph disconnected: layer '" + layer_name(*queue[0].layer, "?") + "' cannot be reached from the inputs");
        for (const json& layer : layers) {
            const std::string name = layer_name(layer, "?");
            if (layer["class_name"] == "InputLayer") {
                if (top) m.top_layers.push_back({name, {}});
                continue;
            }
            if (is_model(layer["class_name"].get<std::string>())) {
                if (pools[name]) pools[name]->finish();
                if (top) m.top_layers.push_back({name, nested_weights[name]});
                continue;
            }
            Runner* r = runners[name];
            if (!r) continue;  // a layer never called
            finish(r, nullptr, sources[name].get(), top, layer);
        }
        std::vector<int> outs;
        for (const auto& ref : out_refs) {
            auto it = tensors.find(ref);
            if (it == tensors.end()) fail("model_config: output '" + std::get<0>(ref) + "' is not computed by the model");
            outs.push_back(it->second);
        }
        return outs;
    }
};

// Which inputs only Embedding layers read (engine/training.py _integer_inputs).
void mark_integer_inputs(Model::Impl& m) {
    for (size_t i = 0; i < m.inputs.size(); ++i) {
        bool any = false, all = true;
        for (const auto& st : m.steps)
            for (int s : st.in_slots)
                if (s == static_cast<int>(i)) {
                    any = true;
                    all &= dynamic_cast<native::EmbeddingRunner*>(st.runner) != nullptr;
                }
        if (any && all) m.inputs[i].dtype = DType::Int32;
    }
}

bool plain_chain(const Model::Impl& m, const std::set<Runner*>& masked) {
    if (m.inputs.size() != 1 || m.output_slots.size() != 1 || m.steps.empty() || !masked.empty()) return false;
    int previous = 0;
    std::set<Runner*> seen;
    for (const auto& st : m.steps) {
        if (st.in_slots.size() != 1 || st.out_slots.size() != 1 || st.in_slots[0] != previous || st.runner->has_activity_regularizer ||
            !seen.insert(st.runner).second)
            return false;
        previous = st.out_slots[0];
    }
    return m.output_slots[0] == previous;
}

}  // namespace

Model Model::load(const std::string& path) {
    native::H5Reader f(path);
    auto text = f.string_attr(f.root(), "the file", "model_config");
    if (!text) fail(path + ": no model found in the file (attribute 'model_config' is missing; a weights-only file needs the model config)");
    json config;
    try {
        config = json::parse(*text);
    } catch (const std::exception& e) {
        fail(path + ": attribute 'model_config' is not valid JSON (" + std::string(e.what()) + ")");
    }
    if (!config.is_object()) fail(path + ": model_config must be a JSON object");
    if (native::json_depth(config) > 400) fail(path + ": model_config is nested too deeply");
    const bool nested_root = f.has_group(f.root(), "model_weights");
    native::H5Handle weights_group;
    if (nested_root) weights_group = f.group(f.root(), "the file", "model_weights");
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    const json& cfg = config.contains("config") ? config["config"] : null_json();
    impl->name = cfg.is_object() && cfg.contains("name") && cfg["name"].is_string() ? cfg["name"].get<std::string>() : "model";
    Builder b(*impl, f, nested_root ? weights_group.get() : f.root());
    try {
        impl->output_slots = b.network(config, "", {}, nullptr, true);
    } catch (const json::exception& e) {
        fail(path + ": model_config has an unexpected structure (" + std::string(e.what()) + ")");
    } catch (const ModelError& e) {
        const std::string msg = e.what();
        if (msg.compare(0, path.size(), path) == 0) throw;
        fail(path + ": " + msg);
    }
    for (int s : impl->output_slots) {
        TensorSpec spec;
        spec.name = b.slot_producer[s] ? b.slot_producer[s]->name : "output";
        spec.shape = b.slot_shapes[s];
        impl->outputs.push_back(spec);
    }
    mark_integer_inputs(*impl);
    std::set<Runner*> masked;
    for (size_t s = 0; s < b.slot_masked.size(); ++s)
        if (b.slot_masked[s] && b.slot_producer[s]) masked.insert(b.slot_producer[s]);
    for (Runner* r : b.produces_mask_) masked.insert(r);
    for (const auto& st : impl->steps)
        if (st.runner->class_name == "Masking") masked.insert(st.runner);
    impl->chain = plain_chain(*impl, masked);
    for (const auto& r : impl->runners) {
        LayerInfo info{r->name, r->class_name, 0};
        for (const WeightPtr& w : r->weights) info.params += static_cast<int64_t>(w->value.size());
        impl->infos.push_back(info);
    }
    return Model(std::move(impl));
}

}  // namespace seqnet
