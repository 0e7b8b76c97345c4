// Pooling, global pooling and the spatial copy layers (ZeroPadding, Cropping, nearest
// UpSampling), as python/seqnet/layers/pooling and convolutional/{zero_padding,cropping,upsampling}.py.
#include <algorithm>

#include "conv_geometry.h"
#include "seqnet/pool.h"
#include "seqnet/pool3d.h"

namespace seqnet::native {
namespace {

// ---- pooling --------------------------------------------------------------------------------------
class PoolRunner : public Runner {
public:
    PoolRunner(const json& cfg, const std::string& nm, const std::string& cls, int rank, bool max)
        : rank_(rank), max_(max) {
        name = nm;
        class_name = cls;
        pool_ = get_tuple(cfg, "pool_size", nm, rank, std::vector<int64_t>(rank, 2));
        strides_ = get_tuple(cfg, "strides", nm, rank, pool_);
        padding_ = get_string(cfg, "padding", nm, "valid");
        if (padding_ != "valid" && padding_ != "same") fail("Layer '" + nm + "': padding must be 'valid' or 'same', got '" + padding_ + "'");
        first_ = channels_first_of(cfg, nm);
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        check_rank(in[0], rank_, name, class_name.c_str());
        Shape out = in[0];
        for (int a = 0; a < rank_; ++a) {
            const size_t axis = first_ ? 2 + a : 1 + a;
            out[axis] = output_length(in[0][axis], pool_[a], padding_, strides_[a], 1);
            if (in[0][axis] >= 0 && out[axis] < 1)
                fail("Layer '" + name + "' (" + class_name + "): pool_size is larger than the input " + shape_str(in[0]));
        }
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x0 = *in[0];
        check_rank(x0.shape, rank_, name, class_name.c_str());
        Value moved;
        const Value& x = first_ ? (moved = to_last(x0)) : x0;
        if (rank_ == 3) return forward3d(x, out);
        PoolShape s{};
        s.n = x.shape[0];
        s.h = rank_ == 1 ? 1 : x.shape[1];
        s.w = rank_ == 1 ? x.shape[1] : x.shape[2];
        s.c = x.shape.back();
        const int64_t ph = rank_ == 1 ? 1 : pool_[0], pw = pool_[rank_ - 1];
        const int64_t sh = rank_ == 1 ? 1 : strides_[0], sw = strides_[rank_ - 1];
        s.oh = rank_ == 1 ? 1 : output_length(s.h, ph, padding_, sh, 1);
        s.ow = output_length(s.w, pw, padding_, sw, 1);
        if (s.oh < 1 || s.ow < 1) fail("Layer '" + name + "': pool_size is larger than the input " + shape_str(x0.shape));
        s.ph = ph, s.pw = pw, s.sh = sh, s.sw = sw;
        s.pad_top = pad_before(s.h, s.oh, ph, padding_, sh, 1);
        s.pad_left = pad_before(s.w, s.ow, pw, padding_, sw, 1);
        if (s.h * s.w > INT32_MAX) fail("Layer '" + name + "': input " + shape_str(x0.shape) + " is too large to pool");
        Shape ys = rank_ == 1 ? Shape{s.n, s.ow, s.c} : Shape{s.n, s.oh, s.ow, s.c};
        Value moved_y;
        Value& y = first_ ? (moved_y = make_value(ys)) : out_value(out, 0, ys);
        if (max_) {
            argmax_.resize(static_cast<size_t>(y.f.size()));
            max_pool_forward(s, x.f.data(), y.f.data(), argmax_.data());
        } else {
            avg_pool_forward(s, x.f.data(), y.f.data());
        }
        last_ = s;
        if (first_) out.assign(1, to_first(y));
    }
    bool trainable_natively() const override { return !first_ && rank_ < 3; }
    void backward(const std::vector<const Value*>& in, const Value&, Value& dy, std::vector<Value>* dx, bool) override {
        if (!dx) return;
        dx->assign(1, make_value(in[0]->shape));
        if (max_) max_pool_backward(last_, dy.f.data(), argmax_.data(), (*dx)[0].f.data());
        else avg_pool_backward(last_, dy.f.data(), (*dx)[0].f.data());
    }

private:
    // MaxPooling3D / AveragePooling3D: two passes of the 2-D kernels (base_pooling3d.py).
    void forward3d(const Value& x, std::vector<Value>& out) {
        Pool3dShape s{};
        s.n = x.shape[0], s.d = x.shape[1], s.h = x.shape[2], s.w = x.shape[3], s.c = x.shape[4];
        s.od = output_length(s.d, pool_[0], padding_, strides_[0], 1);
        s.oh = output_length(s.h, pool_[1], padding_, strides_[1], 1);
        s.ow = output_length(s.w, pool_[2], padding_, strides_[2], 1);
        if (s.od < 1 || s.oh < 1 || s.ow < 1) fail("Layer '" + name + "': pool_size is larger than the input " + shape_str(x.shape));
        s.pd = pool_[0], s.ph = pool_[1], s.pw = pool_[2];
        s.sd = strides_[0], s.sh = strides_[1], s.sw = strides_[2];
        s.pad_front = pad_before(s.d, s.od, s.pd, padding_, s.sd, 1);
        s.pad_top = pad_before(s.h, s.oh, s.ph, padding_, s.sh, 1);
        s.pad_left = pad_before(s.w, s.ow, s.pw, padding_, s.sw, 1);
        if (s.h * s.w > INT32_MAX || s.d * s.oh * s.ow > INT32_MAX)
            fail("Layer '" + name + "': input " + shape_str(x.shape) + " is too large to pool");
        const Shape ys = {s.n, s.od, s.oh, s.ow, s.c};
        Value moved_y;
        Value& y = first_ ? (moved_y = make_value(ys)) : out_value(out, 0, ys);
        mid_.resize(static_cast<size_t>(checked_size({s.n, s.d, s.oh, s.ow, s.c}, name)));
        if (max_) {
            argmax_.resize(y.f.size());
            mid_argmax_.resize(mid_.size());
            max_pool3d_forward(s, x.f.data(), mid_.data(), mid_argmax_.data(), y.f.data(), argmax_.data());
        } else {
            avg_pool3d_forward(s, x.f.data(), mid_.data(), y.f.data());
        }
        if (first_) out.assign(1, to_first(y));
    }
    int rank_;
    bool max_, first_ = false;
    std::vector<float> mid_;
    std::vector<int32_t> mid_argmax_;
    std::vector<int64_t> pool_, strides_;
    std::string padding_;
    std::vector<int32_t> argmax_;
    PoolShape last_{};
};

class GlobalPoolRunner : public Runner {
public:
    GlobalPoolRunner(const json& cfg, const std::string& nm, const std::string& cls, int rank, bool max)
        : rank_(rank), max_(max) {
        name = nm;
        class_name = cls;
        first_ = channels_first_of(cfg, nm);
        keepdims_ = get_bool(cfg, "keepdims", false);
        supports_masking = rank == 1 && !max;
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        check_rank(in[0], rank_, name, class_name.c_str());
        return {out_shape(in[0])};
    }
    Shape out_shape(const Shape& s) const {
        const int64_t c = first_ ? s[1] : s.back();
        if (!keepdims_) return {s[0], c};
        Shape out = {s[0]};
        if (first_) out.push_back(c);
        for (int a = 0; a < rank_; ++a) out.push_back(1);
        if (!first_) out.push_back(c);
        return out;
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x0 = *in[0];
        check_rank(x0.shape, rank_, name, class_name.c_str());
        if (x0.has_mask() && supports_masking) return masked_average(x0, out);
        Value moved;
        const Value& x = first_ ? (moved = to_last(x0)) : x0;
        const int64_t n = x.shape[0], c = x.shape.back();
        const int64_t l = n && c ? x.size() / (n * c) : 0;
        if (l > INT32_MAX) fail("Layer '" + name + "': input " + shape_str(x0.shape) + " is too large to pool");
        Value& y = out_value(out, 0, out_shape(x0.shape));
        if (max_) {
            argmax_.resize(static_cast<size_t>(n * c));
            global_max_pool_forward(x.f.data(), y.f.data(), argmax_.data(), n, l, c);
        } else {
            global_avg_pool_forward(x.f.data(), y.f.data(), n, l, c);
        }
    }
    void compute_mask(const std::vector<const Value*>&, std::vector<Value>&) override {}

private:
    // GlobalAveragePooling1D with a mask: NumPy's sum(x * m / sum(m)) over the steps, in step order.
    void masked_average(const Value& x, std::vector<Value>& out) {
        const int64_t n = x.shape[0];
        const int64_t steps = first_ ? x.shape[2] : x.shape[1], c = first_ ? x.shape[1] : x.shape[2];
        if (x.mask_shape != Shape{n, steps}) fail("Layer '" + name + "': the mask must have shape (batch, steps)");
        Value y = make_value({n, c});
        for (int64_t b = 0; b < n; ++b) {
            float count = 0.0f;
            for (int64_t t = 0; t < steps; ++t) count += x.mask[b * steps + t] ? 1.0f : 0.0f;
            for (int64_t t = 0; t < steps; ++t) {
                const float w = (x.mask[b * steps + t] ? 1.0f : 0.0f) / count;
                for (int64_t ch = 0; ch < c; ++ch) {
                    const float v = x.f[first_ ? (b * c + ch) * steps + t : (b * steps + t) * c + ch] * w;
                    float& acc = y.f[b * c + ch];
                    acc = t == 0 ? v : acc + v;
                }
            }
        }
        y.shape = out_shape(x.shape);
        out.assign(1, std::move(y));
    }
    int rank_;
    bool max_, first_ = false, keepdims_ = false;
    std::vector<int32_t> argmax_;
};

// ---- ZeroPadding, Cropping, UpSampling (nearest): out[o] = in[src(o)] per spatial axis ----------
class SpatialCopyRunner : public Runner {
public:
    enum Kind { Pad, Crop, Up };
    SpatialCopyRunner(const json& cfg, const std::string& nm, const std::string& cls, int rank, Kind kind)
        : rank_(rank), kind_(kind) {
        name = nm;
        class_name = cls;
        supports_masking = false;
        first_ = rank > 1 && channels_first_of(cfg, nm);
        if (kind == Up) {
            if (get_string(cfg, "interpolation", nm, "nearest") != "nearest")
                fail("Layer '" + nm + "' (" + cls + "): only interpolation='nearest' is supported natively");
            auto size = get_tuple(cfg, "size", nm, rank, std::vector<int64_t>(rank, 2));
            for (int a = 0; a < rank; ++a) pairs_.push_back({size[a], 0});
            return;
        }
        const char* key = kind == Pad ? "padding" : "cropping";
        const json v = cfg.contains(key) ? cfg[key] : json(kind == Pad ? 1 : 0);
        auto bad = [&] { fail("Layer '" + nm + "' (" + cls + "): cannot read '" + key + "' = " + v.dump()); };
        auto num = [&](const json& e) {
            if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<int64_t>() > (int64_t(1) << 30)) bad();
            return e.get<int64_t>();
        };
        if (v.is_number_integer()) {
            for (int a = 0; a < rank; ++a) pairs_.push_back({num(v), num(v)});
        } else if (v.is_array() && rank == 1 && v.size() == 2) {
            pairs_.push_back({num(v[0]), num(v[1])});
        } else if (v.is_array() && static_cast<int>(v.size()) == rank) {
            for (const json& e : v) {
                if (e.is_number_integer()) pairs_.push_back({num(e), num(e)});
                else if (e.is_array() && e.size() == 2) pairs_.push_back({num(e[0]), num(e[1])});
                else bad();
            }
        } else {
            bad();
        }
    }
    size_t axis(int a) const { return first_ ? 2 + a : 1 + a; }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource&) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        check_rank(in[0], rank_, name, class_name.c_str());
        return {out_shape(in[0])};
    }
    Shape out_shape(const Shape& s) const {
        Shape out = s;
        for (int a = 0; a < rank_; ++a) {
            const int64_t d = s[axis(a)];
            if (d < 0) continue;
            int64_t o = kind_ == Pad ? d + pairs_[a].first + pairs_[a].second
                        : kind_ == Crop ? d - pairs_[a].first - pairs_[a].second
                                        : checked_mul(d, pairs_[a].first, name);
            if (o < 0 || (kind_ == Crop && o < 1))
                fail("Layer '" + name + "' (" + class_name + "): cropping leaves nothing of input " + shape_str(s));
            out[axis(a)] = o;
        }
        return out;
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = *in[0];
        check_rank(x.shape, rank_, name, class_name.c_str());
        Value y = make_value(out_shape(x.shape));
        const size_t nd = x.shape.size();
        std::vector<std::vector<int64_t>> src(nd);
        for (size_t d = 0; d < nd; ++d) {
            src[d].resize(static_cast<size_t>(y.shape[d]));
            int a = -1;
            for (int k = 0; k < rank_; ++k)
                if (axis(k) == d) a = k;
            for (int64_t o = 0; o < y.shape[d]; ++o) {
                int64_t i = o;
                if (a >= 0) {
                    if (kind_ == Pad) i = o - pairs_[a].first;
                    else if (kind_ == Crop) i = o + pairs_[a].first;
                    else i = o / pairs_[a].first;
                }
                src[d][o] = i >= 0 && i < x.shape[d] ? i : -1;
            }
        }
        std::vector<int64_t> stride(nd, 1);
        for (size_t d = nd - 1; d > 0; --d) stride[d - 1] = stride[d] * x.shape[d];
        int64_t at = 0;
        copy(x, y, src, stride, 0, 0, at);
        out.assign(1, std::move(y));
    }

