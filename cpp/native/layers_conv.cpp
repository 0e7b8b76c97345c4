// Conv1D, Conv2D, DepthwiseConv2D, SeparableConv1D/2D and Conv2DTranspose, as
// python/seqnet/layers/convolutional/base_conv.py and its subclasses run them.
#include <algorithm>

#include "conv_geometry.h"
#include "seqnet/activation.h"
#include "seqnet/conv3d.h"
#include "seqnet/conv_transpose.h"
#include "seqnet/depthwise.h"
#include "seqnet/local.h"

namespace seqnet::native {

namespace {

// out[0] = the output of a channels-last kernel `run(z, y, act)` of shape y_last, as the Python
// layers do it: in place for channels_last; for channels_first moved to channels first, with a
// non-linear activation applied after the move. keep_z receives the pre-activation when given.
template <class Run>
void layout_forward(std::vector<Value>& out, const Shape& y_last, bool channels_first, Activation act,
                    std::vector<float>* keep_z, const Run& run) {
    if (channels_first && act != Activation::Linear) {
        Value z_last = make_value(y_last);
        run(nullptr, z_last.f.data(), Activation::Linear);
        Value z = to_first(z_last);
        Value& y = out_value(out, 0, z.shape);
        activation_forward(act, z.f.data(), y.f.data(), rows_of(z.shape), z.shape.back());
        return;
    }
    Value moved_y;
    Value& y = channels_first ? (moved_y = make_value(y_last)) : out_value(out, 0, y_last);
    float* z = nullptr;
    if (keep_z) {
        keep_z->resize(y.f.size());
        z = keep_z->data();
    }
    run(z, y.f.data(), act);
    if (channels_first) out.assign(1, to_first(y));
}

}  // namespace

// ---- Conv1D / Conv2D -------------------------------------------------------------------------------
ConvRunner::ConvRunner(const json& cfg, const std::string& nm, int rank, Kind kind) : rank_(rank), kind_(kind) {
    name = nm;
    class_name = rank == 3 ? "Conv3D" : kind == Kind::Depthwise ? "DepthwiseConv2D" : kind == Kind::Separable ? (rank == 1 ? "SeparableConv1D" : "SeparableConv2D")
                 : kind == Kind::Transpose ? "Conv2DTranspose" : rank == 1 ? "Conv1D" : "Conv2D";
    if (kind == Kind::Transpose && cfg.contains("output_padding") && !cfg["output_padding"].is_null())
        output_padding_ = get_tuple(cfg, "output_padding", nm, rank, {}, 0);
    filters_ = kind == Kind::Depthwise ? 0 : get_int(cfg, "filters", nm, 0);
    if (kind != Kind::Standard) depth_multiplier_ = get_int(cfg, "depth_multiplier", nm, 1);
    kernel_size_ = get_tuple(cfg, "kernel_size", nm, rank, {});
    strides_ = get_tuple(cfg, "strides", nm, rank, std::vector<int64_t>(rank, 1));
    dilation_ = get_tuple(cfg, "dilation_rate", nm, rank, std::vector<int64_t>(rank, 1));
    padding_ = get_string(cfg, "padding", nm, "valid");
    if (padding_ != "valid" && padding_ != "same" && !(rank == 1 && padding_ == "causal"))
        fail("Layer '" + nm + "' (" + class_name + "): unsupported padding '" + padding_ + "'");
    channels_first_ = channels_first_of(cfg, nm);
    if (get_int(cfg, "groups", nm, 1) != 1) fail("Layer '" + nm + "' (" + class_name + "): only groups=1 is supported");
    use_bias_ = get_bool(cfg, "use_bias", true);
    act_ = activation_from_config(cfg.contains("activation") ? cfg["activation"] : null_json(), nm);
    keep_z_ = activation_backward_needs_input(act_) || act_ == Activation::Softmax || act_ == Activation::Sigmoid;
}

std::vector<Shape> ConvRunner::build(const std::vector<Shape>& in, WeightSource& src) {
    if (in.size() != 1) fail("Layer '" + name + "' (" + class_name + ") expects one input");
    check_rank(in[0], rank_, name, class_name.c_str());
    const int64_t c = channels_first_ ? in[0][1] : in[0].back();
    if (c < 1) fail("Layer '" + name + "': the channel axis of the input must be defined, got " + shape_str(in[0]));
    if (weights.empty()) {
        cin_ = c;
        Shape k(kernel_size_.begin(), kernel_size_.end());
        if (kind_ == Kind::Depthwise) filters_ = checked_mul(c, depth_multiplier_, name);
        if (kind_ == Kind::Transpose) {  // (kh, kw, filters, in_channels)
            k.push_back(filters_);
            k.push_back(c);
        } else {
            k.push_back(c);
            k.push_back(kind_ == Kind::Standard ? filters_ : depth_multiplier_);
        }
        weights.push_back(src.next(kind_ == Kind::Standard || kind_ == Kind::Transpose ? "kernel" : "depthwise_kernel", k));
        if (kind_ == Kind::Separable) {
            Shape p(static_cast<size_t>(rank_), 1);
            p.push_back(checked_mul(c, depth_multiplier_, name));
            p.push_back(filters_);
            weights.push_back(src.next("pointwise_kernel", p));
        }
        if (use_bias_) weights.push_back(src.next("bias", {filters_}));
    } else if (c != cin_) {
        fail("Layer '" + name + "' has a kernel for " + std::to_string(cin_) + " channels, called on " + shape_str(in[0]));
    }
    Shape out = in[0];
    for (int a = 0; a < rank_; ++a) {
        const size_t axis = channels_first_ ? 2 + a : 1 + a;
        out[axis] = kind_ == Kind::Transpose ? transpose_length(in[0][axis], a)
                                             : output_length(in[0][axis], kernel_size_[a], padding_, strides_[a], dilation_[a]);
        if (in[0][axis] >= 0 && out[axis] < 1)
            fail("Layer '" + name + "' (" + class_name + "): the kernel is larger than the input " + shape_str(in[0]));
    }
    out[channels_first_ ? 1 : out.size() - 1] = filters_;
    return {out};
}

int64_t ConvRunner::transpose_length(int64_t length, int a) const {
    const int64_t pad = output_padding_.empty() ? -1 : output_padding_[a];
    const int64_t n = deconv_output_length(length, kernel_size_[a], padding_, pad, strides_[a], dilation_[a]);
    if (length >= 0 && (n < 1 || output_length(n, kernel_size_[a], padding_, strides_[a], dilation_[a]) != length))
        fail("Layer '" + name + "' (Conv2DTranspose): its output length " + std::to_string(n) + " along spatial axis " +
             std::to_string(a) + " does not map back to the input's " + std::to_string(length));
    return n;
}

ConvShape ConvRunner::geometry(const Shape& x4) const {
    if (kind_ == Kind::Transpose) {  // the convolution whose input gradient this layer computes
        ConvShape s{};
        s.n = x4[0], s.oh = x4[1], s.ow = x4[2], s.f = x4[3];
        s.h = transpose_length(s.oh, 0), s.w = transpose_length(s.ow, 1), s.c = filters_;
        s.kh = kernel_size_[0], s.kw = kernel_size_[1], s.sh = strides_[0], s.sw = strides_[1];
        s.dh = dilation_[0], s.dw = dilation_[1];
        s.pad_top = pad_before(s.h, s.oh, s.kh, padding_, s.sh, s.dh);
        s.pad_left = pad_before(s.w, s.ow, s.kw, padding_, s.sw, s.dw);
        return s;
    }
    ConvShape s{};
    s.n = x4[0], s.h = x4[1], s.w = x4[2], s.c = x4[3];
    s.kh = rank_ == 1 ? 1 : kernel_size_[0];
    s.kw = kernel_size_[rank_ - 1];
    s.sh = rank_ == 1 ? 1 : strides_[0];
    s.sw = strides_[rank_ - 1];
    s.dh = rank_ == 1 ? 1 : dilation_[0];
    s.dw = dilation_[rank_ - 1];
    const std::string pad_h = rank_ == 1 ? "valid" : padding_;
    s.oh = output_length(s.h, s.kh, pad_h, s.sh, s.dh);
    s.ow = output_length(s.w, s.kw, padding_, s.sw, s.dw);
    if (s.oh < 1 || s.ow < 1) fail("Layer '" + name + "': input of shape " + shape_str(x4) + " is smaller than the kernel");
    s.pad_top = pad_before(s.h, s.oh, s.kh, pad_h, s.sh, s.dh);
    s.pad_left = pad_before(s.w, s.ow, s.kw, padding_, s.sw, s.dw);
    s.f = filters_;
    return s;
}

void ConvRunner::forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) {
    const Value& x0 = *in[0];
    check_rank(x0.shape, rank_, name, class_name.c_str());
    if ((channels_first_ ? x0.shape[1] : x0.shape.back()) != cin_)
        fail("Layer '" + name + "' (" + class_name + "): expected " + std::to_string(cin_) + " channels, got input " + shape_str(x0.shape));
    Value moved;
    const Value& x = channels_first_ ? (moved = to_last(x0)) : x0;
    if (rank_ == 3) return forward3d(x, out);
    const Shape x4 = rank_ == 1 ? Shape{x.shape[0], 1, x.shape[1], x.shape[2]} : x.shape;
    const ConvShape s = geometry(x4);
    last_ = s;
    const Shape y_last = kind_ == Kind::Transpose ? Shape{s.n, s.h, s.w, s.c}
                         : rank_ == 1 ? Shape{s.n, s.ow, s.f} : Shape{s.n, s.oh, s.ow, s.f};
    layout_forward(out, y_last, channels_first_, act_, keep_z_ ? &z_ : nullptr,
                   [&](float* z, float* y, Activation act) { kernel_forward(s, x.f.data(), z, y, act); });
}

