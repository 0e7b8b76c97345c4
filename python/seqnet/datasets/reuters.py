"""Reuters newswires (``seqnet.datasets.reuters``): 11,228 newswires in 46 topics, as word indices."""
import json

import numpy as np

from seqnet.datasets._safe_load import load_npz
from seqnet.datasets._text_sequences import as_object_array, prepare
from seqnet.utils.file_utils import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """(x_train, y_train), (x_test, y_test) with Keras' arguments, shuffling and split."""
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"reuters.load_data: unexpected keyword argument(s) {sorted(kwargs)}")
    data = load_npz(get_file(path, origin=BASE + "reuters.npz", file_hash=SHA256))
    xs, labels = data["x"], data["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = list(xs[indices]), labels[indices]
    xs, labels = prepare(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, "reuters")
    split = int(len(xs) * (1 - test_split))
    return ((as_object_array(xs[:split]), np.array(labels[:split])),
            (as_object_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The word -> index dictionary."""
    with open(get_file(path, origin=BASE + "reuters_word_index.json",
                       file_hash="4d44cc38712099c9e383dc6e5f11a921")) as f:
        return json.load(f)
