"""What imdb and reuters share: argument checks, Keras' index shifting, length filter and
vocabulary cut."""
import numbers

import numpy as np


def check_arguments(name, num_words, skip_top, maxlen):
    """ValueError naming the argument, before any file is read. 0 for num_words or maxlen
    means None, as in Keras 2.2.4 (its `if not num_words` test); a skip_top that would leave
    no word in the vocabulary is refused."""
    for arg, value in (("num_words", num_words), ("maxlen", maxlen)):
        if value is not None and (not _is_int(value) or value < 0):
            meaning = "keep every word" if arg == "num_words" else "no length filter"
            raise ValueError(f"{name}.load_data: {arg} must be None or 0 ({meaning}) or a positive int, got "
                             f"{value!r}")
    if not _is_int(skip_top) or skip_top < 0:
        raise ValueError(f"{name}.load_data: skip_top must be an int >= 0, got {skip_top!r}")
    if num_words and skip_top >= num_words:
        raise ValueError(f"{name}.load_data: skip_top={skip_top} must be less than num_words={num_words}: only "
                         "indices in [skip_top, num_words) are kept, so no word would be")


def prepare(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, name):
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
        if not kept:
            raise ValueError(f"{name}.load_data: after filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
        xs, labels = [x for x, _ in kept], np.array([y for _, y in kept])
    if not num_words:
        num_words = max(max(x) for x in xs if x)
    # 0 is padding, 1 the start, 2 the out-of-vocabulary marker (index_from = 3 reserves them).
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    return xs, labels


def as_object_array(lists):
    """A 1-D object array of lists, even when all lists have one length (np.array would make
    that a 2-D array, as tf-keras' and Keras 2.2.4's loaders then return)."""
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
