"""profile_model: where the time of a training step goes, layer by layer and direction.

The profiler runs the model's own training step (``Model._train_batch``: the same plan,
chain fast path, fused loss and flat optimizer update as ``fit``) and times it from the
outside: for the duration of the profile, each layer runner's ``forward`` and
``backward``, the model's loss and metric calls and the optimizer's update are replaced
by timed wrappers set on the instances, then removed. Normal training carries no hook.
"""
import time

import numpy as np

from seqnet import _engine
from seqnet import backend as K
from seqnet.backend.variable import Variable
from seqnet.engine import backend_call, network
from seqnet.engine.base_layer import Layer
from seqnet.engine.training import Model
from seqnet.profiler.flops import layer_flops
from seqnet.profiler.report import ModelProfile, ProfileRow, _rate


def profile_model(model, x, y=None, batch_size=32, steps=20, warmup=3, training=True, peak=True):
    """Times `steps` training steps of `model` on batches of (x, y), per layer and
    direction, and returns a ModelProfile (``.summary()`` prints the table, ``.rows`` holds
    the numbers).

    Each layer's row gives its forward and backward milliseconds per step, its share of
    the step, its FLOPs per sample (direct algorithm, see ``seqnet.profiler.flops``) and
    the effective GFLOP/s; the loss (with its gradient), the metrics, the optimizer
    update and the rest of the step (Python between the calls) get rows of their own, so
    the shares add up to the measured step time. A nested model's layers get one row
    each (named ``inner_model/layer``); a layer called several times gets one row for
    all its calls.

    The profile leaves the model as it found it: weights, BatchNormalization statistics,
    optimizer state (slots and ``iterations``), dropout streams and the states of
    stateful layers are restored afterwards, so a later ``fit`` continues exactly as it
    would have without profiling.

    # Arguments
        model: a seqnet Model or Sequential; compiled when `training` is True.
        x: input data as for ``fit`` (an array, or a list / dict for several inputs).
        y: targets as for ``fit`` (needed when `training` is True, unused otherwise).
        batch_size: samples per step; consecutive batches of x are used in turn (fewer
            samples than `batch_size`: one batch of all of them).
        steps: timed steps (the times are means over them).
        warmup: steps run first and not timed (workspaces are allocated then).
        training: True: full training steps (forward, loss, backward, update); False:
            the forward pass of inference only (as ``predict``, without its folding of
            BatchNormalization into the layer before it).
        peak: True: also measure the FP32 multiply-add peak of the engine's threads
            (``fma_peak`` below, about 0.04 s) just before and just after the timed
            steps, and give each layer's GFLOP/s as a share of the higher of the two
            (``ModelProfile.peak_gflops``, ``peak_share``; the table's "% peak" columns). A
            VM's cores run faster or slower from one minute to the next, so a share of the
            peak measured now says more than GFLOP/s against a nominal figure.

    Run it in one process (not under seqnet.distribute with several ranks).
    """
    if not isinstance(model, Model):
        raise TypeError(f"profile_model: model must be a seqnet Model or Sequential, got {type(model).__name__}")
    _check_int("batch_size", batch_size, 1)
    _check_int("steps", steps, 1)
    _check_int("warmup", warmup, 0)
    if training not in (True, False):
        raise ValueError(f"profile_model: training must be True or False, got {training!r}")
    if peak not in (True, False):
        raise ValueError(f"profile_model: peak must be True or False, got {peak!r}")
    if training:
        if model._compiled_losses is None:
            raise RuntimeError("profile_model: the model must be compiled to profile training steps; call "
                               "model.compile(optimizer, loss) first or pass training=False")
        if y is None:
            raise ValueError("profile_model: y (the targets) is needed with training=True")
        xs, ys, ws = model._standardize_xy(x, y)
        model._prepare_training()
        if model._parallel is not None:
            raise ValueError("profile_model: the model trains with seqnet.distribute across processes; profile "
                             "it in a single process")
    else:
        xs, ys, ws = model._standardize_x(x), None, None
    n = len(xs[0])
    if n == 0:
        raise ValueError(f"profile_model: x contains no samples (shape {tuple(xs[0].shape)})")
    batch = min(int(batch_size), n)
    starts = list(range(0, n - batch + 1, batch))

    timers = _Timers(model, training)
    saved = _SavedState(model, timers.runners())
    step_seconds = []
    peaks = [fma_peak()] if peak else []
    try:
        timers.install()
        for k in range(warmup + steps):
            if k == warmup:
                timers.reset()
            rows = slice(starts[k % len(starts)], starts[k % len(starts)] + batch)
            bx = [a[rows] for a in xs]
            t = time.perf_counter()
            if training:
                model._train_batch(bx, [a[rows] for a in ys], None if ws is None else
                                   [None if w is None else w[rows] for w in ws])
            else:
                model._run(bx, False)
            if k >= warmup:
                step_seconds.append(time.perf_counter() - t)
        if peak:
            peaks.append(fma_peak())
    finally:
        timers.uninstall()
        saved.restore()
    result = timers.profile(batch, steps, warmup, step_seconds)
    if peaks:
        result.peak_gflops = max(peaks)
        result.peak_threads = _engine.get_num_threads()
    return result


