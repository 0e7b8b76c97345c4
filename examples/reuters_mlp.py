"""Trains and evaluates a simple MLP on the Reuters newswire topic classification task.

    python examples/reuters_mlp.py [--epochs 5] [--limit N] [--data reuters_standin.npz]

Each newswire becomes a binary bag of its 1,000 most common words
(Tokenizer.sequences_to_matrix), classified into 46 topics by Dense(512)-ReLU-Dropout(0.5)-
Dense(46)-softmax with adam, batch 32, 5 epochs, 10% of the training set held out for
validation: about 78-80% test accuracy. The Reuters data is downloaded once by
seqnet.datasets.reuters.load_data() into ~/.keras/datasets (or $KERAS_HOME/datasets).

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options (the defaults are the classic values): --epochs and --batch-size; --limit keeps only
the first N training and test newswires; --data reads x_train, y_train, x_test, y_test from
an .npz file instead of downloading Reuters (the tests use it with a tiny stand-in): each x
row a newswire as word indices, right-padded with 0.
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet.datasets import reuters
from seqnet.layers import Activation, Dense, Dropout
from seqnet.models import Sequential
from seqnet.preprocessing.text import Tokenizer

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test newswires")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of Reuters)")
args = parser.parse_args()

max_words = 1000
batch_size = args.batch_size
epochs = args.epochs


def load_data(path=None):
    if path is None:
        return reuters.load_data(num_words=max_words, test_split=0.2)
    with np.load(path) as f:
        return tuple((without_padding(f["x_" + part]), f["y_" + part]) for part in ("train", "test"))


def without_padding(rows):
    return [[int(w) for w in row if w] for row in rows]


print("Loading data...")
(x_train, y_train), (x_test, y_test) = load_data(args.data)
num_classes = np.max(y_train) + 1  # over the whole training set, so --limit keeps all 46
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")
print(num_classes, "classes")

print("Vectorizing sequence data...")
tokenizer = Tokenizer(num_words=max_words)
x_train = tokenizer.sequences_to_matrix(x_train, mode="binary")
x_test = tokenizer.sequences_to_matrix(x_test, mode="binary")
print("x_train shape:", x_train.shape)
print("x_test shape:", x_test.shape)

print("Convert class vector to binary class matrix "
      "(for use with categorical_crossentropy)")
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
print("y_train shape:", y_train.shape)
print("y_test shape:", y_test.shape)

print("Building model...")
model = Sequential()
model.add(Dense(512, input_shape=(max_words,)))
model.add(Activation("relu"))
model.add(Dropout(0.5))
model.add(Dense(num_classes))
model.add(Activation("softmax"))

model.compile(loss="categorical_crossentropy",
              optimizer="adam",
              metrics=["accuracy"])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_split=0.1)
score = model.evaluate(x_test, y_test,
                       batch_size=batch_size, verbose=1)
print("Test score:", score[0])
print("Test accuracy:", score[1])
