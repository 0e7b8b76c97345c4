"""A convolutional autoencoder on MNIST: Conv2D + MaxPooling2D down to a 7x7x8 code, then
UpSampling2D and Conv2DTranspose back to the image; it also denoises.

    python examples/mnist_conv_autoencoder.py [--epochs 10] [--limit N] [--data mnist_standin.npz]

The encoder halves the image twice (28 -> 14 -> 7); the decoder doubles it back once with
UpSampling2D + Conv2D and once with a strided Conv2DTranspose. Trained on images with
Gaussian noise added and clean images as targets (binary cross-entropy per pixel, adam,
batch 128); the reconstruction loss on the test set falls to about 0.10 in 10 epochs. MNIST
is downloaded once by seqnet.datasets.mnist.load_data().

The same script runs on Keras 2 with `import keras` in place of `import seqnet as keras`.

Options: --epochs, --batch-size, --limit (first N samples), --data (x_train, y_train,
x_test, y_test in an .npz instead of downloading MNIST), --noise (the noise's stddev).
"""
from __future__ import print_function

import argparse

import numpy as np

import seqnet as keras
from seqnet.datasets import mnist
from seqnet.layers import Conv2D, Conv2DTranspose, Input, MaxPooling2D, UpSampling2D
from seqnet.models import Model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument("--limit", type=int, default=None, help="use only the first N train and test samples")
parser.add_argument("--data", default=None, help=".npz with x_train, y_train, x_test, y_test (instead of MNIST)")
parser.add_argument("--noise", type=float, default=0.5)
args = parser.parse_args()


def load_data(path=None):
    if path is None:
        return mnist.load_data()
    with np.load(path) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


(x_train, _), (x_test, _) = load_data(args.data)
if args.limit:
    x_train, x_test = x_train[:args.limit], x_test[:args.limit]
x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
rng = np.random.RandomState(1337)
keras.utils.set_random_seed(1337)
noisy_train = np.clip(x_train + args.noise * rng.normal(size=x_train.shape), 0.0, 1.0).astype("float32")
noisy_test = np.clip(x_test + args.noise * rng.normal(size=x_test.shape), 0.0, 1.0).astype("float32")
print("x_train shape:", x_train.shape)

image = Input(shape=(28, 28, 1))
x = Conv2D(16, (3, 3), activation="relu", padding="same")(image)
x = MaxPooling2D((2, 2), padding="same")(x)
x = Conv2D(8, (3, 3), activation="relu", padding="same")(x)
code = MaxPooling2D((2, 2), padding="same")(x)  # (7, 7, 8)

x = UpSampling2D((2, 2))(code)
x = Conv2D(16, (3, 3), activation="relu", padding="same")(x)
x = Conv2DTranspose(16, (3, 3), strides=(2, 2), activation="relu", padding="same")(x)
decoded = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

autoencoder = Model(image, decoded)
autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
autoencoder.summary()
autoencoder.fit(noisy_train, x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True,
                validation_data=(noisy_test, x_test))
print("Test reconstruction loss:", autoencoder.evaluate(noisy_test, x_test, verbose=0))
encoder = Model(image, code)
print("Code shape:", encoder.predict(noisy_test[:2]).shape)
