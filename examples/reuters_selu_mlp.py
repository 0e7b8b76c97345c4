"""A self-normalizing MLP (selu + AlphaDropout + lecun_normal, Klambauer et al. 2017) on the
Reuters newswire topic classification task, next to the same network with relu + Dropout.

    python examples/reuters_selu_mlp.py [--epochs 20] [--limit N] [--data reuters_standin.npz]

Both networks have 6 hidden layers of 16 units; the selu network keeps its activations near
zero mean and unit variance without batch normalization. The script prints both networks'
test loss and accuracy. Reuters is downloaded once by seqnet.datasets.reuters.load_data().

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options: --epochs, --batch-size, --limit (first N newswires), --data (x_train, y_train,
x_test, y_test in an .npz, each x row word indices right-padded with 0).
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet.datasets import reuters
from seqnet.layers import Activation, AlphaDropout, Dense, Dropout
from seqnet.models import Sequential
from seqnet.preprocessing.text import Tokenizer

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=16)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test newswires")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of Reuters)")
args = parser.parse_args()

max_words = 1000


def load_data(path=None):
    if path is None:
        return reuters.load_data(num_words=max_words, test_split=0.2)
    with np.load(path) as f:
        return tuple(([[int(w) for w in row if w] for row in f["x_" + part]], f["y_" + part])
                     for part in ("train", "test"))


def create_network(n_dense=6, dense_units=16, activation="selu", dropout=AlphaDropout, dropout_rate=0.1,
                   kernel_initializer="lecun_normal", optimizer="adam", num_classes=1, max_words=max_words):
    """A Sequential MLP of n_dense hidden layers; selu wants AlphaDropout and lecun_normal."""
    model = Sequential()
    model.add(Dense(dense_units, input_shape=(max_words,), kernel_initializer=kernel_initializer))
    model.add(Activation(activation))
    model.add(dropout(dropout_rate))
    for _ in range(n_dense - 1):
        model.add(Dense(dense_units, kernel_initializer=kernel_initializer))
        model.add(Activation(activation))
        model.add(dropout(dropout_rate))
    model.add(Dense(num_classes))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


print("Loading data...")
(x_train, y_train), (x_test, y_test) = load_data(args.data)
num_classes = int(np.max(y_train)) + 1
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")
print(num_classes, "classes")

tokenizer = Tokenizer(num_words=max_words)
x_train = tokenizer.sequences_to_matrix(x_train, mode="binary")
x_test = tokenizer.sequences_to_matrix(x_test, mode="binary")
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
print("x_train shape:", x_train.shape)

for name, settings in (("selu", dict(activation="selu", dropout=AlphaDropout, dropout_rate=0.1,
                                      kernel_initializer="lecun_normal")),
                       ("relu", dict(activation="relu", dropout=Dropout, dropout_rate=0.5,
                                      kernel_initializer="glorot_uniform"))):
    print("Network with", name)
    model = create_network(num_classes=num_classes, **settings)
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=1, validation_split=0.1)
    score = model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)
    print("%s Test loss: %s" % (name, score[0]))
    print("%s Test accuracy: %s" % (name, score[1]))
