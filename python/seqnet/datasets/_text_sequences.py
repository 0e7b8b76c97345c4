"""What imdb and reuters share: Keras' index shifting, length filter and vocabulary cut."""
import numpy as np


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
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out
