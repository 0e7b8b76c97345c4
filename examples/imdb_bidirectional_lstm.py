"""Trains a bidirectional LSTM on the IMDB sentiment classification task.

    python examples/imdb_bidirectional_lstm.py [--epochs 4] [--limit N] [--data imdb_standin.npz]

Embedding(20000, 128, mask_zero=True) - Bidirectional(LSTM(64)) - Dropout(0.5) -
Dense(1, sigmoid), reviews cut to 100 words, adam, batch 32: about 0.84 test accuracy after
4 epochs. Padding (index 0) is masked, so both directions skip it. The IMDB data is
downloaded once by seqnet.datasets.imdb.load_data() into ~/.keras/datasets (or
$KERAS_HOME/datasets).

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options: --epochs and --batch-size; --limit keeps only the first N training and test
reviews; --data reads x_train, y_train, x_test, y_test from an .npz file instead of
downloading IMDB (each x row a review as word indices below 20000, right-padded with 0).
"""
from __future__ import print_function

import argparse

import numpy as np

from seqnet.datasets import imdb
from seqnet.layers import LSTM, Bidirectional, Dense, Dropout, Embedding
from seqnet.models import Sequential
from seqnet.preprocessing import sequence

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test reviews")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of IMDB)")
args = parser.parse_args()

max_features = 20000
maxlen = 100  # cut texts after this number of words (among top max_features most common words)
batch_size = args.batch_size


def load_data(path=None):
    if path is None:
        return imdb.load_data(num_words=max_features)
    with np.load(path) as f:
        return tuple(([[int(w) for w in row if w] for row in f["x_" + part]], f["y_" + part])
                     for part in ("train", "test"))


print("Loading data...")
(x_train, y_train), (x_test, y_test) = load_data(args.data)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
print(len(x_train), "train sequences")
print(len(x_test), "test sequences")

print("Pad sequences (samples x time)")
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)
print("x_train shape:", x_train.shape)
print("x_test shape:", x_test.shape)
y_train = np.array(y_train)
y_test = np.array(y_test)

model = Sequential()
model.add(Embedding(max_features, 128, input_length=maxlen, mask_zero=True))
model.add(Bidirectional(LSTM(64)))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))

# try using different optimizers and different optimizer configs
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])

print("Train...")
model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=args.epochs,
          validation_data=[x_test, y_test])
score, acc = model.evaluate(x_test, y_test, batch_size=batch_size)
print("Test score:", score)
print("Test accuracy:", acc)
