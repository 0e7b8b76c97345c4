"""seqnet: the Keras 2 Sequential API on a native C++ engine."""
from seqnet import _engine

__version__ = "0.1.0"
