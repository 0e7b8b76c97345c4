"""A small reverse-mode tape over seqnet.backend ops, for user losses.

A user's loss ``f(y_true, y_pred)`` is written with backend ops. To train on it
we run it once on ``Tensor`` nodes: every op that sees a Tensor among its
arguments records its inputs and a backward function next to its forward (see
ops.py), and ``vjp`` walks that record backwards. Called with plain arrays the
same ops record nothing and return plain NumPy values, which is how metrics
are evaluated.
"""
import numpy as np

from . import session


def vjp(fn, y_true, y_pred):
    """Evaluate ``fn(y_true, y_pred)`` and return ``(value, pullback)``.

    ``value`` is the NumPy result (any shape fn returns: per sample, per
    element or a scalar). ``pullback(cotangent)``, with a cotangent
    broadcastable to ``value``, returns d sum(value * cotangent) / d y_pred as
    an array of y_pred's float dtype and shape. y_true is a constant.
    """
    pred = np.asarray(y_pred)
    if pred.dtype.kind != "f":
        pred = pred.astype(session.floatx())
    pred_node = Tensor(pred, requires_grad=True)
    out = fn(Tensor(np.asarray(y_true)), pred_node)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"{_name_of(fn)} returned {type(out).__name__}, not a tensor of the "
            "seqnet.backend tape, so its gradient cannot be computed. Write the "
            "loss with seqnet.backend ops (K.mean, K.square, K.log, ...) applied "
            "to y_true and y_pred; do not convert them with np.asarray or "
            "NumPy functions.")
    value = out.value
    if value.dtype.kind != "f":
        value = value.astype(session.floatx())

    def pullback(cotangent):
        cotangent = np.asarray(cotangent, dtype=value.dtype)
        try:
            cotangent = np.broadcast_to(cotangent, value.shape)
        except ValueError:
            raise ValueError(
                f"cotangent of shape {cotangent.shape} does not broadcast to the "
                f"shape {value.shape} of {_name_of(fn)}'s value") from None
        grad = backpropagate(out, cotangent).get(id(pred_node))
        if grad is None:  # the value does not depend on y_pred
            return np.zeros(pred.shape, dtype=pred.dtype)
        return np.asarray(grad, dtype=pred.dtype, order="C")

    return value, pullback


class Tensor:
    """A value on the tape: its NumPy value, the inputs of the op that made it,
    and that op's backward function.

    A Tensor needs a gradient when it is a leaf created with requires_grad or
    when one of its inputs does; the rest are constants (y_true, and results
    of non-differentiable ops such as argmax or equal), which stop gradients.
    """

    __slots__ = ("value", "needs_grad", "_inputs", "_backward", "_keras_logits")

    # NumPy must hand mixed expressions (ndarray * Tensor) to our reflected
    # operators rather than try to convert us.
    __array_ufunc__ = None

    def __init__(self, value, requires_grad=False):
        self.value = np.asarray(value)
        self.needs_grad = bool(requires_grad)
        self._inputs = ()
        self._backward = None
        # (logits, 'softmax' or 'sigmoid', softmax's axes) behind a K.softmax /
        # K.sigmoid result: the matching cross-entropies use the logits, as tf-keras
        # does, for a stable value and gradient.
        self._keras_logits = None

    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def dtype(self):
        return self.value.dtype

    def numpy(self):
        """The value, leaving the tape (no gradient flows through it)."""
        return self.value[()] if self.value.ndim == 0 else self.value.copy()

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A seqnet.backend tensor cannot be converted to a NumPy array inside "
            "a loss: the gradient would be lost. Use seqnet.backend ops "
            "(K.mean, K.square, ...) instead of NumPy functions, or call "
            ".numpy() to take the value explicitly.")

    def __len__(self):
        return len(self.value)

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __format__(self, spec):
        return format(self.value[()] if self.value.ndim == 0 else self.value, spec)

    def __repr__(self):
        return (f"<seqnet.backend.Tensor shape={self.value.shape} "
                f"dtype={self.value.dtype.name} value={self.value!r}>")

    # Arithmetic, comparisons and indexing are the backend ops of the same name; ops.py
    # installs them (install_operators), so this module does not import ops.
    def __pos__(self):
        return self

    # Elementwise == makes tensors unhashable, as in TensorFlow 2.
    __hash__ = None


def record(value, inputs, backward):
    """The result of an op: plain ``value`` when no input is a Tensor, else a
    Tensor that remembers ``inputs`` and ``backward``.

    ``backward(g)`` maps the gradient of the result to one gradient per input
    (None for inputs without one), each of the result's broadcast shape or the
    input's own; ``backpropagate`` reduces broadcast axes. ``backward=None``
    marks a non-differentiable op: its result is a constant.
    """
    tensors = [x for x in inputs if isinstance(x, Tensor)]
    if not tensors:
        return value
    node = Tensor(value)
    if backward is not None and any(t.needs_grad for t in tensors):
        node.needs_grad = True
        node._inputs = tuple(inputs)
        node._backward = backward
    return node


def backpropagate(output, cotangent):
    """Gradients of sum(output * cotangent) for every node that needs one, keyed by
    ``id(node)``. ``output`` and ``cotangent`` may be lists (a layer with several outputs):
    then the gradients of the sum over the pairs."""
    outputs = list(output) if isinstance(output, (list, tuple)) else [output]
    cotangents = list(cotangent) if isinstance(output, (list, tuple)) else [cotangent]
    grads = {}
    for out, cot in zip(outputs, cotangents):
        if isinstance(out, Tensor) and cot is not None:
            grads[id(out)] = cot if id(out) not in grads else grads[id(out)] + cot
    roots = [o for o in outputs if isinstance(o, Tensor) and o.needs_grad]
    if not roots:
        return grads
    # TF returns inf/nan silently where a derivative is infinite (sqrt at 0).
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for node in reversed(_topological_order(roots)):
            g = grads.get(id(node))
            if g is None or node._backward is None:
                continue
            for inp, g_inp in zip(node._inputs, node._backward(g)):
                if g_inp is None or not isinstance(inp, Tensor) or not inp.needs_grad:
                    continue
                g_inp = unbroadcast(np.asarray(g_inp), inp.value.shape)
                if inp.value.dtype.kind == "f":
                    g_inp = g_inp.astype(inp.value.dtype, copy=False)
                previous = grads.get(id(inp))
                grads[id(inp)] = g_inp if previous is None else previous + g_inp
    return grads


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach
    it from ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _topological_order(roots):
    """Nodes that need a gradient, inputs before the nodes made from them
    (iterative, so long chains do not hit the recursion limit)."""
    order, seen = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for inp in node._inputs:
            if isinstance(inp, Tensor) and inp.needs_grad and id(inp) not in seen:
                stack.append((inp, False))
    return order


def _name_of(fn):
    return f"loss function '{getattr(fn, '__name__', repr(fn))}'"

