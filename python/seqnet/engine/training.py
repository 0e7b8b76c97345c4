"""Model: a Network that trains — compile, fit, evaluate, predict and the batch methods.

Everything works on lists: one array per input, one target, loss and sample weight per
output (total loss = sum_i loss_weight_i * loss_i), so Sequential and functional models
share every line. A training step is: forward through the plan, one fused loss-and-gradient
call per output, backward through the plan, one optimizer call over the flat parameter
buffer; nothing is allocated in between (see bench/bench_step_overhead.py).
"""
import numpy as np

from seqnet import _engine, optimizers
from seqnet.callbacks import BaseLogger, CallbackList, History, ProgbarLogger
from seqnet.engine import data as data_utils
from seqnet.engine import training_loop
from seqnet.engine.batch_sources import ArrayBatches, GeneratorBatches, gather_rows, is_data_source
from seqnet.engine.compile_utils import (CompiledLoss, CompiledMetric, element_weights, metric_lists, metrics_names,
                                         per_output)
from seqnet.engine.network import Network
from seqnet.engine.parallel_training import data_parallel_step
from seqnet.engine.parameters import ParameterStore, row_sparse_tables
from seqnet.engine.weight import weight_penalty
from seqnet.engine import saving_hooks, subclassed

_NOT_COMPILED = "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."


