"""Callbacks (``seqnet.callbacks``)."""
from seqnet.callbacks.callback import Callback, CallbackList
from seqnet.callbacks.csv_logger import CSVLogger
from seqnet.callbacks.early_stopping import EarlyStopping
from seqnet.callbacks.history import BaseLogger, History, ProgbarLogger
from seqnet.callbacks.lambda_callback import LambdaCallback
from seqnet.callbacks.learning_rate_scheduler import LearningRateScheduler
from seqnet.callbacks.model_checkpoint import ModelCheckpoint
from seqnet.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from seqnet.callbacks.tensorboard import TensorBoard
from seqnet.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "BaseLogger", "History", "ProgbarLogger", "EarlyStopping",
           "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "LambdaCallback", "TerminateOnNaN",
           "ModelCheckpoint", "TensorBoard"]
