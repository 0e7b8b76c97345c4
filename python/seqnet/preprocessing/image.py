"""Real-time image augmentation (``seqnet.preprocessing.image``), Keras 2.2.4 semantics.

``ImageDataGenerator`` draws a random rotation, shift, shear, zoom, flip, channel shift and
brightness change for every image, applies it, then standardises the image (rescale,
sample- or feature-wise centering and scaling, ZCA whitening). ``flow(x, y)`` serves the
augmented images in batches as a ``seqnet.utils.Sequence`` that ``fit_generator`` (and
``fit``) consume, or as a plain Python iterator. ``flow_from_directory`` (a folder of class
subfolders) and ``flow_from_dataframe`` (files listed in a pandas DataFrame) read image
files with Pillow; ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img`` and
``list_pictures`` move images between files, Pillow and arrays. The iterators live in
``image_iterator``, ``numpy_array_iterator``, ``directory_iterator`` and
``dataframe_iterator``, the file functions in ``image_utils``; all are importable from here.

The affine warp is ours, in NumPy: every output pixel is mapped back through the combined
rotation/shift/shear/zoom matrix about the image centre and read from the input with
bilinear interpolation (what Keras gets from ``scipy.ndimage.affine_transform(order=1)``);
points that fall outside the image follow ``fill_mode``. Deliberate differences from
Keras 2.2.4, all bugs fixed in later Keras: the centre is the true pixel centre
``((h - 1) / 2, (w - 1) / 2)`` (2.2.4 used ``h / 2 + 0.5``, moving every warped image by a
pixel, so a 90 degree rotation did not equal ``np.rot90``); a brightness change keeps
the image's value range (2.2.4 stretched the result to 0..255); ``subset`` splits
``sample_weight`` too; and ``standardize`` returns a new array instead of changing its input.

Randomness: ``get_random_transform(shape, seed)`` draws its parameters in Keras' order from
``np.random.RandomState(seed)`` (or NumPy's global state without a seed), so a seeded call
gives the parameters Keras gives. An iterator draws each batch from a generator keyed by its
seed (or a key taken from NumPy's global state), the epoch and the batch index: batches are
reproducible and independent of worker threads or processes.
"""
import functools
import warnings
from numbers import Real

import numpy as np

from seqnet import backend
from seqnet.preprocessing.dataframe_iterator import DataFrameIterator
from seqnet.preprocessing.directory_iterator import DirectoryIterator
from seqnet.preprocessing.image_iterator import BatchFromFilesIterator, Iterator, float_dtype, warn_unusual_channels
from seqnet.preprocessing.image_utils import (InvalidImageWarning, array_to_img, img_to_array, list_pictures,
                                              load_img, save_img)
from seqnet.preprocessing.numpy_array_iterator import NumpyArrayIterator

__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator", "Iterator",
           "BatchFromFilesIterator", "InvalidImageWarning", "load_img", "img_to_array", "array_to_img", "save_img",
           "list_pictures", "apply_affine_transform", "apply_channel_shift", "apply_brightness_shift", "flip_axis",
           "transform_matrix_offset_center"]

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


