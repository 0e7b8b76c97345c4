"""GaussianDropout: multiplies the input by 1-centred Gaussian noise during training."""
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.random_state import new_key, stream_offset


class GaussianDropout(Layer):
    """Multiplies every input element by ``N(1, rate / (1 - rate))`` noise, in training only.

    The multiplicative-noise form of dropout (Srivastava et al. 2014): the noise has mean 1
    and standard deviation ``sqrt(rate / (1 - rate))``, so the expected output equals the
    input; at inference the layer is the identity.

    Arguments:
        rate: float in [0, 1), the drop probability as for Dropout (0: the identity).
        seed: optional integer (tf-keras' later addition), seeds seqnet's random stream
            for this layer; written to the config only when set.

    The noise comes from seqnet's counter-based generator, not tf-keras' draw. Any input
    shape; masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(f"GaussianDropout '{self.name}': rate must be a number in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self._key = new_key(seed)
        self._step = 0

    def forward(self, x, training):
        self._active = training and self.rate > 0.0
        if not self._active:
            return x
        self._noise = self._workspace("noise", x.shape)
        _engine.random_normal(self._noise, 1.0, float(np.sqrt(self.rate / (1.0 - self.rate))), self._key,
                              self._step, stream_offset(x.size // max(x.shape[0], 1)))
        self._step += 1
        y = self._workspace("y", x.shape)
        np.multiply(x, self._noise, out=y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        if self._active:
            np.multiply(dy, self._noise, out=dy)
        return dy

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        if self.seed is not None:
            config["seed"] = self.seed
        return config
