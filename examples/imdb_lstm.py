"""Trains an LSTM model on the IMDB sentiment classification task.

    python examples/imdb_lstm.py [--epochs 15] [--limit N] [--data imdb_standin.npz]

Embedding(20000, 128) - LSTM(128, dropout=0.2, recurrent_dropout=0.2) - Dense(1, sigmoid),
reviews cut to their last 80 words, adam, batch 32, 15 epochs: about 82-83% test accuracy
(it peaks near 84% after the first couple of epochs, then overfits). The IMDB data is
downloaded once by seqnet.datasets.imdb.load_data() into ~/.keras/datasets (or
$KERAS_HOME/datasets).

The dataset is actually too small for LSTM to be of any advantage compared to simpler,
much faster methods such as TF-IDF + LogReg.

Notes:
- RNNs are tricky. Choice of batch size is important, choice of loss and optimizer is
  critical, etc. Some configurations won't converge.
- LSTM loss decrease patterns during training can be quite different from what you see
  with CNNs/MLPs/etc.

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options (the defaults are the classic values): --epochs and --batch-size; --limit keeps only
the first N training and test reviews; --data reads x_train, y_train, x_test, y_test from an
.npz file instead of downloading IMDB (the tests use it with a tiny stand-in): each x row a
review as word indices below 20000, right-padded with 0.
"""
from __future__ import print_function

import argparse

import numpy as np

from seqnet.datasets import imdb
from seqnet.layers import LSTM, Dense, Embedding
from seqnet.models import Sequential
from seqnet.preprocessing import sequence

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test reviews")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of IMDB)")
args = parser.parse_args()

max_features = 20000
# cut texts after this number of words (among top max_features most common words)
maxlen = 80
batch_size = args.batch_size


def load_data(path=None):
    if path is None:
        return imdb.load_data(num_words=max_features)
    with np.load(path) as f:
        return tuple((without_padding(f["x_" + part]), f["y_" + part]) for part in ("train", "test"))


def without_padding(rows):
    return [[int(w) for w in row if w] for row in rows]


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

print("Build model...")
model = Sequential()
model.add(Embedding(max_features, 128))
model.add(LSTM(128, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation="sigmoid"))

# try using different optimizers and different optimizer configs
model.compile(loss="binary_crossentropy",
              optimizer="adam",
              metrics=["accuracy"])

print("Train...")
model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=args.epochs,
          validation_data=(x_test, y_test))
score, acc = model.evaluate(x_test, y_test,
                            batch_size=batch_size)
print("Test score:", score)
print("Test accuracy:", acc)
