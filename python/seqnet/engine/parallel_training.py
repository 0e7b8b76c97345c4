"""The training step of data-parallel training (seqnet.distribute): each process holds a
slice of the global batch, and the step it takes equals one step of one process on the
whole global batch, to float32 rounding.

Keras' batch loss is a ratio, sum(weighted per-sample losses) / D, where the normalizer D
counts samples, non-zero sample weights and unmasked timesteps
(compile_utils.element_weights): D = sum(mask) * nonzero(w) / size(w). The global batch's
loss is therefore not the mean of the processes' losses but sum_r D_r L_r / D with D built
from the summed counts. So a step:

1. forward on the local slice, with random layers drawing at the slice's global positions
   (random_state.set_batch_position);
2. the per-output losses, their gradients and the metrics of the slice;
3. one small reduction (float64, summed in rank order, so identical on every rank) of the
   counts, D_r * L_r per output and metric, the activity penalties and the sample count;
4. each output gradient scaled by D_r / D, so the slices' gradients sum to the global one;
5. backward; the optimizer allreduces (sums) the flat gradient buffer in place, with the
   weight-regularizer gradients added on rank 0 only (the weights are the same everywhere).

A process whose slice of a (last, short) global batch is empty runs a forward pass on one
stand-in sample, so random layers advance their streams as on the others, and contributes
nothing.
"""
import numpy as np

from seqnet import random_state
from seqnet.engine.weight import weight_penalty


def data_parallel_step(model, xs, ys, ws, position):
    """One data-parallel step; returns the global batch's [loss, metrics...] (the same on
    every rank). `position` is (first, count, total): the slice's first sample in the global
    batch, its size (0: a stand-in sample, no data) and the global batch size; None, or a
    None first, means "the processes' batches, concatenated in rank order"."""
    parallel = model._parallel
    first, count, total = position if position is not None else (None, len(xs[0]), None)
    if first is None:
        counts = parallel.gather_counts(count)
        first, total = sum(counts[:parallel.rank]), sum(counts)
    random_state.set_batch_position(first, total)
    try:
        outs = model._run(xs, True)
    finally:
        random_state.set_batch_position(0, None)
    masks = model._output_masks()
    _, per_output, grads = model._losses(ys, outs, ws, masks, True)
    values = model._values_of(0.0, per_output, ys, outs, ws, masks)
    metrics = values[len(values) - len(model._metrics):]
    n_out = len(outs)
    terms = np.zeros(4 * (n_out + len(model._metrics)) + 2)
    if count:
        for i, (out, value) in enumerate(zip(outs, per_output)):
            w = None if ws is None else ws[i]
            terms[4 * i:4 * i + 4] = _terms(_normalizer(out, masks[i], w), value)
        for j, ((i, metric), value) in enumerate(zip(model._metrics, metrics)):
            w = ws[i] if ws is not None and metric.weighted else None
            terms[4 * (n_out + j):4 * (n_out + j) + 4] = _terms(_normalizer(outs[i], masks[i], w), value)
        terms[-2] = model._activity_penalty() if model._activity else 0.0
        terms[-1] = count
    total_terms = parallel.sum_in_order(terms)
    penalty = weight_penalty(model._penalized)  # before the update, as in one process
    means = [_mean(total_terms[4 * k:4 * k + 4]) for k in range(n_out + len(model._metrics))]
    if count:
        for i, g in enumerate(grads):
            share = _share(terms[4 * i:4 * i + 4], total_terms[4 * i:4 * i + 4])
            if share != 1.0:
                g *= np.float32(share)
        model._backward(grads)
    else:
        model._store.grads.fill(0.0)
    model._apply_gradients(regularize=parallel.rank == 0)  # weight penalties counted once, on rank 0
    model._global_batch_size = int(total_terms[-1])
    loss = sum(lw * m for lw, m in zip(model._loss_weights, means[:n_out])) + penalty + float(total_terms[-2])
    return [loss] + (means[:n_out] if n_out > 1 else []) + means[n_out:]


def _normalizer(out, mask, w):
    """(a, b, c) with D = a * b / c the divisor of Keras' batch mean of this output's loss
    or metric: a = unmasked elements (sum of the mask, else every element of the leading
    axes), b / c = non-zero sample weights / sample weights (every sample without weights).
    Summing a, b and c over ranks gives the global batch's D."""
    elements = out.size // out.shape[-1] if out.ndim > 1 else out.shape[0]
    a = float(np.sum(mask, dtype=np.float64)) if mask is not None else float(elements)
    if w is None:
        return a, float(out.shape[0]), float(out.shape[0])
    return a, float(np.count_nonzero(w)), float(w.size)


def _terms(normalizer, value):
    a, b, c = normalizer
    d = a * b / c if c else 0.0
    return a, b, c, d * value


def _divisor(terms):
    a, b, c = terms[0], terms[1], terms[2]
    return a * b / c if c else 0.0


def _mean(total_terms):
    d = _divisor(total_terms)
    return float(total_terms[3] / d) if d else 0.0


def _share(local_terms, total_terms):
    d = _divisor(total_terms)
    return _divisor(local_terms) / d if d else 0.0
