"""IMDB movie reviews (``seqnet.datasets.imdb``): 25,000 + 25,000 reviews as word indices, labels 0/1."""
import json

import numpy as np

from seqnet.datasets._safe_load import load_npz
from seqnet.datasets._text_sequences import as_object_array, check_arguments, prepare
from seqnet.utils.file_utils import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, cache_dir=None, **kwargs):
    """Loads the IMDB reviews: (x_train, y_train), (x_test, y_test), the x arrays 1-D object
    arrays of lists of word indices (the most frequent word is index_from + 1), as Keras 2.2.4.

    Arguments:
        path: the file's name in the cache (`~/.keras/datasets`), or an absolute path.
        num_words: keep the num_words most frequent words (indices below num_words); others
            become oov_char (or are dropped when oov_char is None). None keeps every word.
        skip_top: the most frequent words to treat as out of vocabulary too (indices below
            skip_top, counting the shift by index_from).
        maxlen: drop every review (with its start_char) of maxlen words or more.
        seed: seed of the shuffle (train and test, each in its own order, from one stream).
        start_char: prepended to every review (None: nothing prepended).
        oov_char: replaces the words cut by num_words or skip_top (None: they are removed).
        index_from: added to every word index.
        cache_dir: the cache root instead of `~/.keras` (as tf-keras).
        nb_words: the Keras 1 name of num_words.

    Differences: num_words, maxlen and skip_top are checked (ValueError naming the argument;
    Keras reads num_words=0 and maxlen=0 as None). With maxlen, the train/test split follows
    the kept training reviews, as tf-keras (Keras 2.2.4 split at the unfiltered training
    count, which moved test reviews into the training set); and x arrays are always 1-D.
    """
    if "nb_words" in kwargs:
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"imdb.load_data: unexpected keyword argument(s) {sorted(kwargs)}")
    check_arguments("imdb", num_words, skip_top, maxlen)
    data = load_npz(get_file(path, origin=BASE + "imdb.npz", file_hash=SHA256, cache_dir=cache_dir))
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
    """The word -> index dictionary (index 1 is the most frequent word; load_data adds
    index_from to it)."""
    with open(get_file(path, origin=BASE + "imdb_word_index.json", file_hash=WORD_INDEX_MD5)) as f:
        return json.load(f)
