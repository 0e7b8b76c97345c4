"""Wrappers for other libraries (``seqnet.wrappers``)."""
