"""Layer wrappers (``seqnet.layers.wrappers``, the Keras 2.2 module path): TimeDistributed
and Bidirectional, on their base class Wrapper."""
from seqnet.layers.wrappers.bidirectional import Bidirectional
from seqnet.layers.wrappers.time_distributed import TimeDistributed
from seqnet.layers.wrappers.wrapper import Wrapper

__all__ = ["Bidirectional", "TimeDistributed", "Wrapper"]