class ImageDataGenerator:
    """Generates batches of images with real-time augmentation (Keras 2 arguments).

    Standardisation: ``featurewise_center`` / ``featurewise_std_normalization`` (per-channel
    mean and std of the data given to ``fit``), ``samplewise_center`` /
    ``samplewise_std_normalization`` (per image), ``zca_whitening`` (with ``zca_epsilon``),
    ``rescale`` (multiplies first, after ``preprocessing_function``).
    Augmentation: ``rotation_range`` (degrees), ``width_shift_range`` / ``height_shift_range``
    (a fraction of the size if < 1, else pixels; an int n draws whole pixels in (-n, n); a
    list draws from its values), ``shear_range`` (degrees), ``zoom_range`` (a float z means
    [1 - z, 1 + z], or a pair [lower, upper]), ``channel_shift_range``, ``brightness_range``
    (a pair), ``horizontal_flip`` / ``vertical_flip``; ``fill_mode`` ('nearest', 'constant',
    'reflect', 'wrap') and ``cval`` fill points outside the image.
    ``data_format`` defaults to ``backend.image_data_format()``, ``dtype`` to ``floatx()``;
    ``validation_split`` reserves a fraction for ``flow(..., subset='validation')``.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0., height_shift_range=0., brightness_range=None, shear_range=0.,
                 zoom_range=0., channel_shift_range=0., fill_mode="nearest", cval=0., horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, dtype=None):
        data_format = backend.image_data_format() if data_format is None else data_format
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError('ImageDataGenerator: `data_format` should be "channels_last" (channel after row and '
                             'column) or "channels_first" (channel before row and column). '
                             f"Received: {data_format!r}")
        self.dtype = float_dtype(backend.floatx() if dtype is None else dtype)
        for name, value in (("zca_epsilon", zca_epsilon), ("rotation_range", rotation_range),
                            ("shear_range", shear_range), ("channel_shift_range", channel_shift_range),
                            ("cval", cval)):
            _check_number(name, value)
        self.width_shift_range = _check_shift_range("width_shift_range", width_shift_range)
        self.height_shift_range = _check_shift_range("height_shift_range", height_shift_range)
        self.zoom_range = _check_zoom_range(zoom_range)
        if brightness_range is not None:
            if not _is_pair_of_numbers(brightness_range):
                raise ValueError("ImageDataGenerator: `brightness_range` should be a tuple or list of two floats. "
                                 f"Received: {brightness_range!r}")
            brightness_range = [float(brightness_range[0]), float(brightness_range[1])]
        if fill_mode not in FILL_MODES:
            raise ValueError(f"ImageDataGenerator: `fill_mode` should be one of {FILL_MODES}. Received: {fill_mode!r}")
        if rescale is not None and not isinstance(rescale, Real):
            raise ValueError(f"ImageDataGenerator: `rescale` should be a number or None. Received: {rescale!r}")
        if preprocessing_function is not None and not callable(preprocessing_function):
            raise ValueError("ImageDataGenerator: `preprocessing_function` should be a function or None. "
                             f"Received: {preprocessing_function!r}")
        _check_number("validation_split", validation_split)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("ImageDataGenerator: `validation_split` must be strictly between 0 and 1. "
                             f"Received: {validation_split!r}")

        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.brightness_range = brightness_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self._validation_split = validation_split
        self.mean = self.std = self.principal_components = None

        # Keras 2.2.4's implied settings, with its warnings.
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, which overrides setting of "
                              "`featurewise_center`.")
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies `zca_whitening` which overrides setting of"
                              "`featurewise_std_normalization`.")
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.")
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies `samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.")

    # ---- batches -------------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", subset=None):
        """A NumpyArrayIterator over augmented batches of `x` (rank 4), with `y` and
        `sample_weight` if given: batches `x`, `(x, y)` or `(x, y, sample_weight)`. `x` may be
        `(images, other_inputs)`: the other arrays are batched alongside, unaugmented.
        `save_to_dir` (an existing folder; needs Pillow) also writes each augmented image."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format, subset=subset)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png", follow_links=False, subset=None,
                            interpolation="nearest"):
        """A DirectoryIterator over augmented batches of the images in `directory`, one
        subfolder per class (see `DirectoryIterator`): `x` of shape (batch, *target_size,
        channels) (1, 3 or 4 channels for color_mode 'grayscale', 'rgb', 'rgba') and labels
        by `class_mode`. Needs Pillow."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation)

    def flow_from_dataframe(self, dataframe, directory, x_col="filename", y_col="class", has_ext=True,
                            target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical",
                            batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
                            save_format="png", subset=None, interpolation="nearest", drop_duplicates=True):
        """A DataFrameIterator over augmented batches of the image files named in column
        `x_col` of a pandas `dataframe` (relative to `directory`), labelled by `y_col`
        (see `DataFrameIterator`). Needs Pillow and pandas."""
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, has_ext=has_ext,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 drop_duplicates=drop_duplicates)

    # ---- standardisation -----------------------------------------------------------------
    def standardize(self, x):
        """`x` (one image, or a batch) standardised: preprocessing_function, rescale, then
        sample-wise and feature-wise centering/scaling and ZCA whitening, as configured.
        Returns a new array of the generator's dtype; `x` itself is not changed."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        x = np.array(x, dtype=self.dtype)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + backend.epsilon()
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it hasn't been fit on "
                              "any training data. Fit it first by calling `.fit(numpy_data)`.")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + backend.epsilon()
            else:
                warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, but it hasn't "
                              "been fit on any training data. Fit it first by calling `.fit(numpy_data)`.")
        if self.zca_whitening:
            if self.principal_components is not None:
                # In float64: with fewer samples than pixels the matrix has entries of
                # 1/sqrt(zca_epsilon) that cancel, and a float32 product loses whole percents.
                flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:])))).astype(np.float64)
                x = np.reshape(flat @ self.principal_components, x.shape).astype(self.dtype)
            else:
                warnings.warn("This ImageDataGenerator specifies `zca_whitening`, but it hasn't been fit on any "
                              "training data. Fit it first by calling `.fit(numpy_data)`.")
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the feature-wise statistics (per-channel mean and std, ZCA matrix) that
        standardisation needs, from `x` (rank 4), or from `rounds` augmented copies of it.
        As in Keras, `rescale` is not applied here: pass data on the scale it will have."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.fit: input should have rank 4. Got array with shape: {x.shape}")
        warn_unusual_channels(x.shape, self.channel_axis, self.data_format, "ImageDataGenerator.fit")
        if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
            raise ValueError(f"ImageDataGenerator.fit: `rounds` must be a positive integer, got {rounds!r}")
        if augment:
            rng = np.random.RandomState(seed) if seed is not None else np.random
            augmented = np.zeros((rounds * len(x),) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(len(x)):
                    params = self._draw_transform(x[i].shape, rng)
                    augmented[i + r * len(x)] = self.apply_transform(x[i], params)
            x = augmented
        if not (self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening):
            return
        # One working copy in dtype (as Keras); sums accumulate in float64.
        x = np.array(x, dtype=self.dtype)
        axes = (0, self.row_axis, self.col_axis)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes, dtype=np.float64), shape).astype(self.dtype)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes, dtype=np.float64), shape).astype(self.dtype)
            x /= self.std + backend.epsilon()
        if self.zca_whitening:
            flat = np.reshape(x, (len(x), -1))
            sigma = np.zeros((flat.shape[1], flat.shape[1]))
            for start in range(0, len(flat), 4096):  # float64 in slices: bounded memory
                rows = flat[start:start + 4096].astype(np.float64)
                sigma += rows.T @ rows
            sigma /= len(flat)
            u, s, _ = np.linalg.svd(sigma)
            s_inv = 1.0 / np.sqrt(s[np.newaxis] + self.zca_epsilon)
            self.principal_components = (u * s_inv) @ u.T  # float64, as tf-keras keeps it

    # ---- augmentation --------------------------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """A dict of random transformation parameters for one image of shape `img_shape`:
        theta, tx (row shift), ty (column shift), shear, zx, zy, flip_horizontal,
        flip_vertical, channel_shift_intensity, brightness."""
        rng = np.random.RandomState(seed) if seed is not None else np.random
        return self._draw_transform(img_shape, rng)

    def random_transform(self, x, seed=None):
        """`x` (one image, rank 3) randomly augmented."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def apply_transform(self, x, transform_parameters):
        """`x` (one image, rank 3) transformed by the parameters of `get_random_transform`
        (missing ones mean no change)."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"ImageDataGenerator.apply_transform: expected one image of rank 3, got shape {x.shape}")
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), row_axis=row, col_axis=col,
                                   channel_axis=channel, fill_mode=self.fill_mode, cval=self.cval)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, col)
        if p.get("flip_vertical", False):
            x = flip_axis(x, row)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"])
        return x

    def _draw_transform(self, img_shape, rng):
        """The parameters, drawn from `rng` in Keras 2.2.4's order (so that a seeded draw
        gives Keras' numbers)."""
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = _draw_shift(self.height_shift_range, rows, rng)
        ty = _draw_shift(self.width_shift_range, cols, rng)
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(rng.random_sample() < 0.5) and bool(self.horizontal_flip)
        flip_vertical = bool(rng.random_sample() < 0.5) and bool(self.vertical_flip)
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = rng.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = rng.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}


