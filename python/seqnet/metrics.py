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

__all__ = ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get"]


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = (np.asarray(y_pred) > threshold).astype(np.float32)
    return np.mean(np.asarray(y_true, dtype=np.float32) == y_pred, axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true).reshape(y_pred.shape[:-1])
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    labels = np.asarray(y_true).reshape(-1).astype(np.int64)
    flat = y_pred.reshape(-1, y_pred.shape[-1])
    target = flat[np.arange(len(labels)), labels]
    # in_top_k: the target is among the k largest (ties count for the target).
    return ((flat > target[:, None]).sum(axis=-1) < k).astype(np.float32)


acc = accuracy = "accuracy"  # resolved by the model from the loss and output shape

_BY_NAME = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
}


def get(identifier):
    """A metric function from its name (any loss name too) or a callable."""
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier]
        try:
            return losses.get(identifier)
        except ValueError:
            raise ValueError(f"Unknown metric function: '{identifier}'. Expected 'accuracy', 'acc', one of "
                             f"{sorted(_BY_NAME)}, a loss name, or a callable.") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric function identifier: {identifier!r}")
