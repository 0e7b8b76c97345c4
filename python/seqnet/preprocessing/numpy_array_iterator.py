"""``NumpyArrayIterator``: augmented batches of NumPy images (``ImageDataGenerator.flow``)."""
import numpy as np

from seqnet.preprocessing.image_iterator import Iterator, float_dtype, warn_unusual_channels
from seqnet.preprocessing.image_utils import check_save_options, save_batch

__all__ = ["NumpyArrayIterator"]


class NumpyArrayIterator(Iterator):
    """Augmented batches of NumPy images (see `ImageDataGenerator.flow`). With `save_to_dir`
    (an existing folder; needs Pillow) every augmented image is also written there as
    ``{save_prefix}_{index}_{hash}.{save_format}``."""

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False, sample_weight=None, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="", save_format="png", subset=None, dtype=None):
        self.dtype = float_dtype(image_data_generator.dtype if dtype is None else dtype)
        data_format = image_data_generator.data_format if data_format is None else data_format
        if isinstance(x, (tuple, list)):
            if len(x) != 2:
                raise ValueError("flow: `x` as a tuple or list should be (images, other inputs); "
                                 f"got {len(x)} items")
            x_misc = [np.asarray(a) for a in x[1]] if isinstance(x[1], list) else [np.asarray(x[1])]
            x = x[0]
            for other in x_misc:
                if len(x) != len(other):
                    raise ValueError("flow: all of the arrays in `x` should have the same length. Found a pair "
                                     f"with: len(x[0]) = {len(x)}, len(x[?]) = {len(other)}")
        else:
            x_misc = []
        x = np.asarray(x)
        if x.ndim != 4:
            raise ValueError(f"flow: input data should have rank 4 (images). You passed an array with shape "
                             f"{x.shape}")
        if y is not None:
            y = np.asarray(y)
            if len(x) != len(y):
                raise ValueError("flow: `x` (images tensor) and `y` (labels) should have the same length. Found: "
                                 f"x.shape = {x.shape}, y.shape = {y.shape}")
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight)
            if len(x) != len(sample_weight):
                raise ValueError("flow: `x` (images tensor) and `sample_weight` should have the same length. Found: "
                                 f"x.shape = {x.shape}, sample_weight.shape = {sample_weight.shape}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"flow: invalid `subset` name {subset!r}; expected 'training' or 'validation'")
            if not image_data_generator._validation_split:
                raise ValueError(f"flow: subset={subset!r} needs an ImageDataGenerator with a validation_split")
            split = int(len(x) * image_data_generator._validation_split)
            if y is not None and not np.array_equal(np.unique(y[:split]), np.unique(y[split:])):
                raise ValueError("flow: training and validation subsets have different number of classes after the "
                                 "split. If your numpy arrays are sorted by the label, you might want to shuffle "
                                 "them.")
            part = slice(None, split) if subset == "validation" else slice(split, None)
            x, x_misc = x[part], [a[part] for a in x_misc]
            y = y[part] if y is not None else None
            sample_weight = sample_weight[part] if sample_weight is not None else None
        channel_axis = 3 if data_format == "channels_last" else 1
        if save_to_dir is not None:
            check_save_options(save_to_dir, save_format, "flow")
            if x.shape[channel_axis] not in (1, 3, 4):
                raise ValueError(f"flow: `save_to_dir` writes images of 1, 3 or 4 channels; the input has shape "
                                 f"{x.shape} ({x.shape[channel_axis]} channels, data_format={data_format!r})")
        self.x = np.asarray(x, dtype=self.dtype)
        warn_unusual_channels(self.x.shape, channel_axis, data_format, "flow")
        self.x_misc = x_misc
        self.y = y
        self.sample_weight = sample_weight
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(len(self.x), batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array, rng):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=self.dtype)
        for i, j in enumerate(index_array):
            params = gen._draw_transform(self.x[j].shape, rng)
            batch_x[i] = gen.standardize(gen.apply_transform(self.x[j], params))
        if self.save_to_dir:
            save_batch(batch_x, index_array, rng, self.data_format, self.save_to_dir, self.save_prefix,
                       self.save_format, 10 ** 4)
        inputs = batch_x if not self.x_misc else [batch_x] + [a[index_array] for a in self.x_misc]
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]
