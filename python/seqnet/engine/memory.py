"""Buffers the engine's kernels read and write whole cache lines of."""
import numpy as np

# A cache line: kernels may write a 64-byte-aligned vector with a streaming store (it bypasses the
# caches), which NumPy's own allocations (16 bytes past a 64-byte boundary here) never allow.
ALIGNMENT = 64


def aligned_empty(shape, dtype=np.float32):
    """np.empty(shape, dtype) whose data starts on a 64-byte boundary (a view of a slightly
    larger allocation, which it keeps alive)."""
    dtype = np.dtype(dtype)
    shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT
    return raw[offset:offset + nbytes].view(dtype).reshape(shape)
