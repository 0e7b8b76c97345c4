"""TerminateOnNaN: stop training as soon as the loss is NaN or infinite."""
import numpy as np

from seqnet.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` after the first batch whose loss is NaN or inf (Keras 2.2.4)."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            print("Batch %d: Invalid loss, terminating training" % batch)
            self.model.stop_training = True
