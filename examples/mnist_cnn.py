"""Trains a simple convnet on the MNIST dataset.

    python examples/mnist_cnn.py [--epochs 12] [--limit N] [--data mnist_standin.npz]

Conv2D(32)-Conv2D(64)-MaxPooling2D-Dropout-Dense(128)-Dropout-Dense(10) trained with
Adadelta, batch 128, 12 epochs: gets to about 99.25% test accuracy after 12 epochs (there
is still a lot of margin for parameter tuning). The MNIST data is downloaded once by
seqnet.datasets.mnist.load_data() into ~/.keras/datasets (or $KERAS_HOME/datasets).

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options (the defaults are the classic values): --epochs and --batch-size; --limit keeps only
the first N training and test samples; --data reads the arrays x_train, y_train, x_test,
y_test from an .npz file instead of downloading MNIST (the tests use it with a tiny
stand-in).
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet import backend as K
from seqnet.datasets import mnist
from seqnet.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from seqnet.models import Sequential

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test samples")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of MNIST)")
args = parser.parse_args()

batch_size = args.batch_size
num_classes = 10
epochs = args.epochs

# input image dimensions
img_rows, img_cols = 28, 28


def load_data(path=None):
    if path is None:
        return mnist.load_data()
    with np.load(path) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = load_data(args.data)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]

if K.image_data_format() == "channels_first":
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype("float32")
x_test = x_test.astype("float32")
x_train /= 255
x_test /= 255
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation="relu",
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation="relu"))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation="softmax"))

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(),
              metrics=["accuracy"])

model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
