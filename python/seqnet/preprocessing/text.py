"""Text preprocessing (``seqnet.preprocessing.text``): Keras 2's Tokenizer and helpers."""
import hashlib
import json
import numbers
import warnings
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer", "tokenizer_from_json"]

_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text, filters=_FILTERS, lower=True, split=" "):
    """Splits a text into words: lower-cased, with `filters` characters turned into `split`."""
    if not isinstance(text, str):
        raise TypeError(f"text_to_word_sequence: `text` should be a string, got {type(text).__name__} {text!r}")
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in text.split(split) if w]


def hashing_trick(text, n, hash_function=None, filters=_FILTERS, lower=True, split=" ", analyzer=None):
    """Words mapped to integers in [1, n) by hashing ('md5' is stable across runs; the default,
    Python's hash, is not, as in Keras). `n` is an integer >= 2; `hash_function` None, 'md5'
    or a function of a word returning an int; `analyzer` (tf-keras' addition) a function
    splitting the text into words, instead of `text_to_word_sequence`."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"hashing_trick: `n` (the size of the hashing space, indices 1..n-1) must be an integer "
                         f">= 2, got {n!r}")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(w):
            return int(hashlib.md5(w.encode()).hexdigest(), 16)
    elif not callable(hash_function):
        raise ValueError(f"hashing_trick: `hash_function` should be None, 'md5' or a function, got {hash_function!r}")
    seq = text_to_word_sequence(text, filters, lower, split) if analyzer is None else analyzer(text)
    return [(hash_function(w) % (n - 1) + 1) for w in seq]


def one_hot(text, n, filters=_FILTERS, lower=True, split=" ", analyzer=None):
    """Keras' one_hot: hashing_trick with Python's hash."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split, analyzer=analyzer)


class Tokenizer:
    """Turns texts into sequences of word indices (1-based, most frequent first) or into
    bag-of-words matrices, as Keras 2's Tokenizer. Only the `num_words - 1` most frequent
    words are used (all with num_words None or 0); `analyzer` (tf-keras' addition) is a
    function splitting a text into words, used instead of `filters`/`lower`/`split`.
    `nb_words` is Keras 1's name of `num_words` (accepted with a warning, as in Keras)."""

    def __init__(self, num_words=None, filters=_FILTERS, lower=True, split=" ", char_level=False, oov_token=None,
                 analyzer=None, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.")
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Tokenizer: unexpected keyword argument(s) {sorted(kwargs)}")
        if num_words is not None and (isinstance(num_words, bool) or not isinstance(num_words, numbers.Integral)
                                      or num_words < 0):
            raise ValueError(f"Tokenizer: `num_words` must be None or a non-negative integer, got {num_words!r}")
        if analyzer is not None and not callable(analyzer):
            raise ValueError(f"Tokenizer: `analyzer` should be a function or None, got {analyzer!r}")
        self.word_counts = OrderedDict()
        self.word_docs = defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.index_docs = defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _words(self, text):
        if not isinstance(text, (str, list)):
            raise TypeError(f"Tokenizer: each text should be a string or a list of words, got {type(text).__name__} "
                            f"{text!r}")
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        for text in texts:
            self.document_count += 1
            seq = self._words(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(seq):
                self.word_docs[w] += 1
        # Most frequent first; ties keep first-seen order (a stable sort, as Keras).
        sorted_voc = [wc[0] for wc in sorted(self.word_counts.items(), key=lambda x: x[1], reverse=True)]
        if self.oov_token is not None:
            sorted_voc = [self.oov_token] + sorted_voc
        self.word_index = dict(zip(sorted_voc, range(1, len(sorted_voc) + 1)))
        self.index_word = {c: w for w, c in self.word_index.items()}
        for w, c in self.word_docs.items():
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            vect = []
            for w in self._words(text):
                i = self.word_index.get(w)
                if i is not None and not (self.num_words and i >= self.num_words):
                    vect.append(i)
                elif oov is not None:
                    vect.append(oov)
            yield vect

    def sequences_to_texts(self, sequences):
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        texts = []
        for seq in sequences:
            words = []
            for i in seq:
                word = self.index_word.get(i)
                if word is not None and not (self.num_words and i >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts

    def texts_to_matrix(self, texts, mode="binary"):
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """(len(sequences), num_words) matrix: 'binary', 'count', 'freq' or 'tfidf'. Each
        sequence is a list or 1-D array of word indices (>= 0; indices >= num_words are
        left out)."""
        if mode not in ("binary", "count", "tfidf", "freq"):
            raise ValueError(f"Unknown vectorization mode: {mode}")
        if not self.num_words:
            if not self.word_index:
                raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
            num_words = len(self.word_index) + 1
        else:
            num_words = self.num_words
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if len(seq) == 0:
                continue
            counts = defaultdict(int)
            for j in seq:
                if isinstance(j, bool) or not isinstance(j, numbers.Integral) or j < 0:
                    raise ValueError(f"sequences_to_matrix: sequence {i} holds {j!r}; word indices must be "
                                     "non-negative integers")
                if j >= num_words:
                    continue
                counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i][j] = tf * idf
        return x

    def get_config(self):
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """A Tokenizer from `Tokenizer.to_json()` (plain data: nothing is executed)."""
    loaded = json.loads(json_string)
    config = loaded.get("config") if isinstance(loaded, dict) else None
    if not isinstance(config, dict):
        raise ValueError("tokenizer_from_json: not a Tokenizer JSON string")
    config = dict(config)
    fields = {k: json.loads(config.pop(k)) for k in ("word_counts", "word_docs", "index_docs", "word_index",
                                                      "index_word")}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(fields["word_counts"])
    tokenizer.word_docs = defaultdict(int, fields["word_docs"])
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in fields["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in fields["index_word"].items()}
    tokenizer.word_index = fields["word_index"]
    return tokenizer