// Conv3D (conv3d.py): the input unfolded along depth, then the 2-D im2col + GEMM, with the
// workspaces conv3d_workspace_sizes gives Python.
void ConvRunner::forward3d(const Value& x, std::vector<Value>& out) {
    Conv3dShape s{};
    s.n = x.shape[0], s.d = x.shape[1], s.h = x.shape[2], s.w = x.shape[3], s.c = x.shape[4];
    s.kd = kernel_size_[0], s.kh = kernel_size_[1], s.kw = kernel_size_[2];
    s.sd = strides_[0], s.sh = strides_[1], s.sw = strides_[2];
    s.dd = dilation_[0], s.dh = dilation_[1], s.dw = dilation_[2];
    s.od = output_length(s.d, s.kd, padding_, s.sd, s.dd);
    s.oh = output_length(s.h, s.kh, padding_, s.sh, s.dh);
    s.ow = output_length(s.w, s.kw, padding_, s.sw, s.dw);
    if (s.od < 1 || s.oh < 1 || s.ow < 1) fail("Layer '" + name + "': input of shape " + shape_str(x.shape) + " is smaller than the kernel");
    s.pad_front = pad_before(s.d, s.od, s.kd, padding_, s.sd, s.dd);
    s.pad_top = pad_before(s.h, s.oh, s.kh, padding_, s.sh, s.dh);
    s.pad_left = pad_before(s.w, s.ow, s.kw, padding_, s.sw, s.dw);
    s.f = filters_;
    const ConvShape p = s.plane();
    unfold_.resize(static_cast<size_t>(s.unfold_size()));
    kbuf_.resize(static_cast<size_t>(s.kernel_buffer_size()));
    int64_t col_rows = 0;
    if (!p.pointwise()) {
        const int64_t per = p.out_pixels(), cols = p.patch();
        const int64_t slices = std::max<int64_t>(1, std::min<int64_t>(s.n * s.od, kColBudget / std::max<int64_t>(per * cols, 1)));
        col_rows = slices * per;
        col_.resize(static_cast<size_t>(checked_mul(col_rows, cols, name)));
    }
    const Shape y_last = {s.n, s.od, s.oh, s.ow, s.f};
    const float* w = weights[0]->value.data();
    const float* b = use_bias_ ? weights[1]->value.data() : nullptr;
    auto run = [&](float* z, float* y, Activation act) {
        conv3d_forward(s, x.f.data(), w, b, z, y, unfold_.empty() ? nullptr : unfold_.data(), kbuf_.empty() ? nullptr : kbuf_.data(),
                       col_rows ? col_.data() : nullptr, col_rows, act);
    };
    layout_forward(out, y_last, channels_first_, act_, keep_z_ ? &z_ : nullptr, run);
}

