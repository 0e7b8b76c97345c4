"""Metrics (``seqnet.metrics``): Keras 2's metric functions, on arrays.

During training, accuracies and built-in losses used as metrics run as C++ kernels; these
functions are the reference versions and are what a user calls directly.
"""
import numpy as np

from seqnet import losses
from seqnet.losses import (binary_crossentropy, categorical_crossentropy, cosine_proximity,  # noqa: F401
                           cosine_similarity, hinge, kld, kullback_leibler_divergence, logcosh, mae, mape,
                           mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                           mean_squared_logarithmic_error, mse, msle, poisson,
                           sparse_categorical_crossentropy, squared_hinge)
from seqnet.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get", "serialize", "deserialize"]


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """The fraction of output units whose prediction, thresholded at ``threshold``,
    equals the 0/1 target; one value per sample (mean over the last axis)."""
    y_pred = (np.asarray(y_pred) > threshold).astype(np.float32)
    return np.mean(np.asarray(y_true, dtype=np.float32) == y_pred, axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg max of y_pred equals the arg max of the one-hot y_true, else 0.0."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the arg max of y_pred equals the integer class in y_true, else 0.0."""
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true).reshape(y_pred.shape[:-1])
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """The fraction of samples whose one-hot target class is among the ``k`` highest
    predictions: one number for the batch, as Keras 2.2.4 (``K.mean(K.in_top_k(...))``)."""
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """The fraction of samples whose integer target class is among the ``k`` highest
    predictions (classes tied with the k-th value count as in, as tf.nn.in_top_k): one number
    for the batch, as Keras 2.2.4 (``K.mean(K.in_top_k(...))``)."""
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true).reshape(-1).astype(np.int64)
    flat = y_pred.reshape(-1, y_pred.shape[-1])
    target = flat[np.arange(len(labels)), labels]
    # in_top_k: the target is among the k largest (ties count for the target).
    hits = ((flat > target[:, None]).sum(axis=-1) < k).astype(np.float32)
    return np.float32(hits.mean()) if hits.size else np.float32(np.nan)


acc = accuracy = "accuracy"  # resolved by the model from the loss and output shape

# The names deserialize finds: the metric functions and every loss (Keras' metrics
# module imports the losses too). 'accuracy' and 'acc' are not functions: compile
# resolves them from the loss and the output shape.
_BY_NAME = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
}
_BY_NAME.update({name: fn for name, fn in losses._BY_NAME.items() if name not in _BY_NAME})


def get(identifier):
    """The metric function for ``identifier``: a name (a metric such as
    'categorical_accuracy', any loss name, or a custom object's name) or a
    ``{'class_name', 'config'}`` dict through ``deserialize``; a callable unchanged.
    'accuracy' and 'acc' are not functions: pass them to ``compile``, which picks the
    binary, categorical or sparse accuracy. Raises ValueError for anything else."""
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric function identifier: {identifier!r}")


def serialize(metric):
    """What a config stores for ``metric``: a function's name (or, for an object with
    ``get_config``, its ``{'class_name', 'config'}``)."""
    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """The metric named by ``config``, found in ``custom_objects``, then the
    custom-object scope, then the built-in metrics and losses; ValueError ('Unknown
    metric function: ...') otherwise. Nothing is imported."""
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="metric function",
                                    expected=f"Expected one of {sorted(k for k in _BY_NAME if k.islower())}"
                                             ", a callable, or a name given in custom_objects ('accuracy' and 'acc' "
                                             "are given to compile directly).")
