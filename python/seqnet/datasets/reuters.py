"""Reuters newswires (``seqnet.datasets.reuters``): 11,228 newswires in 46 topics, as word indices."""
import json

import numpy as np

from seqnet.datasets._safe_load import load_npz
from seqnet.datasets._text_sequences import as_object_array, check_arguments, prepare
from seqnet.utils.file_utils import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3, cache_dir=None, **kwargs):
    """Loads the Reuters newswires: (x_train, y_train), (x_test, y_test), the x arrays 1-D
    object arrays of lists of word indices, labels 0..45 (see get_label_names), as Keras 2.2.4:
    one seeded shuffle, then the length filter and vocabulary cut, then the last test_split
    fraction of what is left is the test set.

    Arguments: as imdb.load_data (path, num_words, skip_top, maxlen, seed, start_char,
    oov_char, index_from, cache_dir, nb_words), and test_split, the test fraction in [0, 1).

    Differences: num_words, maxlen, skip_top and test_split are checked (ValueError naming the
    argument; Keras reads num_words=0 and maxlen=0 as None and splits at a negative index for
    test_split > 1); a maxlen that keeps nothing raises ValueError; x arrays are always 1-D.
    """
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"reuters.load_data: unexpected keyword argument(s) {sorted(kwargs)}")
    check_arguments("reuters", num_words, skip_top, maxlen)
    if not 0 <= test_split < 1:
        raise ValueError(f"reuters.load_data: test_split must be in [0, 1), got {test_split!r}")
    data = load_npz(get_file(path, origin=BASE + "reuters.npz", file_hash=SHA256, cache_dir=cache_dir))
    xs, labels = data["x"], data["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = list(xs[indices]), labels[indices]
    xs, labels = prepare(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, "reuters")
    split = int(len(xs) * (1 - test_split))
    return ((as_object_array(xs[:split]), np.array(labels[:split])),
            (as_object_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The word -> index dictionary (index 1 is the most frequent word; load_data adds
    index_from to it)."""
    with open(get_file(path, origin=BASE + "reuters_word_index.json", file_hash=WORD_INDEX_MD5)) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed by label (a tf-keras addition)."""
    return LABEL_NAMES
