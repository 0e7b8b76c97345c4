// A Keras 2 model loaded from an .h5 file and run from C++ on seqnet's kernels: no Python.
//
//   seqnet::Model model = seqnet::Model::load("model.h5");
//   seqnet::Tensor x = seqnet::Tensor::zeros({8, 784});
//   seqnet::Tensor y = model.predict(x);            // one input, one output
//
// The file is the one `model.save()` writes (seqnet's or tf-keras'): the root attribute
// `model_config` (JSON) and the group `model_weights` (`layer_names` / `weight_names`).
// predict runs the same kernels with the same arguments, in the same order, as seqnet's
// Python `Model.predict` (batches of `batch_size`, BatchNormalization folded into the
// Dense/convolution before it in a plain chain), so its outputs are bit-identical to
// Python's for the same file, inputs, batch size and thread count (seqnet::set_num_threads).
//
// Errors (a missing or corrupt file, an unsupported layer, a wrong input shape) throw
// seqnet::ModelError with a message naming the layer, the argument, and the expected
// versus actual value. Nothing read from a file is trusted: every dataset's shape and type
// is checked against the configuration before it is read.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace seqnet {

class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class DType { Float32, Int32 };

// A dense row-major array, batch first. Float32 data lives in `data`, Int32 data (indices
// for an Embedding input) in `ints`.
struct Tensor {
    std::vector<int64_t> shape;
    DType dtype = DType::Float32;
    std::vector<float> data;
    std::vector<int32_t> ints;

    static Tensor zeros(std::vector<int64_t> shape, DType dtype = DType::Float32);
    // The number of elements (the product of shape), or ModelError when it overflows.
    int64_t size() const;
};

// An input or output of the model: its layer name, its shape with the batch axis (-1 where
// the configuration leaves an axis open), and its dtype (Int32 for an Embedding's input).
struct TensorSpec {
    std::string name;
    std::vector<int64_t> shape;
    DType dtype = DType::Float32;
};

// One layer of the model, as `model.summary()` lists it (nested models inlined: their
// layers are named "outer/inner").
struct LayerInfo {
    std::string name;
    std::string class_name;
    int64_t params = 0;
};

// The optimizers of Keras 2.2.4 with its defaults; lr < 0 and rho < 0 mean "the optimizer's
// default". Hyperparameters are doubles, as Python's floats, so the scalars an update step
// derives from them (lr_t, Nadam's schedule) round as in seqnet's Python optimizers.
struct Optimizer {
    std::string name = "sgd";  // sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam
    double lr = -1.0;          // sgd 0.01, rmsprop 0.001, adagrad 0.01, adadelta 1.0, adam 0.001, adamax/nadam 0.002
    double momentum = 0.0;     // sgd, rmsprop
    bool nesterov = false;     // sgd
    double rho = -1.0;         // rmsprop 0.9, adadelta 0.95
    double beta_1 = 0.9, beta_2 = 0.999;
    double epsilon = 1e-7;
    double decay = 0.0;        // lr / (1 + decay * iterations)
    bool amsgrad = false;      // adam
    double schedule_decay = 0.004;  // nadam
};

class Model {
public:
    // Reads `path`; ModelError when it cannot be read, is not a Keras 2 model, or holds a
    // layer seqnet cannot run (a Lambda or custom layer: named with its class).
    static Model load(const std::string& path);

    Model(Model&&) noexcept;
    Model& operator=(Model&&) noexcept;
    ~Model();

    const std::vector<TensorSpec>& inputs() const;
    const std::vector<TensorSpec>& outputs() const;
    std::vector<LayerInfo> layers() const;
    std::string name() const;

    // The outputs for `inputs` (one per model input, in order, equal row counts), computed in
    // batches of `batch_size` rows as Python's predict does.
    std::vector<Tensor> predict(const std::vector<Tensor>& inputs, int64_t batch_size = 32);
    Tensor predict(const Tensor& input, int64_t batch_size = 32);
    // Zeroes the states of stateful recurrent layers.
    void reset_states();

    // ---- training: plain chains (one input and output, no masks) of Dense, Activation,
    // Dropout, Flatten, Reshape, Conv1D/2D, pooling, BatchNormalization, Embedding and
    // LSTM/GRU/SimpleRNN without dropout (docs/native.md) -----------------------------------
    // Losses: mean_squared_error/mse, mean_absolute_error/mae, binary_crossentropy,
    // categorical_crossentropy, sparse_categorical_crossentropy (the fused kernels of loss.h).
    void compile(const Optimizer& optimizer, const std::string& loss);
    // One gradient step on (x, y); returns the loss before the step (as Keras).
    float train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y);
    float train_on_batch(const Tensor& x, const Tensor& y);
    // The weights in Keras 2's weights-only .h5 layout (seqnet's / Keras' load_weights read it).
    void save_weights(const std::string& path) const;

    struct Impl;  // opaque: the runtime's state (cpp/native/)

private:
    explicit Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace seqnet
