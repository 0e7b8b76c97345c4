"""Merge layers: combine a list of tensors into one (Keras 2's keras.layers.merge).

They are called on a list, ``Add()([a, b])``; ``forward`` takes the list of input arrays
and ``backward`` returns one gradient per input, each in its own buffer (a consumer may
overwrite the gradient it gets)."""
import numpy as np

from seqnet import _engine
from seqnet.engine.base_layer import Layer
from seqnet.engine.keras_tensor import KerasTensor, SymbolicMask


class _Merge(Layer):
    """Element-wise merges (Keras 2.2.4's ``_Merge``). Inputs of different shapes broadcast
    as in Keras: their shapes without the batch axis align from the right, where an axis of
    size 1 takes the other input's size (an unknown size gives an unknown one) and two sizes
    above 1 must be equal (else ValueError); an input of lower rank first gains axes of size 1
    right after the batch axis (``K.expand_dims(x, 1)``, repeatedly), so ``(batch, 4)`` merged
    with ``(batch, 2, 3, 4)`` acts as ``(batch, 1, 1, 4)``. The gradient of a broadcast input
    is summed over the axes it was broadcast along. Inputs of one shape take the direct path.

    The output mask is the AND of the inputs' masks (Keras 2). seqnet broadcasts the masks of
    broadcast inputs as it does the inputs, to the output's mask shape, where Keras 2 fails on
    masks of different shapes (or passes a lone mask on at its own shape)."""
    supports_masking = True
    _min_inputs, _max_inputs = 2, None

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < self._min_inputs or (
                self._max_inputs is not None and len(input_shape) > self._max_inputs):
            count = f"exactly {self._max_inputs}" if self._max_inputs == self._min_inputs else \
                f"at least {self._min_inputs}"
            raise ValueError(f"A `{type(self).__name__}` layer should be called on a list of {count} inputs; "
                             f"got {input_shape!r}")
        self.compute_output_shape(input_shape)  # ValueError for shapes that do not broadcast
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len({tuple(s[1:]) for s in input_shape}) == 1:
            return tuple(input_shape[0])
        shape = tuple(input_shape[0][1:])
        for s in input_shape[1:]:
            shape = self._broadcast_pair(shape, tuple(s[1:]), input_shape)
        batch = {s[0] for s in input_shape} - {None}
        return (batch.pop() if len(batch) == 1 else None,) + shape

    def _broadcast_pair(self, shape1, shape2, input_shape):
        """Keras 2.2.4's _compute_elemwise_op_output_shape of two shapes without the batch axis."""
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        out = list(shape1[:len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): inputs must have the same shape or "
                                 f"shapes that broadcast. Operands could not be broadcast together with shapes "
                                 f"{shape1} {shape2} (the shapes without the batch axis, aligned from the right: "
                                 "each axis needs equal sizes or a size of 1); got inputs of shapes "
                                 f"{[tuple(s) for s in input_shape]}")
            else:
                out.append(i)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        masks = [m for m in (mask or []) if m is not None]
        if not masks:
            return None
        if isinstance(inputs[0], KerasTensor):
            return SymbolicMask(self.compute_output_shape([t.shape for t in inputs])[:-1])
        wide = _widened(inputs)
        if wide is None:
            return np.logical_and.reduce([np.asarray(m, dtype=bool) for m in masks])
        # A mask has its input's shape less the last axis: widened at axis 1 as its input was.
        rank = max(x.ndim for x in inputs)
        shape = np.broadcast_shapes(*(w.shape for w in wide))[:-1]
        pairs = [(x, np.asarray(m, dtype=bool)) for x, m in zip(inputs, mask) if m is not None]
        return np.logical_and.reduce([np.broadcast_to(m.reshape(m.shape[:1] + (1,) * (rank - x.ndim) + m.shape[1:]),
                                                      shape) for x, m in pairs])

    def forward(self, xs, training):
        self._xs = xs
        wide = _widened(xs)
        self._operands = xs if wide is None else wide
        y = self._workspace("y", xs[0].shape if wide is None else self._out_shape())
        self._merge(self._operands, y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        return self._input_grads(dy)

    def _input_grads(self, dy):
        """One gradient per input from the output's `dy`: a broadcast input's summed over the
        axes it was broadcast along, at its own shape."""
        grads = [self._grad(i, dy) for i in range(len(self._xs))]
        if self._operands is self._xs:
            return grads
        return [_sum_to(g, w, x.shape) for g, w, x in zip(grads, self._operands, self._xs)]

    def _out_shape(self):
        if self._operands is self._xs:
            return self._xs[0].shape
        try:
            return np.broadcast_shapes(*(w.shape for w in self._operands))
        except ValueError:  # axes of unknown size in the model, unequal in the data
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): inputs of shapes "
                             f"{[x.shape for x in self._xs]} could not be broadcast together") from None

    def _dx(self, i, dy):
        return self._workspace(f"dx{i}", dy.shape)


