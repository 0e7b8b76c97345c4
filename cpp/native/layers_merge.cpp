// The merge layers (python/seqnet/layers/merge/elementwise.py): Add, Subtract, Multiply,
// Average, Maximum, Minimum as NumPy's ufuncs applied left to right, and Concatenate.
#include <algorithm>
#include <cmath>

#include "layers.h"

namespace seqnet::native {
namespace {

// Add, Subtract, Multiply, Average, Maximum, Minimum (NumPy's ufuncs, left to right) and
// Concatenate.
class MergeRunner : public Runner {
public:
    MergeRunner(const json& cfg, const std::string& nm, const std::string& cls) {
        name = nm;
        class_name = cls;
        supports_masking = true;
        numpy_side = true;
        if (cls == "Concatenate") {
            const json& a = cfg.contains("axis") ? cfg["axis"] : json(-1);
            if (!a.is_number_integer()) fail("Layer '" + nm + "' (Concatenate): axis must be an integer");
            axis_ = a.get<int64_t>();
        }
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() < 2 || (class_name == "Subtract" && in.size() != 2))
            fail("Layer '" + name + "' (" + class_name + ") must be called on a list of " +
                 (class_name == "Subtract" ? "exactly 2" : "at least 2") + " inputs");
        const int64_t nd = static_cast<int64_t>(in[0].size());
        if (class_name != "Concatenate") {
            for (const Shape& s : in)
                if (Shape(s.begin() + 1, s.end()) != Shape(in[0].begin() + 1, in[0].end()))
                    fail("Layer '" + name + "' (" + class_name + "): all inputs must have the same shape");
            return {in[0]};
        }
        const int64_t axis = axis_ < 0 ? axis_ + nd : axis_;
        if (axis <= 0 || axis >= nd) fail("Layer '" + name + "' (Concatenate): axis " + std::to_string(axis_) + " is out of range");
        Shape out = in[0];
        for (size_t k = 1; k < in.size(); ++k) {
            if (static_cast<int64_t>(in[k].size()) != nd) fail("Layer '" + name + "' (Concatenate): inputs of different ranks");
            for (int64_t d = 1; d < nd; ++d)
                if (d != axis && in[k][d] != in[0][d]) fail("Layer '" + name + "' (Concatenate): shapes differ off the axis");
            out[axis] = out[axis] < 0 || in[k][axis] < 0 ? -1 : out[axis] + in[k][axis];
        }
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        for (const Value* v : in)
            if (v->is_int) fail("Layer '" + name + "' expects float32 inputs");
        if (class_name == "Concatenate") return concatenate(in, out);
        for (const Value* v : in)
            if (v->shape != in[0]->shape)
                fail("Layer '" + name + "' (" + class_name + "): inputs of shapes " + shape_str(in[0]->shape) + " and " + shape_str(v->shape));
        Value& y = out_value(out, 0, in[0]->shape);
        const size_t n = y.f.size();
        const float* a = in[0]->f.data();
        const float* b = in[1]->f.data();
        float* o = y.f.data();
        const std::string& c = class_name;
        auto pick = [&](float u, float v) {  // np.maximum / np.minimum: NaN wins
            if (std::isnan(u)) return u;
            if (std::isnan(v)) return v;
            return c == "Maximum" ? (u >= v ? u : v) : (u <= v ? u : v);
        };
        for (size_t k = 0; k < n; ++k) {
            if (c == "Add" || c == "Average") o[k] = a[k] + b[k];
            else if (c == "Subtract") o[k] = a[k] - b[k];
            else if (c == "Multiply") o[k] = a[k] * b[k];
            else o[k] = pick(a[k], b[k]);
        }
        for (size_t i = 2; i < in.size(); ++i) {
            const float* x = in[i]->f.data();
            for (size_t k = 0; k < n; ++k) {
                if (c == "Add" || c == "Average") o[k] = o[k] + x[k];
                else if (c == "Multiply") o[k] = o[k] * x[k];
                else o[k] = pick(o[k], x[k]);
            }
        }
        if (c == "Average") {
            const float s = static_cast<float>(1.0 / static_cast<double>(in.size()));
            for (size_t k = 0; k < n; ++k) o[k] *= s;
        }
    }
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override {
        const Value* first = nullptr;
        for (const Value* v : in)
            if (v->has_mask()) first = first ? first : v;
        if (!first) return;
        out[0].mask_shape = first->mask_shape;
        out[0].mask.assign(first->mask.size(), 1);
        for (const Value* v : in) {
            if (!v->has_mask()) continue;
            if (v->mask_shape != first->mask_shape) fail("Layer '" + name + "': inputs with masks of different shapes");
            for (size_t k = 0; k < v->mask.size(); ++k) out[0].mask[k] &= v->mask[k];
        }
    }

private:
    void concatenate(const std::vector<const Value*>& in, std::vector<Value>& out) {
        const int64_t nd = static_cast<int64_t>(in[0]->shape.size());
        const int64_t axis = axis_ < 0 ? axis_ + nd : axis_;
        if (axis <= 0 || axis >= nd) fail("Layer '" + name + "' (Concatenate): axis out of range for " + shape_str(in[0]->shape));
        Shape ys = in[0]->shape;
        ys[axis] = 0;
        for (const Value* v : in) {
            if (static_cast<int64_t>(v->shape.size()) != nd) fail("Layer '" + name + "' (Concatenate): inputs of different ranks");
            for (int64_t d = 0; d < nd; ++d)
                if (d != axis && v->shape[d] != in[0]->shape[d])
                    fail("Layer '" + name + "' (Concatenate): inputs " + shape_str(in[0]->shape) + " and " + shape_str(v->shape));
            ys[axis] += v->shape[axis];
        }
        Value& y = out_value(out, 0, ys);
        const int64_t outer = checked_size(Shape(ys.begin(), ys.begin() + axis), name);
        int64_t at = 0;
        for (int64_t o = 0; o < outer; ++o)
            for (const Value* v : in) {
                const int64_t chunk = checked_size(Shape(v->shape.begin() + axis, v->shape.end()), name);
                std::copy(v->f.begin() + o * chunk, v->f.begin() + (o + 1) * chunk, y.f.begin() + at);
                at += chunk;
            }
    }
    int64_t axis_ = -1;
};

}  // namespace

std::unique_ptr<Runner> make_merge_family(const std::string& cls, const json& cfg, const std::string& nm) {
    for (const char* c : {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"})
        if (cls == c) return std::make_unique<MergeRunner>(cfg, nm, cls);
    return nullptr;
}

}  // namespace seqnet::native