# ---- transformations of one image ---------------------------------------------------------
def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1, channel_axis=2,
                           fill_mode="nearest", cval=0.):
    """`x` (one image, rank 3) rotated by `theta` degrees, shifted by `tx` rows and `ty`
    columns, sheared by `shear` degrees and zoomed by `zx` (rows) and `zy` (columns), about
    the image centre. Output pixel p reads the input at M p (M the combined matrix, as in
    Keras), interpolated bilinearly; outside the image, `fill_mode` decides."""
    if fill_mode not in FILL_MODES:
        raise ValueError(f"apply_affine_transform: `fill_mode` should be one of {FILL_MODES}, got {fill_mode!r}")
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return x
    matrix = np.eye(3)
    if theta != 0:
        t = np.deg2rad(theta)
        matrix = matrix @ np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        matrix = matrix @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=np.float64)
    if shear != 0:
        s = np.deg2rad(shear)
        matrix = matrix @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    if zx != 1 or zy != 1:
        matrix = matrix @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=np.float64)
    x = np.asarray(x)
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    image = np.moveaxis(x, (row_axis, col_axis, channel_axis), (0, 1, 2))
    rows, cols = _pixel_grid(h, w)
    src_rows = matrix[0, 0] * rows + matrix[0, 1] * cols + matrix[0, 2]
    src_cols = matrix[1, 0] * rows + matrix[1, 1] * cols + matrix[1, 2]
    out = _bilinear_sample(image, src_rows, src_cols, fill_mode, cval)
    return np.moveaxis(out, (0, 1, 2), (row_axis, col_axis, channel_axis)).astype(x.dtype, copy=False)