class Add(_Merge):
    # An elementwise Activation right after it runs inside it (engine/network.py, as after a
    # Dense or convolution): y = act(x0 + x1 + ...) in one pass over memory, and backward the
    # activation's gradient straight into the first input's buffer, where an Add and an
    # Activation layer each made a pass of their own.
    _activation_fusable = True
    _custom = None
    _act = _engine.Activation.linear
    _keep_z = False

    def forward(self, xs, training):
        if self._act == _engine.Activation.linear:
            return super().forward(xs, training)
        self._xs = xs
        self._operands = _widened(xs) or xs
        shape = self._out_shape()
        y = self._workspace("y", shape)
        z = self._workspace("z", shape) if self._keep_z else None
        if self._operands is xs and all(type(x) is np.ndarray and x.dtype == np.float32 and x.flags.c_contiguous
                                        for x in xs):
            _engine.add_activation_forward(self._act, xs, z, y)
        else:  # the same operations in two passes
            s = z if z is not None else y
            self._merge(self._operands, s)
            _engine.activation_forward(self._act, s, y)
        self._fused = (self._act, z, y)
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        if self._act == _engine.Activation.linear or dy_is_preactivation:
            return super().backward(dy, need_dx)
        act, z, y = self._fused
        if self._operands is not self._xs:  # broadcast inputs: each gradient summed to its shape
            dz = self._workspace("dz", dy.shape)
            _engine.activation_backward(act, z, y, dy, dz)
            return self._input_grads(dz)
        dz = self._dx(0, dy)
        _engine.activation_backward(act, z, y, dy, dz)
        return [dz] + [self._grad(i, dz) for i in range(1, len(self._xs))]

    def _merge(self, xs, y):
        np.add(xs[0], xs[1], out=y)
        for x in xs[2:]:
            np.add(y, x, out=y)

    def _grad(self, i, dy):
        dx = self._dx(i, dy)
        dx[...] = dy
        return dx


class Subtract(_Merge):
    _max_inputs = 2

    def _merge(self, xs, y):
        np.subtract(xs[0], xs[1], out=y)

    def _grad(self, i, dy):
        dx = self._dx(i, dy)
        if i == 0:
            dx[...] = dy
        else:
            np.negative(dy, out=dx)
        return dx


class Multiply(_Merge):
    def _merge(self, xs, y):
        np.multiply(xs[0], xs[1], out=y)
        for x in xs[2:]:
            np.multiply(y, x, out=y)

    def _grad(self, i, dy):
        dx = self._dx(i, dy)
        dx[...] = dy
        for j, x in enumerate(self._operands):
            if j != i:
                np.multiply(dx, x, out=dx)
        return dx


class Average(_Merge):
    def _merge(self, xs, y):
        Add._merge(self, xs, y)
        y *= np.float32(1.0 / len(xs))

    def _grad(self, i, dy):
        return np.multiply(dy, np.float32(1.0 / len(self._xs)), out=self._dx(i, dy))


