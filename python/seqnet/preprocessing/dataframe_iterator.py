"""``DataFrameIterator``: augmented batches of the image files a pandas DataFrame lists
(``ImageDataGenerator.flow_from_dataframe``), as keras_preprocessing 1.0.x."""
import math
import os

import numpy as np

from seqnet.preprocessing.image_iterator import BatchFromFilesIterator
from seqnet.preprocessing.image_utils import (WHITE_LIST_FORMATS, find_unreadable_images, has_image_extension,
                                              warn_skipped)

__all__ = ["DataFrameIterator"]


class DataFrameIterator(BatchFromFilesIterator):
    """Batches `(x, y)` (or `x` alone for class_mode None) of the images whose file names
    are in column `x_col` of `dataframe`, relative to `directory` (or absolute paths when
    `directory` is None), labelled by column `y_col`:

    * `has_ext=False`: the names lack the extension, which is looked up among png, jpg,
      jpeg, bmp, ppm, tif and tiff files.
    * class_mode 'categorical' (one-hot; a label that is a list or tuple of classes gives a
      multi-hot row), 'binary' (exactly two classes; the index as float), 'sparse' (the
      index, int32), 'other' (the `y_col` values, a column name or a list of numeric
      columns), 'input' (the images) or None (no labels).
    * classes: the labels sorted, or those listed in `classes` (in that order; rows with
      other labels are left out); `class_indices` maps each to its index.
    * rows keep the dataframe's order (duplicated file names dropped when
      `drop_duplicates`); with the generator's `validation_split` v, subset 'validation'
      takes the first int(v * n) usable rows, 'training' the rest.

    Rows whose file is missing, has another extension, is not a readable image or has no
    label are skipped with one `InvalidImageWarning` (keras_preprocessing dropped the first
    ones silently and failed mid-epoch on the others). Needs pandas."""

    def __init__(self, dataframe, directory, image_data_generator, x_col="filename", y_col="class", has_ext=True,
                 target_size=(256, 256), color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix="", save_format="png",
                 subset=None, interpolation="nearest", drop_duplicates=True, dtype=None):
        what = "flow_from_dataframe"
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(f"{what} needs pandas: pip install pandas") from None
        self._set_processing_attrs(image_data_generator, target_size, color_mode, data_format, save_to_dir,
                                   save_prefix, save_format, subset, interpolation, class_mode, batch_size, dtype,
                                   what,
                                   class_modes=("categorical", "binary", "sparse", "input", "other", None))
        if not isinstance(dataframe, pd.DataFrame):
            raise ValueError(f"{what}: `dataframe` should be a pandas DataFrame, got {type(dataframe).__name__}")
        if directory is not None and (not isinstance(directory, (str, os.PathLike)) or not os.path.isdir(directory)):
            raise ValueError(f"{what}: `directory` should be an existing directory or None, got {directory!r}")
        if not isinstance(has_ext, bool):
            raise ValueError(f"{what}: `has_ext` should be True (the file names in x_col have extensions) or False, "
                             f"got {has_ext!r}")
        if not isinstance(x_col, str) or x_col not in dataframe.columns:
            raise ValueError(f"{what}: `x_col` should name a column of the dataframe, got {x_col!r}; columns: "
                             f"{list(dataframe.columns)}")
        labelled = class_mode not in ("input", None)
        if labelled:
            if class_mode == "other" and isinstance(y_col, (list, tuple)):
                y_cols = list(y_col)
            else:
                y_cols = [y_col] if isinstance(y_col, str) else []
            if not y_cols or any(c not in dataframe.columns for c in y_cols):
                raise ValueError(f"{what}: `y_col` should name a column of the dataframe (or, for class_mode "
                                 f"'other', a list of columns), got {y_col!r}; columns: {list(dataframe.columns)}")
        if classes is not None and class_mode in ("other", "input", None):
            raise ValueError(f'{what}: `classes` cannot be set if class_mode is "other", "input" or None')
        self.directory = None if directory is None else os.fspath(directory)
        self.white_list_formats = set(WHITE_LIST_FORMATS)
        self.num_classes, self.class_indices, self.classes = 0, {}, None

        df = dataframe.drop_duplicates(x_col) if drop_duplicates else dataframe
        names = [str(name) for name in df[x_col].tolist()]
        if has_ext and names and not any(has_image_extension(n) for n in names):
            raise ValueError(f"{what}: has_ext is True but no file name in column {x_col!r} ends with an image "
                             f"extension ({', '.join(WHITE_LIST_FORMATS)}); use has_ext=False for names without one")
        files, skipped = self._find_files(names, has_ext)
        if class_mode == "other":
            targets = df[y_col if isinstance(y_col, str) else y_cols].to_numpy()
            if not all(pd.api.types.is_numeric_dtype(t) for t in df[y_cols].dtypes.tolist()):
                raise TypeError(f"{what}: y_col column(s) {y_col!r} must be numeric for class_mode 'other'")
        elif labelled:
            targets = self._class_labels(df[y_col].tolist(), files, classes, skipped, what)
        rows = [i for i, f in enumerate(files)
                if f is not None and (class_mode in ("other", "input", None) or targets[i] is not None)]
        if self.split is not None:
            rows = rows[int(self.split[0] * len(rows)):int(self.split[1] * len(rows))]
        unreadable = find_unreadable_images([self._path(files[i]) for i in rows], what)
        if unreadable:
            bad = {path for path, _ in unreadable}
            rows = [i for i in rows if self._path(files[i]) not in bad]
        warn_skipped(skipped + unreadable, what)

        self.filenames = [files[i] for i in rows]
        if class_mode == "other":
            self.data = targets[rows]
        elif labelled:
            labels = [targets[i] for i in rows]
            multi = any(isinstance(label, list) for label in labels)
            self.classes = labels if multi else np.array(labels, dtype=np.int32)
        self.samples = len(self.filenames)
        if self.num_classes:
            print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        else:
            print(f"Found {self.samples} images.")
        if self.samples == 0:
            raise ValueError(f"{what}: none of the files listed in column {x_col!r} is a readable image"
                             + (f" under {self.directory!r}" if self.directory else ""))
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _path(self, fname):
        return os.path.join(self.directory or "", fname)

    def _find_files(self, names, has_ext):
        """Each row's file name relative to `directory` (None if there is no such image
        file), and [(path, reason)] for the rows without one."""
        resolve = None if has_ext else _ExtensionFinder(self.directory)
        files, skipped = [], []
        for name in names:
            fname = resolve(name) if resolve else name
            if fname is None or not os.path.isfile(self._path(fname)):
                files.append(None)
                skipped.append((self._path(name), "no such file"))
            elif not has_image_extension(fname):
                files.append(None)
                skipped.append((self._path(name), "not an image file name"))
            else:
                files.append(fname)
        return files, skipped

    def _class_labels(self, values, files, classes, skipped, what):
        """Sets `class_indices` / `num_classes`; returns each row's class index (a list of
        indices for a multi-label row; None for a row without a file, label or wanted class)."""
        labels = []
        for label, fname in zip(values, files):
            if isinstance(label, (list, tuple)):
                if self.class_mode != "categorical":
                    raise TypeError(f"{what}: with class_mode {self.class_mode!r} each label in y_col must be a single "
                                    f"class, got {label!r}")
                label = list(label)
            elif label is None or isinstance(label, float) and math.isnan(label):
                label = None
                if fname is not None:
                    skipped.append((self._path(fname), "no label"))
            labels.append(label if fname is not None else None)
        if classes is None:
            found = set()
            for label in labels:
                found.update(label if isinstance(label, list) else [] if label is None else [label])
            try:
                classes = sorted(found)
            except TypeError:
                raise ValueError(f"{what}: the labels in y_col cannot be sorted (mixed types?): {found}") from None
        elif isinstance(classes, str):
            raise ValueError(f"{what}: `classes` should be a list of class names, got {classes!r}")
        classes = list(classes)
        if self.class_mode == "binary" and len(classes) != 2:
            raise ValueError(f'{what}: class_mode "binary" needs exactly 2 classes, found {len(classes)}: {classes}')
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.num_classes = len(classes)
        indices = []
        for label in labels:
            if isinstance(label, list):
                index = [self.class_indices[c] for c in label if c in self.class_indices]
                indices.append(index or None)
            else:
                indices.append(self.class_indices.get(label) if label is not None else None)
        return indices


class _ExtensionFinder:
    """Maps a file name without extension to the image file of that name (the last in
    sorted order, as keras_preprocessing 1.0.5) in its folder, or None."""

    def __init__(self, directory):
        self.directory = directory or ""
        self.folders = {}

    def __call__(self, name):
        folder, stem = os.path.split(name)
        if folder not in self.folders:
            try:
                files = sorted(os.listdir(os.path.join(self.directory, folder) or "."))
            except OSError:
                files = []
            self.folders[folder] = {os.path.splitext(f)[0]: f for f in files if has_image_extension(f)}
        found = self.folders[folder].get(stem)
        return None if found is None else os.path.join(folder, found)
