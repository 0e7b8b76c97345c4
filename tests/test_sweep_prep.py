"""seqnet.preprocessing against tf-keras where a differential sweep found gaps: the Keras 2.2.4
sequence tools that were missing (TimeseriesGenerator, skipgrams, make_sampling_table; fixtures
from tf-keras, written by tests/fixtures/make_sweep_prep_fixtures.py), ZCA whitening with fewer
samples than pixels (against a float64 NumPy reference), and the Tokenizer / hashing_trick
arguments tf-keras has (analyzer, nb_words) and their bad-input errors."""
import json
import os
import random

import numpy as np
import pytest

from seqnet.preprocessing import sequence
from seqnet.preprocessing.image import ImageDataGenerator
from seqnet.preprocessing.sequence import (TimeseriesGenerator, make_sampling_table, skipgrams,
                                           timeseries_generator_from_json)
from seqnet.preprocessing.text import Tokenizer, hashing_trick, one_hot, text_to_word_sequence, tokenizer_from_json
from seqnet.utils import Sequence

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
DATA = np.arange(40, dtype=np.float32).reshape(20, 2)
TARGETS = np.arange(20) * 10
SEQ = [1, 2, 3, 4, 5, 0, 2, 3, 7, 9]


@pytest.fixture(scope="module")
def fixtures():
    with np.load(os.path.join(FIXTURES, "sweep_prep.npz")) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(str(arrays["config"]))


# ---- TimeseriesGenerator ------------------------------------------------------------------
def test_timeseries_generator_batches_match_tf_keras(fixtures):
    arrays, config = fixtures
    for case, (kwargs, length) in config["ts"].items():
        gen = TimeseriesGenerator(DATA, TARGETS, **kwargs)
        assert isinstance(gen, Sequence) and len(gen) == length, case
        batches = [gen[i] for i in range(len(gen))]
        np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), arrays[f"ts_{case}_x"], err_msg=case)
        np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), arrays[f"ts_{case}_y"], err_msg=case)


def test_timeseries_generator_keras_docstring_example_and_lists():
    data = np.array([[i] for i in range(50)])
    gen = TimeseriesGenerator(data, data, length=10, sampling_rate=2, batch_size=2)
    assert len(gen) == 20
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[[0], [2], [4], [6], [8]], [[1], [3], [5], [7], [9]]])
    np.testing.assert_array_equal(y, [[10], [11]])
    x, y = TimeseriesGenerator(list(range(8)), list(range(8)), length=3, batch_size=10)[0]
    np.testing.assert_array_equal(x, [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]])
    np.testing.assert_array_equal(y, [3, 4, 5, 6, 7])


def test_timeseries_generator_shuffle_draws_rows_from_numpys_global_state():
    gen = TimeseriesGenerator(DATA, TARGETS, length=3, start_index=2, end_index=12, shuffle=True, batch_size=6)
    np.random.seed(4)
    x, y = gen[0]
    np.random.seed(4)
    rows = np.random.randint(5, 13, size=6)  # Keras: rows in [start_index + length, end_index]
    np.testing.assert_array_equal(y, TARGETS[rows])
    np.testing.assert_array_equal(x, np.stack([DATA[r - 3:r] for r in rows]))


def test_timeseries_generator_json_round_trip_keeps_start_index():
    gen = TimeseriesGenerator(DATA, TARGETS, length=3, start_index=2, stride=2, batch_size=4, reverse=True)
    assert gen.get_config()["start_index"] == 2  # tf-keras stores start_index + length = 5
    back = timeseries_generator_from_json(gen.to_json())
    assert len(back) == len(gen)
    for i in range(len(gen)):
        np.testing.assert_array_equal(back[i][0], gen[i][0])
        np.testing.assert_array_equal(back[i][1], gen[i][1])
    with pytest.raises(ValueError, match="not a TimeseriesGenerator"):
        timeseries_generator_from_json("[1, 2]")


@pytest.mark.parametrize("kwargs,match", [
    (dict(length=0), "`length` must be an integer >= 1, got 0"),
    (dict(length=2.5), "`length` must be an integer >= 1, got 2.5"),
    (dict(length=3, stride=0), "`stride` must be an integer >= 1"),
    (dict(length=3, sampling_rate=-1), "`sampling_rate` must be an integer >= 1"),
    (dict(length=3, batch_size=0), "`batch_size` must be an integer >= 1"),
    (dict(length=3, start_index=-1), "`start_index` must be an integer >= 0"),
    (dict(length=3, end_index=20), r"`end_index`=20 is past the last timestep of the data \(19\)"),
    (dict(length=18, start_index=2), r"`start_index\+length=20 > end_index=19` is disallowed"),
])
def test_timeseries_generator_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeseriesGenerator(DATA, TARGETS, **kwargs)