// The NHWC kernels of each kind, as the Python layers' _kernel_forward hooks call them.
int64_t ConvRunner::size_col(const ConvShape& s) {
    if (s.pointwise() || s.n == 0) return 0;
    const int64_t pixels = s.oh * s.ow, patch = checked_mul(s.kh * s.kw, s.c, name);
    const int64_t images = std::max<int64_t>(1, std::min<int64_t>(s.n, kColBudget / std::max<int64_t>(pixels * patch, 1)));
    col_.resize(static_cast<size_t>(checked_mul(images * pixels, patch, name)));
    return images * pixels;
}

void ConvRunner::kernel_forward(const ConvShape& s, const float* x, float* z, float* y, Activation act) {
    const float* w = weights[0]->value.data();
    const float* b = use_bias_ ? weights.back()->value.data() : nullptr;
    if (kind_ == Kind::Standard) {
        const int64_t col_rows = size_col(s);
        conv_forward(s, x, w, b, z, y, col_rows ? col_.data() : nullptr, col_rows, act);
        return;
    }
    if (kind_ == Kind::Transpose) {  // conv2d_transpose._prepare: col rows hold the input's pixels
        const int64_t col_rows = size_col(s);
        conv_transpose_forward(s, x, w, b, z, y, col_rows ? col_.data() : nullptr, col_rows, act);
        return;
    }
    DepthwiseShape d{};
    d.n = s.n, d.h = s.h, d.w = s.w, d.c = s.c, d.oh = s.oh, d.ow = s.ow, d.dm = depth_multiplier_;
    d.kh = s.kh, d.kw = s.kw, d.sh = s.sh, d.sw = s.sw, d.dh = s.dh, d.dw = s.dw, d.pad_top = s.pad_top, d.pad_left = s.pad_left;
    expanded_.resize(static_cast<size_t>(depthwise_expanded_size(d)));
    float* expanded = d.dm == 1 ? nullptr : expanded_.data();
    if (kind_ == Kind::Depthwise) {
        depthwise_forward(d, x, w, b, z, y, expanded, act);
        return;
    }
    t_.resize(static_cast<size_t>(checked_mul(checked_mul(s.n * s.oh, s.ow, name), d.out_channels(), name)));
    depthwise_forward(d, x, w, nullptr, nullptr, t_.data(), expanded, Activation::Linear);
    ConvShape p{};
    p.n = s.n, p.h = s.oh, p.w = s.ow, p.c = d.out_channels(), p.oh = s.oh, p.ow = s.ow, p.f = filters_;
    p.kh = p.kw = p.sh = p.sw = p.dh = p.dw = 1;
    p.pad_top = p.pad_left = 0;
    conv_forward(p, t_.data(), weights[1]->value.data(), b, z, y, nullptr, 0, act);
}

