"""CIFAR-10 (``seqnet.datasets.cifar10``): 50,000 + 10,000 32x32 colour images in 10 classes."""
import os

import numpy as np

from seqnet.datasets.cifar import in_image_data_format, load_batch
from seqnet.utils.file_utils import get_file

__all__ = ["load_data", "load_batch"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data(cache_dir=None):
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 32, 32, 3) (channels_last) and
    uint8 labels (n, 1), the five training batches in order. `cache_dir` replaces ~/.keras
    (as tf-keras); y_test is uint8 as in tf-keras (Keras 2.2.4 gave int64)."""
    path = get_file("cifar-10-batches-py", origin=ORIGIN, untar=True, file_hash=SHA256, cache_dir=cache_dir)
    batches = [load_batch(os.path.join(path, "data_batch_" + str(i))) for i in range(1, 6)]
    x_train = np.concatenate([data for data, _ in batches]).astype("uint8")
    y_train = np.concatenate([np.asarray(labels, dtype="uint8") for _, labels in batches])
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test, dtype="uint8"), (len(y_test), 1))
    return (in_image_data_format(x_train), y_train), (in_image_data_format(x_test), y_test)
