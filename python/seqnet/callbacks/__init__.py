"""Callbacks (``seqnet.callbacks``)."""
from seqnet.callbacks.callback import Callback, CallbackList
from seqnet.callbacks.history import BaseLogger, History, ProgbarLogger

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger"]
