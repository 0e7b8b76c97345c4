"""seqnet.preprocessing: pad_sequences and the text Tokenizer, against hand-computed results."""
import numpy as np
import pytest

from seqnet.preprocessing.sequence import pad_sequences
from seqnet.preprocessing.text import (Tokenizer, hashing_trick, text_to_word_sequence, tokenizer_from_json)

SEQS = [[1, 2, 3], [4, 5], [6], []]


def test_pad_sequences_pre_and_post():
    np.testing.assert_array_equal(pad_sequences(SEQS), [[1, 2, 3], [0, 4, 5], [0, 0, 6], [0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(SEQS, padding="post"), [[1, 2, 3], [4, 5, 0], [6, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=2), [[2, 3], [4, 5], [0, 6], [0, 0]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=2, truncating="post"), [[1, 2], [4, 5], [0, 6], [0, 0]])
    np.testing.assert_array_equal(pad_sequences(SEQS, maxlen=4, value=-1), [[-1, 1, 2, 3], [-1, -1, 4, 5],
                                                                            [-1, -1, -1, 6], [-1] * 4])
    assert pad_sequences(SEQS).dtype == np.int32
    out = pad_sequences([[[1, 1], [2, 2]], [[3, 3]]], dtype="float32")
    assert out.shape == (2, 2, 2) and out[1].tolist() == [[0, 0], [3, 3]]


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(SEQS, padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        pad_sequences(SEQS, truncating="both")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="shape of sample"):
        pad_sequences([[[1, 1]], [[1, 1, 1]]])


TEXTS = ["The cat sat on the mat.", "The dog ate my homework!"]


def test_text_to_word_sequence():
    assert text_to_word_sequence("Hello, World!  It's me.") == ["hello", "world", "it's", "me"]
    assert text_to_word_sequence("a-b", filters="") == ["a-b"]


def test_tokenizer_indices_sequences_and_vocabulary_limit():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    # 'the' three times, then the rest in order of first appearance.
    assert tok.word_index == {"the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "dog": 6, "ate": 7, "my": 8,
                              "homework": 9}
    assert tok.texts_to_sequences(["the cat ate my homework", "unknown words"]) == [[1, 2, 7, 8, 9], []]
    assert tok.document_count == 2 and tok.word_docs["the"] == 2 and tok.word_counts["the"] == 3
    limited = Tokenizer(num_words=5)
    limited.fit_on_texts(TEXTS)
    assert limited.texts_to_sequences(["the cat ate my homework"]) == [[1, 2]]
    oov = Tokenizer(num_words=5, oov_token="<OOV>")
    oov.fit_on_texts(TEXTS)
    assert oov.word_index["<OOV>"] == 1 and oov.word_index["the"] == 2
    assert oov.texts_to_sequences(["the cat ate zebra"]) == [[2, 3, 1, 1]]
    assert oov.sequences_to_texts([[2, 3, 1]]) == ["the cat <OOV>"]


def test_tokenizer_matrices():
    tok = Tokenizer()
    tok.fit_on_texts(TEXTS)
    seq = ["the the cat"]
    np.testing.assert_array_equal(tok.texts_to_matrix(seq, "binary")[0, :3], [0, 1, 1])
    np.testing.assert_array_equal(tok.texts_to_matrix(seq, "count")[0, :3], [0, 2, 1])
    np.testing.assert_allclose(tok.texts_to_matrix(seq, "freq")[0, :3], [0, 2 / 3, 1 / 3])
    tfidf = tok.texts_to_matrix(seq, "tfidf")[0]
    assert tfidf[1] == pytest.approx((1 + np.log(2)) * np.log(1 + 2 / (1 + 2)))
    assert tfidf[2] == pytest.approx(1 * np.log(1 + 2 / (1 + 1)))
    assert tok.texts_to_matrix(seq).shape == (1, 10)
    with pytest.raises(ValueError, match="vectorization mode"):
        tok.texts_to_matrix(seq, "bm25")
    with pytest.raises(ValueError, match="num_words"):
        Tokenizer().texts_to_matrix(seq)


def test_tokenizer_json_round_trip_and_hashing():
    tok = Tokenizer(num_words=7, oov_token="?")
    tok.fit_on_texts(TEXTS)
    again = tokenizer_from_json(tok.to_json())
    assert again.word_index == tok.word_index
    assert again.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    np.testing.assert_array_equal(again.texts_to_matrix(TEXTS, "tfidf"), tok.texts_to_matrix(TEXTS, "tfidf"))
    hashed = hashing_trick("the cat the", 10, hash_function="md5")
    assert hashed[0] == hashed[2] and all(1 <= h < 10 for h in hashed)
