"""``DirectoryIterator``: augmented batches of the images in a folder of class subfolders
(``ImageDataGenerator.flow_from_directory``), as Keras 2.2.4."""
import os

import numpy as np

from seqnet.preprocessing.image_iterator import BatchFromFilesIterator
from seqnet.preprocessing.image_utils import (WHITE_LIST_FORMATS, find_unreadable_images, has_image_extension,
                                              warn_skipped)

__all__ = ["DirectoryIterator"]


class DirectoryIterator(BatchFromFilesIterator):
    """Batches `(x, y)` (or `x` alone for class_mode None) of the images under
    `directory/<class>/` (subfolders included), as Keras 2.2.4:

    * classes: the subfolders of `directory` in sorted order, or the names given in
      `classes` (in that order); `class_indices` maps each to its index.
    * files: those ending in png, jpg, jpeg, bmp, ppm, tif or tiff (any case), each class
      folder walked in sorted order; `filenames` are relative to `directory`, `classes` holds
      each file's class index (int32), `samples` their number.
    * subset: with the generator's `validation_split` v, 'validation' takes the first
      int(v * n) files of each class, 'training' the rest.
    * class_mode: 'categorical' (one-hot, float), 'binary' (class index as float), 'sparse'
      (class index, int32), 'input' (the images themselves) or None (no labels).

    Differences from Keras: files that are not readable images are found when the iterator
    is built and skipped with one `InvalidImageWarning` (Keras failed mid-epoch); a missing
    `directory` or class folder, or no image at all, raises at once; symbolic links that
    lead back to a folder already walked are not followed twice."""

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True, seed=None, data_format=None,
                 save_to_dir=None, save_prefix="", save_format="png", follow_links=False, subset=None,
                 interpolation="nearest", dtype=None):
        what = "flow_from_directory"
        self._set_processing_attrs(image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, class_mode, batch_size, dtype,
                                   what)
        if not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory):
            raise ValueError(f"{what}: `directory` should be an existing directory, got {directory!r}")
        directory = os.fspath(directory)
        self.directory = directory
        self.white_list_formats = set(WHITE_LIST_FORMATS)
        if classes is None:
            entries = sorted(_listdir(directory, what))
            classes = [d for d in entries if os.path.isdir(os.path.join(directory, d))]
        else:
            if isinstance(classes, str) or not all(isinstance(c, str) for c in classes):
                raise ValueError(f"{what}: `classes` should be a list of subfolder names, got {classes!r}")
            classes = list(classes)
            missing = [c for c in classes if not os.path.isdir(os.path.join(directory, c))]
            if missing:
                raise ValueError(f"{what}: `classes` names subfolders that are not in {directory!r}: {missing}")
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))

        filenames, labels = [], []
        for index, name in enumerate(classes):
            found = _image_files(os.path.join(directory, name), follow_links, what)
            if self.split is not None:
                found = found[int(self.split[0] * len(found)):int(self.split[1] * len(found))]
            filenames += [os.path.join(name, f) for f in found]
            labels += [index] * len(found)
        skipped = find_unreadable_images([os.path.join(directory, f) for f in filenames], what)
        if skipped:
            warn_skipped(skipped, what)
            bad = {path for path, _ in skipped}
            kept = [i for i, f in enumerate(filenames) if os.path.join(directory, f) not in bad]
            filenames, labels = [filenames[i] for i in kept], [labels[i] for i in kept]
        self.filenames = filenames
        self.classes = np.array(labels, dtype=np.int32)
        self.samples = len(filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        if self.samples == 0:
            where = f" (subset {subset!r})" if subset else ""
            raise ValueError(f"{what}: no images{where} in the class subfolders of {directory!r}; expected files "
                             f"ending in {', '.join(WHITE_LIST_FORMATS)} under {directory}/<class name>/")
        super().__init__(self.samples, batch_size, shuffle, seed)


def _image_files(class_dir, follow_links, what):
    """The image files under `class_dir`, relative to it, in Keras' order: folders sorted by
    path, files sorted by name within each."""
    walked, seen = [], set()

    def unreadable(exc):
        raise OSError(exc.errno, f"{what}: cannot read the directory {exc.filename!r}: {exc.strerror}") from exc

    for root, dirs, files in os.walk(class_dir, onerror=unreadable, followlinks=follow_links):
        if follow_links:
            real = os.path.realpath(root)
            if real in seen:
                dirs[:] = []
                continue
            seen.add(real)
        walked.append((root, sorted(f for f in files if has_image_extension(f))))
    return [os.path.relpath(os.path.join(root, f), class_dir)
            for root, files in sorted(walked, key=lambda w: w[0]) for f in files]


def _listdir(directory, what):
    try:
        return os.listdir(directory)
    except OSError as exc:
        raise OSError(exc.errno, f"{what}: cannot read the directory {directory!r}: {exc.strerror}") from exc
