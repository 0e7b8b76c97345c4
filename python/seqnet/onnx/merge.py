"""Converters of the merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot)."""
import numpy as np

from seqnet.layers.merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from seqnet.onnx.registry import converts, unsupported

# K.l2_normalize's epsilon (seqnet.layers.merge.dot)
_L2_EPSILON = 1e-12


@converts(Add, Subtract, Multiply, Maximum, Minimum)
def elementwise(g, layer, xs, in_shapes, out_shape):
    op_type = {Add: "Add", Subtract: "Sub", Multiply: "Mul", Maximum: "Max", Minimum: "Min"}[type(layer)]
    return g.chain(op_type, _widened(g, xs, in_shapes))


@converts(Average)
def average(g, layer, xs, in_shapes, out_shape):
    return g.op("Mul", [g.chain("Add", _widened(g, xs, in_shapes)), g.scalar(1.0 / len(xs))])


def _widened(g, xs, in_shapes):
    """The inputs of an element-wise merge with axes of size 1 after the batch axis up to the
    highest rank, as the layer expands them (K.expand_dims(x, 1)): ONNX broadcasts from the
    right, which would align a lower-rank input's batch axis with another's feature axis."""
    rank = max(len(s) for s in in_shapes)
    return [x if len(s) == rank else g.unsqueeze(x, list(range(1, 1 + rank - len(s))))
            for x, s in zip(xs, in_shapes)]


@converts(Concatenate)
def concatenate(g, layer, xs, in_shapes, out_shape):
    return g.op("Concat", xs, axis=layer.axis % len(in_shapes[0]))


@converts(Dot)
def dot(g, layer, xs, in_shapes, out_shape):
    """K.batch_dot as the layer computes it: the first input with its axis last as
    (batch, P, n), the second with its axis second as (batch, n, Q), one MatMul, reshaped."""
    (x1, x2), (s1, s2) = xs, in_shapes
    a1, a2 = layer._pair(len(s1), len(s2))
    if layer.normalize:
        x1, x2 = _l2_normalize(g, x1, a1), _l2_normalize(g, x2, a2)
    n = s1[a1] if s1[a1] is not None else s2[a2]
    rest1 = [d for i, d in enumerate(s1) if i not in (0, a1)]
    rest2 = [d for i, d in enumerate(s2) if i not in (0, a2)]
    m1 = g.transpose(x1, [0] + [i for i in range(1, len(s1)) if i != a1] + [a1])
    m2 = g.transpose(x2, [0, a2] + [i for i in range(1, len(s2)) if i != a2])
    m1 = g.reshape(m1, _batch_shape(layer, _size(rest1), n))
    m2 = g.reshape(m2, _batch_shape(layer, n, _size(rest2)))
    y = g.op("MatMul", [m1, m2])
    out = list(out_shape[1:])
    if out.count(None) > 1:
        raise unsupported(layer, f"an output shape {tuple(out_shape)} with more than one unknown axis cannot be "
                                 "exported")
    return g.reshape(y, [0] + [-1 if d is None else d for d in out])


def _l2_normalize(g, x, axis):
    squares = g.reduce("ReduceSum", g.op("Mul", [x, x]), [axis], keepdims=True)
    norm = g.op("Sqrt", [g.op("Max", [squares, g.scalar(_L2_EPSILON)])])
    return g.op("Mul", [x, g.op("Div", [g.scalar(1.0), norm])])


def _size(dims):
    return None if any(d is None for d in dims) else int(np.prod(dims, dtype=np.int64))


def _batch_shape(layer, rows, columns):
    """[0, rows, columns] for a Reshape, an unknown size as -1 (one at most)."""
    if rows is None and columns is None:
        raise unsupported(layer, "inputs with more than one axis of unknown size cannot be exported")
    return [0, -1 if rows is None else rows, -1 if columns is None else columns]
