"""What compile() resolves: the loss (fused C++ kernel or a user function) and the metrics."""
import numpy as np

from seqnet import _engine, losses, metrics as metrics_module

_ACC_BINARY, _ACC_CATEGORICAL, _ACC_SPARSE = (_engine.Accuracy.binary_accuracy, _engine.Accuracy.categorical_accuracy,
                                              _engine.Accuracy.sparse_categorical_accuracy)
_CCE, _SCCE, _BCE = (_engine.Loss.categorical_crossentropy, _engine.Loss.sparse_categorical_crossentropy,
                     _engine.Loss.binary_crossentropy)


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
        """The batch loss; writes dL/d(y_pred) (or dL/d(logits) when fused) into grad if given.
        `sample_weight` is None, one weight per sample, or one per element of y_pred's
        leading axes (from element_weights: masks and temporal weights)."""
        if self.code is not None:
            if sample_weight is not None and sample_weight.ndim > 1:
                sample_weight = sample_weight.reshape(-1)
            elif sample_weight is not None and y_pred.ndim > 2:  # per sample, over every timestep
                rows = int(np.prod(y_pred.shape[1:-1]))
                sample_weight = np.repeat(sample_weight, rows)
            return _engine.loss(self.code, y_true, y_pred, logits if self.fused else None, sample_weight, grad,
                                None)
        if sample_weight is not None and sample_weight.ndim > 1:
            return self._custom_elementwise(y_true, y_pred, sample_weight, grad)
        return self._custom(y_true, y_pred, sample_weight, grad)

    def _custom_elementwise(self, y_true, y_pred, weights, grad):
        """A user loss weighted per element of the leading axes: mean(W * loss) /
        mean(W != 0) over those elements (W already holds Keras' mask and weight scaling)."""
        from seqnet.backend import vjp
        value, pullback = vjp(self.fn, y_true, y_pred)
        value = np.asarray(value, dtype=np.float64)
        if value.shape != weights.shape:
            raise ValueError(f"loss {self.name}: returned shape {value.shape}; with a mask or temporal sample "
                             f"weights it must return one value per timestep, shape {weights.shape}")
        nonzero = max(int(np.count_nonzero(weights)), 1)
        total = float(np.sum(weights * value) / nonzero)
        if grad is not None:
            grad[...] = pullback(np.ascontiguousarray(weights / nonzero, dtype=np.float32))
        return total

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
        self.metric_fn = fn
        kinds = {metrics_module.binary_accuracy: _ACC_BINARY, metrics_module.categorical_accuracy: _ACC_CATEGORICAL,
                 metrics_module.sparse_categorical_accuracy: _ACC_SPARSE}
        if fn in kinds:
            self.accuracy = kinds[fn]
        elif losses.engine_code(fn) is not None:
            self.loss_code = losses.engine_code(fn)
        else:
            self.fn = fn
        self.sparse_targets = loss.sparse

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        if mask is not None or (sample_weight is not None and sample_weight.ndim > 1):
            return self._masked(y_true, y_pred, sample_weight if self.weighted else None, mask)
        if self.weighted and sample_weight is not None:
            return self._weighted(y_true, y_pred, sample_weight)
        if self.accuracy is not None:
            # The kernel sums over every position of the leading axes (samples, timesteps, ...).
            positions = y_pred.size // y_pred.shape[-1] if y_pred.shape[-1] else y_pred.shape[0]
            if self.accuracy == _ACC_SPARSE:
                return _engine.accuracy_sum(self.accuracy, y_true, y_pred) / positions
            if y_true.shape != y_pred.shape:  # categorical metric on sparse targets
                return float(np.mean(metrics_module.sparse_categorical_accuracy(y_true, y_pred)))
            return _engine.accuracy_sum(self.accuracy, y_true, y_pred) / positions
        if self.loss_code is not None and (self.loss_code == _SCCE) == (y_true.shape != y_pred.shape):
            return float(_engine.loss(self.loss_code, y_true, y_pred, None, None, None, None))
        return float(np.mean(self.metric_fn(y_true, y_pred)))

    def _masked(self, y_true, y_pred, w, mask):
        """Keras 2.2.4's masked metric: the per-timestep values weighted as the loss is
        (element_weights), averaged."""
        values = np.asarray(self._per_element(y_true, y_pred), dtype=np.float64)
        weights = element_weights(y_pred, mask, w)
        if values.shape != weights.shape:  # a per-sample (or scalar) metric: every timestep of it
            values = np.broadcast_to(values.reshape(values.shape + (1,) * (weights.ndim - values.ndim))
                                     if values.ndim <= weights.ndim else values.reshape(weights.shape),
                                     weights.shape)
        nonzero = max(int(np.count_nonzero(weights)), 1)
        return float(np.sum(weights * values) / nonzero)

    def _per_element(self, y_true, y_pred):
        if self.accuracy is not None:
            fn = (metrics_module.binary_accuracy, metrics_module.categorical_accuracy,
                  metrics_module.sparse_categorical_accuracy)[self.accuracy]
            if self.accuracy == _ACC_CATEGORICAL and y_true.shape != y_pred.shape:
                fn = metrics_module.sparse_categorical_accuracy
            return fn(y_true, y_pred)
        return self.metric_fn(y_true, y_pred)

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
            values = np.asarray(self.metric_fn(y_true, y_pred), dtype=np.float64)
        if values.ndim == 0:
            return float(values) * float(np.sum(w)) / nonzero
        per_sample = values.reshape(rows, -1).mean(axis=1)
        return float(np.dot(w, per_sample) / nonzero)


