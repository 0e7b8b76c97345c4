"""Trains the MNIST multi-layer perceptron data-parallel over MPI (seqnet.distribute).

    mpiexec -n 2 python examples/mnist_mlp_distributed.py [--epochs 20] [--limit N] [--data mnist.npz]

examples/mnist_mlp.py with Horovod's four changes: hvd.init(), the learning rate scaled by
the number of processes, hvd.DistributedOptimizer, and the weights of rank 0 broadcast
before training. Every process loads the same arrays; fit gives each one its slice of every
global batch of size() * 128 samples, so an epoch covers the data once and the result equals
one process with batch size() * 128. Only rank 0 prints the progress bar and the score.

Run with OMP_NUM_THREADS set to the cores per process (e.g. 2 processes on 8 cores: 4).
Options as mnist_mlp.py: --epochs, --batch-size (per process), --limit, --data (an .npz with
x_train, y_train, x_test, y_test instead of downloading MNIST).
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
import seqnet.distribute as hvd
from seqnet.datasets import mnist
from seqnet.layers import Dense, Dropout
from seqnet.models import Sequential
from seqnet.optimizers import RMSprop

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test samples")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of MNIST)")
args = parser.parse_args()

hvd.init()
num_classes = 10
verbose = 1 if hvd.rank() == 0 else 0


def load_data(path=None):
    if path is None:
        return mnist.load_data()
    with np.load(path) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


(x_train, y_train), (x_test, y_test) = load_data(args.data)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]
x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
if verbose:
    print(x_train.shape[0], "train samples on", hvd.size(), "processes")

model = Sequential()
model.add(Dense(512, activation="relu", input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation="relu"))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation="softmax"))
if verbose:
    model.summary()

# The global batch is size() times larger: scale the learning rate with it (Horovod's advice).
optimizer = hvd.DistributedOptimizer(RMSprop(lr=0.001 * hvd.size()))
model.compile(loss="categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])

model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=verbose,
          validation_data=(x_test, y_test),
          callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0), hvd.callbacks.MetricAverageCallback()])
score = model.evaluate(x_test, y_test, verbose=0)
if verbose:
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
