"""TensorBoard: write the training curves as TensorFlow event files (scalars), readable by
TensorBoard, without depending on TensorFlow.

An event file is a sequence of TFRecords (length, masked CRC-32C, payload, masked CRC-32C),
each payload a serialized ``tensorflow.Event`` protobuf; the few fields needed are encoded
here by hand.
"""
import os
import socket
import struct
import time

from seqnet.callbacks.callback import Callback


class TensorBoard(Callback):
    """Logs every metric of ``logs`` (loss, accuracy, val_*, lr...) as a scalar, per epoch
    (``update_freq='epoch'``), per batch (``'batch'``), or every N samples (an integer), as
    Keras 2.2.4 does, into ``log_dir``. Histograms, graphs, images and embeddings are not
    written (histogram_freq > 0 and embeddings_freq > 0 raise ValueError)."""

    def __init__(self, log_dir="./logs", histogram_freq=0, batch_size=32, write_graph=True, write_grads=False,
                 write_images=False, embeddings_freq=0, embeddings_layer_names=None, embeddings_metadata=None,
                 embeddings_data=None, update_freq="epoch"):
        super().__init__()
        if histogram_freq:
            raise ValueError("TensorBoard: histogram_freq > 0 is not supported by seqnet (scalars only)")
        if embeddings_freq:
            raise ValueError("TensorBoard: embeddings_freq > 0 is not supported by seqnet (scalars only)")
        if update_freq not in ("epoch", "batch") and (isinstance(update_freq, bool)
                                                     or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer, "
                             f"got {update_freq!r}")
        self.log_dir = str(log_dir)
        self.update_freq = update_freq
        self.writer = None
        self.samples_seen = 0
        self.samples_seen_at_last_write = 0

    def on_train_begin(self, logs=None):
        if self.writer is None:
            self.writer = EventFileWriter(self.log_dir)

    def on_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self.writer is None:
            return
        logs = logs or {}
        self.samples_seen += logs.get("size", 1)
        if self.update_freq == "batch" or self.samples_seen - self.samples_seen_at_last_write >= self.update_freq:
            self._write({"batch_" + k: v for k, v in logs.items() if k not in ("batch", "size")}, self.samples_seen)
            self.samples_seen_at_last_write = self.samples_seen

    def on_epoch_end(self, epoch, logs=None):
        if self.writer is None:
            self.writer = EventFileWriter(self.log_dir)
        step = epoch if self.update_freq == "epoch" else self.samples_seen
        self._write({k: v for k, v in (logs or {}).items() if k not in ("batch", "size")}, step)

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _write(self, values, step):
        for name, value in values.items():
            try:
                self.writer.add_scalar(name, float(value), step)
            except (TypeError, ValueError):
                continue  # non-numeric log entries are not scalars
        self.writer.flush()


class EventFileWriter:
    """Appends scalar summaries to ``events.out.tfevents.<time>.<host>`` in ``log_dir``."""

    def __init__(self, log_dir):
        os.makedirs(log_dir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}"
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self._write_event(_event(time.time(), 0, file_version="brain.Event:2"))

    def add_scalar(self, tag, value, step):
        self._write_event(_event(time.time(), int(step), summary=_field_bytes(1, _scalar_value(tag, value))))

    def _write_event(self, payload):
        header = struct.pack("<Q", len(payload))
        self._file.write(header + struct.pack("<I", masked_crc32c(header)) + payload
                         + struct.pack("<I", masked_crc32c(payload)))

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()


# ---- the protobuf fields of tensorflow.Event / Summary / Summary.Value --------------------
def _varint(n):
    out = bytearray()
    n &= 0xFFFFFFFFFFFFFFFF
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_bytes(number, data):
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _scalar_value(tag, value):
    # Summary.Value: tag = 1 (string), simple_value = 2 (float)
    return _field_bytes(1, tag.encode("utf-8")) + _varint(2 << 3 | 5) + struct.pack("<f", value)


def _event(wall_time, step, file_version=None, summary=None):
    # Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time) + _varint(2 << 3 | 0) + _varint(step)
    if file_version is not None:
        out += _field_bytes(3, file_version.encode("ascii"))
    if summary is not None:
        out += _field_bytes(5, summary)
    return out


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
