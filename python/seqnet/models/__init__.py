"""Models (``seqnet.models``)."""
from seqnet.engine.training import Model
from seqnet.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
