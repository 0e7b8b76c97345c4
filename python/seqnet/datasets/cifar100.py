"""CIFAR-100 (``seqnet.datasets.cifar100``): 50,000 + 10,000 32x32 colour images in 100 classes
(20 superclasses)."""
import os

import numpy as np

from seqnet.datasets.cifar import in_image_data_format, load_batch
from seqnet.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
LABEL_MODES = ("fine", "coarse")


def load_data(label_mode="fine", cache_dir=None):
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 32, 32, 3) (channels_last) and
    int64 labels (n, 1), as Keras.

    Arguments:
        label_mode: 'fine' (the 100 classes) or 'coarse' (the 20 superclasses).
        cache_dir: the cache root instead of `~/.keras` (as tf-keras).
    """
    if label_mode not in LABEL_MODES:
        raise ValueError(f"cifar100.load_data: label_mode must be one of {list(LABEL_MODES)}, got {label_mode!r}")
    path = get_file("cifar-100-python", origin=ORIGIN, untar=True, file_hash=SHA256, cache_dir=cache_dir)
    x_train, y_train = load_batch(os.path.join(path, "train"), label_key=label_mode + "_labels")
    x_test, y_test = load_batch(os.path.join(path, "test"), label_key=label_mode + "_labels")
    y_train = np.reshape(np.asarray(y_train, dtype=np.int64), (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test, dtype=np.int64), (len(y_test), 1))
    return (in_image_data_format(x_train), y_train), (in_image_data_format(x_test), y_test)
