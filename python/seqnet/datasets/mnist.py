"""MNIST handwritten digits (``seqnet.datasets.mnist``): 60,000 + 10,000 28x28 images."""
from seqnet.datasets._safe_load import load_npz
from seqnet.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", cache_dir=None):
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 28, 28) and labels; downloaded
    once to ~/.keras/datasets, or `cache_dir`/datasets (an existing copy there is reused)."""
    data = load_npz(get_file(path, origin=ORIGIN, file_hash=SHA256, cache_dir=cache_dir))
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
