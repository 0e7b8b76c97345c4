"""The Keras 2 examples that use the wider layer set (RepeatVector, TimeDistributed,
Bidirectional, AlphaDropout + selu, BatchNormalization, UpSampling2D / Conv2DTranspose) run
in a fresh interpreter on tiny stand-in data and print what they should."""
import re

import numpy as np

from test_examples import check_trained_and_scored, padded_sequences, printed_number, run_classic_example, \
    write_mnist_standin


def test_addition_rnn_example(tmp_path):
    out = run_classic_example("addition_rnn.py", tmp_path, "--training-size", 200, "--digits", 2,
                              "--iterations", 2, "--batch-size", 32)
    assert "Total addition questions: 200" in out and "Training Data: (180, 5, 12) (180, 3, 12)" in out
    assert "time_distributed" in out and "repeat_vector" in out  # the summary names the layers
    assert len(re.findall(r"^Q .* T .* (?:OK|--) ", out, flags=re.M)) == 2 * 10
    assert 0.0 <= printed_number(out, "Validation exact-answer accuracy:") <= 1.0


def test_imdb_bidirectional_lstm_example(tmp_path):
    rng = np.random.RandomState(1)
    np.savez(tmp_path / "imdb.npz", x_train=padded_sequences(rng, 24, 20000, 120), y_train=rng.randint(0, 2, 24),
             x_test=padded_sequences(rng, 8, 20000, 120), y_test=rng.randint(0, 2, 8))
    out = run_classic_example("imdb_bidirectional_lstm.py", tmp_path, "--epochs", 1, "--batch-size", 8,
                              "--data", "imdb.npz")
    assert "x_train shape: (24, 100)" in out
    check_trained_and_scored(out, 1, "Test score:")


def test_reuters_selu_mlp_example(tmp_path):
    rng = np.random.RandomState(2)
    y_train = rng.randint(0, 46, 40)
    y_train[3] = 45
    np.savez(tmp_path / "reuters.npz", x_train=padded_sequences(rng, 40, 1200, 50), y_train=y_train,
             x_test=padded_sequences(rng, 10, 1200, 50), y_test=rng.randint(0, 46, 10))
    out = run_classic_example("reuters_selu_mlp.py", tmp_path, "--epochs", 2, "--data", "reuters.npz")
    assert "46 classes" in out and "x_train shape: (40, 1000)" in out
    for name in ("selu", "relu"):
        assert 0.0 <= printed_number(out, f"{name} Test accuracy:") <= 1.0
        assert np.isfinite(printed_number(out, f"{name} Test loss:"))


def test_mnist_cnn_batchnorm_example(tmp_path):
    write_mnist_standin(tmp_path / "mnist.npz")
    out = run_classic_example("mnist_cnn_batchnorm.py", tmp_path, "--epochs", 1, "--batch-size", 16,
                              "--data", "mnist.npz")
    assert "batch_normalization" in out
    check_trained_and_scored(out, 1, "Test loss:")


def test_mnist_conv_autoencoder_example(tmp_path):
    write_mnist_standin(tmp_path / "mnist.npz")
    out = run_classic_example("mnist_conv_autoencoder.py", tmp_path, "--epochs", 1, "--batch-size", 16,
                              "--data", "mnist.npz")
    assert "Epoch 1/1" in out and "Code shape: (2, 7, 7, 8)" in out
    assert "up_sampling2d" in out and "conv2d_transpose" in out
    assert 0.0 < printed_number(out, "Test reconstruction loss:") < 5.0
