"""Dot: the per-sample dot product of two tensors along given axes (Keras 2's
``keras.layers.Dot``), forward and backward in NumPy (one batched matmul each)."""
import numbers

import numpy as np

from seqnet.layers.merge.elementwise import _Merge

# tf.nn.l2_normalize's epsilon, used by Keras' K.l2_normalize: x / sqrt(max(sum(x^2), eps)).
_L2_EPSILON = 1e-12


class Dot(_Merge):
    """Dot product of the samples of two inputs: ``Dot(axes=1)([a, b])`` with ``a`` and
    ``b`` of shape (batch, n) gives (batch, 1), entry i the dot product of a[i] and b[i].

    Arguments:
        axes: an integer, or a pair (one axis per input): the axes summed over (Keras'
            ``K.batch_dot``); negative axes count from the end; the batch axis 0 cannot be
            one of them.
        normalize: whether to L2-normalize both inputs along their axis first, so the output
            is the cosine proximity of the samples.

    The output shape is the first input's shape without its axis, followed by the second
    input's without its batch axis and its axis; (batch,) becomes (batch, 1). For inputs
    of 2 and 3 dimensions this is Keras 2.2.4's ``K.batch_dot``. The output has no mask.

    Differs from Keras 2.2.4: for inputs of more than 3 dimensions Keras 2.2.4's batch_dot
    (tf.matmul) disagrees with its own ``compute_output_shape``; seqnet contracts the
    axes as tf-keras' ``batch_dot`` does, which matches that shape.
    """

    _min_inputs = _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not _is_int(axes):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Dot: invalid type for `axes` - should be a list or an int, got {axes!r}")
            if len(axes) != 2:
                raise ValueError(f"Dot: invalid format for `axes` - should contain two elements, got {axes!r}")
            if not all(_is_int(a) for a in axes):
                raise ValueError(f'Dot: invalid format for `axes` - list elements should be "int", got {axes!r}')
        self.axes = axes if _is_int(axes) else list(axes)
        self.normalize = bool(normalize)

    def _pair(self, ndim1, ndim2):
        axes = [self.axes, self.axes] if _is_int(self.axes) else list(self.axes)
        return [a % n if -n <= a < n else None for a, n in zip(axes, (ndim1, ndim2))]

    def _check_shapes(self, shapes):
        shape1, shape2 = (tuple(s) for s in shapes)
        a1, a2 = self._pair(len(shape1), len(shape2))
        if a1 is None or a2 is None or a1 == 0 or a2 == 0:
            raise ValueError(f"Layer '{self.name}' (Dot): axes={self.axes} is out of range for inputs of shapes "
                             f"{shape1} and {shape2} (axes must name a non-batch axis of each input)")
        d1, d2 = shape1[a1], shape2[a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Layer '{self.name}' (Dot): dimension incompatibility {d1} != {d2} along axes "
                             f"{[a1, a2]}. Layer shapes: {shape1}, {shape2}")

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs; got {input_shape!r}")
        self._check_shapes(input_shape)
        shape1, shape2 = (list(s) for s in input_shape)
        a1, a2 = self._pair(len(shape1), len(shape2))
        shape1.pop(a1)
        shape2.pop(a2)
        out = shape1 + shape2[1:]
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        return None

    # ---- running -------------------------------------------------------------------------------------
    def forward(self, xs, training):
        x1, x2 = xs
        a1, a2 = self._pair(x1.ndim, x2.ndim)
        self._check_shapes([x1.shape, x2.shape])
        norm1 = norm2 = None
        if self.normalize:
            x1, norm1 = _l2_normalize(x1, a1)
            x2, norm2 = _l2_normalize(x2, a2)
        m1, m2 = _as_rows(x1, a1), _as_columns(x2, a2)  # (b, P, n) and (b, n, Q)
        rest1 = tuple(np.delete(x1.shape, a1)[1:])
        rest2 = tuple(np.delete(x2.shape, a2)[1:])
        batch = x1.shape[0]
        y = self._workspace("y", (batch,) + (rest1 + rest2 or (1,)))
        np.matmul(m1, m2, out=y.reshape(batch, m1.shape[1], m2.shape[2]))
        self._saved = (x1, x2, a1, a2, norm1, norm2, m1, m2)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        x1, x2, a1, a2, norm1, norm2, m1, m2 = self._saved
        g = dy.reshape(dy.shape[0], m1.shape[1], m2.shape[2])
        d1 = np.matmul(g, np.swapaxes(m2, 1, 2))  # (b, P, n)
        d2 = np.matmul(np.swapaxes(m1, 1, 2), g)  # (b, n, Q)
        d1 = np.moveaxis(d1.reshape(_moved(x1.shape, a1, -1)), -1, a1)
        d2 = np.moveaxis(d2.reshape(_moved(x2.shape, a2, 1)), 1, a2)
        if self.normalize:
            d1 = _l2_normalize_backward(x1, norm1, d1, a1)
            d2 = _l2_normalize_backward(x2, norm2, d2, a2)
        dx1 = self._workspace("dx0", x1.shape)
        dx2 = self._workspace("dx1", x2.shape)
        dx1[...] = d1
        dx2[...] = d2
        return [dx1, dx2]

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def dot(inputs, axes, normalize=False, **kwargs):
    """Functional interface to the `Dot` layer: ``dot([a, b], axes=1)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _moved(shape, axis, to):
    """`shape` with `axis` moved to position `to` (as np.moveaxis moves it)."""
    shape = list(shape)
    size = shape.pop(axis)
    shape.insert(len(shape) + 1 + to if to < 0 else to, size)
    return tuple(shape)


def _as_rows(x, axis):
    """x with its `axis` last, as (batch, rows, n)."""
    moved = np.moveaxis(x, axis, -1)
    return moved.reshape(x.shape[0], -1, x.shape[axis])


def _as_columns(x, axis):
    """x with its `axis` second, as (batch, n, columns)."""
    moved = np.moveaxis(x, axis, 1)
    return moved.reshape(x.shape[0], x.shape[axis], -1)


def _l2_normalize(x, axis):
    """x / sqrt(max(sum(x^2), eps)) along `axis` (K.l2_normalize), and what its gradient
    needs: (1 / that sqrt, where the sum was below eps)."""
    squares = np.sum(np.square(x), axis=axis, keepdims=True)
    clipped = squares <= _L2_EPSILON
    inv = (1.0 / np.sqrt(np.maximum(squares, _L2_EPSILON))).astype(np.float32)
    return x * inv, (inv, clipped)


def _l2_normalize_backward(xn, state, g, axis):
    """The gradient through the normalization: (g - xn <xn, g>) / norm, and g / sqrt(eps)
    where the sum of squares was clipped to eps (a constant scale there)."""
    inv, clipped = state
    proj = np.sum(g * xn, axis=axis, keepdims=True)
    return np.where(clipped, g, g - xn * proj) * inv
