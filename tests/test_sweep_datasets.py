"""The Keras data set loaders against Keras 2.2.4's algorithm, on tiny files in the on-disk
formats Keras reads (no network, no TensorFlow): imdb and reuters over a grid of their
arguments, cifar100, cache_dir, and the argument checks."""
import gzip
import itertools
import json
import os
import pickle

import numpy as np
import pytest

from seqnet.datasets import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters
from seqnet.utils import file_utils

GRID = [dict(num_words=nw, skip_top=st, maxlen=ml, seed=seed, start_char=sc, oov_char=oc, index_from=ifr)
        for nw, st, ml, seed, sc, oc, ifr in itertools.product((None, 10, 30), (0, 5), (None, 5, 9), (113, 7),
                                                               (1, None), (2, None), (3, 0))]


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """A cache whose files skip the hash check (they stand in for the real downloads)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    real_get_file = file_utils.get_file

    def get_file_without_hash(*args, **kwargs):
        kwargs.pop("file_hash", None)
        return real_get_file(*args, **kwargs)

    for module in (boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters):
        monkeypatch.setattr(module, "get_file", get_file_without_hash)
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    return tmp_path / "keras"


def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def random_sequences(rng, n):
    return [[int(w) for w in rng.randint(1, 40, rng.randint(1, 12))] for _ in range(n)]


def write_imdb(folder, rng):
    train, test = random_sequences(rng, 37), random_sequences(rng, 23)
    np.savez(folder / "imdb.npz", x_train=object_array(train), y_train=rng.randint(0, 2, 37),
             x_test=object_array(test), y_test=rng.randint(0, 2, 23))
    return train, test


# Keras 2.2.4's imdb.py / reuters.py, written out again: one seeded global stream shuffles
# (train, then test), start_char and the index_from shift, the maxlen filter (shorter than
# maxlen is kept), num_words from the data when not given, then oov_char or removal.
def keras224_shift_filter_cut(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
        xs, labels = [xs[i] for i in kept], [labels[i] for i in kept]
    if not num_words:
        num_words = max([max(x) for x in xs])
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    return xs, np.array(labels)


def keras224_imdb(path, num_words, skip_top, maxlen, seed, start_char, oov_char, index_from):
    with np.load(path, allow_pickle=True) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    np.random.seed(seed)
    order = np.arange(len(x_train))
    np.random.shuffle(order)
    x_train, y_train = x_train[order], y_train[order]
    order = np.arange(len(x_test))
    np.random.shuffle(order)
    x_test, y_test = x_test[order], y_test[order]
    # Keras 2.2.4 split at len(x_train) before filtering; seqnet (as tf-keras and Keras 2.3)
    # splits at the number of kept training reviews, so the reference filters each part.
    n_train = len(x_train) if not maxlen else sum(
        len(x) + (start_char is not None) < maxlen for x in x_train)
    xs, labels = keras224_shift_filter_cut(list(x_train) + list(x_test), list(y_train) + list(y_test), num_words,
                                           skip_top, maxlen, start_char, oov_char, index_from)
    return (xs[:n_train], labels[:n_train]), (xs[n_train:], labels[n_train:])


def keras224_reuters(path, num_words, skip_top, maxlen, test_split, seed, start_char, oov_char, index_from):
    with np.load(path, allow_pickle=True) as f:
        xs, labels = f["x"], f["y"]
    np.random.seed(seed)
    order = np.arange(len(xs))
    np.random.shuffle(order)
    xs, labels = keras224_shift_filter_cut(list(xs[order]), list(labels[order]), num_words, skip_top, maxlen,
                                           start_char, oov_char, index_from)
    split = int(len(xs) * (1 - test_split))
    return (xs[:split], labels[:split]), (xs[split:], labels[split:])


def assert_same_split(got, expected):
    for (x, y), (ex, ey) in zip(got, expected):
        assert x.dtype == object and x.ndim == 1
        assert [list(s) for s in x] == [[int(w) for w in s] for s in ex]
        assert y.dtype == ey.dtype
        np.testing.assert_array_equal(y, ey)


def test_imdb_follows_keras_224_over_the_argument_grid(keras_home):
    write_imdb(keras_home / "datasets", np.random.RandomState(0))
    for kw in GRID:
        expected = keras224_imdb(keras_home / "datasets" / "imdb.npz", **kw)
        assert_same_split(imdb.load_data(**kw), expected)


def test_imdb_maxlen_splits_at_the_kept_training_reviews(keras_home):
    train = [[5] * 2, [5] * 6, [5] * 1, [5] * 7]  # 3 and 2 words kept by maxlen=5 with start_char
    test = [[6] * 1, [6] * 8, [6] * 3]
    np.savez(keras_home / "datasets" / "imdb.npz", x_train=object_array(train), y_train=[0, 0, 0, 0],
             x_test=object_array(test), y_test=[1, 1, 1])
    (x_train, y_train), (x_test, y_test) = imdb.load_data(maxlen=5, num_words=100)
    assert y_train.tolist() == [0, 0] and y_test.tolist() == [1, 1]  # no test review moved to train
    assert sorted(len(x) for x in x_train) == [2, 3] and all(set(x[1:]) == {9} for x in x_test)


def test_reuters_follows_keras_224_over_the_argument_grid(keras_home):
    rng = np.random.RandomState(1)
    np.savez(keras_home / "datasets" / "reuters.npz", x=object_array(random_sequences(rng, 53)),
             y=rng.randint(0, 46, 53))
    for kw, test_split in itertools.product(GRID, (0.2, 0.35, 0.0)):
        expected = keras224_reuters(keras_home / "datasets" / "reuters.npz", test_split=test_split, **kw)
        assert_same_split(reuters.load_data(test_split=test_split, **kw), expected)


def test_sequences_of_one_length_stay_a_1d_object_array(keras_home):
    np.savez(keras_home / "datasets" / "reuters.npz", x=object_array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 1]]),
             y=np.arange(5))
    (x_train, _), (x_test, _) = reuters.load_data(test_split=0.4)
    assert x_train.shape == (3,) and x_test.shape == (2,) and all(len(x) == 3 for x in x_train)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(num_words=-3), "num_words"), (dict(num_words=2.5), "num_words"),
    (dict(maxlen=-1), "maxlen"), (dict(skip_top=-1), "skip_top"),
    (dict(num_words=10, skip_top=10), "skip_top"), (dict(num_words=10, skip_top=20), "skip_top"),
])
@pytest.mark.parametrize("loader", [imdb, reuters])
def test_bad_text_arguments_raise_before_reading_any_file(keras_home, loader, kwargs, argument):
    with pytest.raises(ValueError, match=rf"{loader.__name__.split('.')[-1]}\.load_data: {argument}"):
        loader.load_data(**kwargs)  # the cache is empty: a check after get_file would fail to download


def test_zero_num_words_and_maxlen_mean_none_as_keras(keras_home):
    rng = np.random.RandomState(4)
    np.savez(keras_home / "datasets" / "reuters.npz", x=object_array(random_sequences(rng, 9)), y=np.arange(9))
    assert_same_split(reuters.load_data(num_words=0, maxlen=0), reuters.load_data())


@pytest.mark.parametrize("loader", [imdb, reuters])
def test_a_maxlen_that_keeps_nothing_names_maxlen(keras_home, loader):
    rng = np.random.RandomState(2)
    write_imdb(keras_home / "datasets", rng)
    np.savez(keras_home / "datasets" / "reuters.npz", x=object_array(random_sequences(rng, 9)), y=np.arange(9))
    with pytest.raises(ValueError, match="maxlen=2, no sequence was kept"):
        loader.load_data(maxlen=2)  # the start_char alone is one word: nothing is shorter than 2


@pytest.mark.parametrize("test_split", [1.0, 1.5, -0.1])
def test_reuters_test_split_outside_0_1_is_refused(keras_home, test_split):
    with pytest.raises(ValueError, match=r"reuters\.load_data: test_split must be in \[0, 1\)"):
        reuters.load_data(test_split=test_split)


def write_cifar100(folder, rng):
    folder.mkdir(parents=True)
    batches = {}
    for name, n in (("train", 12), ("test", 5)):
        batches[name] = {b"data": rng.randint(0, 256, (n, 3072)).astype(np.uint8),
                         b"fine_labels": [int(v) for v in rng.randint(0, 100, n)],
                         b"coarse_labels": [int(v) for v in rng.randint(0, 20, n)], b"filenames": [b"f.png"] * n}
        with open(folder / name, "wb") as f:
            pickle.dump(batches[name], f, protocol=2)
    return batches


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_reads_train_and_test_with_the_label_mode(keras_home, label_mode):
    batches = write_cifar100(keras_home / "datasets" / "cifar-100-python", np.random.RandomState(3))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    for (x, y), name in (((x_train, y_train), "train"), ((x_test, y_test), "test")):
        data, labels = batches[name][b"data"], batches[name][label_mode.encode() + b"_labels"]
        assert x.dtype == np.uint8 and x.shape == (len(data), 32, 32, 3)
        # row r of the file is 1024 red, 1024 green, 1024 blue bytes, each 32 rows of 32
        assert x[1, 4, 7, 2] == data[1, 2 * 1024 + 4 * 32 + 7] and x[0, 31, 0, 1] == data[0, 1024 + 31 * 32]
        assert y.dtype == np.int64 and y.shape == (len(labels), 1) and y[:, 0].tolist() == labels


def test_cifar100_unknown_label_mode_is_refused(keras_home):
    with pytest.raises(ValueError, match=r"cifar100\.load_data: label_mode must be one of \['fine', 'coarse'\], "
                                         r"got 'medium'"):
        cifar100.load_data(label_mode="medium")


def test_every_loader_takes_cache_dir(keras_home, tmp_path):
    root = tmp_path / "elsewhere"
    folder = root / "datasets"
    rng = np.random.RandomState(4)
    folder.mkdir(parents=True)
    write_imdb(folder, rng)
    np.savez(folder / "reuters.npz", x=object_array(random_sequences(rng, 10)), y=np.arange(10))
    images = rng.randint(0, 256, (3, 28, 28)).astype(np.uint8)
    np.savez(folder / "mnist.npz", x_train=images, y_train=np.arange(3), x_test=images[:1], y_test=np.arange(1))
    np.savez(folder / "boston_housing.npz", x=rng.rand(10, 13), y=rng.rand(10))
    write_cifar100(folder / "cifar-100-python", rng)
    (folder / "cifar-10-batches-py").mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / "cifar-10-batches-py" / name, "wb") as f:
            pickle.dump({b"data": rng.randint(0, 256, (2, 3072)).astype(np.uint8), b"labels": [1, 2]}, f)
    (folder / "fashion-mnist").mkdir()
    for prefix in ("train", "t10k"):
        with gzip.open(folder / "fashion-mnist" / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes([1, 2, 3]))
        with gzip.open(folder / "fashion-mnist" / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
    assert len(imdb.load_data(cache_dir=str(root))[0][0]) == 37
    assert len(reuters.load_data(cache_dir=str(root))[1][0]) == 2
    np.testing.assert_array_equal(mnist.load_data(cache_dir=str(root))[0][0], images)
    np.testing.assert_array_equal(fashion_mnist.load_data(cache_dir=str(root))[1][0], images)
    assert boston_housing.load_data(cache_dir=str(root))[0][0].shape == (8, 13)
    assert cifar10.load_data(cache_dir=str(root))[0][0].shape == (10, 32, 32, 3)
    assert cifar100.load_data(cache_dir=str(root))[1][1].shape == (5, 1)
    assert os.listdir(keras_home / "datasets") == []  # nothing went to the default cache


@pytest.mark.parametrize("loader, name", [(imdb, "imdb_word_index.json"), (reuters, "reuters_word_index.json")])
def test_get_word_index_reads_the_cached_json(keras_home, monkeypatch, loader, name):
    words = {"the": 1, "and": 2, "zebra": 88}
    (keras_home / "datasets" / name).write_text(json.dumps(words))
    monkeypatch.setattr(loader, "WORD_INDEX_MD5", file_utils._hash_file(keras_home / "datasets" / name, "md5"))
    monkeypatch.setattr(loader, "get_file", file_utils.get_file)  # the md5 is checked here
    assert loader.get_word_index() == words


def test_reuters_label_names():
    names = reuters.get_label_names()
    assert len(names) == 46 and names[:4] == ("cocoa", "grain", "veg-oil", "earn") and names[-1] == "lead"
