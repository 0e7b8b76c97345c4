"""Image files and arrays (``seqnet.preprocessing.image``): ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img``, ``list_pictures``, as Keras 2.2.4 (keras_preprocessing 1.0.5).

Reading and writing image files needs Pillow (``pip install 'seqnet[image]'``); it is
imported by the functions that use it, never by ``import seqnet``. Also here: the check
that directory and dataframe iterators run on their files when they are built, so that a
corrupt or non-image file is skipped with one warning instead of failing mid-epoch.
"""
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from seqnet import backend

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img", "list_pictures", "InvalidImageWarning"]

# The file extensions Keras 2.2.4's directory iterators read.
WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")
COLOR_MODES = ("grayscale", "rgb", "rgba")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")


class InvalidImageWarning(UserWarning):
    """Files an iterator skipped because they are not readable images (one warning per iterator)."""


def load_img(path, grayscale=False, color_mode="rgb", target_size=None, interpolation="nearest"):
    """The image file at `path` as a Pillow image in `color_mode` ('grayscale', 'rgb' or
    'rgba'), resized to `target_size` = (height, width) if given, with `interpolation`
    ('nearest', 'bilinear', 'bicubic', 'lanczos', 'box' or 'hamming', as Pillow's filters).
    `grayscale=True` is the deprecated spelling of color_mode='grayscale'. The file is read
    and closed before returning."""
    if grayscale is True:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"')
        color_mode = "grayscale"
    if color_mode not in COLOR_MODES:
        raise ValueError(f'load_img: color_mode must be "grayscale", "rgb", or "rgba", got {color_mode!r}')
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"load_img: invalid interpolation method {interpolation!r}; supported methods are "
                         f"{', '.join(INTERPOLATIONS)}")
    if target_size is not None:
        target_size = check_target_size(target_size, "load_img")
    pil_image = _pil("load_img")
    mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[color_mode]
    with pil_image.open(os.fspath(path) if isinstance(path, os.PathLike) else path) as img:
        img = img.convert(mode) if img.mode != mode else img.copy()
    if target_size is not None and img.size != (target_size[1], target_size[0]):
        resampling = getattr(pil_image, "Resampling", pil_image)
        img = img.resize((target_size[1], target_size[0]), getattr(resampling, interpolation.upper()))
    return img


def img_to_array(img, data_format=None, dtype=None):
    """A Pillow image as a rank-3 array of `dtype` (default: backend.floatx()): (rows, cols,
    channels) for 'channels_last', (channels, rows, cols) for 'channels_first' (default:
    backend.image_data_format()); a single-band image gets one channel."""
    data_format = _check_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=backend.floatx() if dtype is None else dtype)
    if x.ndim == 2:
        x = x[:, :, np.newaxis]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected (rows, cols) or "
                         "(rows, cols, channels)")
    return np.ascontiguousarray(x.transpose(2, 0, 1)) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """One image array (rank 3, 1, 3 or 4 channels; read as `dtype`, default
    backend.floatx()) as a Pillow image ('L', 'RGB' or 'RGBA'). With `scale`, values are
    shifted to start at 0 if any is negative and stretched so the maximum is 255; they are
    then truncated to uint8 as in Keras (values outside 0..255 are clipped first)."""
    pil_image = _pil("array_to_img")
    data_format = _check_data_format(data_format, "array_to_img")
    x = np.asarray(x, dtype=backend.floatx() if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x + max(-np.min(x), 0)
        x_max = np.max(x)
        if x_max != 0:
            x = x / x_max
        x = x * 255
    channels = x.shape[2]
    if channels not in (1, 3, 4):
        raise ValueError(f"array_to_img: unsupported channel number {channels} (image shape {x.shape} in "
                         f"{data_format!r}); expected 1, 3 or 4")
    pixels = np.clip(x, 0, 255).astype(np.uint8)
    if channels == 1:
        return pil_image.fromarray(np.ascontiguousarray(pixels[:, :, 0]), "L")
    return pil_image.fromarray(np.ascontiguousarray(pixels), "RGBA" if channels == 4 else "RGB")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Writes the image array `x` (see `array_to_img`) to `path` (a file name or file
    object), in `file_format` or the format of the file name's extension; `kwargs` go to
    Pillow's `Image.save`. An RGBA image saved as JPEG is converted to RGB, with a warning."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    pil_format = _pil_save_format(file_format, path)
    if img.mode == "RGBA" and pil_format == "JPEG":
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    if file_format is not None:
        kwargs["format"] = pil_format
    img.save(path, **kwargs)


def list_pictures(directory, ext="jpg|jpeg|bmp|png|ppm"):
    """The image files under `directory` (recursively) whose lower-case name matches
    Keras' pattern ``[\\w]+\\.(ext)``, sorted by folder and name."""
    pattern = re.compile(r"([\w]+\.(?:" + ext + "))")
    return [os.path.join(root, f)
            for root, _, files in sorted(os.walk(directory), key=lambda walked: walked[0])
            for f in sorted(files) if pattern.match(f.lower())]


# ---- shared with the iterators ------------------------------------------------------------
def check_target_size(target_size, what):
    """`target_size` as a (height, width) tuple of positive ints, or a ValueError naming it."""
    if (isinstance(target_size, (tuple, list)) and len(target_size) == 2
            and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0 for v in target_size)):
        return int(target_size[0]), int(target_size[1])
    raise ValueError(f"{what}: `target_size` should be a tuple of two positive integers (height, width), "
                     f"got {target_size!r}")


