"""Noise layers (``seqnet.layers.noise``, the Keras 2.2 module path): active in training only."""
from seqnet.layers.noise.alpha_dropout import AlphaDropout
from seqnet.layers.noise.gaussian_dropout import GaussianDropout
from seqnet.layers.noise.gaussian_noise import GaussianNoise

__all__ = ["AlphaDropout", "GaussianDropout", "GaussianNoise"]