class Model(Network):
    """`Model(inputs, outputs)`: inputs are `seqnet.layers.Input` tensors, outputs the
    tensors of layers called on them (a tensor or a list each). Keras 2's functional API.

    Subclassing (Keras 2.2's other style): define the layers as attributes in `__init__`
    (after `super().__init__()`) and the forward pass in `call(self, inputs, training=None)`.
    seqnet traces `call` once, on symbolic tensors, the first time the input shapes are
    known (fit / evaluate / predict and the batch methods, `build(input_shape)`, or calling
    the model on a tensor), and runs the resulting graph from then on, as a functional
    model. So `call` must use layers (or `Lambda` / `seqnet.backend` ops inside layers),
    and Python branches on `training` or on data values are taken once, at tracing (the
    layers' own `training` handling, e.g. Dropout's, follows the learning phase as usual).
    `save`, `get_config` and `to_json` raise NotImplementedError (use `save_weights`)."""

    _subclassed = None  # engine/subclassed.py's SubclassedModel for a subclassed model

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        subclassed.install_tracking(cls)

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        inputs = kwargs.pop("input", inputs)  # Keras 2.0's spelling: Model(input=..., output=...)
        outputs = kwargs.pop("output", outputs)
        if inputs is None and outputs is None and subclassed.overrides_call(type(self)):
            self._init_subclassed(name, kwargs.pop("trainable", True), kwargs.pop("dtype", None), kwargs)
            return
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument(s) {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise ValueError("Model: give `inputs` and `outputs`, or subclass Model and define `call`")
        Network.__init__(self, name=name)
        self._init_training()
        self._init_graph(inputs, outputs)

    def _init_subclassed(self, name, trainable, dtype, kwargs):
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument(s) {sorted(kwargs)}")
        if dtype is not None and str(np.dtype(dtype)) != "float32":
            raise ValueError(f"Model: only dtype='float32' is supported, got {dtype!r}")
        Network.__init__(self, name=name, trainable=trainable)
        self._init_training()
        self._subclassed = subclassed.SubclassedModel(self)

    def _init_training(self):
        self.optimizer = None
        self.loss = None
        self.loss_weights = None
        self._compiled_losses = None
        self._metrics = []
        self._metrics_ready = False
        self.metrics_names = []
        self.history = History()
        self.stop_training = False
        self._store = None
        self._buffers = {}
        self._parallel = None
        self._sparse_tables = []  # _row_sparse_tables

    # ---- compile ---------------------------------------------------------------------
    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, **kwargs):
        """Configures training: an optimizer (name or instance), a loss (name or function;
        with several outputs a list or a dict by output name), metrics (a list, or a dict by
        output name), loss_weights, sample_weight_mode (None or 'temporal', per output too)
        and weighted_metrics. Raises ValueError for anything it cannot interpret."""
        if kwargs:
            raise ValueError(f"compile: unexpected keyword argument(s) {sorted(kwargs)}")
        if self._subclassed is not None and not self.built:  # the outputs are known once built
            return self._subclassed.defer_compile(dict(
                optimizer=optimizer, loss=loss, metrics=metrics, loss_weights=loss_weights,
                sample_weight_mode=sample_weight_mode, weighted_metrics=weighted_metrics,
                target_tensors=target_tensors))
        if loss is None:
            raise ValueError("compile: a loss is required (a name such as 'mse' or a function)")
        if target_tensors is not None:
            raise ValueError("compile: target_tensors are not supported by seqnet (it feeds NumPy arrays)")
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict)):
            raise ValueError(f"compile: loss_weights must be a list or dict, got {loss_weights!r}")
        names = self._output_names()
        per_loss = per_output(names, loss, "loss")
        weights = per_output(names, loss_weights, "loss_weights", default=1.0)
        for lw in weights:
            if isinstance(lw, bool) or not isinstance(lw, (int, float, np.number)):
                raise ValueError(f"compile: loss_weights must be numbers, got {loss_weights!r}")
        modes = per_output(names, sample_weight_mode, "sample_weight_mode", default="none")
        for mode in modes:
            if mode not in ("none", None, "temporal"):
                raise ValueError(f"compile: sample_weight_mode must be None or 'temporal', got {mode!r}")
        per_metrics = metric_lists(names, metrics, "metrics")
        per_weighted = metric_lists(names, weighted_metrics, "weighted_metrics")
        # validate names now: unknown strings fail at compile, as in Keras
        from seqnet import metrics as metrics_module
        for m in [m for ms in per_metrics + per_weighted for m in ms]:
            if m not in ("accuracy", "acc"):
                metrics_module.get(m)
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.loss_weights = loss_weights
        self.sample_weight_mode = sample_weight_mode
        self.metrics = metrics if metrics is not None else []
        self._compile_args = {"metrics": metrics, "weighted_metrics": weighted_metrics}
        self._compiled_losses = [CompiledLoss(l) for l in per_loss]
        self._grad_keys = [f"grad{i}" for i in range(len(per_loss))]
        self._loss_weights = [float(w) for w in weights]
        self._temporal = [mode == "temporal" for mode in modes]
        self._output_metric_ids = [[(m, False) for m in ms] + [(m, True) for m in ws]
                                   for ms, ws in zip(per_metrics, per_weighted)]
        self.metrics_names = metrics_names(self._output_names(), self._output_metric_ids)
        self._metrics = []
        self._metrics_ready = False
        if self.built:
            self._finish_compile()

    def _output_names(self):
        return self.output_names

    def _finish_compile(self):
        """The parts of compile that need the graph: loss fusion and accuracy resolution."""
        for step in self._steps:
            step.fused = False
        self._metrics = []
        self._fused_steps = []
        for i, (slot, t, loss) in enumerate(zip(self._output_slots, self.outputs, self._compiled_losses)):
            step = self._output_runner(i)
            # Fuse the loss with the output's activation only where nothing else needs dL/d(output).
            fusable = (step is not None and not step.returns_list and step.layer.activity_regularizer is None
                       and not self._consumers.get(slot) and self._output_slots.count(slot) == 1)
            loss.attach(step.runner.output_activation if fusable else None)
            if loss.fused:
                step.fused = True
            self._fused_steps.append(step if loss.fused else None)
            self._metrics += [(i, CompiledMetric(m, loss, t.shape[1:], weighted))
                              for m, weighted in self._output_metric_ids[i]]
        self._metrics_ready = True

    def _require_compiled(self):
        if self._compiled_losses is None:
            raise RuntimeError(_NOT_COMPILED)

    def _prepare_training(self):
        if not self._metrics_ready:
            self._finish_compile()
        weights = self.trainable_weights
        if self._store is None or not self._store.holds(weights):
            self._store = ParameterStore(weights)
        self._regularized = [w for w in weights if w.regularizer is not None]
        # A frozen layer's penalties still count in the loss (Keras 2.2.4 and tf-keras), without gradients.
        self._penalized = [w for w in self.weights if w.regularizer is not None]
        self._constrained = [w for w in weights if w.constraint is not None]
        self._activity = self._has_activity_regularizers()
        self._parallel = self._data_parallel()
        if self._parallel is not None:  # every rank must train the same model: checked before any reduction
            self._parallel.check_model(self)
        self._sparse_tables = self._row_sparse_tables()

    def _row_sparse_tables(self):
        """The tables the optimizer may update row by row (engine/parameters.py)."""
        return row_sparse_tables(self)

    def _data_parallel(self):
        """The data-parallel hooks of a seqnet.distribute.DistributedOptimizer running in
        more than one process (gradient allreduce, sharding, rank-0 callbacks), else None."""
        return getattr(self.optimizer, "data_parallel", None)

    def _has_activity_regularizers(self):
        return any(layer.activity_regularizer is not None for layer in self._run_layers)

    def _penalties(self, penalized, with_activity):
        """Regularization added to the loss: the penalties of the weights `penalized` (those
        with a regularizer) and, after a forward pass, activity penalties on the layers' outputs."""
        total = weight_penalty(penalized)
        if with_activity:
            total += self._activity_penalty()
        return total

    def _activity_penalty(self):
        total = 0.0
        for step in self._steps:
            reg = step.layer.activity_regularizer
            if reg is not None and not step.returns_list:
                total += reg(self._values[step.out_slots[0]])
        return total

    # ---- data ------------------------------------------------------------------------
    def _standardize_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what}: no input data given")
        if not self.built:
            self._build_from_data(x)
        arrays = data_utils.arrays_for(x, self.input_names, "input")
        out = []
        for a, t, name in zip(arrays, self.inputs, self.input_names):
            data_utils.check_not_scalar(a, what, f"input '{name}'")
            a = data_utils.as_input_array(a, f"input '{name}'", keep_integers=name in self._integer_inputs())
            out.append(data_utils.check_input(a, t.shape[1:], name))
        data_utils.same_length(out, self.input_names, "input")
        return out

    def _integer_inputs(self):
        """The names of the inputs that only layers reading integer indices (Embedding)
        consume: their integer data is fed as it is, not converted to float32."""
        cached = getattr(self, "_integer_inputs_cache", None)
        if cached is not None and cached[0] is self._steps:  # the plan is rebuilt as a new list
            return cached[1]
        keep = set()
        for i, name in enumerate(self.input_names):
            readers = [step.layer for step in self._steps if i in step.in_slots]
            if readers and all(getattr(layer, "reads_integer_indices", False) for layer in readers):
                keep.add(name)
        self._integer_inputs_cache = (self._steps, keep)
        return keep

    def _build_from_data(self, x):
        if self._subclassed is None:
            raise ValueError("This model has not yet been built.")
        self._subclassed.build_from_data(x)

    # ---- subclassed models (engine/subclassed.py) ------------------------------------------
    def build(self, input_shape=None):
        """A subclassed model: traces `call` on inputs of `input_shape` (a shape with the
        batch axis first, or a list of shapes) and builds the graph. Other models are built."""
        if self._subclassed is None:
            return Network.build(self, input_shape)
        if not self.built:
            self._subclassed.build(input_shape)

    def _build_for(self, input_shape):
        """Called on tensors: a subclassed model not built yet is built for their shapes."""
        if self._subclassed is not None and not self.built:
            self._subclassed.build(input_shape)
        Network._build_for(self, input_shape)

    @property
    def layers(self):
        """The layers; for a subclassed model those assigned as attributes, in assignment order."""
        if self._subclassed is not None:
            return self._subclassed.layers()
        return Network.layers.fget(self)

    @property
    def _run_layers(self):
        if self._subclassed is not None:
            return self._subclassed.layers()
        return Network._run_layers.fget(self)

    def get_config(self):
        if self._subclassed is not None:
            subclassed.refuse_serialization(self, "get_config")
        return Network.get_config(self)

    def _standardize_xy(self, x, y, sample_weight=None, class_weight=None):
        xs = self._standardize_x(x)
        if y is None:
            raise ValueError("y: no target data given")
        if not self._metrics_ready:
            self._finish_compile()
        ys = data_utils.arrays_for(y, self.output_names, "target")
        sws = data_utils.per_output(sample_weight, self.output_names, "sample_weight")
        cws = data_utils.per_output(class_weight, self.output_names, "class_weight", class_weight=True)
        out_y, out_w = [], []
        for a, t, name, loss, sw, cw, temporal in zip(ys, self.outputs, self.output_names, self._compiled_losses,
                                                      sws, cws, self._temporal):
            data_utils.check_not_scalar(a, "y", f"target '{name}'")
            a = data_utils.as_float32(a, f"target '{name}'")
            a = data_utils.check_target(a, t.shape[1:], name, loss.name, loss.sparse)
            out_y.append(a)
            out_w.append(data_utils.sample_weights(a, sw, cw, loss.sparse, temporal))
        data_utils.check_same_length(xs[0], out_y[0])
        data_utils.same_length(out_y, self.output_names, "target")
        return xs, out_y, None if all(w is None for w in out_w) else out_w

    def _gather(self, key, data, ids):
        """The rows `ids` of an array in a reused buffer."""
        buf = self._buffers.get(key)
        n = len(ids)
        dtype = data.dtype if type(data) is np.ndarray else np.float32
        if buf is None or buf.shape[1:] != data.shape[1:] or buf.shape[0] < n or buf.dtype != dtype:
            buf = np.empty((n,) + tuple(data.shape[1:]), dtype=dtype)
            self._buffers[key] = buf
        if buf.shape[0] != n:
            buf = buf[:n]
        if type(data) is np.ndarray:
            if dtype == np.float32:
                _engine.gather_rows(data, ids, buf)
            else:  # integer indices of an Embedding input
                np.take(data, ids, axis=0, out=buf)
            return buf
        return gather_rows(data, ids, buf)

    def _buffer(self, key, shape):
        buf = self._buffers.get(key)
        if buf is None or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0]:
            buf = np.empty(shape, dtype=np.float32)
            self._buffers[key] = buf
        return buf[:shape[0]]

    # ---- one batch -------------------------------------------------------------------
    def _losses(self, ys, outs, ws, masks, training):
        """(total loss, per-output losses, output gradients (with training))."""
        if len(outs) == 1 and ws is None and masks[0] is None:  # the common case, kept short
            out, step = outs[0], self._fused_steps[0]
            g = self._buffer("grad0", out.shape) if training else None
            value = self._compiled_losses[0](ys[0], out, None, g, step.runner.logits if step is not None else None)
            lw = self._loss_weights[0]
            if training and lw != 1.0:
                g *= np.float32(lw)
            return lw * value, [value], [g]
        grads, per_output, total = [], [], 0.0
        fused = self._fused_steps
        for i, out in enumerate(outs):
            w = None if ws is None else ws[i]
            if masks[i] is not None or (w is not None and (w.ndim > 1 or out.ndim > 2)):
                w = element_weights(out, masks[i], w)
            g = self._buffer(self._grad_keys[i], out.shape) if training else None
            step = fused[i]
            value = self._compiled_losses[i](ys[i], out, w, g, step.runner.logits if step is not None else None)
            lw = self._loss_weights[i]
            if training and lw != 1.0:
                g *= np.float32(lw)
            per_output.append(value)
            grads.append(g)
            total += lw * value
        return total, per_output, grads

    def _values_of(self, total, per_output, ys, outs, ws, masks):
        values = [total] + per_output if len(outs) > 1 else [total]
        for i, m in self._metrics:
            values.append(m(ys[i], outs[i], None if ws is None else ws[i], masks[i]))
        return values

    def _train_batch(self, xs, ys, ws, position=None):
        """One step on one batch: returns [loss, metric values...] before the update.
        `position` places the batch in a data-parallel global batch (_train_batch_parallel)."""
        if not isinstance(xs, list):  # a single-input model's arrays (bench and tests call this)
            xs, ys = [xs], [ys]
            ws = None if ws is None else [ws]
        if self._parallel is not None:
            return data_parallel_step(self, xs, ys, ws, position)
        outs = self._run(xs, True)
        masks = self._output_masks()
        total, per_output, grads = self._losses(ys, outs, ws, masks, True)
        if self._penalized or self._activity:
            total += self._penalties(self._penalized, self._activity)
        values = self._values_of(total, per_output, ys, outs, ws, masks)
        self._backward(grads)
        self._apply_gradients()
        return values

    def _apply_gradients(self, regularize=True):
        """The update after the backward pass: the weight penalties' gradients (when
        `regularize`), one optimizer call over the flat buffers, then the constraints."""
        if regularize:
            for w in self._regularized:
                w.regularizer.add_gradient(w.value, w.grad)
        store = self._store
        if store.params.size:
            if not self._sparse_tables:
                self.optimizer.apply_gradients_flat(store.params, store.grads, store.segments)
            else:
                tables = []
                for layer, w, offset in self._sparse_tables:
                    rows = layer.take_grad_rows(w.grad)
                    if rows is not None:
                        tables.append((offset, w.value.shape[0], w.value.shape[1], rows))
                self.optimizer.apply_gradients_flat(store.params, store.grads, store.segments, sparse_rows=tables)
        for w in self._constrained:
            w.value[...] = w.constraint(w.value)

    def _test_batch(self, xs, ys, ws):
        outs = self._run(xs, False)
        masks = self._output_masks()
        total, per_output, _ = self._losses(ys, outs, ws, masks, False)
        total += self._penalties([w for w in self.weights if w.regularizer is not None],
                                 self._has_activity_regularizers())
        return self._values_of(total, per_output, ys, outs, ws, masks)

    # ---- fit / evaluate / predict ----------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
            **kwargs):
        """Trains for `epochs` epochs (Keras 2 semantics; see the seed documentation). `x` may
        also be a generator or a seqnet.utils.Sequence yielding (x, y[, sample_weight]);
        validation_data may be arrays, a generator or a Sequence."""
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {sorted(kwargs)}")
        self._require_compiled()
        data_utils.check_int("epochs", epochs, minimum=0)
        data_utils.check_int("initial_epoch", initial_epoch, minimum=0)
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"fit: shuffle must be True, False or 'batch', got {shuffle!r}")
        data_utils.check_callbacks(callbacks, "fit")
        gen = dict(workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        parallel = self._data_parallel()
        shard = parallel if parallel is not None and parallel.shard_data else None
        if is_data_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("fit: `y` and `sample_weight` are not supported when x is a generator or a "
                                 "Sequence (it yields the targets)")
            train = GeneratorBatches(self, x, steps_per_epoch, "train", "fit", shuffle=shuffle,
                                     class_weight=class_weight, shard=shard, **gen)
            val = None
        else:
            data_utils.check_steps_without_batch_size("fit", "steps_per_epoch", steps_per_epoch, batch_size)
            batch_size = data_utils.batch_size_or_default(batch_size)
            if steps_per_epoch is not None:
                data_utils.check_int("steps_per_epoch", steps_per_epoch, minimum=1)
            xs, ys, ws = self._standardize_xy(x, y, sample_weight, class_weight)
            if len(xs[0]) == 0:
                raise ValueError("fit: x and y contain no samples")
            val = None
            if validation_split and validation_data is None:
                if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float, np.number)) \
                        or not 0.0 < validation_split < 1.0:
                    raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split!r}")
                n = len(xs[0])
                split_at = int(n * (1.0 - validation_split))
                if split_at == 0 or split_at == n:
                    raise ValueError(f"fit: validation_split={validation_split} of {n} samples leaves an empty "
                                     "training or validation set")
                val = ArrayBatches(self, *data_utils.split_arrays(xs, ys, ws, split_at, n), batch_size,
                                   steps=validation_steps if steps_per_epoch is not None else None)
                xs, ys, ws = data_utils.split_arrays(xs, ys, ws, 0, split_at)
            train = ArrayBatches(self, xs, ys, ws, batch_size, shuffle, steps_per_epoch, shard=shard)
        try:
            if validation_data is not None:
                val = self._validation_source(validation_data, validation_steps, batch_size or 32, gen,
                                              steps_per_epoch is not None)
        except BaseException:
            train.stop()
            raise
        return training_loop.fit_loop(self, train, val, epochs, initial_epoch, callbacks, verbose)

    def _validation_source(self, data, steps, batch_size, gen, array_steps):
        if is_data_source(data):
            return GeneratorBatches(self, data, steps, "validation", "validation_data", **gen)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("fit: validation_data must be a generator, a Sequence, or a tuple (x_val, y_val) or "
                             f"(x_val, y_val, val_sample_weights), got {type(data).__name__}")
        xs, ys, ws = self._standardize_xy(data[0], data[1], sample_weight=data[2] if len(data) == 3 else None)
        if array_steps and steps is not None:
            data_utils.check_int("validation_steps", steps, minimum=1)
        return ArrayBatches(self, xs, ys, ws, batch_size, steps=steps if array_steps else None)

    def _training_callbacks(self, callbacks, verbose, count_mode, do_validation, **params):
        """The callbacks of a fit: BaseLogger, the progress bar, the user's, then History."""
        out_labels = list(self.metrics_names)
        self.history = History()
        cbs = [BaseLogger()] + ([ProgbarLogger(count_mode=count_mode)] if verbose else [])
        cbs += list(callbacks or []) + [self.history]
        parallel = self._data_parallel()
        if parallel is not None:  # progress bar, checkpoints and log files on rank 0 only
            cbs = parallel.callbacks_for_rank(cbs)
        cbk = CallbackList(cbs)
        cbk.set_model(self)
        cbk.set_params(dict(params, verbose=verbose, do_validation=do_validation,
                            metrics=out_labels + (["val_" + n for n in out_labels] if do_validation else [])))
        self.stop_training = False
        return cbk

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, **kwargs):
        """The loss and metrics on (x, y), averaged over samples: a scalar without metrics.
        `x` may also be a generator or a Sequence (then `steps` batches are used)."""
        if kwargs:
            raise TypeError(f"evaluate: unexpected keyword argument(s) {sorted(kwargs)}")
        self._require_compiled()
        data_utils.check_callbacks(callbacks, "evaluate")
        if is_data_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("evaluate: `y` and `sample_weight` are not supported when x is a generator or "
                                 "a Sequence")
            source = GeneratorBatches(self, x, steps, "test", "evaluate", workers=workers,
                                      use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        else:
            data_utils.check_steps_without_batch_size("evaluate", "steps", steps, batch_size)
            batch_size = data_utils.batch_size_or_default(batch_size)
            if steps is not None:
                data_utils.check_int("steps", steps, minimum=1)
            source = ArrayBatches(self, *self._standardize_xy(x, y, sample_weight), batch_size, steps=steps)
        cbk = CallbackList(callbacks)
        cbk.set_model(self)
        try:
            cbk.call("on_test_begin", {})
            result = training_loop.test_loop(self, source, verbose=verbose, callbacks=cbk)
            cbk.call("on_test_end", dict(zip(self.metrics_names, result)))  # the results, as tf-keras
        finally:
            source.stop()
        return result[0] if len(result) == 1 else result

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for x, computed in batches (x may be a generator or Sequence)."""
        data_utils.check_callbacks(callbacks, "predict")
        if is_data_source(x):
            source = GeneratorBatches(self, x, steps, "predict", "predict", workers=workers,
                                      use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size)
        else:
            batch_size = data_utils.batch_size_or_default(batch_size)
            if steps is not None:
                data_utils.check_int("steps", steps, minimum=1)
            source = ArrayBatches(self, self._standardize_x(x), None, None, batch_size)
        return training_loop.predict_loop(self, source, verbose=verbose, callbacks=callbacks)

    # The seed-era generator methods: the same loops.
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10,
                      workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Trains on batches from a generator or a seqnet.utils.Sequence (Keras 2 semantics)."""
        if not is_data_source(generator):
            raise ValueError(f"fit_generator: expected a generator or a seqnet.utils.Sequence, got "
                             f"{type(generator).__name__}")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        class_weight=class_weight, max_queue_size=max_queue_size, workers=workers,
                        use_multiprocessing=use_multiprocessing, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0, callbacks=None):
        """Loss and metrics over `steps` batches of a generator or Sequence, averaged over samples."""
        if not is_data_source(generator):
            raise ValueError(f"evaluate_generator: expected a generator or a seqnet.utils.Sequence, got "
                             f"{type(generator).__name__}")
        return self.evaluate(generator, steps=steps, max_queue_size=max_queue_size, workers=workers,
                             use_multiprocessing=use_multiprocessing, verbose=verbose, callbacks=callbacks)

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0, callbacks=None):
        """The outputs for `steps` batches of inputs from a generator or Sequence, concatenated."""
        if not is_data_source(generator):
            raise ValueError(f"predict_generator: expected a generator or a seqnet.utils.Sequence, got "
                             f"{type(generator).__name__}")
        return self.predict(generator, steps=steps, max_queue_size=max_queue_size, workers=workers,
                            use_multiprocessing=use_multiprocessing, verbose=verbose, callbacks=callbacks)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, reset_metrics=True):
        """One gradient update on one batch; returns the loss (and metrics) before it."""
        self._require_compiled()
        xs, ys, ws = self._standardize_xy(x, y, sample_weight, class_weight)
        xs = data_utils.in_memory(xs)
        data_utils.check_has_samples(xs, "train_on_batch")
        self._prepare_training()
        if self._parallel is None:
            values = self._train_batch(xs, ys, ws)
        else:
            try:
                values = self._train_batch(xs, ys, ws)
            except BaseException as exc:
                self._parallel.fail(exc)
                raise
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True):
        self._require_compiled()
        xs, ys, ws = self._standardize_xy(x, y, sample_weight)
        xs = data_utils.in_memory(xs)
        data_utils.check_has_samples(xs, "test_on_batch")
        values = self._test_batch(xs, ys, ws)
        return values[0] if len(values) == 1 else values

    def predict_on_batch(self, x):
        outs = [a.copy() for a in self._run(data_utils.in_memory(self._standardize_x(x)), False)]
        return outs[0] if len(outs) == 1 else outs

    # ---- saving: implemented by seqnet.saving (engine/saving_hooks.py) ----------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Saves architecture, weights, compile arguments and optimizer state to an HDF5
        file in Keras 2's layout (`seqnet.models.load_model` and tf-keras read it).
        Not for a subclassed model (NotImplementedError): use `save_weights`."""
        if self._subclassed is not None:
            subclassed.refuse_serialization(self, "save")
        saving_hooks.get().save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to an HDF5 file in Keras 2's weights-only layout."""
        saving_hooks.get().save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Loads weights from `save_weights` or `save` files (seqnet's or Keras'), in layer
        order or, with `by_name`, into layers of the same name. On error nothing changes.
        A subclassed model must be built first (its weights are made then)."""
        if self._subclassed is not None:
            subclassed.require_built_for_loading(self)
        saving_hooks.get().load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        """The architecture as Keras' JSON; `seqnet.models.model_from_json` rebuilds it."""
        if self._subclassed is not None:
            subclassed.refuse_serialization(self, "to_json")
        return saving_hooks.get().model_to_json(self, **kwargs)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from `get_config()` output (seqnet's, Keras 2's or tf-keras'); layer
        classes come from seqnet.layers and `custom_objects` only."""
        return saving_hooks.get().functional_from_config(cls, config, custom_objects)
