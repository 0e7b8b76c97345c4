"""TensorFlow event files without TensorFlow.

An event file is a sequence of TFRecords (length, masked CRC-32C, payload, masked CRC-32C),
each payload a serialized ``Event`` protobuf. The few messages the TensorBoard callback
needs are encoded here by hand, with the field numbers of tensorboard's
``compat/proto/{event,summary,histogram,tensor}.proto``: ``Summary.Value`` holding a scalar,
a ``HistogramProto`` (TensorFlow's default buckets), a ``Summary.Image`` (8-bit grayscale
PNG) or a string ``TensorProto`` with plugin metadata.
"""
import os
import socket
import struct
import sys
import time
import zlib

import numpy as np


class EventFileWriter:
    """Appends events to ``events.out.tfevents.<time>.<host>.<pid>`` in ``log_dir``."""

    def __init__(self, log_dir):
        os.makedirs(log_dir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}"
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")
        self._write_event(_event(time.time(), 0, file_version="brain.Event:2"))

    def add_scalar(self, tag, value, step):
        self.add_summary([scalar_value(tag, value)], step)

    def add_summary(self, values, step):
        """One event at `step` whose Summary holds `values` (encoded Summary.Value messages)."""
        summary = b"".join(_field_bytes(1, v) for v in values)
        self._write_event(_event(time.time(), int(step), summary=summary))

    def _write_event(self, payload):
        header = struct.pack("<Q", len(payload))
        self._file.write(header + struct.pack("<I", masked_crc32c(header)) + payload
                         + struct.pack("<I", masked_crc32c(payload)))

    def flush(self):
        self._file.flush()

    def close(self):
        self._file.close()

    def __del__(self):  # a fit that raised never reached on_train_end: close quietly
        f = getattr(self, "_file", None)
        if f is not None and not f.closed:
            f.close()


# ---- Summary.Value: tag = 1, simple_value = 2, image = 4, histo = 5, tensor = 8, metadata = 9 ----
def scalar_value(tag, value):
    return _field_bytes(1, tag.encode("utf-8")) + _key(2, 5) + struct.pack("<f", value)


def histogram_value(tag, values):
    """A histogram of `values` as TensorFlow's histogram summary writes it; ValueError for
    NaN or infinity (TensorFlow's op refuses them too)."""
    return _field_bytes(1, tag.encode("utf-8")) + _field_bytes(5, histogram_proto(values, tag))


def image_value(tag, pixels):
    """An 8-bit grayscale image (a 2-D uint8 array) as Summary.Image: height = 1, width = 2,
    colorspace = 3 (1: grayscale), encoded_image_string = 4 (PNG)."""
    height, width = pixels.shape
    image = (_key(1, 0) + _varint(height) + _key(2, 0) + _varint(width) + _key(3, 0) + _varint(1)
             + _field_bytes(4, encode_png(pixels)))
    return _field_bytes(1, tag.encode("utf-8")) + _field_bytes(4, image)


def text_tensor_value(tag, text, plugin_name, content=b""):
    """A scalar string tensor (TensorProto: dtype = 1 (DT_STRING = 7), string_val = 8) with
    SummaryMetadata.plugin_data (plugin_name = 1, content = 2)."""
    plugin_data = _field_bytes(1, plugin_name.encode("utf-8")) + _field_bytes(2, content)
    tensor = _key(1, 0) + _varint(7) + _field_bytes(2, b"") + _field_bytes(8, text.encode("utf-8"))
    metadata = _field_bytes(1, plugin_data)
    return _field_bytes(1, tag.encode("utf-8")) + _field_bytes(9, metadata) + _field_bytes(8, tensor)


# ---- HistogramProto ---------------------------------------------------------------------------
def _default_bucket_limits():
    # tensorflow/core/lib/histogram/histogram.cc: limits growing by 10% from 1e-12 to 1e20,
    # mirrored for negative values, with 0 and +-DBL_MAX; the same doubles, built the same way.
    positive = []
    v = 1.0e-12
    while v < 1.0e20:
        positive.append(v)
        v *= 1.1
    positive.append(sys.float_info.max)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive, dtype=np.float64)


BUCKET_LIMITS = _default_bucket_limits()


