"""The flat parameter store: every trainable weight of a model in one buffer."""
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
