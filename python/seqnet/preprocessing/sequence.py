"""Sequence preprocessing (``seqnet.preprocessing.sequence``), Keras 2 semantics: padding,
skip-gram pairs and their sampling table, and ``TimeseriesGenerator`` (in
``timeseries_generator``, importable from here)."""
import numbers
import random

import numpy as np

from seqnet.preprocessing.timeseries_generator import TimeseriesGenerator, timeseries_generator_from_json

__all__ = ["pad_sequences", "skipgrams", "make_sampling_table", "TimeseriesGenerator",
           "timeseries_generator_from_json"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) a list of sequences to one length: an array (n, maxlen, ...).

    ``padding``/``truncating`` 'pre' (default) work at the start of a sequence, 'post' at
    its end; ``maxlen`` defaults to the longest sequence; ``value`` fills the padding.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f'pad_sequences: padding type "{padding}" not understood (expected "pre" or "post")')
    if truncating not in ("pre", "post"):
        raise ValueError(f'pad_sequences: truncating type "{truncating}" not understood (expected "pre" or "post")')
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be iterable.")
    lengths, sample_shape = [], ()
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables. Found non-iterable: {s!r}")
        lengths.append(len(s))
        if len(s) and not sample_shape:
            sample_shape = np.asarray(s).shape[1:]
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be a non-negative integer or None, got {maxlen!r}")
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.object_)
    if isinstance(value, str) and dtype != object and not is_text:
        raise ValueError(f"pad_sequences: `dtype` {dtype} is not compatible with `value`'s type {type(value)}; "
                         "use dtype=object for variable-length strings")
    x = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = _as_dtype(trunc, dtype, is_text, idx)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: shape of sample {trunc.shape[1:]} of sequence at position {idx} is "
                             f"different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x


def make_sampling_table(size, sampling_factor=1e-5):
    """word2vec's sampling probabilities for the words of rank 0..size-1 (a 1-D array of
    `size`), assuming Zipf-distributed word frequencies: entry i is
    ``min(1, sqrt(sampling_factor / frequency(i)))``. The `sampling_table` of `skipgrams`."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"make_sampling_table: `size` must be a positive integer, got {size!r}")
    gamma = 0.577
    rank = np.arange(size)
    rank[0] = 1
    inv_fq = rank * (np.log(rank) + gamma) + 0.5 - 1. / (12. * rank)
    f = sampling_factor * inv_fq
    return np.minimum(1., f / np.sqrt(f))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1., shuffle=True, categorical=False,
              sampling_table=None, seed=None):
    """Skip-gram pairs of a sequence of word indices: ``(couples, labels)``, lists of
    ``[word, context]`` pairs and their labels, 1 for a word within `window_size` of
    `word`, 0 for a random word of ``[1, vocabulary_size)`` (`negative_samples` of them
    per positive pair); labels are ``[0, 1]`` / ``[1, 0]`` when `categorical`. Index 0 is a
    non-word and is skipped; with `sampling_table`, word w is kept with probability
    ``sampling_table[w]``. Random draws use Python's `random` module as in Keras (so
    ``random.seed`` before the call reproduces Keras' pairs); `seed` seeds only the final
    shuffle, which keeps couples and labels aligned."""
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, numbers.Integral):
        raise ValueError(f"skipgrams: `vocabulary_size` must be an integer, got {vocabulary_size!r}")
    if negative_samples > 0 and vocabulary_size < 2:
        raise ValueError(f"skipgrams: negative samples are drawn from [1, vocabulary_size), so `vocabulary_size` "
                         f"must be at least 2, got {vocabulary_size}")
    if isinstance(window_size, bool) or not isinstance(window_size, numbers.Integral) or window_size < 0:
        raise ValueError(f"skipgrams: `window_size` must be a non-negative integer, got {window_size!r}")
    if sampling_table is not None and len(sampling_table) < vocabulary_size:
        raise ValueError(f"skipgrams: `sampling_table` has {len(sampling_table)} entries, fewer than "
                         f"vocabulary_size={vocabulary_size}")
    couples, labels = [], []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i:
                wj = sequence[j]
                if not wj:
                    continue
                couples.append([wi, wj])
                labels.append([0, 1] if categorical else 1)
    if negative_samples > 0:
        num_negative_samples = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[i % len(words)], random.randint(1, int(vocabulary_size) - 1)]
                    for i in range(num_negative_samples)]
        labels += [[1, 0] if categorical else 0 for _ in range(num_negative_samples)]
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels


def _as_dtype(values, dtype, is_text, idx):
    """The sequence at position `idx` as an array of `dtype`; text in a numeric dtype is a
    ValueError that says so (NumPy's own message quotes only the first bad string)."""
    raw = np.asarray(values)
    if not is_text and raw.dtype.kind in "USO":
        try:
            if raw.dtype.kind in "US":
                raise ValueError
            return np.asarray(values, dtype=dtype)
        except (TypeError, ValueError):
            raise ValueError(f"pad_sequences: the sequence at position {idx} holds non-numeric values "
                             f"({raw.ravel()[:3].tolist()!r}...) but dtype is {np.dtype(dtype)}; pass "
                             "dtype=object (or a string dtype) to pad text") from None
    return np.asarray(values, dtype=dtype)
