"""The flat parameter store: every trainable weight of a model in one buffer; and which of
its tables (Embeddings) the optimizer may update row by row."""
import numpy as np


class ParameterStore:
    """Packs the trainable weights' values into one float32 buffer and their gradients into
    another, re-pointing each Weight's ``value``/``grad`` at views of them. The optimizer
    then updates the whole model in one engine call, and no step allocates."""

    def __init__(self, weights):
        self.weights = list(weights)
        total = sum(w.value.size for w in self.weights)
        self.params = np.empty(total, dtype=np.float32)
        self.grads = np.zeros(total, dtype=np.float32)
        self.segments = []
        self._views = []
        offset = 0
        for w in self.weights:
            size = w.value.size
            value = self.params[offset:offset + size].reshape(w.value.shape)
            value[...] = w.value
            w.value = value
            w.grad = self.grads[offset:offset + size].reshape(value.shape)
            self._views.append((value, w.grad))
            self.segments.append((offset, size))
            offset += size
        self.signature = signature_of(self.weights)

    def holds(self, weights):
        """Whether these are still this store's weights, each still pointing at its views:
        another model sharing a layer re-points them at its own store when it trains."""
        if self.signature != signature_of(weights):
            return False
        return all(w.value is value and w.grad is grad for w, (value, grad) in zip(weights, self._views))


def signature_of(weights):
    return tuple(id(w) for w in weights)


def row_sparse_tables(model):
    """(layer, weight, offset) of the tables (Embedding) the optimizer may update row by
    row: layers `model` calls once, directly, whose table trains with no penalty, in
    one process. Every other such layer it reaches (nested, shared, wrapped) writes dense
    gradients. The plan is kept until the model's steps, store or process group change;
    the layers' switches are set again on every call (another model may share them)."""
    key = (model._steps, model._store, model._parallel is None)
    cached = getattr(model, "_row_sparse_plan", None)
    if cached is None or any(a is not b for a, b in zip(cached[0], key)):
        cached = model._row_sparse_plan = (key,) + _plan_row_sparse_tables(model)
    _, candidates, tables = cached
    for layer in candidates:
        layer.row_sparse_grads = False
    for layer, _, _ in tables:
        layer.row_sparse_grads = True
    return tables


def _plan_row_sparse_tables(model):
    def reachable(layers):
        for layer in layers:
            yield layer
            yield from reachable(getattr(layer, "layers", None) or [])
            inner = getattr(layer, "layer", None)  # a wrapper's layer
            if inner is not None and hasattr(inner, "backward"):
                yield from reachable([inner])
    candidates = [layer for layer in reachable(model.layers) if hasattr(layer, "row_sparse_grads")]
    if not candidates or model._parallel is not None:
        return candidates, []
    calls = {}
    for step in model._steps:
        calls[id(step.layer)] = calls.get(id(step.layer), 0) + 1
    offsets = {id(w): offset for w, (offset, _) in zip(model._store.weights, model._store.segments)}
    tables = []
    for step in model._steps:
        layer = step.layer
        w = getattr(layer, "row_sparse_weight", None)
        if w is None or calls[id(layer)] != 1 or id(w) not in offsets or w.regularizer is not None:
            continue
        tables.append((layer, w, offsets[id(w)]))
    return candidates, tables