void ConvRunner::backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                          bool pre) {
    const ConvShape& s = last_;
    const int64_t col_rows = s.pointwise() || s.n == 0 ? 0 : static_cast<int64_t>(col_.size()) / s.patch();
    if (col_rows) partials_.resize(static_cast<size_t>(conv_dw_partials_size(s, col_rows)));
    if (dx) dx->assign(1, make_value(in[0]->shape));
    Weight& k = *weights[0];
    k.grad.assign(k.value.size(), 0.0f);
    float* db = nullptr;
    if (use_bias_) {
        weights[1]->grad.assign(weights[1]->value.size(), 0.0f);
        db = weights[1]->grad.data();
    }
    conv_backward(s, in[0]->f.data(), k.value.data(), keep_z_ ? z_.data() : nullptr, out.f.data(), dy.f.data(),
                  dx ? (*dx)[0].f.data() : nullptr, k.grad.data(), db, col_rows ? col_.data() : nullptr, col_rows,
                  col_rows ? partials_.data() : nullptr, act_, pre);
}

std::unique_ptr<Runner> ConvRunner::folded(const std::vector<float>& kernel, const std::vector<float>& bias) const {
    auto r = std::make_unique<ConvRunner>(*this);
    r->weights = folded_weights(*weights[0], name, kernel, bias);
    r->use_bias_ = true;
    return r;
}

