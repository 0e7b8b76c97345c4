"""What Cropping, UpSampling and ZeroPadding share: the data format, the rank check, the
spatial axes, and (Cropping, ZeroPadding) per-axis (before, after) border amounts."""
import numbers

from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.conv_utils import normalize_data_format


class SpatialLayer(Layer):
    """Base class of a layer that moves data along the `rank` spatial axes of
    ``(batch, spatial..., channels)`` (or ``(batch, channels, spatial...)``) inputs."""

    rank = None

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__) if self.rank > 1 \
            else "channels_last"

    def _describe(self):
        return f"{type(self).__name__} '{self.name}'"

    def _check_rank(self, shape):
        shape = tuple(shape)
        if len(shape) != self.rank + 2:
            layout = "(batch, channels, " + ", ".join(["spatial"] * self.rank) + ")" \
                if self.data_format == "channels_first" else "(batch, " + "spatial, " * self.rank + "channels)"
            raise ValueError(f"{self._describe()} expects inputs of rank {self.rank + 2} {layout}, got shape {shape}")
        return shape

    def _spatial_axes(self):
        """The positions of the spatial axes in the full input shape."""
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self.rank))

    def _map_spatial(self, shape, fn):
        """`shape` with fn(axis_number, size) applied to each spatial size (None stays None)."""
        shape = list(self._check_rank(shape))
        for i, axis in enumerate(self._spatial_axes()):
            if shape[axis] is not None:
                shape[axis] = fn(i, shape[axis])
        return tuple(shape)


class BorderLayer(SpatialLayer):
    """Base class of Cropping and ZeroPadding: `border` amounts (before, after) per spatial
    axis, stored under Keras' attribute and config name `border_name`."""

    border_name = None  # 'cropping' or 'padding'

    def __init__(self, border, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._pairs = normalize_pairs(border, self.rank, self.border_name, self)
        # Keras' attribute: (before, after) for 1D, one pair per axis otherwise.
        setattr(self, self.border_name, self._pairs[0] if self.rank == 1 else self._pairs)

    def _inner_slices(self, shape):
        """Where the inside (cropped output, unpadded input) lies in the array of `shape`."""
        slices = [slice(None)] * len(shape)
        for (before, after), axis in zip(self._pairs, self._spatial_axes()):
            slices[axis] = slice(before, shape[axis] - after)
        return tuple(slices)

    def get_config(self):
        config = super().get_config()
        config[self.border_name] = getattr(self, self.border_name)
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


def normalize_pairs(value, rank, what, layer):
    """`value` as `rank` (before, after) pairs of non-negative integers, from an int (the
    same everywhere), `rank` ints (symmetric per axis) or `rank` pairs; rank 1 also takes
    one pair. ValueError naming the layer and the argument otherwise."""
    kind = type(layer).__name__

    def bad():
        forms = "an int or a tuple of 2 ints" if rank == 1 else \
            f"an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints"
        return ValueError(f"{kind} '{layer.name}': {what} must be {forms}, all non-negative, got {value!r}")

    if _is_count(value):
        return ((int(value), int(value)),) * rank
    if not isinstance(value, (list, tuple)):
        raise bad()
    if rank == 1:
        if len(value) != 2 or not all(_is_count(v) for v in value):
            raise bad()
        return ((int(value[0]), int(value[1])),)
    if len(value) != rank:
        raise bad()
    pairs = []
    for entry in value:
        if _is_count(entry):
            pairs.append((int(entry), int(entry)))
        elif isinstance(entry, (list, tuple)) and len(entry) == 2 and all(_is_count(v) for v in entry):
            pairs.append((int(entry[0]), int(entry[1])))
        else:
            raise bad()
    return tuple(pairs)


def normalize_factors(value, rank, what, layer):
    """`value` (an int or `rank` ints) as a tuple of `rank` positive integers."""
    if _is_count(value) and value > 0:
        return (int(value),) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank and all(_is_count(v) and v > 0 for v in value):
        return tuple(int(v) for v in value)
    raise ValueError(f"{type(layer).__name__} '{layer.name}': {what} must be a positive integer"
                     f"{'' if rank == 1 else f' or a tuple of {rank} positive integers'}, got {value!r}")


def _is_count(v):
    return not isinstance(v, bool) and isinstance(v, numbers.Integral) and v >= 0