def fma_peak(threads=None, seconds=0.03):
    """The FP32 multiply-add peak of `threads` threads (default: the engine's thread count,
    ``seqnet.get_num_threads()``) measured now, in GFLOP/s: each thread runs independent
    multiply-adds on the active instruction set's widest vectors and nothing else, for about
    `seconds` in all (the best of three runs). No kernel can run faster; profile_model sets
    its GFLOP/s against it."""
    return _engine.fma_peak(threads, seconds)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"profile_model: {name} must be an integer >= {minimum}, got {value!r}")


class _Call:
    """Timing of one step of the plan (one call of a layer)."""

    __slots__ = ("key", "name", "step", "runner", "forward_s", "backward_s", "in_shapes", "out_shapes", "training",
                 "need_dx")

    def __init__(self, key, name, step):
        self.key, self.name, self.step, self.runner = key, name, step, step.runner
        self.forward_s = self.backward_s = 0.0
        self.in_shapes = self.out_shapes = None
        self.training, self.need_dx = True, None  # need_dx stays None if backward never runs


class _Timers:
    """The timed wrappers of one profile: installed on the instances, then removed."""

    def __init__(self, model, training):
        self.model, self.training = model, training
        self.calls = []
        self._collect(model._steps, (), "")
        self.loss_s = self.metrics_s = self.optimizer_s = 0.0
        self._undo = []

    def _collect(self, steps, key, prefix):
        for step in steps:
            if getattr(step.runner, "_is_network", False):  # a nested model: a row per inner layer
                self._collect(step.runner._steps, key + (id(step.layer),), f"{prefix}{step.layer.name}/")
            else:
                self.calls.append(_Call(key + (id(step.layer),), prefix + step.layer.name, step))

    def runners(self):
        return [c.runner for c in self.calls]

    def reset(self):
        for c in self.calls:
            c.forward_s = c.backward_s = 0.0
            c.need_dx = None
        self.loss_s = self.metrics_s = self.optimizer_s = 0.0

    # ---- installing -------------------------------------------------------------------------
    def install(self):
        seen = set()
        for c in self.calls:
            if id(c.runner) in seen:
                continue
            seen.add(id(c.runner))
            self._set(c.runner, "forward", _timed_forward(c.runner.forward, c))
            self._set(c.runner, "backward", _timed_backward(c.runner.backward, c))
        # The plan calls backend_call.forward itself for a Keras-style layer called with extra
        # keyword arguments (no runner.forward in between to time).
        direct = {id(c.runner): c for c in self.calls if c.step.call_kwargs}
        if direct:
            self._set(backend_call, "forward", _timed_tape_forward(backend_call.forward, direct))
        model = self.model
        self._set(model, "_losses", self._timed_total(model._losses, "loss_s"))
        self._set(model, "_values_of", self._timed_total(model._values_of, "metrics_s"))
        if self.training:
            opt = model.optimizer
            self._set(opt, "apply_gradients_flat", self._timed_total(opt.apply_gradients_flat, "optimizer_s"))

    def _set(self, obj, name, value):
        had = name in obj.__dict__
        self._undo.append((obj, name, had, obj.__dict__.get(name)))
        setattr(obj, name, value)

    def uninstall(self):
        while self._undo:
            obj, name, had, old = self._undo.pop()
            if had:
                setattr(obj, name, old)
            else:
                delattr(obj, name)

    def _timed_total(self, fn, attr):
        clock = time.perf_counter

        def timed(*args, **kwargs):
            t = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                setattr(self, attr, getattr(self, attr) + clock() - t)
        return timed

    # ---- the result -------------------------------------------------------------------------
    def profile(self, batch, steps, warmup, step_seconds):
        step_ms = 1e3 * sum(step_seconds) / steps
        per_step = 1e3 / steps
        grouped = {}
        for c in self.calls:
            grouped.setdefault(c.key, []).append(c)
        rows = []
        fused_into = _fused_activations(self.model)
        forward_in = _pooled_forwards(self.model)
        run_by = _token_readers(self.model)
        for calls in grouped.values():
            first = calls[0]
            counts = [_flops_of(c, fused_into.get(id(c.step)), id(c.step) in run_by) for c in calls]
            fwd = None if any(f is None for f, _ in counts) else sum(f for f, _ in counts)
            bwd = None if fwd is None or not self.training else sum(b for _, b in counts)
            rows.append(_row(first.name, type(first.step.layer).__name__, "layer", _shape_text(first.step),
                             len(calls), per_step * sum(c.forward_s for c in calls),
                             per_step * sum(c.backward_s for c in calls), step_ms, batch, fwd, bwd))
            rows[-1].fused_into = fused_into.get(id(first.step))
            rows[-1].forward_in = forward_in.get(id(first.step))
            rows[-1].run_by = run_by.get(id(first.step))
            if rows[-1].forward_in:  # its forward only handed back what that layer wrote
                rows[-1].forward_gflops = None
        model = self.model
        if self.training:
            losses = ", ".join(str(loss.name) for loss in model._compiled_losses)
            rows.append(_row("(loss)", "", "loss", losses, 1, per_step * self.loss_s, 0.0, step_ms, batch))
            if model._metrics:
                names = ", ".join(model.metrics_names[len(model.metrics_names) - len(model._metrics):])
                rows.append(_row("(metrics)", "", "metrics", names, 1, per_step * self.metrics_s, 0.0, step_ms, batch))
            params = model._store.params.size
            rows.append(_row("(optimizer)", type(model.optimizer).__name__, "optimizer", f"{params:,} params", 1,
                             0.0, per_step * self.optimizer_s, step_ms, batch))
        timed = sum(r.forward_ms + r.backward_ms for r in rows)
        rows.append(_row("(other)", "", "other", "", 1, max(step_ms - timed, 0.0), 0.0, step_ms,
                         batch))
        step_times = [1e3 * s for s in step_seconds]
        return ModelProfile(model_name=model.name, training=self.training, batch_size=batch, steps=steps,
                            warmup=warmup, step_ms=step_ms, step_ms_min=min(step_times), step_times_ms=step_times,
                            rows=rows)


