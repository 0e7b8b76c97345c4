"""Masking: marks the timesteps whose features all equal `mask_value` as padding, for the
layers downstream (recurrent layers skip them, losses and metrics ignore them)."""
import numpy as np

from seqnet.engine.base_layer import Layer
from seqnet.engine.keras_tensor import KerasTensor, SymbolicMask


class Masking(Layer):
    """Keras 2's Masking: the mask is any(x != mask_value) over the last axis, and masked
    timesteps are zeroed in the output (x * mask), so what follows sees zeros there."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        if isinstance(inputs, KerasTensor):
            return SymbolicMask(inputs.shape[:-1])
        return np.any(np.not_equal(inputs, self.mask_value), axis=-1)

    def forward(self, x, training, mask=None):
        keep = self._workspace("keep", x.shape[:-1] + (1,))
        np.copyto(keep, np.any(np.not_equal(x, self.mask_value), axis=-1, keepdims=True))
        y = self._workspace("y", x.shape)
        np.multiply(x, keep, out=y)
        self._keep = keep
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        np.multiply(dy, self._keep, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
