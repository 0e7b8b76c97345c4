"""Data sets (``seqnet.datasets``)."""
from seqnet.datasets import digits

__all__ = ["digits"]
