// Built-in losses: value and gradient in one pass, with Keras 2 (tf-keras) formulas.
#pragma once
#include <cstdint>

namespace seqnet {

// Exported to Python as seqnet._engine.Loss, members named as in keras.losses.
enum class Loss : int {
    CategoricalCrossentropy = 0,
    SparseCategoricalCrossentropy = 1,
    BinaryCrossentropy = 2,
    MeanSquaredError = 3,
    MeanAbsoluteError = 4,
    Count = 5
};

// The batch loss  sum_i w_i L_i / (rows * mean_i[w_i != 0])  (Keras 2's weighted mean;
// w = 1 when sample_weight is null), where L_i is the loss of row i averaged over its
// `cols` outputs as Keras does.
//
// y_true: (rows, cols), or (rows,) class indices stored as float for the sparse loss.
// y_pred: the model's output (rows, cols).
// logits: when not null, the pre-activation of a softmax (categorical losses) or sigmoid
//   (binary) output layer; the loss is then computed from the logits exactly as tf-keras
//   does for such outputs, and `grad` is dL/dlogits.
// grad: optional (rows, cols) gradient of the batch loss (w.r.t. y_pred or logits).
// per_sample: optional (rows,) unweighted L_i.
// Returns the batch loss. Out-of-range sparse labels must be rejected by the caller.
float loss_forward_backward(Loss loss, const float* y_true, const float* y_pred, const float* logits,
                            int64_t rows, int64_t cols, const float* sample_weight, float* grad,
                            float* per_sample);

// Keras' accuracies (seqnet._engine.Accuracy: binary_accuracy, categorical_accuracy,
// sparse_categorical_accuracy): returns the sum over rows of each row's accuracy (so a batch mean is
// the return value / rows).
enum class Accuracy : int { Binary = 0, Categorical = 1, SparseCategorical = 2 };
double accuracy_sum(Accuracy kind, const float* y_true, const float* y_pred, int64_t rows, int64_t cols,
                    float threshold = 0.5f);

}  // namespace seqnet