def _row(name, class_name, kind, shape, calls, forward_ms, backward_ms, step_ms, batch, fwd=None, bwd=None):
    total = forward_ms + backward_ms
    both = None if fwd is None else fwd + (bwd or 0)
    return ProfileRow(name=name, class_name=class_name, kind=kind, output_shape=shape, calls=calls,
                      forward_ms=forward_ms, backward_ms=backward_ms, share=total / step_ms if step_ms > 0 else 0.0,
                      forward_flops=fwd, backward_flops=bwd, forward_gflops=_rate(fwd, batch, forward_ms),
                      backward_gflops=_rate(bwd, batch, backward_ms), gflops=_rate(both, batch, total))


def _flops_of(call, fused_into=None, run_by_reader=False):
    if fused_into is not None:  # never called: its work ran in the layer before it, on its shape
        shapes = [tuple(t.shape[1:]) for t in call.step.node.output_tensors]
        return layer_flops(call.step.layer, shapes, shapes, call.training, True)
    if run_by_reader:  # an Embedding its reader ran, on the indices of the last forward
        ids = call.runner._x.shape[1:]
        return layer_flops(call.step.layer, [ids], [ids + (call.runner.output_dim,)], call.training, True)
    if call.in_shapes is None:
        return None, None
    fwd, bwd = layer_flops(call.step.layer, call.in_shapes, call.out_shapes, call.training, bool(call.need_dx))
    return fwd, (0 if call.need_dx is None and fwd is not None else bwd)  # no gradient reached this call


def _fused_activations(model):
    """id(step) -> the name of the layer that runs it, for the model's Activation layers that run
    inside the layer before them (engine/network.py)."""
    marks = model._step_fusions()
    steps = model._steps
    producer = {step.out_slots[0]: step.layer.name for step in steps if not step.returns_list}
    return {id(step): producer[step.in_slots[0]] for step, m in zip(steps, marks) if m is network._RUN_BEFORE}


