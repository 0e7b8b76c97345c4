"""A convnet with BatchNormalization on MNIST: conv - batch norm - relu blocks.

    python examples/mnist_cnn_batchnorm.py [--epochs 5] [--limit N] [--data mnist_standin.npz]

[Conv2D(32, 3x3) - BatchNormalization - relu] x2 - MaxPooling2D - [Conv2D(64, 3x3) -
BatchNormalization - relu] - MaxPooling2D - Flatten - Dense(128) - BatchNormalization - relu -
Dropout(0.3) - Dense(10, softmax), adam, batch 128: about 99.3% test accuracy after 5
epochs. The convolutions have no bias (the batch norm's beta takes its place). MNIST is
downloaded once by seqnet.datasets.mnist.load_data().

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options: --epochs, --batch-size, --limit (first N samples), --data (x_train, y_train,
x_test, y_test in an .npz instead of downloading MNIST).
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet.datasets import mnist
from seqnet.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D)
from seqnet.models import Sequential

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test samples")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of MNIST)")
args = parser.parse_args()

num_classes = 10


def load_data(path=None):
    if path is None:
        return mnist.load_data()
    with np.load(path) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


(x_train, y_train), (x_test, y_test) = load_data(args.data)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)


def conv_block(model, filters, **kwargs):
    model.add(Conv2D(filters, (3, 3), use_bias=False, **kwargs))
    model.add(BatchNormalization())
    model.add(Activation("relu"))


model = Sequential()
conv_block(model, 32, input_shape=(28, 28, 1))
conv_block(model, 32)
model.add(MaxPooling2D(pool_size=(2, 2)))
conv_block(model, 64)
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(128, use_bias=False))
model.add(BatchNormalization())
model.add(Activation("relu"))
model.add(Dropout(0.3))
model.add(Dense(num_classes, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.summary()

model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
