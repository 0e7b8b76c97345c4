"""CSVLogger: write each epoch's results as a row of a CSV file."""
import csv
import os
from collections.abc import Iterable

import numpy as np

from seqnet.callbacks.callback import Callback


class CSVLogger(Callback):
    """Streams the epoch logs to ``filename``: a header ``epoch,<sorted log keys>`` and one row
    per epoch (Keras 2.2.4). With ``append=True`` an existing file is continued, and the header
    is written only if the file was empty. Values that are sequences are written as
    ``"[a, b]"``; a value missing from an epoch is written as ``NA``.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        self.csv_file = open(self.filename, mode, newline="\n")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
        if not self.writer:
            class CustomDialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _format_value(logs[key]) if key in logs else "NA") for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
            self.csv_file = None
        self.writer = None


def _format_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return '"[%s]"' % ", ".join(map(str, value))
    return value