def transform_matrix_offset_center(matrix, x, y):
    """`matrix` (3x3, about the origin) made to act about the centre of an x-by-y image."""
    o_x, o_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def apply_channel_shift(x, intensity, channel_axis=0):
    """`x` with `intensity` added to every channel, clipped to x's original range."""
    x = np.asarray(x)
    return np.clip(x + intensity, np.min(x), np.max(x)).astype(x.dtype, copy=False)


def apply_brightness_shift(x, brightness):
    """`x` with its brightness scaled by `brightness`, as Pillow's ImageEnhance.Brightness on
    the 8-bit image does (levels truncated to integers, clipped to 0..255). Data outside
    0..255 is mapped to 0..255 for this and back afterwards (tf-keras' behaviour)."""
    x = np.asarray(x)
    x_min, x_max = float(np.min(x)), float(np.max(x))
    out_of_range = x_min < 0 or x_max > 255
    levels = np.array(x, dtype=np.float64)
    if out_of_range:
        levels -= x_min
        if x_max - x_min != 0:
            levels /= x_max - x_min
        levels *= 255
    levels = np.trunc(np.clip(levels, 0, 255))
    levels = np.trunc(np.clip(levels * brightness, 0, 255))
    if out_of_range:
        levels = levels / 255 * (x_max - x_min) + x_min
    return levels.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32)


def flip_axis(x, axis):
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


# ---- helpers ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _pixel_grid(h, w):
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    rows.flags.writeable = False
    cols.flags.writeable = False
    return rows, cols


