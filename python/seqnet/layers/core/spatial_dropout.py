"""SpatialDropout1D/2D/3D: dropout of whole feature maps (channels) instead of single elements."""
from seqnet import backend
from seqnet.layers.core.dropout import Dropout


class SpatialDropout(Dropout):
    """Base class: drops whole channels, one draw per (sample, channel), during training.

    A dropped channel is zero at every position; a kept one is scaled by 1 / (1 - rate),
    as Dropout. Adjacent positions of a feature map are strongly correlated, so dropping
    single elements barely regularizes convolutional features; dropping the channel does.
    Inactive (the identity) at inference. Masks pass through unchanged.
    """

    rank = None  # spatial axes: 1, 2 or 3

    def __init__(self, rate, data_format=None, **kwargs):
        # tf-keras' configs carry Dropout's noise_shape (always None here) and seed.
        noise_shape = kwargs.pop("noise_shape", None)
        seed = kwargs.pop("seed", None)
        kind = type(self).__name__
        if noise_shape is not None:
            raise ValueError(f"{kind}: noise_shape is set by the layer (one draw per sample and channel), "
                             f"got noise_shape={noise_shape!r}")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"{kind}: rate must be a number in [0, 1), got {rate!r}")
        super().__init__(rate, seed=seed, **kwargs)
        if data_format is None:
            data_format = backend.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"{kind} '{self.name}': data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        self.data_format = data_format

    def _check_rank(self, shape):
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 2} (batch, "
                             f"{self.rank} spatial axes and channels), got shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        self._check_rank(input_shape)
        return tuple(input_shape)

    def _noise_shape(self, shape):
        """(batch, 1, ..., channels) or (batch, channels, 1, ...): one draw per channel."""
        self._check_rank(shape)
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + ones
        return (shape[0],) + ones + (shape[-1],)

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return super().backward(dy, need_dx) if need_dx else None

    def get_config(self):
        config = super().get_config()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(SpatialDropout):
    """Spatial 1D dropout: drops entire 1D feature maps (a channel at every timestep).

    Arguments:
        rate: float in [0, 1), the fraction of channels to drop.
        seed: optional integer, seeds seqnet's random stream for this layer.

    Input and output shape: ``(batch, timesteps, channels)``. The noise shape is
    ``(batch, 1, channels)``.
    """

    rank = 1

    def __init__(self, rate, **kwargs):
        super().__init__(rate, data_format="channels_last", **kwargs)


class SpatialDropout2D(SpatialDropout):
    """Spatial 2D dropout: drops entire 2D feature maps (channels).

    Arguments:
        rate: float in [0, 1), the fraction of channels to drop.
        data_format: 'channels_last' (batch, rows, cols, channels) or 'channels_first'
            (batch, channels, rows, cols); default: ``backend.image_data_format()``.
        seed: optional integer, seeds seqnet's random stream for this layer.

    seqnet writes data_format into the config (Keras 2.2.4 and tf-keras leave it out, so
    their files load with the default data format).
    """

    rank = 2


class SpatialDropout3D(SpatialDropout):
    """Spatial 3D dropout: drops entire 3D feature maps (channels).

    Arguments:
        rate: float in [0, 1), the fraction of channels to drop.
        data_format: 'channels_last' (batch, dim1, dim2, dim3, channels) or
            'channels_first' (batch, channels, dim1, dim2, dim3); default:
            ``backend.image_data_format()``.
        seed: optional integer, seeds seqnet's random stream for this layer.
    """

    rank = 3
