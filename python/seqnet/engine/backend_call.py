"""Running a Keras-style layer (``call`` written with seqnet.backend ops) on the backend's
reverse-mode tape: forward records the ops, backward is their vector-Jacobian product.

The layer's weights become tape leaves for the duration of ``call``: every attribute of
the layer holding a Weight (or a list of them) is swapped for a leaf Tensor over the same
array, so ``K.dot(x, self.kernel)`` records a gradient for the kernel, then swapped back.
"""
import functools
import inspect

import numpy as np

from seqnet.backend import session
from seqnet.backend.tensor import Tensor, backpropagate
from seqnet.engine.weight import Weight


def is_keras_style(layer):
    """True for a layer whose class defines ``call`` and keeps the base ``forward`` (the
    base class marks both with ``_base_method``)."""
    cls = type(layer)
    return not getattr(cls.call, "_base_method", False) and getattr(cls.forward, "_base_method", False)


def extra_call_args(layer):
    """The keyword arguments a Keras-style ``call`` accepts besides inputs/mask/training."""
    if not is_keras_style(layer):
        return set()
    return call_signature(type(layer))[2]


@functools.lru_cache(maxsize=None)
def call_signature(cls):
    """(takes training, takes mask, other keyword names) of a class's ``call``: read once
    per class, not on every training step."""
    params = inspect.signature(cls.call).parameters
    var_keyword = any(p.kind == p.VAR_KEYWORD for p in params.values())
    names = {n for n, p in list(params.items())[2:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if var_keyword:
        names.add("*")
    return "training" in params or var_keyword, "mask" in params, frozenset(names - {"mask", "training"})


def forward(layer, x, training, mask=None, call_kwargs=None):
    """Runs ``layer.call`` on tape leaves over `x` (an array or a list); returns float32
    array(s) and keeps the tape for ``backward``."""
    takes_list = isinstance(x, list)
    leaves = [Tensor(a, requires_grad=True) for a in (x if takes_list else [x])]
    kwargs = dict(call_kwargs or {})
    takes_training, takes_mask, _ = call_signature(type(layer))
    if takes_training:
        kwargs.setdefault("training", training)
    if mask is not None and takes_mask:
        kwargs["mask"] = mask
    swapped = swap_weights_for_leaves(layer)
    try:
        with session.call_phase(training):
            out = layer.call(leaves if takes_list else leaves[0], **kwargs)
    finally:
        restore_weights(layer, swapped)
    returns_list = isinstance(out, (list, tuple))
    outs = list(out) if returns_list else [out]
    values = [np.ascontiguousarray(o.value if isinstance(o, Tensor) else np.asarray(o), dtype=np.float32)
              for o in outs]
    layer._tape = (leaves, takes_list, swapped, outs)
    return values if returns_list else values[0]


def backward(layer, dy, need_dx):
    """Gradients from the tape of the last ``forward``: weight gradients into each
    trainable weight's ``grad``, and dL/dx returned (None unless need_dx)."""
    leaves, takes_list, swapped, outs = layer._tape
    cotangents = dy if isinstance(dy, list) else [dy]
    cotangents = [None if c is None else np.asarray(c, dtype=np.float64 if _is_float64(o) else np.float32)
                  for c, o in zip(cotangents, outs)]
    grads = backpropagate(outs, cotangents)
    seen = set()
    for weight, leaf in leaves_of(swapped):
        seen.add(id(weight))
        if weight.grad is None:
            continue
        g = grads.get(id(leaf))
        if g is None:
            weight.grad.fill(0.0)
        else:
            weight.grad[...] = g
    for weight in layer._weights:  # weights call() did not reach through an attribute
        if id(weight) not in seen and weight.grad is not None:
            weight.grad.fill(0.0)
    if not need_dx:
        return None
    dxs = []
    for leaf in leaves:
        g = grads.get(id(leaf))
        dxs.append(np.zeros(leaf.value.shape, np.float32) if g is None
                   else np.ascontiguousarray(g, dtype=np.float32))
    return dxs if takes_list else dxs[0]


def _is_float64(out):
    return isinstance(out, Tensor) and out.value.dtype == np.float64


def infer_output_shape(layer, input_shape):
    """compute_output_shape by a dry run of ``call`` on zeros (batch 2, unknown axes 3). With
    unknown axes it runs again with them at 4: an output axis that follows them is unknown too
    (as tf-keras' symbolic shapes keep it), not the stand-in size."""
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    first = _dry_run(layer, input_shape, shapes, 3)
    if not any(d is None for s in shapes for d in tuple(s)[1:]):
        return first
    second = _dry_run(layer, input_shape, shapes, 4)
    pairs = zip(first, second) if isinstance(first, list) else [(first, second)]
    merged = [tuple(a if a == b else None for a, b in zip(s, t)) if len(s) == len(t) else s for s, t in pairs]
    return merged if isinstance(first, list) else merged[0]


def _dry_run(layer, input_shape, shapes, unknown):
    arrays = [np.zeros(tuple(2 if i == 0 else (unknown if d is None else d) for i, d in enumerate(s)), np.float32)
              for s in shapes]
    swapped = swap_weights_for_leaves(layer)
    try:
        with session.call_phase(False):
            out = layer.call(arrays if isinstance(input_shape, list) else arrays[0])
    finally:
        restore_weights(layer, swapped)
    outs = out if isinstance(out, (list, tuple)) else [out]
    result = [(None,) + tuple(np.shape(o.value if isinstance(o, Tensor) else o))[1:] for o in outs]
    return result if isinstance(out, (list, tuple)) else result[0]


def swap_weights_for_leaves(layer):
    """Replaces the layer's Weight attributes (and lists of them) by tape leaves; returns
    what to put back: [(name, original, replacement)]."""
    swapped = []
    for name, value in list(vars(layer).items()):
        if isinstance(value, Weight):
            leaf = Tensor(value.value, requires_grad=value.trainable and layer.trainable)
            swapped.append((name, value, leaf))
            setattr(layer, name, leaf)
        elif isinstance(value, (list, tuple)) and value and name != "_weights" and \
                all(isinstance(v, Weight) for v in value):
            leaves = [Tensor(v.value, requires_grad=v.trainable and layer.trainable) for v in value]
            swapped.append((name, value, leaves))
            setattr(layer, name, type(value)(leaves))
    return swapped


def restore_weights(layer, swapped):
    for name, original, _ in swapped:
        setattr(layer, name, original)


def leaves_of(swapped):
    for _, original, replacement in swapped:
        if isinstance(original, Weight):
            yield original, replacement
        else:
            yield from zip(original, replacement)
