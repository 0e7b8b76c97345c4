"""Data preprocessing (``seqnet.preprocessing``): sequence padding and text tokenisation."""
from seqnet.preprocessing import sequence, text

__all__ = ["sequence", "text"]
