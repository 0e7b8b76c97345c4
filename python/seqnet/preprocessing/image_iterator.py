"""The base of the image iterators (``seqnet.preprocessing.image``): ``Iterator`` (batches of
indices, a ``Sequence``) and ``BatchFromFilesIterator`` (batches read from image files, the
shared part of ``DirectoryIterator`` and ``DataFrameIterator``).

An iterator draws each batch from a generator keyed by its seed (or a key taken from NumPy's
global state), the epoch and the batch index: batches are reproducible and independent of
worker threads or processes.
"""
import os
import threading
import warnings

import numpy as np

from seqnet.preprocessing.image_utils import (COLOR_MODES, INTERPOLATIONS, check_save_options, check_target_size,
                                              img_to_array, load_img, save_batch)
from seqnet.random_state import new_key
from seqnet.utils.data_utils import Sequence

__all__ = ["Iterator", "BatchFromFilesIterator"]


class Iterator(Sequence):
    """Batches of `n` samples, `batch_size` at a time (the last one smaller), in a new order
    every epoch when `shuffle`. A Sequence (`len`, `[i]`, `on_epoch_end`) and an endless
    Python iterator (`next`). Subclasses implement `_get_batches_of_transformed_samples`."""

    def __init__(self, n, batch_size, shuffle, seed):
        check_batch_size(batch_size, type(self).__name__)
        if n < 1:
            raise ValueError(f"{type(self).__name__}: there are no samples to iterate over")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        key = new_key(seed)
        self._key = [key & 0xFFFFFFFF, (key >> 32) & 0xFFFFFFFF]
        self._epoch = 0
        self.index_array = None

    def _rng(self, epoch, stream):
        """The generator of one epoch's shuffle (stream 0) or batch `stream - 1`."""
        return np.random.RandomState(self._key + [epoch & 0xFFFFFFFF, stream])

    def _set_index_array(self):
        if self.shuffle:
            self.index_array = self._rng(self._epoch, 0).permutation(self.n)
        else:
            self.index_array = np.arange(self.n)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < len(self):
            raise ValueError(f"Asked to retrieve element {idx!r}, but the Sequence has length {len(self)}")
        with self.lock:
            if self.index_array is None:
                self._set_index_array()
            index_array, epoch = self.index_array, self._epoch
            self.total_batches_seen += 1
        batch = index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(batch, self._rng(epoch, idx + 1))

    def on_epoch_end(self):
        with self.lock:
            self._epoch += 1
            self._set_index_array()

    def reset(self):
        self.batch_index = 0

    def __iter__(self):
        return self

    def __next__(self):
        return self.next()

    def next(self):
        """The next batch; after the last batch of a pass, a new pass (reshuffled) begins."""
        with self.lock:
            if self.index_array is None:
                self._set_index_array()
            idx, epoch, index_array = self.batch_index, self._epoch, self.index_array
            self.total_batches_seen += 1
            self.batch_index += 1
            if self.batch_index >= len(self):
                self.batch_index = 0
                self._epoch += 1
                self._set_index_array()
        batch = index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(batch, self._rng(epoch, idx + 1))

    def _get_batches_of_transformed_samples(self, index_array, rng):
        raise NotImplementedError(f"{type(self).__name__} must implement _get_batches_of_transformed_samples")


