"""get_file (download once, cache, hash check, safe extraction) and the Keras data set
loaders, on small stand-in files (no network: origins are file:// URLs or cached copies)."""
import gzip
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from seqnet.datasets import boston_housing, cifar10, fashion_mnist, imdb, mnist, reuters
from seqnet.datasets._safe_load import load_npz
from seqnet.utils.data_utils import get_file


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_get_file_downloads_once_caches_and_checks_the_hash(tmp_path, keras_home):
    src = tmp_path / "data.bin"
    src.write_bytes(b"seqnet" * 100)
    path = get_file("data.bin", origin=src.as_uri(), file_hash=sha256(src))
    assert path == str(keras_home / "datasets" / "data.bin") and read(path) == src.read_bytes()
    src.write_bytes(b"changed")  # a cached, valid copy is reused without downloading
    assert read(get_file("data.bin", origin=src.as_uri())) == b"seqnet" * 100
    with pytest.raises(ValueError, match="does not match the expected hash"):
        get_file("other.bin", origin=src.as_uri(), file_hash="0" * 64)
    assert sorted(os.listdir(keras_home / "datasets")) == ["data.bin"]  # nothing half-written left
    with pytest.raises(OSError, match="Failed to download"):
        get_file("missing.bin", origin=(tmp_path / "nope").as_uri())


def test_get_file_untar_refuses_paths_outside_the_cache(tmp_path, keras_home):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(ValueError, match="outside"):
        get_file("evil", origin=archive.as_uri(), untar=True)
    assert not (keras_home / "escaped.txt").exists()


def cache(keras_home, name, write):
    path = keras_home / "datasets" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path)
    return sha256(path)


def test_mnist_and_boston_from_a_cached_copy(keras_home, monkeypatch):
    x = np.random.RandomState(0).randint(0, 256, (5, 28, 28)).astype(np.uint8)
    digest = cache(keras_home, "mnist.npz", lambda p: np.savez(p, x_train=x, y_train=np.arange(5), x_test=x[:2],
                                                                y_test=np.arange(2)))
    monkeypatch.setattr(mnist, "SHA256", digest)
    (xt, yt), (xs, ys) = mnist.load_data()
    np.testing.assert_array_equal(xt, x)
    assert ys.tolist() == [0, 1]
    bx, by = np.arange(30.0).reshape(10, 3), np.arange(10.0)
    monkeypatch.setattr(boston_housing, "SHA256", cache(keras_home, "boston_housing.npz",
                                                        lambda p: np.savez(p, x=bx, y=by)))
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.2, seed=113)
    order = np.arange(10)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(y_train, by[order[:8]])
    np.testing.assert_array_equal(x_test, bx[order[8:]])


def test_fashion_mnist_reads_the_idx_files(keras_home):
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    images = np.random.RandomState(1).randint(0, 256, (3, 28, 28)).astype(np.uint8)
    for prefix in ("train", "t10k"):
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(b"\0" * 8 + bytes([7, 8, 9]))
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(b"\0" * 16 + images.tobytes())
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    np.testing.assert_array_equal(x_train, images)
    assert y_test.tolist() == [7, 8, 9]


def object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def test_imdb_shifts_indices_filters_and_cuts_the_vocabulary(keras_home, monkeypatch):
    train = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]]
    test = [[11, 1], [2]]
    digest = cache(keras_home, "imdb.npz", lambda p: np.savez(p, x_train=object_array(train), y_train=[0, 1, 0],
                                                               x_test=object_array(test), y_test=[1, 1]))
    monkeypatch.setattr(imdb, "SHA256", digest)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(seed=113)
    order = np.arange(3)
    rng = np.random.RandomState(113)
    rng.shuffle(order)
    expected = [[1] + [w + 3 for w in train[i]] for i in order]
    assert [list(x) for x in x_train] == expected
    (x_train, _), (x_test, _) = imdb.load_data(num_words=8, maxlen=5)
    assert all(len(x) < 5 for x in x_train) and all(max(x) < 8 for x in list(x_train) + list(x_test))
    assert any(2 in x for x in x_train)  # words beyond the vocabulary become the OOV marker


def test_reuters_split(keras_home, monkeypatch):
    xs = [[i, i + 1] for i in range(10)]
    monkeypatch.setattr(reuters, "SHA256", cache(keras_home, "reuters.npz",
                                                 lambda p: np.savez(p, x=object_array(xs), y=np.arange(10))))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.3)
    assert len(x_train) == 7 and len(x_test) == 3
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(10))


def test_cifar10_batches_and_hostile_pickles(keras_home, tmp_path):
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.RandomState(2)
    for name, n in [(f"data_batch_{i}", 20) for i in range(1, 6)] + [("test_batch", 30)]:
        batch = {b"data": rng.randint(0, 256, (n, 3072)).astype(np.uint8), b"labels": [i % 10 for i in range(n)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (100, 32, 32, 3) and y_train.shape == (100, 1) and y_test.shape == (30, 1)
    assert y_test[3, 0] == 3 and y_train[25, 0] == 5  # batch 2 starts at row 20, labels i % 10

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    bad = tmp_path / "bad.npz"
    np.savez(bad, x=object_array([Evil()]))
    with pytest.raises(ValueError, match="refusing to load"):
        load_npz(bad)
    assert not (tmp_path / "pwned").exists()
