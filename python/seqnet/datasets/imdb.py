"""IMDB movie reviews (``seqnet.datasets.imdb``): 25,000 + 25,000 reviews as word indices, labels 0/1."""
import json

import numpy as np

from seqnet.datasets._safe_load import load_npz
from seqnet.datasets._text_sequences import as_object_array, prepare
from seqnet.utils.file_utils import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """(x_train, y_train), (x_test, y_test): arrays of lists of word indices (most frequent
    word = index_from + 1), with Keras' arguments and shuffling."""
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"imdb.load_data: unexpected keyword argument(s) {sorted(kwargs)}")
    data = load_npz(get_file(path, origin=BASE + "imdb.npz", file_hash=SHA256))
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = data[x_key], data[y_key]
        indices = np.arange(len(x))
        rng.shuffle(indices)
        parts.append((x[indices], y[indices]))
    n_train = len(parts[0][0])
    xs = list(parts[0][0]) + list(parts[1][0])
    labels = np.concatenate([parts[0][1], parts[1][1]])
    if maxlen:  # the split point moves with the filtered training part
        n_train = sum(1 for x in parts[0][0] if len(x) + (start_char is not None) < maxlen)
    xs, labels = prepare(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, "imdb")
    return ((as_object_array(xs[:n_train]), np.array(labels[:n_train])),
            (as_object_array(xs[n_train:]), np.array(labels[n_train:])))


def get_word_index(path="imdb_word_index.json"):
    """The word -> index dictionary."""
    with open(get_file(path, origin=BASE + "imdb_word_index.json",
                       file_hash="bfafd718b763782e994055a2d397834f")) as f:
        return json.load(f)