class BatchFromFilesIterator(Iterator):
    """Augmented batches of images read from files (the base of `DirectoryIterator` and
    `DataFrameIterator`). Each image is loaded in `color_mode` at `target_size`, given the
    generator's random transform, standardised, and optionally saved to `save_to_dir`;
    images and float labels have `dtype` (default: the generator's).
    A subclass sets `directory`, `filenames` (relative to it), `classes`, `class_indices`,
    `num_classes` (and `data` for class_mode 'other') before calling `Iterator.__init__`."""

    def _set_processing_attrs(self, image_data_generator, target_size, color_mode, data_format, save_to_dir,
                              save_prefix, save_format, subset, interpolation, class_mode, batch_size, dtype, what,
                              class_modes=("categorical", "binary", "sparse", "input", None)):
        """Checks and stores the arguments every file iterator takes; sets `image_shape`
        and `split` (the fractions of the files this subset keeps)."""
        if color_mode not in COLOR_MODES:
            raise ValueError(f'{what}: invalid color_mode {color_mode!r}; expected "rgb", "rgba", or "grayscale"')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{what}: invalid interpolation method {interpolation!r}; supported methods are "
                             f"{', '.join(INTERPOLATIONS)}")
        if class_mode not in class_modes:
            raise ValueError(f"{what}: invalid class_mode {class_mode!r}; expected one of "
                             + ", ".join(repr(m) for m in class_modes))
        check_batch_size(batch_size, what)
        check_save_options(save_to_dir, save_format, what)
        self.image_data_generator = image_data_generator
        self.target_size = check_target_size(target_size, what)
        self.color_mode = color_mode
        self.data_format = image_data_generator.data_format if data_format is None else data_format
        self.dtype = float_dtype(image_data_generator.dtype if dtype is None else dtype)
        channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
        if self.data_format == "channels_last":
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        self.class_mode = class_mode
        self.subset = subset
        self.split = None
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"{what}: invalid `subset` name {subset!r}; expected 'training' or 'validation'")
            validation_split = image_data_generator._validation_split
            if not validation_split:
                raise ValueError(f"{what}: subset={subset!r} needs an ImageDataGenerator with a validation_split")
            self.split = (0, validation_split) if subset == "validation" else (validation_split, 1)

    @property
    def filepaths(self):
        """The full path of every sample's file."""
        return [os.path.join(self.directory or "", f) for f in self.filenames]

    @property
    def labels(self):
        """Each sample's class index (as `classes`)."""
        return self.classes

    def _get_batches_of_transformed_samples(self, index_array, rng):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        for i, j in enumerate(index_array):
            x = self._read(os.path.join(self.directory or "", self.filenames[j]))
            params = gen._draw_transform(x.shape, rng)
            batch_x[i] = gen.standardize(gen.apply_transform(x, params))
        if self.save_to_dir:
            save_batch(batch_x, index_array, rng, self.data_format, self.save_to_dir, self.save_prefix,
                       self.save_format, 10 ** 7)
        mode = self.class_mode
        if mode is None:
            return batch_x
        if mode == "input":
            batch_y = batch_x.copy()
        elif mode == "sparse":
            batch_y = self.classes[index_array]
        elif mode == "binary":
            batch_y = self.classes[index_array].astype(self.dtype)
        elif mode == "categorical":
            batch_y = np.zeros((len(index_array), self.num_classes), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.
        else:  # 'other'
            batch_y = self.data[index_array]
        return batch_x, batch_y

    def _read(self, path):
        try:
            img = load_img(path, color_mode=self.color_mode, target_size=self.target_size,
                           interpolation=self.interpolation)
        except OSError as exc:
            raise OSError(f"{type(self).__name__}: could not read the image {path!r}, which was readable when the "
                          f"iterator was built: {exc}") from exc
        return img_to_array(img, data_format=self.data_format, dtype=self.dtype)


def check_batch_size(batch_size, what):
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{what}: `batch_size` must be a positive integer, got {batch_size!r}")


def float_dtype(dtype):
    """`dtype` as the name of a float type, or a ValueError."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"ImageDataGenerator: `dtype` {dtype!r} is not a NumPy dtype") from None
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"ImageDataGenerator: `dtype` should be a float type, got {dtype}")
    return dtype.name


def warn_unusual_channels(shape, channel_axis, data_format, what):
    if shape[channel_axis] not in (1, 3, 4):
        warnings.warn(f"{what}: expected images with 1, 3 or 4 channels on axis {channel_axis} "
                      f"(data_format={data_format!r}), but the input has shape {shape} "
                      f"({shape[channel_axis]} channels).")
