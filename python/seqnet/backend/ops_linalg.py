"""batch_dot: the per-sample product of two batches (K.dot is in ops.py)."""
import numpy as np

from .operands import as_array, normalize_axis
from .ops_shape import expand_dims, permute_dimensions, reshape
from .tensor import record


def batch_dot(x, y, axes=None):
    """Per-sample dot product of two batches (axis 0 is the batch axis).

    Axis ``axes[0]`` of x is summed against axis ``axes[1]`` of y, sample by
    sample; ``axes`` may be one int for both. The result has shape
    ``(batch,) + x's other axes + y's other axes``, and a result of rank 1 is
    made (batch, 1), as Keras. Examples: x (32, 20) and y (32, 20) with
    axes=1 give (32, 1); x (32, 20, 1) and y (32, 30, 20) with axes=(1, 2)
    give (32, 1, 30).

    ``axes=None`` means (last axis of x, second-to-last of y), or the last of
    y when y is 2-D. Keras 2.2.4's TensorFlow code contracted the batch axis of
    a 2-D y there, which only ran when batch == features; seqnet contracts the
    feature axes (as Keras 2.3 and tf-keras do) and rejects the batch axis.
    """
    a, b = as_array(x), as_array(y)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"batch_dot: both inputs need a batch axis and at least one more (rank >= 2), "
                         f"got shapes {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"batch_dot: batch sizes differ: {a.shape} and {b.shape}")
    if axes is None:
        axes = (a.ndim - 1, b.ndim - 1 if b.ndim == 2 else b.ndim - 2)
    elif isinstance(axes, (int, np.integer)):
        axes = (axes, axes)
    if len(axes) != 2 or any(isinstance(i, (list, tuple)) for i in axes):
        raise ValueError(f"batch_dot: multiple target dimensions are not supported; expected None, an int or "
                         f"(int, int), got {axes!r}")
    ax, ay = normalize_axis(axes[0], a.ndim, "batch_dot"), normalize_axis(axes[1], b.ndim, "batch_dot")
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot: cannot sum over the batch axis (axes={axes!r})")
    if a.shape[ax] != b.shape[ay]:
        raise ValueError(f"batch_dot: axis {ax} of x (shape {a.shape}) and axis {ay} of y (shape {b.shape}) "
                         "differ in length")
    rest_x = [i for i in range(1, a.ndim) if i != ax]
    rest_y = [i for i in range(1, b.ndim) if i != ay]
    batch, k = a.shape[0], a.shape[ax]
    # One batched matrix product: x as (batch, m, k), y as (batch, k, n).
    x3 = reshape(permute_dimensions(x, [0] + rest_x + [ax]), (batch, -1, k))
    y3 = reshape(permute_dimensions(y, [0, ay] + rest_y), (batch, k, -1))
    out_shape = (batch,) + tuple(a.shape[i] for i in rest_x) + tuple(b.shape[i] for i in rest_y)
    out = reshape(_batch_matmul(x3, y3), out_shape)
    return expand_dims(out, 1) if len(out_shape) == 1 else out


def _batch_matmul(x, y):
    a, b = as_array(x), as_array(y)
    value = np.matmul(a, b)
    return record(value, (x, y), lambda g: (np.matmul(g, np.swapaxes(b, 1, 2)),
                                            np.matmul(np.swapaxes(a, 1, 2), g)))
