"""GaussianNoise: adds zero-centred Gaussian noise to the input during training."""
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.random_state import new_key, stream_offset


class GaussianNoise(Layer):
    """Adds ``N(0, stddev ** 2)`` noise to every input element, in training only.

    A regularizer (a kind of random data augmentation for real-valued inputs); at
    inference the layer is the identity.

    Arguments:
        stddev: non-negative float, the standard deviation of the noise.
        seed: optional integer (tf-keras' later addition), seeds seqnet's random stream
            for this layer; written to the config only when set.

    The noise comes from seqnet's counter-based generator (Philox), so it is reproducible
    under ``seqnet.utils.set_random_seed`` but is not tf-keras' draw. Any input shape;
    masks pass through unchanged.
    """

    supports_masking = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not stddev >= 0:
            raise ValueError(f"GaussianNoise '{self.name}': stddev must be a non-negative number, got {stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self._key = new_key(seed)
        self._step = 0  # each forward in training draws fresh noise: stream = step

    def forward(self, x, training):
        if not training or self.stddev == 0.0:
            return x
        y = self._workspace("y", x.shape)
        _engine.random_normal(y, 0.0, self.stddev, self._key, self._step,
                              stream_offset(x.size // max(x.shape[0], 1)))
        self._step += 1
        np.add(y, x, out=y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy if need_dx else None

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        if self.seed is not None:
            config["seed"] = self.seed
        return config
