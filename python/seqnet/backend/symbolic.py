"""Backend ops on the symbolic tensors of a model (``Input(...)``, a layer's output): instead of
computing, such a call adds a layer to the graph, as tf-keras' TFOpLambda layers do.

The symbolic graph lives in seqnet.engine, which sits above the backend, so the engine registers
two things here when it is imported: a predicate telling a symbolic tensor from anything else,
and a factory that records the op as a layer node and returns its output tensor. Every public
op of ``seqnet.backend`` is wrapped once (``wrap_ops``) with a check of its arguments (and of
the items of list or tuple arguments, as K.concatenate's) against the predicate; on arrays and
tape Tensors the wrapped op calls the plain one.
"""
import functools

import numpy as np

from .tensor import Tensor
from .variable import Variable

# The engine's predicate and factory (register); None until seqnet.engine is imported.
_is_symbolic = None
_make_node = None

# name -> the plain op, for every wrapped op: how a saved op layer finds its function again.
OPS = {}


def register(is_symbolic, make_node):
    """Called once by seqnet.engine: ``is_symbolic(x)`` says whether `x` is a symbolic tensor;
    ``make_node(name, op, args, kwargs)`` adds a layer calling ``op`` to the graph and returns
    its output tensor."""
    global _is_symbolic, _make_node
    _is_symbolic, _make_node = is_symbolic, make_node


def wrap_ops(namespace, names):
    """Replaces each op `names` in `namespace` (a module's globals) by ``symbolic_aware``."""
    for name in names:
        namespace[name] = symbolic_aware(name, namespace[name])


def symbolic_aware(name, op):
    """`op` (registered under `name`) that records a graph node when any argument, or any item
    of a list or tuple argument, is a symbolic tensor; otherwise it is `op` itself, plus one
    pass over the arguments."""
    OPS[name] = op

    plain = _PLAIN

    # The loops are written out here, not in a helper: this runs on every op call.
    @functools.wraps(op)
    def backend_op(*args, **kwargs):
        if _is_symbolic is not None:
            for a in args:
                kind = type(a)
                if kind not in plain and (_any_symbolic(a) if kind is list or kind is tuple else _is_symbolic(a)):
                    return _make_node(name, op, args, kwargs)
            if kwargs:
                for a in kwargs.values():
                    kind = type(a)
                    if kind not in plain and (_any_symbolic(a) if kind is list or kind is tuple
                                              else _is_symbolic(a)):
                        return _make_node(name, op, args, kwargs)
        return op(*args, **kwargs)

    return backend_op


def call_op(name, *args, **kwargs):
    """The op registered as `name` on these arguments, symbolic or not (the operators of a
    symbolic tensor use it for ops that seqnet.backend does not export, such as getitem)."""
    op = OPS[name]
    if _is_symbolic is not None and _any_symbolic(args):
        return _make_node(name, op, args, kwargs)
    return op(*args, **kwargs)


def _any_symbolic(values):
    """Whether a value, or an item of a list or tuple value, is symbolic. Arrays, numbers and
    tape tensors are recognised by their exact type (a set lookup), so the array path calls the
    engine's predicate only for other types."""
    for a in values:
        kind = type(a)
        if kind in _PLAIN:
            continue
        if kind is list or kind is tuple:
            if _any_symbolic(a):
                return True
        elif _is_symbolic(a):
            return True
    return False


_PLAIN = frozenset({np.ndarray, Tensor, Variable, int, float, bool, str, type(None), slice,
                    np.float32, np.float64, np.int32, np.int64, np.bool_})