def _bilinear_sample(image, rows, cols, fill_mode, cval):
    """image (h, w, c) read at the real coordinates (rows, cols) (each (H, W)): (H, W, c).
    Each neighbour index is mapped into the image by the fill mode, which is the same as
    interpolating the image extended by that mode; 'constant' gives cval outside [0, h-1]
    x [0, w-1] (as scipy.ndimage's 'constant' mode)."""
    h, w = image.shape[:2]
    rows, cols = _snap(rows), _snap(cols)
    r0, c0 = np.floor(rows), np.floor(cols)
    fr, fc = (rows - r0)[..., None], (cols - c0)[..., None]
    r0, c0 = r0.astype(np.intp), c0.astype(np.intp)
    index_mode = "nearest" if fill_mode == "constant" else fill_mode
    ra, rb = _fold(r0, h, index_mode), _fold(r0 + 1, h, index_mode)
    ca, cb = _fold(c0, w, index_mode), _fold(c0 + 1, w, index_mode)
    image = image.astype(np.float64, copy=False)
    top = image[ra, ca] * (1 - fc) + image[ra, cb] * fc
    bottom = image[rb, ca] * (1 - fc) + image[rb, cb] * fc
    out = top * (1 - fr) + bottom * fr
    if fill_mode == "constant":
        inside = (rows >= 0) & (rows <= h - 1) & (cols >= 0) & (cols <= w - 1)
        out = np.where(inside[..., None], out, cval)
    return out


def _snap(coords, tol=1e-6):
    """Coordinates within `tol` of a whole pixel made exact (rounding noise of cos/sin must
    not push a pixel across the border or blend in a neighbour)."""
    nearest = np.round(coords)
    return np.where(np.abs(coords - nearest) < tol, nearest, coords)


def _fold(index, n, fill_mode):
    """Integer indices mapped into [0, n): 'nearest' repeats the edge pixel, 'reflect'
    mirrors about the edge (d c b a | a b c d | d c b a), 'wrap' repeats the image."""
    if fill_mode == "nearest":
        return np.clip(index, 0, n - 1)
    if fill_mode == "wrap":
        return np.mod(index, n)
    m = np.mod(index, 2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def _draw_shift(shift_range, size, rng):
    """A row or column shift in pixels, drawn as Keras 2.2.4 does."""
    if not _nonzero(shift_range):
        return 0
    if isinstance(shift_range, (int, np.integer)) or not np.isscalar(shift_range):
        shift = rng.choice(shift_range)
        shift *= rng.choice([-1, 1])
    else:
        shift = rng.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


def _nonzero(value):
    """Keras' truth test of a range: a number is on when non-zero, a list when non-empty."""
    return bool(value) if np.isscalar(value) else np.size(value) > 0


def _check_number(name, value):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"ImageDataGenerator: `{name}` should be a number. Received: {value!r}")


def _check_shift_range(name, value):
    if isinstance(value, bool):
        raise ValueError(f"ImageDataGenerator: `{name}` should be a float, an int or a 1-D list of numbers. "
                         f"Received: {value!r}")
    if isinstance(value, Real):
        return value
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"ImageDataGenerator: `{name}` should be a float, an int or a 1-D list of numbers. "
                         f"Received: {value!r}")
    return arr


def _check_zoom_range(zoom_range):
    if isinstance(zoom_range, Real) and not isinstance(zoom_range, bool):
        return [1 - zoom_range, 1 + zoom_range]
    if _is_pair_of_numbers(zoom_range):
        return [zoom_range[0], zoom_range[1]]
    raise ValueError("ImageDataGenerator: `zoom_range` should be a float or a tuple or list of two floats. "
                     f"Received: {zoom_range!r}")


def _is_pair_of_numbers(value):
    return (isinstance(value, (tuple, list, np.ndarray)) and len(value) == 2
            and all(isinstance(v, Real) and not isinstance(v, bool) for v in value))