def element_weights(y_pred, mask, sample_weight):
    """Per-element weights W over y_pred's leading axes (all but the last) such that
    sum(W * L) / count(W != 0) is Keras 2.2.4's weighted, masked mean of the per-element
    losses L (training_utils.weighted_masked_objective): L * mask / mean(mask), times the
    sample weight (per sample, or per timestep with sample_weight_mode='temporal') divided
    by mean(sample_weight != 0)."""
    shape = y_pred.shape[:-1]
    weights = np.ones(shape, dtype=np.float64)
    if mask is not None:
        m = np.asarray(mask, dtype=np.float64).reshape(shape)
        mean = m.mean()
        weights = m / mean if mean > 0 else np.zeros(shape)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        nonzero = np.count_nonzero(w) / w.size if w.size else 1.0
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
        weights = weights * (w / nonzero if nonzero > 0 else 0.0)
    count = np.count_nonzero(weights)
    # The loss kernel divides by count(W != 0); scale so that it returns mean(W * L).
    return np.ascontiguousarray(weights * (count / weights.size if weights.size else 0.0), dtype=np.float32)


def metric_name(identifier, weighted=False):
    name = identifier if isinstance(identifier, str) else getattr(identifier, "__name__", "metric")
    return "weighted_" + name if weighted else name


def per_output(names, value, what, default=None):
    """compile's `what` argument as one entry per output (`names`): from a single value, a list
    (outputs order) or a dict by output name."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"compile: unknown entries in the {what} dictionary: {unknown}. Only expected "
                             f"the following keys: {names}")
        missing = [n for n in names if n not in value]
        if missing and default is None:
            raise ValueError(f"compile: output {missing[0]!r} is missing from the {what} dictionary "
                             f"(keys: {sorted(value)}); seqnet trains every output")
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: when passing a list as {what}, it should have one entry per model "
                             f"output. The model has {len(names)} outputs ({names}), but you passed "
                             f"{what}={value!r}")
        return list(value)
    return [default if value is None else value] * len(names)


def metric_lists(names, ms, what):
    """compile's `metrics` (or `weighted_metrics`) as one list per output (`names`)."""
    if ms is not None and not isinstance(ms, (list, tuple, dict)):
        raise TypeError(f"compile: {what} must be a list (e.g. metrics=['accuracy']) or a dict, got {ms!r}")
    if isinstance(ms, dict):
        return [list(m) if isinstance(m, (list, tuple)) else [m]
                for m in per_output(names, ms, what, default=[])]
    return [list(ms or [])] * len(names)


def metrics_names(output_names, output_metric_ids):
    """Keras' metrics_names: 'loss', with several outputs '<output>_loss' each, then each
    output's metrics (prefixed by the output's name when there are several), repeated names
    deduplicated with _1, _2, ... as Keras does."""
    names, multi = ["loss"], len(output_names) > 1
    if multi:
        names += [n + "_loss" for n in output_names]
    for out_name, ids in zip(output_names, output_metric_ids):
        for m, weighted in ids:
            name = metric_name(m, weighted)
            name = f"{out_name}_{name}" if multi else name
            base, j = name, 1
            while name in names:
                name, j = f"{base}_{j}", j + 1
            names.append(name)
    return names