namespace {

// LocallyConnected1D/2D (local/base_local.py): one GEMM per output position; channels_first
// input is read in place, the output comes out channels_last (and moves like a convolution's).
class LocalRunner : public Runner {
public:
    LocalRunner(const json& cfg, const std::string& nm, int rank) : rank_(rank) {
        name = nm;
        class_name = rank == 1 ? "LocallyConnected1D" : "LocallyConnected2D";
        filters_ = get_int(cfg, "filters", nm, 0);
        kernel_size_ = get_tuple(cfg, "kernel_size", nm, rank, {});
        strides_ = get_tuple(cfg, "strides", nm, rank, std::vector<int64_t>(rank, 1));
        if (get_string(cfg, "padding", nm, "valid") != "valid") fail("Layer '" + nm + "' (" + class_name + "): padding must be 'valid'");
        if (get_int(cfg, "implementation", nm, 1) != 1) fail("Layer '" + nm + "' (" + class_name + "): only implementation=1 is supported");
        first_ = channels_first_of(cfg, nm);
        use_bias_ = get_bool(cfg, "use_bias", true);
        act_ = activation_from_config(cfg.contains("activation") ? cfg["activation"] : null_json(), nm);
        keep_z_ = activation_backward_needs_input(act_) || act_ == Activation::Softmax || act_ == Activation::Sigmoid;
    }
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override {
        if (in.size() != 1) fail("Layer '" + name + "' expects one input");
        check_rank(in[0], rank_, name, class_name.c_str());
        for (size_t d = 1; d < in[0].size(); ++d)
            if (in[0][d] < 1) fail("Layer '" + name + "' (" + class_name + "): the input shape " + shape_str(in[0]) + " must be fully defined");
        Shape out = in[0];
        Shape spatial;
        for (int a = 0; a < rank_; ++a) {
            const size_t axis = first_ ? 2 + a : 1 + a;
            out[axis] = output_length(in[0][axis], kernel_size_[a], "valid", strides_[a], 1);
            if (out[axis] < 1) fail("Layer '" + name + "' (" + class_name + "): the kernel is larger than the input " + shape_str(in[0]));
            spatial.push_back(out[axis]);
        }
        const int64_t c = first_ ? in[0][1] : in[0].back();
        out[first_ ? 1 : out.size() - 1] = filters_;
        if (weights.empty()) {
            sample_ = Shape(in[0].begin() + 1, in[0].end());
            out_ = spatial;
            int64_t patch = c;
            for (int64_t k : kernel_size_) patch = checked_mul(patch, k, name);
            weights.push_back(src.next("kernel", {checked_size(spatial, name), patch, filters_}));
            Shape b = spatial;
            b.push_back(filters_);
            if (use_bias_) weights.push_back(src.next("bias", b));
        } else if (Shape(in[0].begin() + 1, in[0].end()) != sample_) {
            fail("Layer '" + name + "' (" + class_name + ") was built for other inputs than " + shape_str(in[0]));
        }
        return {out};
    }
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool) override {
        const Value& x = *in.at(0);
        if (x.is_int || Shape(x.shape.begin() + 1, x.shape.end()) != sample_)
            fail("Layer '" + name + "' (" + class_name + ") was built for inputs of shape " + shape_str(sample_) + " per sample, got " + shape_str(x.shape));
        LocalShape s{};
        s.channels_first = first_;
        s.n = x.shape[0];
        s.c = first_ ? x.shape[1] : x.shape.back();
        s.h = rank_ == 1 ? 1 : x.shape[first_ ? 2 : 1];
        s.w = x.shape[first_ ? (rank_ == 1 ? 2 : 3) : (rank_ == 1 ? 1 : 2)];
        s.kh = rank_ == 1 ? 1 : kernel_size_[0], s.kw = kernel_size_[rank_ - 1];
        s.sh = rank_ == 1 ? 1 : strides_[0], s.sw = strides_[rank_ - 1];
        s.oh = (s.h - s.kh) / s.sh + 1, s.ow = (s.w - s.kw) / s.sw + 1, s.f = filters_;
        const int64_t positions = s.positions();
        col_.resize(static_cast<size_t>(checked_mul(checked_mul(s.n, positions, name), s.patch(), name)));
        const float* b = nullptr;
        if (use_bias_) {  // (P, f) rows; a channels_first layer's bias is read filter-major (_bias_rows)
            b = weights[1]->value.data();
            if (first_) {
                bias_rows_.resize(static_cast<size_t>(positions * filters_));
                for (int64_t p = 0; p < positions; ++p)
                    for (int64_t f = 0; f < filters_; ++f) bias_rows_[p * filters_ + f] = weights[1]->value[f * positions + p];
                b = bias_rows_.data();
            }
        }
        const Shape y_last = rank_ == 1 ? Shape{s.n, s.ow, s.f} : Shape{s.n, s.oh, s.ow, s.f};
        const float* w = weights[0]->value.data();
        layout_forward(out, y_last, first_, act_, keep_z_ ? &z_ : nullptr, [&](float* z, float* y, Activation act) {
            local_forward(s, x.f.data(), w, b, z, y, col_.data(), act);
        });
    }

private:
    int rank_;
    int64_t filters_ = 0;
    std::vector<int64_t> kernel_size_, strides_;
    bool first_ = false, use_bias_ = true, keep_z_ = false;
    Activation act_ = Activation::Linear;
    Shape sample_, out_;
    std::vector<float> col_, z_, bias_rows_;
};

}  // namespace