def histogram_fields(values, tag="histogram"):
    """(min, max, num, sum, sum_squares, bucket_limit, bucket) of `values` in float64, as
    TensorFlow's Histogram::EncodeToProto writes them: bucket i counts the values in
    [limit[i-1], limit[i]), and each run of empty buckets is written as one (its last limit, 0)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError(f"TensorBoard: NaN or infinity in the values of histogram '{tag}'")
    if v.size == 0:
        return (float(BUCKET_LIMITS[-1]), -float(BUCKET_LIMITS[-1]), 0.0, 0.0, 0.0,
                BUCKET_LIMITS[-1:], np.zeros(1))
    index = np.minimum(np.searchsorted(BUCKET_LIMITS, v, side="right"), len(BUCKET_LIMITS) - 1)
    counts = np.bincount(index, minlength=len(BUCKET_LIMITS)).astype(np.float64)
    filled = counts > 0
    keep = filled | np.append(filled[1:], True)  # a filled bucket, or the last of an empty run
    return (float(v.min()), float(v.max()), float(v.size), float(v.sum()), float(np.dot(v, v)),
            BUCKET_LIMITS[keep], counts[keep])


def histogram_proto(values, tag="histogram"):
    """HistogramProto: min = 1, max = 2, num = 3, sum = 4, sum_squares = 5 (doubles),
    bucket_limit = 6, bucket = 7 (packed doubles)."""
    lo, hi, num, total, squares, limits, counts = histogram_fields(values, tag)
    out = b"".join(_key(n, 1) + struct.pack("<d", x) for n, x in ((1, lo), (2, hi), (3, num), (4, total),
                                                                  (5, squares)))
    return (out + _field_bytes(6, limits.astype("<f8").tobytes())
            + _field_bytes(7, counts.astype("<f8").tobytes()))


# ---- PNG (8-bit grayscale) ---------------------------------------------------------------------
def encode_png(pixels):
    """A 2-D uint8 array as a PNG file (colour type 0, bit depth 8, no interlace), every row
    with filter type 0."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim != 2 or pixels.shape[0] < 1 or pixels.shape[1] < 1:
        raise ValueError(f"encode_png: expected a non-empty 2-D uint8 array, got shape {pixels.shape}")
    height, width = pixels.shape
    raw = np.concatenate([np.zeros((height, 1), np.uint8), pixels], axis=1).tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


# ---- protobuf wire format ----------------------------------------------------------------------
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


def _key(number, wire_type):
    return _varint(number << 3 | wire_type)


def _field_bytes(number, data):
    return _key(number, 2) + _varint(len(data)) + data


def _event(wall_time, step, file_version=None, summary=None):
    # Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5
    out = _key(1, 1) + struct.pack("<d", wall_time) + _key(2, 0) + _varint(step)
    if file_version is not None:
        out += _field_bytes(3, file_version.encode("ascii"))
    if summary is not None:
        out += _field_bytes(5, summary)
    return out


# ---- masked CRC-32C of the TFRecord framing -------------------------------------------------------
def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()
_TABLE_NP = np.array(_TABLE, dtype=np.uint32)
_CHUNK = 256  # bytes per chunk of the vectorized CRC


def _zero_shift_tables():
    """Four byte tables of the linear map "run the CRC register over _CHUNK zero bytes"."""
    reg = np.uint32(1) << np.arange(32, dtype=np.uint32)  # the 32 basis registers
    for _ in range(_CHUNK):
        reg = _TABLE_NP[reg & 0xFF] ^ (reg >> 8)
    bits = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)
    return [np.bitwise_xor.reduce(np.where(bits, reg[8 * b:8 * b + 8], 0).astype(np.uint32), axis=1).tolist()
            for b in range(4)]


_SHIFT = _zero_shift_tables()


def _crc32c_update(crc, data):
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def crc32c(data):
    """CRC-32C (Castagnoli) of `data`. Long inputs run as _CHUNK-byte chunks in parallel
    (NumPy), each from a zero register, combined in order: register = shift(register) ^ chunk's."""
    data = bytes(data)
    chunks = len(data) // _CHUNK
    if chunks < 16:
        return _crc32c_update(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    columns = np.frombuffer(data, np.uint8, count=chunks * _CHUNK).reshape(chunks, _CHUNK).T.copy()
    reg = np.zeros(chunks, dtype=np.uint32)
    for column in columns:
        reg = _TABLE_NP[(reg ^ column) & 0xFF] ^ (reg >> 8)
    t0, t1, t2, t3 = _SHIFT
    crc = 0xFFFFFFFF
    for r in reg.tolist():
        crc = t0[crc & 0xFF] ^ t1[(crc >> 8) & 0xFF] ^ t2[(crc >> 16) & 0xFF] ^ t3[crc >> 24] ^ r
    return _crc32c_update(crc, data[chunks * _CHUNK:]) ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
