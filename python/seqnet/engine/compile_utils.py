"""What compile() resolves: the loss (fused C++ kernel or a user function) and the metrics."""
import numpy as np

from seqnet import _engine, losses, metrics as metrics_module

_ACC_BINARY, _ACC_CATEGORICAL, _ACC_SPARSE = 0, 1, 2
_CCE, _SCCE, _BCE = 0, 1, 2


class CompiledLoss:
    """The model's loss. Built-in losses run as one C++ call returning the batch loss and
    its gradient; with a softmax (sigmoid) output, the categorical (binary) cross-entropies
    work on the logits, as tf-keras does. Any other function is differentiated by
    seqnet.backend's tape."""

    def __init__(self, identifier):
        self.fn = losses.get(identifier)
        self.name = identifier if isinstance(identifier, str) else getattr(self.fn, "__name__", "loss")
        self.code = losses.engine_code(self.fn)
        self.sparse = self.code == _SCCE
        self.fused = False

    def attach(self, output_activation):
        """Decides, once the output layer is known, whether the loss takes its logits."""
        self.fused = ((self.code in (_CCE, _SCCE) and output_activation == "softmax")
                      or (self.code == _BCE and output_activation == "sigmoid"))

    def __call__(self, y_true, y_pred, sample_weight, grad, logits):
        """The batch loss; writes dL/d(y_pred) (or dL/d(logits) when fused) into grad if given."""
        if self.code is not None:
            return _engine.loss(self.code, y_true, y_pred, logits if self.fused else None, sample_weight, grad,
                                None)
        return self._custom(y_true, y_pred, sample_weight, grad)

    def _custom(self, y_true, y_pred, sample_weight, grad):
        from seqnet.backend import vjp
        value, pullback = vjp(self.fn, y_true, y_pred)
        value = np.asarray(value, dtype=np.float64)
        rows = y_pred.shape[0]
        w = np.ones(rows) if sample_weight is None else sample_weight.astype(np.float64)
        nonzero = max(int(np.count_nonzero(w)), 1) if sample_weight is not None else rows
        if value.ndim == 0:  # a scalar loss: Keras weights it by mean(w) / fraction of non-zero weights
            scale = float(np.mean(w)) * rows / nonzero
            total = float(value) * scale
            cotangent = np.asarray(scale, dtype=np.float32)
        else:
            if value.shape[0] != rows:
                raise ValueError(f"loss {self.name}: returned shape {value.shape}, expected one value per sample "
                                 f"(first axis {rows})")
            per_elem = value.reshape(rows, -1)
            per_sample = per_elem.mean(axis=1)
            total = float(np.dot(w, per_sample) / nonzero)
            cotangent = np.broadcast_to((w / (nonzero * per_elem.shape[1]))[:, None], per_elem.shape)
            cotangent = np.ascontiguousarray(cotangent.reshape(value.shape), dtype=np.float32)
        if grad is not None:
            grad[...] = pullback(cotangent)
        return total


class CompiledMetric:
    """One metric: an accuracy or built-in loss run as a C++ kernel, or a user function
    evaluated on the batch's arrays; each returns the batch mean. A weighted metric
    (compile's weighted_metrics, named 'weighted_<name>') takes the sample weights into
    its mean as Keras 2.2.4 does: sum_i w_i m_i / count(w_i != 0)."""

    def __init__(self, identifier, loss, output_shape, weighted=False):
        self.weighted = weighted
        self.name = metric_name(identifier, weighted)
        self.accuracy = None
        self.loss_code = None
        self.fn = None
        if identifier in ("accuracy", "acc"):
            # Keras 2.2.4: binary for one output unit or binary_crossentropy, sparse for the
            # sparse loss, categorical otherwise.
            if output_shape[-1] == 1 or loss.code == _BCE:
                self.accuracy = _ACC_BINARY
            elif loss.sparse:
                self.accuracy = _ACC_SPARSE
            else:
                self.accuracy = _ACC_CATEGORICAL
            return
        fn = metrics_module.get(identifier)
        kinds = {metrics_module.binary_accuracy: _ACC_BINARY, metrics_module.categorical_accuracy: _ACC_CATEGORICAL,
                 metrics_module.sparse_categorical_accuracy: _ACC_SPARSE}
        if fn in kinds:
            self.accuracy = kinds[fn]
        elif losses.engine_code(fn) is not None:
            self.loss_code = losses.engine_code(fn)
        else:
            self.fn = fn
        self.sparse_targets = loss.sparse

    def __call__(self, y_true, y_pred, sample_weight=None):
        if self.weighted and sample_weight is not None:
            return self._weighted(y_true, y_pred, sample_weight)
        if self.accuracy is not None:
            if self.accuracy == _ACC_SPARSE:
                return _engine.accuracy_sum(self.accuracy, y_true, y_pred) / y_pred.shape[0]
            if y_true.shape != y_pred.shape:  # categorical metric on sparse targets
                return float(np.mean(metrics_module.sparse_categorical_accuracy(y_true, y_pred)))
            return _engine.accuracy_sum(self.accuracy, y_true, y_pred) / y_pred.shape[0]
        if self.loss_code is not None and (self.loss_code == _SCCE) == (y_true.shape != y_pred.shape):
            return float(_engine.loss(self.loss_code, y_true, y_pred, None, None, None, None))
        return float(np.mean(self.fn(y_true, y_pred)))

    def _weighted(self, y_true, y_pred, w):
        rows = y_pred.shape[0]
        nonzero = max(int(np.count_nonzero(w)), 1)
        if self.accuracy is not None:
            fn = (metrics_module.binary_accuracy, metrics_module.categorical_accuracy,
                  metrics_module.sparse_categorical_accuracy)[self.accuracy]
            if self.accuracy == _ACC_CATEGORICAL and y_true.shape != y_pred.shape:
                fn = metrics_module.sparse_categorical_accuracy
            values = np.asarray(fn(y_true, y_pred), dtype=np.float64)
        elif self.loss_code is not None and (self.loss_code == _SCCE) == (y_true.shape != y_pred.shape):
            values = np.empty(rows, dtype=np.float32)
            _engine.loss(self.loss_code, y_true, y_pred, None, None, None, values)
        else:
            values = np.asarray(self.fn(y_true, y_pred), dtype=np.float64)
        if values.ndim == 0:
            return float(values) * float(np.sum(w)) / nonzero
        per_sample = values.reshape(rows, -1).mean(axis=1)
        return float(np.dot(w, per_sample) / nonzero)


def metric_name(identifier, weighted=False):
    name = identifier if isinstance(identifier, str) else getattr(identifier, "__name__", "metric")
    return "weighted_" + name if weighted else name
