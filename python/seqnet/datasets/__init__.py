"""Data sets (``seqnet.datasets``): Keras' loaders (downloaded once into ~/.keras/datasets,
an existing copy reused) and the handwritten digits shipped with seqnet for offline use."""
from seqnet.datasets import boston_housing, cifar10, cifar100, digits, fashion_mnist, imdb, mnist, reuters

__all__ = ["boston_housing", "cifar10", "cifar100", "digits", "fashion_mnist", "imdb", "mnist", "reuters"]
