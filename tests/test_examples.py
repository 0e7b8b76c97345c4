"""Runs the classic Keras 2 examples of examples/ in a fresh interpreter on tiny stand-in
data (written here, under a temporary KERAS_HOME), for one or two epochs, and checks what
they print: the epochs asked for, a finite test loss, an accuracy in [0, 1], parameter
counts computed by hand, and generated text of the asked length drawn from the corpus."""
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FLOAT = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf"


def run_classic_example(name, tmp_path, *args):
    """stdout of `python examples/<name> <args>` run from tmp_path with KERAS_HOME under it."""
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras"))
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{name} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def printed_number(out, label):
    found = re.findall(rf"^{re.escape(label)} ({FLOAT})$", out, flags=re.M)
    assert len(found) == 1, f"expected one '{label} <number>' line in:\n{out}"
    return float(found[0])


def check_trained_and_scored(out, epochs, loss_label):
    assert f"Epoch {epochs}/{epochs}" in out and f"Epoch {epochs + 1}/" not in out, out
    assert math.isfinite(printed_number(out, loss_label))
    assert 0.0 <= printed_number(out, "Test accuracy:") <= 1.0


def padded_sequences(rng, n, vocab, max_length):
    """n sequences of word indices in [1, vocab) as rows right-padded with 0 (the --data format)."""
    rows = np.zeros((n, max_length), dtype=np.int32)
    for row in rows:
        length = rng.randint(3, max_length + 1)
        row[:length] = rng.randint(1, vocab, length)
    return rows


def write_mnist_standin(path, n_train=40, n_test=12):
    rng = np.random.RandomState(0)
    x = rng.randint(0, 256, (n_train + n_test, 28, 28)).astype(np.uint8)
    y = rng.randint(0, 10, n_train + n_test)
    np.savez(path, x_train=x[:n_train], y_train=y[:n_train], x_test=x[n_train:], y_test=y[n_train:])


def test_mnist_mlp_example(tmp_path):
    write_mnist_standin(tmp_path / "mnist.npz")
    out = run_classic_example("mnist_mlp.py", tmp_path, "--epochs", 2, "--limit", 32, "--data", "mnist.npz")
    assert "32 train samples" in out and "12 test samples" in out  # --limit cuts only what is longer
    params = (784 * 512 + 512) + (512 * 512 + 512) + (512 * 10 + 10)
    assert f"Total params: {params:,}" in out
    check_trained_and_scored(out, 2, "Test loss:")


def test_mnist_cnn_example(tmp_path):
    write_mnist_standin(tmp_path / "mnist.npz")
    out = run_classic_example("mnist_cnn.py", tmp_path, "--epochs", 1, "--data", "mnist.npz")
    assert "x_train shape: (40, 28, 28, 1)" in out
    check_trained_and_scored(out, 1, "Test loss:")


def test_imdb_lstm_example(tmp_path):
    rng = np.random.RandomState(1)
    np.savez(tmp_path / "imdb.npz", x_train=padded_sequences(rng, 24, 20000, 120), y_train=rng.randint(0, 2, 24),
             x_test=padded_sequences(rng, 8, 20000, 120), y_test=rng.randint(0, 2, 8))
    out = run_classic_example("imdb_lstm.py", tmp_path, "--epochs", 1, "--batch-size", 16, "--data", "imdb.npz")
    assert "x_train shape: (24, 80)" in out and "x_test shape: (8, 80)" in out  # reviews cut to maxlen 80
    check_trained_and_scored(out, 1, "Test score:")


def test_reuters_mlp_example(tmp_path):
    rng = np.random.RandomState(2)
    y_train = rng.randint(0, 46, 40)
    y_train[7] = 45  # the largest topic is in the training set: 46 classes, as in Reuters
    np.savez(tmp_path / "reuters.npz", x_train=padded_sequences(rng, 40, 1200, 50), y_train=y_train,
             x_test=padded_sequences(rng, 10, 1200, 50), y_test=rng.randint(0, 46, 10))
    out = run_classic_example("reuters_mlp.py", tmp_path, "--epochs", 2, "--data", "reuters.npz")
    assert "46 classes" in out and "x_train shape: (40, 1000)" in out
    assert re.search(r"^36/36 \[", out, flags=re.M), out  # validation_split=0.1 holds out 4 of 40
    check_trained_and_scored(out, 2, "Test score:")


def test_lstm_text_generation_example_reads_the_cached_corpus(tmp_path):
    corpus = ("Supposing that Truth is a woman--what then? Is there not ground for suspecting that all "
              "philosophers, in so far as they have been dogmatists, have failed to understand women? ")
    datasets = tmp_path / "keras" / "datasets"
    datasets.mkdir(parents=True)
    (datasets / "nietzsche.txt").write_text(corpus * 2, encoding="utf-8")  # get_file reuses it: no download
    out = run_classic_example("lstm_text_generation.py", tmp_path, "--epochs", 1, "--length", 25)
    text = (corpus * 2).lower()
    assert f"corpus length: {len(text)}" in out and f"total chars: {len(set(text))}" in out
    assert f"nb sequences: {len(range(0, len(text) - 40, 3))}" in out
    assert re.search(rf"\bloss: ({FLOAT})", out.split("Epoch 1/1", 1)[1])
    blocks = out.split("----- diversity: ")[1:]
    assert [b.split("\n", 1)[0] for b in blocks] == ["0.2", "0.5", "1.0", "1.2"], out
    for block in blocks:
        seed = re.search(r'----- Generating with seed: "(.{40})"\n', block, flags=re.S).group(1)
        # no newline in the corpus, so none in the generated text: the next line is all of it
        generated = block.split(f'seed: "{seed}"\n', 1)[1].split("\n", 1)[0]
        assert seed in text and generated[:40] == seed
        assert len(generated) == 40 + 25 and set(generated) <= set(text), generated


# ---- cifar10_cnn.py -------------------------------------------------------------------------
def write_cifar10_standin(keras_home, seed=0):
    """The extracted CIFAR-10 cache that cifar10.load_data() reuses
    ($KERAS_HOME/datasets/cifar-10-batches-py/: data_batch_1..5 and test_batch, pickled dicts
    {b'data': uint8 (n, 3072), b'labels': [...]}) filled with 80 random images per file."""
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (80, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, 80).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=pickle.HIGHEST_PROTOCOL)


def test_cifar10_cnn_example_trains_with_augmentation(tmp_path):
    write_cifar10_standin(tmp_path / "keras")
    out = run_classic_example("cifar10_cnn.py", tmp_path, "--epochs", 2, "--limit", 64)
    assert "x_train shape: (64, 32, 32, 3)" in out and "64 train samples" in out and "64 test samples" in out
    assert "Using real-time data augmentation." in out
    assert re.search(rf"\bval_acc(?:uracy)?: ({FLOAT})", out.split("Epoch 2/2", 1)[1]), out
    assert (tmp_path / "saved_models" / "keras_cifar10_trained_model.h5").is_file()
    check_trained_and_scored(out, 2, "Test loss:")
