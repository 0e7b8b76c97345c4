"""Advanced activation layers (``seqnet.layers.advanced_activations``, the Keras 2.2 module path)."""
from seqnet.layers.advanced_activations.elu import ELU
from seqnet.layers.advanced_activations.leaky_relu import LeakyReLU
from seqnet.layers.advanced_activations.prelu import PReLU
from seqnet.layers.advanced_activations.relu import ReLU
from seqnet.layers.advanced_activations.softmax import Softmax
from seqnet.layers.advanced_activations.thresholded_relu import ThresholdedReLU

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU"]
