"""What the TensorBoard callback reads from a model on one batch: every layer's output and
the gradient of the total loss with respect to each trainable weight.

Both run in inference mode, as Keras 2.2.4 feeds ``learning_phase = 0`` with the
validation data (dropout off, batch normalization on its moving statistics). This is the
one place where the callback uses the model's training internals (``_run``, ``_losses``,
``_backward``): the forward runs on the model's own layers, and the gradients land in the
weights' ``grad`` buffers, which the next training step overwrites anyway.
"""
import numpy as np


def layer_outputs(model):
    """``[(layer, [slot, ...])]``: for each layer of ``model.layers`` called once in the
    model (Keras' ``layer.output``), the value slots of its outputs; an InputLayer maps to
    its input. Layers called several times have no single output and are left out."""
    calls = {}
    for step in model._steps:
        calls.setdefault(id(step.layer), []).append(step)
    inputs = {id(t.node.layer): i for i, t in enumerate(model.inputs)}
    found = []
    for layer in model.layers:
        if id(layer) in inputs:
            found.append((layer, [inputs[id(layer)]]))
        elif len(calls.get(id(layer), ())) == 1:
            found.append((layer, list(calls[id(layer)][0].out_slots)))
    return found


def forward(model, xs):
    """Runs `xs` (one array per input) through the model in inference mode, keeping every
    intermediate value; returns the value slots (arrays that the next run overwrites)."""
    model._run(xs, False, masks=[None] * len(xs), keep_values=True)  # masks given: the step-by-step path
    return model._values


def loss_gradients(model, xs, ys, ws):
    """Forward and backward on one batch in inference mode; returns the value slots and
    ``{id(weight): gradient}`` for every trainable weight: d(total loss)/d(weight), the
    total loss with loss weights, sample weights, masks and regularization penalties, as
    Keras' ``model.total_loss``. Gradient clipping (the optimizer's clipnorm / clipvalue) is
    applied per weight, as ``optimizer.get_gradients(total_loss, weight)`` does."""
    values = forward(model, xs)
    outs = [values[s] for s in model._output_slots]
    _, _, grads = model._losses(ys, outs, ws, model._output_masks(), True)
    model._backward(grads)
    result = {}
    optimizer = model.optimizer
    clipnorm = getattr(optimizer, "clipnorm", None)
    clipvalue = getattr(optimizer, "clipvalue", None)
    for w in model.trainable_weights:
        if w.grad is None:
            continue
        g = w.grad.astype(np.float64)
        if w.regularizer is not None:
            g32 = w.grad.copy()
            w.regularizer.add_gradient(w.value, g32)
            g = g32.astype(np.float64)
        if clipnorm:
            norm = np.sqrt(np.sum(g * g))
            if norm >= clipnorm:
                g = g * (clipnorm / norm)
        if clipvalue:
            g = np.clip(g, -clipvalue, clipvalue)
        result[id(w)] = g
    return values, result


def standardize_inputs(model, data):
    """`data` (an array, a list of arrays or a dict by input name) checked against the
    model's inputs and converted as fit converts x (float32; integers kept for Embedding)."""
    return model._standardize_x(data, what="embeddings_data")