def has_image_extension(filename):
    """Whether `filename` ends with one of Keras' image extensions (any case)."""
    return filename.lower().endswith(tuple("." + ext for ext in WHITE_LIST_FORMATS))


def find_unreadable_images(paths, what):
    """[(path, reason)] for the files of `paths` that are not readable images. Cheap: PNG
    chunks are checked (CRCs) without decoding; a JPEG is decoded (at 1/8 scale) only when
    it does not end with its end-of-image marker, the sign of a truncated file; the other
    formats are decoded."""
    pil_image = _pil(what)
    pil_image.init()
    if len(paths) < 64:
        reasons = [_why_unreadable(pil_image, p) for p in paths]
    else:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            reasons = list(pool.map(lambda p: _why_unreadable(pil_image, p), paths))
    return [(p, r) for p, r in zip(paths, reasons) if r is not None]


def warn_skipped(skipped, what, limit=20):
    """One InvalidImageWarning listing `skipped` ([(path, reason)])."""
    if not skipped:
        return
    lines = [f"  {path} ({reason})" for path, reason in skipped[:limit]]
    if len(skipped) > limit:
        lines.append(f"  ... and {len(skipped) - limit} more")
    warnings.warn(f"{what}: skipped {len(skipped)} file(s) that could not be used as images:\n" + "\n".join(lines),
                  InvalidImageWarning, stacklevel=3)


def check_save_options(save_to_dir, save_format, what):
    """Checks, when an iterator is built, that batches can be saved: `save_to_dir` an existing
    folder, Pillow installed, `save_format` a format Pillow writes."""
    if save_to_dir is None:
        return
    if not isinstance(save_to_dir, (str, os.PathLike)) or not os.path.isdir(save_to_dir):
        raise ValueError(f"{what}: `save_to_dir` should be an existing directory, got {save_to_dir!r}")
    if not isinstance(save_format, str):
        raise ValueError(f"{what}: `save_format` should be a file extension such as 'png' or 'jpeg', "
                         f"got {save_format!r}")
    _pil(f"{what}(save_to_dir=...)")
    _pil_save_format(save_format, None, what)


def save_batch(batch_x, index_array, rng, data_format, save_to_dir, save_prefix, save_format, hash_range):
    """Writes each image of `batch_x` (scaled to 0..255) to
    ``save_to_dir/{prefix}_{index}_{hash}.{format}`` as Keras does; the hash comes from the
    batch's generator, so the names are reproducible."""
    for i, j in enumerate(index_array):
        img = array_to_img(batch_x[i], data_format, scale=True)
        if img.mode == "RGBA" and _pil_save_format(save_format, None) == "JPEG":
            img = img.convert("RGB")
        fname = f"{save_prefix}_{j}_{rng.randint(hash_range)}.{save_format}"
        img.save(os.path.join(save_to_dir, fname))


# ---- helpers ------------------------------------------------------------------------------
def _pil(what):
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow: pip install 'seqnet[image]' (or pip install Pillow)") from None
    return Image


def _check_data_format(data_format, what):
    data_format = backend.image_data_format() if data_format is None else data_format
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{what}: `data_format` should be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def _pil_save_format(file_format, path, what="save_img"):
    """Pillow's name of the format to write ('jpg' -> 'JPEG'), from `file_format` or the
    extension of `path`; None when neither says (Pillow then decides)."""
    pil_image = _pil(what)
    extensions = pil_image.registered_extensions()
    if file_format is None:
        if not isinstance(path, (str, os.PathLike)):
            return None
        return extensions.get(os.path.splitext(os.fspath(path))[1].lower())
    name = extensions.get("." + str(file_format).lower(), str(file_format).upper())
    if name not in pil_image.SAVE:
        raise ValueError(f"{what}: Pillow cannot write the image format {file_format!r}")
    return name


def _why_unreadable(pil_image, path):
    """None if `path` reads as an image, else the reason."""
    try:
        with pil_image.open(path) as img:
            if img.format == "PNG":
                img.verify()
            elif img.format == "JPEG":
                if not _ends_with_jpeg_eoi(path):
                    img.draft(img.mode, (1, 1))
                    img.load()
            else:
                img.load()
    except Exception as exc:  # noqa: BLE001 (Pillow raises OSError, SyntaxError, ValueError, struct.error, ...)
        return f"{type(exc).__name__}: {exc}"
    return None


def _ends_with_jpeg_eoi(path):
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < 2:
            return False
        f.seek(-2, os.SEEK_END)
        return f.read(2) == b"\xff\xd9"
