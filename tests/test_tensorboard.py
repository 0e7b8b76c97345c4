"""TensorBoard callback: the event files are valid TFRecords (checked with the published
CRC-32C test vector) holding the history's scalars per epoch. (TensorFlow's own
summary_iterator reads these files; that check is run by hand, as CI has no TensorFlow.)"""
import glob
import struct

import numpy as np
import pytest

import seqnet as keras
from seqnet.callbacks.tensorboard import crc32c, masked_crc32c
from seqnet.layers import Dense


def read_varint(buf, pos):
    shift = value = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def parse_fields(buf):
    """{field number: [values]} of a protobuf message (wire types 0, 1, 2, 5)."""
    fields, pos = {}, 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack("<d", buf[pos:pos + 8])[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack("<f", buf[pos:pos + 4])[0], pos + 4
        else:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        fields.setdefault(number, []).append(value)
    return fields


def read_events(path):
    with open(path, "rb") as f:
        data = f.read()
    pos, events = 0, []
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8:pos + 12])[0] == masked_crc32c(header)
        payload = data[pos + 12:pos + 12 + length]
        assert struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])[0] == masked_crc32c(payload)
        events.append(parse_fields(payload))
        pos += 16 + length
    return events


def test_crc32c_matches_the_published_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C (Castagnoli) check value


def test_event_file_holds_the_history_per_epoch(tmp_path):
    x = np.random.RandomState(0).rand(40, 4)
    y = keras.utils.to_categorical(np.arange(40) % 3, 3)
    model = keras.Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[keras.callbacks.TensorBoard(str(tmp_path))])
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    events = read_events(path)
    assert events[0][3] == [b"brain.Event:2"]
    scalars = {}
    for event in events[1:]:
        value = parse_fields(parse_fields(event[5][0])[1][0])
        if 2 not in value:  # not a scalar: the model graph (write_graph=True)
            continue
        scalars.setdefault(value[1][0].decode(), []).append((event[2][0], value[2][0]))
    assert sorted(scalars) == sorted(history.history)
    for name, values in history.history.items():
        assert [step for step, _ in scalars[name]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in scalars[name]], values, rtol=1e-6)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="histogram_freq"):
        keras.callbacks.TensorBoard(histogram_freq=-1)
    with pytest.raises(ValueError, match="batch_size"):
        keras.callbacks.TensorBoard(batch_size=0)
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq="often")
