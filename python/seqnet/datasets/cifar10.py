"""CIFAR-10 (``seqnet.datasets.cifar10``): 50,000 + 10,000 32x32 colour images in 10 classes."""
import os

import numpy as np

from seqnet.backend import image_data_format
from seqnet.datasets._safe_load import safe_unpickle
from seqnet.utils.file_utils import get_file

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_batch(fpath, label_key="labels"):
    """(data (n, 3, 32, 32) uint8, labels) of one CIFAR batch file."""
    with open(fpath, "rb") as f:
        d = safe_unpickle(f, encoding="bytes")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    data = np.asarray(d["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def load_data():
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 32, 32, 3) (channels_last) and
    labels (n, 1)."""
    path = get_file("cifar-10-batches-py", origin=ORIGIN, untar=True, file_hash=SHA256)
    batches = [load_batch(os.path.join(path, "data_batch_" + str(i))) for i in range(1, 6)]
    x_train = np.concatenate([data for data, _ in batches]).astype("uint8")
    y_train = np.concatenate([np.asarray(labels, dtype="uint8") for _, labels in batches])
    x_test, y_test = load_batch(os.path.join(path, "test_batch"))
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test, dtype="uint8"), (len(y_test), 1))
    if image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)
