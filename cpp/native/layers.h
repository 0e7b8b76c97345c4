// The runners the model code needs to see by type: Dense and the convolutions (which a
// following BatchNormalization folds into at predict time, as Python's _inference_chain),
// BatchNormalization itself, and Embedding (whose model input is integer data).
#pragma once
#include "graph.h"
#include "seqnet/batchnorm.h"
#include "seqnet/conv.h"

namespace seqnet::native {

// A float32 value of `shape` (zero-filled).
Value make_value(const Shape& shape);
// out[i] (out resized to `count` values) reshaped to `shape`, float32 and without a mask. Its
// buffer is reused between batches (not cleared): the caller writes every element.
Value& out_value(std::vector<Value>& out, size_t i, const Shape& shape, size_t count = 1);
// Rows x cols view of a shape: cols is the last axis.
int64_t rows_of(const Shape& s);
// The weights of a runner `name` with a BatchNormalization folded in: a copy of `kernel_weight`
// holding `kernel`, then a bias "<name>/bias:0" holding `bias`.
std::vector<WeightPtr> folded_weights(const Weight& kernel_weight, const std::string& name,
                                      const std::vector<float>& kernel, const std::vector<float>& bias);

class DenseRunner : public Runner {
public:
    explicit DenseRunner(const json& cfg, const std::string& name);
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override;
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override;
    bool trainable_natively() const override { return true; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                  bool dy_is_preactivation) override;
    Activation output_activation() const override { return act_; }
    const std::vector<float>* logits() const override { return keep_z_ ? &z_ : nullptr; }
    bool linear() const { return act_ == Activation::Linear; }
    int64_t units() const { return units_; }
    bool use_bias() const { return use_bias_; }
    std::unique_ptr<Runner> folded(const std::vector<float>& kernel, const std::vector<float>& bias) const;

private:
    int64_t units_ = 0, in_ = 0;
    bool use_bias_ = true, keep_z_ = false;
    Activation act_ = Activation::Linear;
    std::vector<float> z_;
};

// Conv1D / Conv2D (im2col + GEMM), DepthwiseConv2D and SeparableConv1D/2D (the depthwise
// kernels, then a pointwise GEMM), channels_last or channels_first.
class ConvRunner : public Runner {
public:
    enum class Kind { Standard, Depthwise, Separable, Transpose };
    ConvRunner(const json& cfg, const std::string& name, int rank, Kind kind = Kind::Standard);
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override;
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override;
    bool trainable_natively() const override { return !channels_first_ && kind_ == Kind::Standard && rank_ < 3; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                  bool dy_is_preactivation) override;
    Activation output_activation() const override { return channels_first_ ? Activation::Linear : act_; }
    const std::vector<float>* logits() const override { return keep_z_ && !channels_first_ ? &z_ : nullptr; }
    bool linear() const { return act_ == Activation::Linear; }
    bool foldable() const { return kind_ == Kind::Standard && rank_ < 3; }  // Python folds into Conv1D/Conv2D only
    bool channels_first() const { return channels_first_; }
    int64_t filters() const { return filters_; }
    std::unique_ptr<Runner> folded(const std::vector<float>& kernel, const std::vector<float>& bias) const;

private:
    ConvShape geometry(const Shape& x4) const;
    int64_t transpose_length(int64_t length, int axis) const;
    // Rows of the im2col workspace (whole images' patches, up to a budget; col_ sized for them),
    // 0 for a pointwise kernel (forward, and the transposed convolution's pixels of x).
    int64_t size_col(const ConvShape& s);
    void kernel_forward(const ConvShape& s, const float* x, float* z, float* y, Activation act);
    void forward3d(const Value& x, std::vector<Value>& out);
    int rank_;
    Kind kind_;
    int64_t filters_ = 0, cin_ = 0, depth_multiplier_ = 1;
    std::vector<float> expanded_, t_, unfold_, kbuf_;
    std::vector<int64_t> output_padding_;  // Conv2DTranspose; empty: None
    std::vector<int64_t> kernel_size_, strides_, dilation_;
    std::string padding_;
    bool channels_first_ = false, use_bias_ = true, keep_z_ = false;
    Activation act_ = Activation::Linear;
    std::vector<float> col_, z_, partials_;
    ConvShape last_{};
};

class BatchNormRunner : public Runner {
public:
    BatchNormRunner(const json& cfg, const std::string& name);
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override;
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override;
    int64_t axis() const { return axis_; }
    int64_t ndim() const { return ndim_; }
    bool trainable_natively() const override { return true; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                  bool dy_is_preactivation) override;
    // Python's fold_into, in the same float64 arithmetic: kernel * s and (bias - mean) * s + beta
    // with s = gamma / sqrt(moving_variance + epsilon), rounded to float32. `kernel` is
    // (..., channels) row-major, `bias` may be empty (no bias).
    void fold(const std::vector<float>& kernel, const std::vector<float>* bias, std::vector<float>& kernel_out,
              std::vector<float>& bias_out) const;

private:
    int64_t axis_arg_ = -1, axis_ = -1, ndim_ = 0;
    double epsilon_ = 1e-3, momentum_ = 0.99;
    bool batch_stats_ = false;
    BatchNormShape shape_of(const Shape& x) const;
    bool center_ = true, scale_ = true;
    WeightPtr gamma_, beta_, mean_, var_;
    std::vector<float> ws_, mean_ws_, inv_ws_;
};

class EmbeddingRunner : public Runner {
public:
    EmbeddingRunner(const json& cfg, const std::string& name);
    std::vector<Shape> build(const std::vector<Shape>& in, WeightSource& src) override;
    void forward(const std::vector<const Value*>& in, std::vector<Value>& out, bool training) override;
    void compute_mask(const std::vector<const Value*>& in, std::vector<Value>& out) override;
    bool trainable_natively() const override { return true; }
    void backward(const std::vector<const Value*>& in, const Value& out, Value& dy, std::vector<Value>* dx,
                  bool dy_is_preactivation) override;

private:
    int64_t input_dim_, output_dim_;
    bool mask_zero_;
};

// Factories of the other families (layers_conv.cpp, layers_pool.cpp, layers_rnn.cpp, layers_misc.cpp,
// layers_merge.cpp);
// nullptr when `class_name` is not theirs.
std::unique_ptr<Runner> make_conv_family(const std::string& class_name, const json& cfg, const std::string& name);
std::unique_ptr<Runner> make_pool_family(const std::string& class_name, const json& cfg, const std::string& name);
std::unique_ptr<Runner> make_merge_family(const std::string& class_name, const json& cfg, const std::string& name);
std::unique_ptr<Runner> make_rnn_family(const std::string& class_name, const json& cfg, const std::string& name);
std::unique_ptr<Runner> make_misc_family(const std::string& class_name, const json& cfg, const std::string& name);

}  // namespace seqnet::native
