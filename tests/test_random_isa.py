"""Dropout's Philox4x32-10 generator, vectorised per instruction set, against a NumPy reference
of the generator and of the mask mapping (element l of 4096-element chunk c of a stream uses word
l // 1024 of block c * 1024 + l % 1024; kept when its top 24 bits reach rate * 2**24), for many
keys, streams, offsets and lengths (vector tails, chunk edges, a block counter crossing 2**32)."""
import numpy as np
import pytest

from numeric_helpers import AVAILABLE_ISAS
from seqnet import _engine as E

M0, M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
W0, W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
LOW = np.uint64(0xFFFFFFFF)


def philox(position, stream, key):
    """The four words (4, len(position)) of Philox4x32-10 blocks, in uint64 arithmetic."""
    position = np.asarray(position, np.uint64)
    c0, c1 = position & LOW, position >> np.uint64(32)
    c2 = np.full_like(c0, stream & 0xFFFFFFFF)
    c3 = np.full_like(c0, stream >> 32)
    k0, k1 = np.uint64(key & 0xFFFFFFFF), np.uint64(key >> 32)
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & LOW, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & LOW)
        k0, k1 = (k0 + W0) & LOW, (k1 + W1) & LOW
    return np.stack([c0, c1, c2, c3])


def reference_mask(n, rate, key, stream, offset):
    g = np.arange(offset, offset + n, dtype=np.uint64)
    chunk, local = g // np.uint64(4096), g % np.uint64(4096)
    words = philox(chunk * np.uint64(1024) + local % np.uint64(1024), stream, key)
    word = words[(local // np.uint64(1024)).astype(np.int64), np.arange(n)]
    threshold = np.uint64(np.ceil(np.float32(rate) * np.float32(16777216.0)))
    return ((word >> np.uint64(8)) >= threshold).astype(np.uint8)


def dropout(x, rate, key, stream, offset):
    y = np.empty_like(x)
    mask = np.empty(x.shape, np.uint8)
    E.dropout_forward(x, y, mask, rate, key, stream, offset)
    return y, mask


def test_philox_reference_known_answer():
    # Salmon et al.'s Random123 known-answer vector for philox4x32-10 (ctr = key = 0 words)
    assert [int(v) for v in philox([0], 0, 0)[:, 0]] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


CASES = [(n, off) for n in (1, 7, 15, 16, 17, 31, 1000, 1023, 1025, 4095, 4096, 4097, 9000)
         for off in (0, 1, 13, 1024, 4090, 4096 * 3 + 1000)] + [(70000, 5), (200000, 0), (5000, 2**34 + 4000)]


@pytest.mark.parametrize("n,offset", CASES)
def test_dropout_mask_matches_reference(n, offset, isa):
    rng = np.random.default_rng(n + offset)
    x = rng.standard_normal(n).astype(np.float32)
    for key, stream, rate in ((0, 0, 0.5), (0x123456789ABCDEF, 7, 0.25), (2**64 - 1, 2**63 + 5, 0.9)):
        y, mask = dropout(x, rate, key, stream, offset)
        expected = reference_mask(n, rate, key, stream, offset)
        np.testing.assert_array_equal(mask, expected)
        scale = np.float32(1.0) / (np.float32(1.0) - np.float32(rate))
        assert y.tobytes() == np.where(expected == 1, x * scale, np.float32(0)).astype(np.float32).tobytes()


def test_block_counter_crossing_2_pow_32(isa):
    # chunk 2**22 - 1 ends at block 2**32 - 1; the next chunk starts at block 2**32 (high word 1)
    offset = (2**22 - 1) * 4096 + 100
    n = 9000
    x = np.ones(n, np.float32)
    _, mask = dropout(x, 0.5, 99, 3, offset)
    np.testing.assert_array_equal(mask, reference_mask(n, 0.5, 99, 3, offset))


def test_slices_and_isas_and_threads_agree(restore_isa, restore_threads):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(300000).astype(np.float32)
    results = []
    for isa in AVAILABLE_ISAS:
        assert E.set_isa(isa) == isa
        for threads in (1, 2):
            E.set_num_threads(threads)
            y, mask = dropout(x, 0.3, 42, 9, 0)
            # any slice drawn at its offset is the same part of the whole
            ys, ms = dropout(x[12345:200001], 0.3, 42, 9, 12345)
            assert ys.tobytes() == y[12345:200001].tobytes() and ms.tobytes() == mask[12345:200001].tobytes()
            results.append((y.tobytes(), mask.tobytes()))
    assert all(r == results[0] for r in results)