class Maximum(_Merge):
    _pick = staticmethod(np.maximum)

    def _merge(self, xs, y):
        self._pick(xs[0], xs[1], out=y)
        for x in xs[2:]:
            self._pick(y, x, out=y)

    def _grad(self, i, dy):
        # The gradient goes to the first input holding the extreme value (as tf's argmax does).
        winner = self._workspace("winner", dy.shape, np.int64)
        if i == 0:
            winner.fill(len(self._xs) - 1)
            y = self._workspaces["y"][:dy.shape[0]]
            for j in range(len(self._xs) - 2, -1, -1):
                winner[self._operands[j] == y] = j
        return np.multiply(dy, winner == i, out=self._dx(i, dy))


class Minimum(Maximum):
    _pick = staticmethod(np.minimum)


class Concatenate(Layer):
    """Concatenates a list of inputs along `axis` (the other axes must match). Masks are
    concatenated along the axis (an unmasked input counts as all ones), as in Keras 2."""
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 2 inputs; "
                             f"got {input_shape!r}")
        ranks = {len(s) for s in input_shape}
        rank = len(input_shape[0])
        # An axis past the rank would wrap around (5 % 3 joins the last axis), and axis 0 is the batch.
        if isinstance(self.axis, bool) or not isinstance(self.axis, (int, np.integer)) or \
                not -rank < self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Layer '{self.name}' (Concatenate): axis must be an integer naming a non-batch axis "
                             f"of inputs of rank {rank} (1..{rank - 1} or -{rank - 1}..-1), got axis={self.axis!r}")
        axis = self.axis % rank if len(ranks) == 1 else None
        if len(ranks) != 1 or len({tuple(s[1:axis]) + tuple(s[axis + 1:]) for s in input_shape}) != 1:
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for the concat "
                             f"axis. Got inputs shapes: {[tuple(s) for s in input_shape]}")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        axis = self.axis % len(input_shape[0])
        sizes = [s[axis] for s in input_shape]
        out = list(input_shape[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        if isinstance(inputs[0], KerasTensor):
            return SymbolicMask(self.compute_output_shape([t.shape for t in inputs])[:-1])
        axis = self.axis % inputs[0].ndim
        filled = [np.ones(x.shape[:-1], dtype=bool) if m is None else np.asarray(m, dtype=bool)
                  for x, m in zip(inputs, mask)]
        if axis == inputs[0].ndim - 1:
            return np.logical_and.reduce(filled)
        return np.concatenate(filled, axis=axis)

    def forward(self, xs, training):
        axis = self.axis % xs[0].ndim
        shape = list(xs[0].shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        y = self._workspace("y", tuple(shape))
        np.concatenate(xs, axis=axis, out=y)
        self._sizes, self._ndim = [x.shape[axis] for x in xs], xs[0].ndim
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        if not need_dx:
            return None
        axis = self.axis % self._ndim
        dxs, start = [], 0
        index = [slice(None)] * self._ndim
        for i, size in enumerate(self._sizes):
            index[axis] = slice(start, start + size)
            part = dy[tuple(index)]
            dx = self._workspace(f"dx{i}", part.shape)
            dx[...] = part
            dxs.append(dx)
            start += size
        return dxs

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _widened(xs):
    """None when the arrays `xs` have one shape; else each as a view with axes of size 1
    after the batch axis up to the highest rank (K.expand_dims(x, 1)), to broadcast."""
    shape = xs[0].shape
    for x in xs:  # a loop, not all(...): this runs on every call of every merge
        if x.shape != shape:
            break
    else:
        return None
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


def _sum_to(grad, operand, shape):
    """`grad` (of the output's shape) summed over the axes along which `operand` (an input as
    widened by _widened) was broadcast, at the input's `shape`."""
    axes = tuple(k for k, (n, m) in enumerate(zip(operand.shape, grad.shape)) if n == 1 and m != 1)
    return (grad.sum(axis=axes, keepdims=True) if axes else grad).reshape(shape)


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional interface to the `{cls.__name__}` layer."
    return merge


add, subtract, multiply, average = (_functional(c) for c in (Add, Subtract, Multiply, Average))
maximum, minimum, concatenate = (_functional(c) for c in (Maximum, Minimum, Concatenate))