std::unique_ptr<Runner> make_conv_family(const std::string& cls, const json& cfg, const std::string& nm) {
    if (cls == "Conv1D" || cls == "Convolution1D") return std::make_unique<ConvRunner>(cfg, nm, 1);
    if (cls == "Conv2D" || cls == "Convolution2D") return std::make_unique<ConvRunner>(cfg, nm, 2);
    if (cls == "Conv3D" || cls == "Convolution3D") return std::make_unique<ConvRunner>(cfg, nm, 3);
    if (cls == "LocallyConnected1D") return std::make_unique<LocalRunner>(cfg, nm, 1);
    if (cls == "LocallyConnected2D") return std::make_unique<LocalRunner>(cfg, nm, 2);
    if (cls == "Conv2DTranspose" || cls == "Deconvolution2D" || cls == "Convolution2DTranspose")
        return std::make_unique<ConvRunner>(cfg, nm, 2, ConvRunner::Kind::Transpose);
    if (cls == "Conv3DTranspose")  // not yet here: seqnet's Python runs it, and exports it to ONNX
        fail("Layer '" + nm + "' of class Conv3DTranspose is not supported by seqnet's native runtime (run it "
             "from Python, or export the model with seqnet.onnx)");
    if (cls == "DepthwiseConv2D") return std::make_unique<ConvRunner>(cfg, nm, 2, ConvRunner::Kind::Depthwise);
    if (cls == "SeparableConv1D" || cls == "SeparableConvolution1D")
        return std::make_unique<ConvRunner>(cfg, nm, 1, ConvRunner::Kind::Separable);
    if (cls == "SeparableConv2D" || cls == "SeparableConvolution2D")
        return std::make_unique<ConvRunner>(cfg, nm, 2, ConvRunner::Kind::Separable);
    return make_pool_family(cls, cfg, nm);
}

}  // namespace seqnet::native
