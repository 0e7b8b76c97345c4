"""Data preprocessing (``seqnet.preprocessing``): sequence padding, text tokenisation and
real-time image augmentation."""
from seqnet.preprocessing import image, sequence, text

__all__ = ["image", "sequence", "text"]
