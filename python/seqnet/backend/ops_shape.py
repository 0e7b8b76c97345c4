"""Backend ops that move, copy or select elements: reshape, transpose,
concatenate, stack, indexing, gather, tile, repeat, reverse, slice, padding,
one_hot and arange.

Each gradient puts every element of the result's gradient back where the
element came from (summing where one input element was copied several times).
"""
import builtins

import numpy as np

from .operands import as_array, normalize_axis, operand
from .ops import getitem
from .session import image_data_format
from .tensor import record


def reshape(x, shape):
    """``x`` with a new shape of the same size (one entry may be -1)."""
    a = as_array(x)
    return record(np.reshape(a, shape), (x,), lambda g: (np.reshape(g, a.shape),))


def flatten(x):
    """All elements in one axis, row-major (C order)."""
    return reshape(x, (-1,))


def batch_flatten(x):
    """(batch, ...) -> (batch, prod(...)); an empty batch stays empty."""
    a = as_array(x)
    if a.ndim < 1:
        raise ValueError(f"batch_flatten: x needs a batch axis, got a scalar of shape {a.shape}")
    # Explicit sizes, not -1, which NumPy cannot resolve when the batch is empty.
    return reshape(x, (a.shape[0], int(np.prod(a.shape[1:]))))


def expand_dims(x, axis=-1):
    """``x`` with a new axis of length 1 at ``axis`` (default: last)."""
    a = as_array(x)
    return reshape(x, np.expand_dims(a, axis).shape)


def squeeze(x, axis):
    """``x`` without ``axis``, which must have length 1 (ValueError otherwise)."""
    a = as_array(x)
    i = normalize_axis(axis, a.ndim, "squeeze")
    if a.shape[i] != 1:
        raise ValueError(f"squeeze: axis {axis} of x (shape {a.shape}) must have length 1, "
                         f"got {a.shape[i]}")
    return reshape(x, a.shape[:i] + a.shape[i + 1:])


def permute_dimensions(x, pattern):
    """The axes of ``x`` reordered: ``pattern[i]`` is the input axis that
    becomes axis i, e.g. (0, 2, 1) swaps the last two axes."""
    a = as_array(x)
    pattern = tuple(pattern)
    inverse = tuple(np.argsort(pattern))
    return record(np.transpose(a, pattern), (x,), lambda g: (np.transpose(g, inverse),))


def transpose(x):
    """Reverse the order of all axes (the matrix transpose for 2-D x)."""
    return permute_dimensions(x, tuple(reversed(range(as_array(x).ndim))))


def concatenate(tensors, axis=-1):
    """Join ``tensors`` along ``axis``; a negative axis counts from the rank of
    the first tensor (as Keras)."""
    arrays = [as_array(t) for t in tensors]
    if axis < 0:
        rank = arrays[0].ndim
        axis = axis % rank if rank else 0
    value = np.concatenate(arrays, axis=axis)
    bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
    return record(value, tuple(tensors), lambda g: tuple(np.split(g, bounds, axis=axis)))


def stack(x, axis=0):
    """Stack a list of same-shaped tensors along a new ``axis``."""
    arrays = [as_array(t) for t in x]
    value = np.stack(arrays, axis=axis)
    return record(value, tuple(x),
                  lambda g: tuple(np.moveaxis(g, axis, 0)[i] for i in range(len(arrays))))


def gather(reference, indices):
    """Rows of ``reference`` picked by integer ``indices`` (any shape): the
    result has shape ``indices.shape + reference.shape[1:]`` (an embedding
    lookup). The gradient adds each row's gradients back into its source row,
    so a row picked twice gets both."""
    a = as_array(reference)
    idx = np.asarray(operand(indices))
    if idx.dtype.kind not in "iu":
        if idx.size and not np.all(idx == np.round(idx)):
            raise ValueError(f"gather: indices must be integers, got dtype {idx.dtype}")
        idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= a.shape[0]):
        raise IndexError(f"gather: indices must lie in [0, {a.shape[0]}) (the first axis of "
                         f"reference, of shape {a.shape}); got min {idx.min()}, max {idx.max()}")
    value = a[idx]

    def backward(g):
        grad = np.zeros(a.shape, dtype=np.result_type(g, a))
        np.add.at(grad, idx, g)
        return grad, None

    return record(value, (reference, indices), backward)


def repeat_elements(x, rep, axis):
    """Repeat each element ``rep`` times along ``axis``, as np.repeat: along
    axis 1, [[a, b]] becomes [[a, a, b, b]] for rep=2."""
    a = as_array(x)
    axis = normalize_axis(axis, a.ndim, "repeat_elements")
    rep = _count(rep, "repeat_elements", "rep")
    value = np.repeat(a, rep, axis=axis)

    def backward(g):
        split = a.shape[:axis] + (a.shape[axis], rep) + a.shape[axis + 1:]
        return (np.reshape(g, split).sum(axis=axis + 1),)

    return record(value, (x,), backward)


def repeat(x, n):
    """A 2-D ``x`` of shape (batch, dim) repeated ``n`` times along a new
    axis 1: shape (batch, n, dim) (what RepeatVector does)."""
    a = as_array(x)
    if a.ndim != 2:
        raise ValueError(f"repeat: x must be 2-D (batch, dim), got shape {a.shape}")
    return tile(expand_dims(x, 1), (1, _count(n, "repeat", "n"), 1))


