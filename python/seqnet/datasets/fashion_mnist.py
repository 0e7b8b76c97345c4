"""Fashion-MNIST (``seqnet.datasets.fashion_mnist``): 70,000 28x28 images of 10 kinds of clothing."""
import gzip
import os

import numpy as np

from seqnet.utils.file_utils import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILES = ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz"]


def load_data(cache_dir=None):
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 28, 28) and uint8 labels; `cache_dir`
    replaces ~/.keras (as tf-keras)."""
    paths = [get_file(name, origin=BASE + name, cache_subdir=os.path.join("datasets", "fashion-mnist"),
                      cache_dir=cache_dir)
             for name in FILES]
    with gzip.open(paths[0], "rb") as f:
        y_train = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[1], "rb") as f:
        x_train = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_train), 28, 28)
    with gzip.open(paths[2], "rb") as f:
        y_test = np.frombuffer(f.read(), np.uint8, offset=8)
    with gzip.open(paths[3], "rb") as f:
        x_test = np.frombuffer(f.read(), np.uint8, offset=16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