def test_timeseries_generator_length_mismatch_and_out_of_range_index():
    with pytest.raises(ValueError, match="Data length is 20 while target length is 5"):
        TimeseriesGenerator(DATA, TARGETS[:5], length=2)
    gen = TimeseriesGenerator(DATA, TARGETS, length=3, batch_size=4)  # 17 rows: 5 batches
    assert len(gen) == 5 and len(list(gen)) == 5
    for bad in (5, -1, 1.0):
        with pytest.raises(IndexError, match="out of range; the generator has 5 batches"):
            gen[bad]


def test_timeseries_generator_trains_a_model():
    from seqnet.layers import Dense, LSTM
    from seqnet.models import Sequential
    gen = TimeseriesGenerator(DATA / 40, TARGETS.astype(np.float32) / 200, length=4, batch_size=5)
    model = Sequential([LSTM(3, input_shape=(4, 2)), Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit_generator(gen, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert model.predict_generator(gen).shape == (16, 1)


# ---- skipgrams and make_sampling_table ----------------------------------------------------
def test_skipgrams_match_tf_keras_after_seeding_pythons_random(fixtures):
    arrays, config = fixtures
    for case, kwargs in config["skip"].items():
        kwargs = dict(kwargs)
        if kwargs.get("sampling_table") == "table":
            kwargs["sampling_table"] = make_sampling_table(10, 0.05)
        random.seed(7)
        couples, labels = skipgrams(SEQ, 10, **kwargs)
        np.testing.assert_array_equal(np.array(couples, dtype=np.int64).reshape(-1, 2), arrays[f"skip_{case}_couples"],
                                      err_msg=case)
        np.testing.assert_array_equal(np.array(labels, dtype=np.int64), arrays[f"skip_{case}_labels"], err_msg=case)


def test_skipgrams_by_hand():
    couples, labels = skipgrams([1, 0, 2, 3], 4, window_size=1, negative_samples=0., shuffle=False)
    assert couples == [[2, 3], [3, 2]] and labels == [1, 1]  # 0 is a non-word: never a pair
    couples, labels = skipgrams([1, 2], 5, window_size=1, negative_samples=1., shuffle=False, categorical=True)
    assert couples[:2] == [[1, 2], [2, 1]] and labels == [[0, 1], [0, 1], [1, 0], [1, 0]]
    assert all(c[0] in (1, 2) and 1 <= c[1] <= 4 for c in couples[2:])
    assert skipgrams([], 5) == ([], [])


def test_skipgrams_bad_arguments():
    with pytest.raises(ValueError, match="`vocabulary_size` must be at least 2, got 1"):
        skipgrams([1, 2], 1)
    with pytest.raises(ValueError, match="`window_size` must be a non-negative integer, got -1"):
        skipgrams([1, 2], 5, window_size=-1)
    with pytest.raises(ValueError, match="`sampling_table` has 3 entries, fewer than vocabulary_size=5"):
        skipgrams([1, 2], 5, sampling_table=np.ones(3))


def test_make_sampling_table_matches_tf_keras(fixtures):
    arrays, config = fixtures
    for size, factor in config["table"]:
        np.testing.assert_array_equal(make_sampling_table(size, factor), arrays[f"table_{size}_{factor}"])
    with pytest.raises(ValueError, match="`size` must be a positive integer, got 0"):
        make_sampling_table(0)


def test_sequence_module_exports_the_keras_names():
    for name in ("pad_sequences", "skipgrams", "make_sampling_table", "TimeseriesGenerator"):
        assert name in sequence.__all__ and hasattr(sequence, name)


# ---- ZCA whitening --------------------------------------------------------------------------
def test_zca_whitening_with_fewer_samples_than_pixels_matches_float64():
    # 9 images of 90 values: sigma is singular, the matrix has entries near 1/sqrt(eps) that
    # cancel; a float32 product lost up to 0.04 on outputs of 0.7 (tf-keras: 3e-7).
    x = np.random.RandomState(0).uniform(0, 255, (9, 5, 6, 3)).astype(np.float32)
    gen = ImageDataGenerator(featurewise_center=True, zca_whitening=True, zca_epsilon=1e-6)
    gen.fit(x)
    flat = x.astype(np.float64)
    flat = (flat - flat.mean(axis=(0, 1, 2))).reshape(9, -1)
    u, s, _ = np.linalg.svd(flat.T @ flat / 9)
    reference = (flat @ ((u / np.sqrt(s + 1e-6)) @ u.T)).reshape(x.shape)
    batch = gen.standardize(x)
    assert batch.dtype == np.float32
    np.testing.assert_allclose(batch, reference, atol=1e-5)
    np.testing.assert_allclose(gen.standardize(x[3]), reference[3], atol=1e-5)
    flow = gen.flow(x, batch_size=4, shuffle=False)
    flow_x = np.concatenate([flow[i] for i in range(len(flow))])
    np.testing.assert_allclose(flow_x, reference, atol=1e-5)


# ---- text -----------------------------------------------------------------------------------
def test_tokenizer_analyzer_and_nb_words_as_tf_keras():
    texts = ["The cat sat", "the DOG sat down"]
    tok = Tokenizer(analyzer=lambda t: t.upper().split())
    tok.fit_on_texts(texts)
    assert tok.word_index == {"THE": 1, "SAT": 2, "CAT": 3, "DOG": 4, "DOWN": 5}  # ties: first seen
    assert tok.texts_to_sequences(["the cat x"]) == [[1, 3]]
    assert "analyzer" not in json.loads(tok.to_json())["config"]  # a function is not stored, as tf-keras
    char = Tokenizer(analyzer=str.split, char_level=True)  # char_level wins, as in tf-keras
    char.fit_on_texts(["ab a"])
    assert char.word_index == {"a": 1, "b": 2, " ": 3}
    with pytest.warns(UserWarning, match="`nb_words` argument in `Tokenizer` has been renamed"):
        old = Tokenizer(nb_words=3)
    assert old.num_words == 3
    assert tokenizer_from_json(Tokenizer(document_count=4).to_json()).document_count == 4
    with pytest.raises(TypeError, match="unexpected keyword"):
        Tokenizer(nb_wrds=3)


def test_hashing_trick_and_one_hot_analyzer():
    assert (hashing_trick("a b", 7, hash_function="md5", analyzer=lambda t: ["b", "a", "a"])
            == [hashing_trick("b", 7, hash_function="md5")[0]] + 2 * hashing_trick("a", 7, hash_function="md5"))
    assert one_hot("x y z", 5, analyzer=lambda t: t.split()[:2]) == one_hot("x y", 5)
    assert hashing_trick("a b", 2, hash_function="md5") == [1, 1]


def test_sequences_to_matrix_takes_padded_numpy_rows():
    tok = Tokenizer(num_words=5)
    padded = np.array([[0, 1, 2, 2], [0, 0, 0, 3], [0, 0, 0, 0]])  # pad_sequences output
    np.testing.assert_array_equal(tok.sequences_to_matrix(padded, mode="count"),
                                  [[1, 1, 2, 0, 0], [3, 0, 0, 1, 0], [4, 0, 0, 0, 0]])
    np.testing.assert_array_equal(tok.sequences_to_matrix([np.array([], dtype=int), [4, 9]]),
                                  [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1]])


@pytest.mark.parametrize("call,error,match", [
    (lambda: hashing_trick("a b", 1, hash_function="md5"), ValueError, "`n` .* must be an integer >= 2, got 1"),
    (lambda: hashing_trick("a b", 2.5), ValueError, "must be an integer >= 2, got 2.5"),
    (lambda: hashing_trick("a b", 9, hash_function="sha1"), ValueError, "`hash_function` should be None, 'md5'"),
    (lambda: one_hot("a", 0), ValueError, "must be an integer >= 2, got 0"),
    (lambda: text_to_word_sequence(None), TypeError, "`text` should be a string, got NoneType"),
    (lambda: Tokenizer(num_words=-3), ValueError, "`num_words` must be None or a non-negative integer, got -3"),
    (lambda: Tokenizer(num_words=2.5), ValueError, "`num_words` must be None or a non-negative integer, got 2.5"),
    (lambda: Tokenizer(analyzer="split"), ValueError, "`analyzer` should be a function or None"),
    (lambda: Tokenizer().fit_on_texts(["ok", 3]), TypeError,
     "each text should be a string or a list of words, got int 3"),
    (lambda: Tokenizer(num_words=5).sequences_to_matrix([[1, -1]]), ValueError,
     "sequence 0 holds -1; word indices must be non-negative integers"),
    (lambda: Tokenizer(num_words=5).sequences_to_matrix([[1], [2.0]]), ValueError, "sequence 1 holds 2.0"),
    (lambda: tokenizer_from_json("[1]"), ValueError, "not a Tokenizer JSON string"),
])
def test_text_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