def tile(x, n):
    """``x`` repeated ``n[i]`` times along each axis i, as tf.tile: ``n`` is an
    int (for 1-D x) or one int per axis."""
    a = as_array(x)
    reps = [n] if isinstance(n, (int, np.integer)) else list(n)
    if len(reps) != a.ndim:
        raise ValueError(f"tile: n must give one repeat count per axis of x (shape {a.shape}), got {n!r}")
    reps = [_count(r, "tile", "n") for r in reps]
    value = np.tile(a, reps)

    def backward(g):
        # The result's axis i is n[i] copies of the input's: split each axis
        # into (copy, position) and sum over the copies.
        interleaved = [d for pair in zip(reps, a.shape) for d in pair]
        return (np.reshape(g, interleaved).sum(axis=tuple(range(0, 2 * a.ndim, 2))),)

    return record(value, (x,), backward)


def reverse(x, axes):
    """``x`` with the order of elements reversed along ``axes`` (an int or a list)."""
    a = as_array(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    axes = tuple(normalize_axis(i, a.ndim, "reverse") for i in axes)
    return record(np.flip(a, axes), (x,), lambda g: (np.flip(g, axes),))


def slice(x, start, size):
    """The block of ``x`` that begins at index ``start`` (one int per axis)
    and spans ``size`` elements per axis (-1: to the end), as tf.slice."""
    a = as_array(x)
    start, size = list(start), list(size)
    if len(start) != a.ndim or len(size) != a.ndim:
        raise ValueError(f"slice: start and size need one entry per axis of x (shape {a.shape}), got "
                         f"start={start}, size={size}")
    index = []
    for axis, (s, n, dim) in enumerate(zip(start, size, a.shape)):
        stop = dim if n == -1 else s + n
        if not (0 <= s <= stop <= dim):
            raise ValueError(f"slice: axis {axis} of length {dim} cannot hold start {s} and size {n}")
        index.append(builtins.slice(s, stop))
    return getitem(x, tuple(index))


def temporal_padding(x, padding=(1, 1)):
    """Zeros added before and after the time axis (axis 1) of a 3-D ``x``:
    ``padding`` = (before, after)."""
    a = as_array(x)
    if a.ndim != 3 or len(padding) != 2:
        raise ValueError(f"temporal_padding: x must be 3-D and padding a pair, got shape {a.shape} and "
                         f"padding {padding!r}")
    return _pad(x, [(0, 0), tuple(padding), (0, 0)])


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None):
    """Zeros around the rows and columns of a 4-D image batch: ``padding`` =
    ((top, bottom), (left, right)); ``data_format`` as the layers' (default
    ``image_data_format()``)."""
    return _spatial_padding(x, padding, data_format, 2, "spatial_2d_padding")


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None):
    """Zeros around the three spatial axes of a 5-D volume batch, one
    (before, after) pair per spatial axis."""
    return _spatial_padding(x, padding, data_format, 3, "spatial_3d_padding")


def one_hot(indices, num_classes):
    """One-hot float32 encoding along a new last axis; indices outside
    [0, num_classes) give rows of zeros (as tf.one_hot); no gradient."""
    num_classes = _count(num_classes, "one_hot", "num_classes")
    labels = as_array(indices).astype(np.int64)
    return record((labels[..., None] == np.arange(num_classes)).astype(np.float32),
                  (indices,), None)


def arange(start, stop=None, step=1, dtype="int32"):
    """The numbers start, start + step, ... below ``stop``, as np.arange; with
    only ``start`` given, 0 ... start - 1 (nothing when start < 0). int32 by
    default, as Keras; float32 when a bound or the step is a float and dtype
    is int32 (Keras' quirk: it keeps tf.range's float32)."""
    if stop is None:
        start, stop = 0, builtins.max(start, 0)
    # Keras casts tf.range's result only to a dtype other than int32, and tf.range of
    # a float bound is float32: K.arange(2.5) is [0., 1., 2.], not ints.
    if np.dtype(dtype) == np.int32 and builtins.any(
            isinstance(v, (float, np.floating)) for v in (start, stop, step)):
        dtype = "float32"
    return np.arange(start, stop, step).astype(dtype)


# ---------------------------------------------------------------------------
# Helpers

def _pad(x, pattern):
    a = as_array(x)
    value = np.pad(a, pattern)
    inner = tuple(builtins.slice(before, before + n) for (before, _), n in zip(pattern, a.shape))
    return record(value, (x,), lambda g: (g[inner],))


def _spatial_padding(x, padding, data_format, spatial, name):
    a = as_array(x)
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: unknown data_format {data_format!r}")
    pairs = [tuple(p) for p in padding]
    if a.ndim != spatial + 2 or len(pairs) != spatial or builtins.any(len(p) != 2 for p in pairs):
        raise ValueError(f"{name}: x must be {spatial + 2}-D and padding {spatial} (before, after) pairs, "
                         f"got shape {a.shape} and padding {padding!r}")
    if data_format == "channels_first":
        return _pad(x, [(0, 0), (0, 0)] + pairs)
    return _pad(x, [(0, 0)] + pairs + [(0, 0)])


def _count(n, what, name):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{what}: {name} must be a non-negative integer, got {n!r}")
    return int(n)