def _token_readers(model):
    """id(step) -> the name of the recurrent layer that ran it, for the Embedding layers whose
    reader took their indices in the last forward (engine/network.py, _graph_tokens)."""
    marks = model._token_run or ()
    steps = model._steps
    reader = {step.in_slots[0]: step.layer.name for step in steps}
    return {id(step): reader[step.out_slots[0]] for step, m in zip(steps, marks) if m is network._TOKENS}


def _pooled_forwards(model):
    """id(step) -> the name of the layer whose forward writes its output, for the MaxPooling2D
    layers a Conv2D pools into (engine/network.py, _pool_fusions)."""
    steps = model._steps
    pooled = {id(pool): steps[i].layer.name for i, pool in enumerate(model._pool_fusions()) if pool is not None}
    return {id(step): pooled[id(step.runner)] for step in steps if id(step.runner) in pooled}


def _shape_text(step):
    shapes = [tuple(t.shape) for t in step.node.output_tensors]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _shapes(value):
    return [a.shape[1:] for a in value] if isinstance(value, (list, tuple)) else [value.shape[1:]]


def _timed_forward(fn, call):
    clock = time.perf_counter

    def forward(x, *args, **kwargs):
        t = clock()
        out = fn(x, *args, **kwargs)
        call.forward_s += clock() - t
        call.in_shapes, call.out_shapes = _shapes(x), _shapes(out)
        call.training = bool(args[0] if args else kwargs.get("training", True))
        return out
    return forward


def _timed_backward(fn, call):
    clock = time.perf_counter

    def backward(dy, *args, **kwargs):
        t = clock()
        dx = fn(dy, *args, **kwargs)
        call.backward_s += clock() - t
        call.need_dx = bool(args[0] if args else kwargs.get("need_dx", True))
        return dx
    return backward


def _timed_tape_forward(fn, direct):
    """backend_call.forward timed for the layers in `direct` (by id)."""
    def forward(layer, x, training, *args, **kwargs):
        call = direct.get(id(layer))
        if call is None:
            return fn(layer, x, training, *args, **kwargs)
        return _timed_forward(lambda *a, **k: fn(layer, *a, **k), call)(x, training, *args, **kwargs)
    return forward


class _SavedState:
    """What training steps change, copied before the profile and written back after: the
    weights (in place, so views into the model's flat buffers stay valid), the optimizer's
    attributes (slots, iterations, schedules), and each layer's random-stream step and
    stateful states."""

    def __init__(self, model, runners):
        self.weights = [(w, w.value.copy()) for w in model.weights]
        self.optimizer = _ObjectState(model.optimizer) if model.optimizer is not None else None
        self.layers = [_LayerState(layer) for layer in _layer_objects(runners)]

    def restore(self):
        for w, value in self.weights:
            w.value[...] = value
        if self.optimizer is not None:
            self.optimizer.restore()
        for state in self.layers:
            state.restore()


class _ObjectState:
    def __init__(self, obj):
        self.obj = obj
        self.attrs = dict(obj.__dict__)
        self.arrays = {k: v.copy() for k, v in self.attrs.items() if isinstance(v, np.ndarray)}
        self.variables = {k: K.get_value(v) for k, v in self.attrs.items() if isinstance(v, Variable)}

    def restore(self):
        self.obj.__dict__.clear()
        self.obj.__dict__.update(self.attrs)
        for k, value in self.arrays.items():
            self.attrs[k][...] = value
        for k, value in self.variables.items():
            K.set_value(self.attrs[k], value)


class _LayerState:
    def __init__(self, layer):
        self.layer = layer
        self.step = layer.__dict__.get("_step")
        states = layer.__dict__.get("states")
        self.has_states = "states" in layer.__dict__
        self.states = states
        arrays = isinstance(states, list) and all(isinstance(s, np.ndarray) for s in states)
        self.values = [s.copy() for s in states] if arrays else None

    def restore(self):
        if self.step is not None:
            self.layer._step = self.step
        if self.has_states:
            self.layer.states = self.states
            for s, value in zip(self.states if self.values else [], self.values or []):
                s[...] = value


def _layer_objects(runners):
    """Every layer object the runners hold (wrapped layers, cells, inner runners), once."""
    seen, out, stack = set(), [], list(runners)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        out.append(obj)
        for value in obj.__dict__.values():
            if isinstance(value, dict):
                value = list(value.values())
            stack.extend(v for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, Layer))
    return out