private:
    void copy(const Value& x, Value& y, const std::vector<std::vector<int64_t>>& src, const std::vector<int64_t>& stride,
              size_t d, int64_t base, int64_t& at) const {
        const size_t nd = src.size();
        for (int64_t o = 0; o < y.shape[d]; ++o) {
            const int64_t i = src[d][o];
            if (d + 1 == nd) {
                y.f[at++] = i < 0 ? 0.0f : x.f[base + i];
            } else if (i < 0) {
                at += checked_size(Shape(y.shape.begin() + d + 1, y.shape.end()), name);
            } else {
                copy(x, y, src, stride, d + 1, base + i * stride[d], at);
            }
        }
    }
    int rank_;
    Kind kind_;
    bool first_ = false;
    std::vector<std::pair<int64_t, int64_t>> pairs_;
};

}  // namespace

std::unique_ptr<Runner> make_pool_family(const std::string& cls, const json& cfg, const std::string& nm) {
    struct PoolKind { const char* cls; int rank; bool max; bool global; };
    static const PoolKind kinds[] = {
        {"MaxPooling1D", 1, true, false}, {"MaxPool1D", 1, true, false}, {"MaxPooling2D", 2, true, false},
        {"MaxPool2D", 2, true, false}, {"MaxPooling3D", 3, true, false}, {"MaxPool3D", 3, true, false},
        {"AveragePooling1D", 1, false, false}, {"AvgPool1D", 1, false, false}, {"AveragePooling2D", 2, false, false},
        {"AvgPool2D", 2, false, false}, {"AveragePooling3D", 3, false, false}, {"AvgPool3D", 3, false, false},
        {"GlobalMaxPooling1D", 1, true, true}, {"GlobalMaxPool1D", 1, true, true},
        {"GlobalMaxPooling2D", 2, true, true}, {"GlobalMaxPool2D", 2, true, true},
        {"GlobalMaxPooling3D", 3, true, true}, {"GlobalMaxPool3D", 3, true, true},
        {"GlobalAveragePooling1D", 1, false, true}, {"GlobalAvgPool1D", 1, false, true},
        {"GlobalAveragePooling2D", 2, false, true}, {"GlobalAvgPool2D", 2, false, true},
        {"GlobalAveragePooling3D", 3, false, true}, {"GlobalAvgPool3D", 3, false, true}};
    for (const PoolKind& k : kinds) {
        if (cls != k.cls) continue;
        if (k.global) return std::make_unique<GlobalPoolRunner>(cfg, nm, cls, k.rank, k.max);
        return std::make_unique<PoolRunner>(cfg, nm, cls, k.rank, k.max);
    }
    using K = SpatialCopyRunner;
    if (cls == "ZeroPadding1D") return std::make_unique<K>(cfg, nm, cls, 1, K::Pad);
    if (cls == "ZeroPadding2D") return std::make_unique<K>(cfg, nm, cls, 2, K::Pad);
    if (cls == "Cropping1D") return std::make_unique<K>(cfg, nm, cls, 1, K::Crop);
    if (cls == "Cropping2D") return std::make_unique<K>(cfg, nm, cls, 2, K::Crop);
    if (cls == "UpSampling1D") return std::make_unique<K>(cfg, nm, cls, 1, K::Up);
    if (cls == "UpSampling2D") return std::make_unique<K>(cfg, nm, cls, 2, K::Up);
    if (cls == "ZeroPadding3D") return std::make_unique<K>(cfg, nm, cls, 3, K::Pad);
    if (cls == "Cropping3D") return std::make_unique<K>(cfg, nm, cls, 3, K::Crop);
    if (cls == "UpSampling3D") return std::make_unique<K>(cfg, nm, cls, 3, K::Up);
    return nullptr;
}

}  // namespace seqnet::native
