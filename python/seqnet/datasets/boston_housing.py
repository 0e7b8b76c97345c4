"""Boston housing prices (``seqnet.datasets.boston_housing``): 506 samples, 13 features."""
import numpy as np

from seqnet.datasets._safe_load import load_npz
from seqnet.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, cache_dir=None):
    """(x_train, y_train), (x_test, y_test) after a seeded shuffle, the last test_split
    fraction (in [0, 1)) being the test set, as Keras; `cache_dir` replaces ~/.keras (as tf-keras)."""
    if not 0 <= test_split < 1:
        raise ValueError(f"boston_housing.load_data: test_split must be in [0, 1), got {test_split!r}")
    data = load_npz(get_file(path, origin=ORIGIN, file_hash=SHA256, cache_dir=cache_dir))
    x, y = data["x"], data["y"]
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)  # the order np.random.seed(seed) gave in Keras
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
