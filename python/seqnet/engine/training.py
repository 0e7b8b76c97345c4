"""TrainingModel: compile, fit, evaluate, predict and the batch methods, over a chain of layers.

A subclass (Sequential, functional.Model) provides the layers: ``_run_layers`` (in order), ``_ensure_built(shape)``,
``_input_shape_nobatch()``, ``_output_shape_nobatch()``, ``_input_name`` and
``_output_name``. A training step is: gather the batch into reused buffers, one forward
call per layer, one fused loss-and-gradient call, one backward call per layer, and one
optimizer call over the flat parameter buffer; nothing is allocated in between.
"""
import numpy as np

from seqnet import _engine, optimizers
from seqnet.callbacks import BaseLogger, CallbackList, History, ProgbarLogger
from seqnet.engine import data as data_utils
from seqnet.engine import training_generator
from seqnet.engine.compile_utils import CompiledLoss, CompiledMetric, metric_name
from seqnet.engine.parameters import ParameterStore, signature_of
from seqnet.utils.generic_utils import Progbar

_NOT_COMPILED = "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."


class TrainingModel:
    """The training API shared by Sequential and functional models.

    Data may be one array or, for a functional model with several inputs (outputs), a
    list of arrays; ``data_utils.n_samples``/``take`` and ``_gather`` handle both."""

    def __init__(self, name=None):
        from seqnet.engine.base_layer import _unique_name
        self.name = name or _unique_name(self._name_prefix())
        self.optimizer = None
        self.loss = None
        self._compiled_loss = None
        self._metrics = []
        self.metrics_names = []
        self.history = History()
        self.stop_training = False
        self._store = None
        self._buffers = {}

    @classmethod
    def _name_prefix(cls):
        from seqnet.engine.base_layer import _to_snake_case
        return _to_snake_case(cls.__name__)

    # ---- compile ---------------------------------------------------------------------
    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, **kwargs):
        """Configures training: an optimizer (name or instance), a loss (name or function)
        and a list of metrics. Raises ValueError for anything it cannot interpret."""
        if kwargs:
            raise ValueError(f"compile: unexpected keyword argument(s) {sorted(kwargs)}")
        if loss is None:
            raise ValueError("compile: a loss is required (a name such as 'mse' or a function)")
        if isinstance(loss, (list, tuple)):
            if len(loss) != 1:
                raise ValueError(f"compile: this model has one output, but got {len(loss)} losses")
            loss = loss[0]
        if isinstance(loss, dict):
            if len(loss) != 1:
                raise ValueError(f"compile: this model has one output, but got losses for {sorted(loss)}")
            loss = next(iter(loss.values()))
        if sample_weight_mode not in (None, "temporal"):
            raise ValueError(f"compile: sample_weight_mode must be None or 'temporal', got {sample_weight_mode!r}")
        if sample_weight_mode == "temporal":
            raise ValueError("compile: sample_weight_mode='temporal' is not supported yet by seqnet")
        if target_tensors is not None:
            raise ValueError("compile: target_tensors are not supported by seqnet (it feeds NumPy arrays)")
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict)):
            raise ValueError(f"compile: loss_weights must be a list or dict, got {loss_weights!r}")
        if isinstance(metrics, dict):
            metrics = [m for v in metrics.values() for m in (v if isinstance(v, (list, tuple)) else [v])]
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(f"compile: metrics must be a list (e.g. metrics=['accuracy']), got {metrics!r}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._compiled_loss = CompiledLoss(loss)
        if isinstance(weighted_metrics, dict):
            weighted_metrics = [m for v in weighted_metrics.values()
                                for m in (v if isinstance(v, (list, tuple)) else [v])]
        if weighted_metrics is not None and not isinstance(weighted_metrics, (list, tuple)):
            raise TypeError(f"compile: weighted_metrics must be a list, got {weighted_metrics!r}")
        self._metric_ids = [(m, False) for m in metrics or []] + [(m, True) for m in weighted_metrics or []]
        for m, _ in self._metric_ids:  # validate names now: unknown strings fail at compile, as in Keras
            if m not in ("accuracy", "acc"):
                from seqnet import metrics as metrics_module
                metrics_module.get(m)
        self.metrics_names = ["loss"] + [metric_name(m, weighted) for m, weighted in self._metric_ids]
        self.metrics = list(metrics or [])
        self._metrics = []
        self._metrics_ready = False
        if self._is_built():
            self._finish_compile()

    def _finish_compile(self):
        """The parts of compile that need the output layer: loss fusion and accuracy resolution."""
        output_shape = self._output_shape_nobatch()
        last = self._run_layers[-1] if self._run_layers else None
        # An activity penalty on the output needs dL/d(output), so no fusion with its activation.
        fusable = last is not None and last.activity_regularizer is None
        self._compiled_loss.attach(last.output_activation if fusable else None)
        self._metrics = [CompiledMetric(m, self._compiled_loss, output_shape, weighted)
                         for m, weighted in self._metric_ids]
        self._metrics_ready = True

    def _require_compiled(self):
        if self._compiled_loss is None:
            raise RuntimeError(_NOT_COMPILED)

    def _prepare_training(self):
        if not self._metrics_ready:
            self._finish_compile()
        weights = [w for layer in self._run_layers for w in layer.trainable_weights]
        if self._store is None or self._store.signature != signature_of(weights):
            self._store = ParameterStore(weights)
        self._regularized = [w for w in weights if w.regularizer is not None]
        self._constrained = [w for w in weights if w.constraint is not None]
        self._activity = self._has_activity_regularizers()

    def _penalties(self, outputs):
        """Regularization added to the loss: weight penalties and, given the layers'
        outputs, activity penalties."""
        total = 0.0
        for layer in self._run_layers:
            for w in layer.trainable_weights:
                if w.regularizer is not None:
                    total += w.regularizer(w.value)
        if outputs is not None:
            for layer, out in zip(self._run_layers, outputs):
                if layer.activity_regularizer is not None:
                    total += layer.activity_regularizer(out)
        return total

    # ---- data ------------------------------------------------------------------------
    def _standardize_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what}: no input data given")
        x = data_utils.as_float32(x, what)
        if not self._is_built():
            if x.ndim < 2:
                raise ValueError(f"{what}: expected a batch of samples (at least 2 dimensions), got shape {x.shape}")
            self._ensure_built((None,) + x.shape[1:])
        return data_utils.check_input(x, self._input_shape_nobatch(), self._input_name)

    def _standardize_xy(self, x, y, sample_weight=None, class_weight=None):
        x = self._standardize_x(x)
        if y is None:
            raise ValueError("y: no target data given")
        y = data_utils.as_float32(y, "y")
        data_utils.check_same_length(x, y)
        loss = self._compiled_loss
        y = data_utils.check_target(y, self._output_shape_nobatch(), self._output_name, loss.name, loss.sparse)
        w = data_utils.sample_weights(y, sample_weight, class_weight, loss.sparse)
        return x, y, w

    def _gather(self, key, data, ids):
        """The rows `ids` of an array (or of each array of a list) in reused buffers."""
        if data is None:
            return None
        if isinstance(data, list):
            return [self._gather(f"{key}{i}", a, ids) for i, a in enumerate(data)]
        buf = self._buffer(key, (len(ids),) + data.shape[1:])
        _engine.gather_rows(data, ids, buf)
        return buf

    def _buffer(self, key, shape, dtype=np.float32):
        buf = self._buffers.get(key)
        if buf is None or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0]:
            buf = np.empty(shape, dtype=dtype)
            self._buffers[key] = buf
        return buf[:shape[0]]

    # ---- one batch -------------------------------------------------------------------
    def _forward(self, x, training, outputs=None):
        for layer in self._run_layers:
            x = layer.forward(x, training)
            if outputs is not None:
                outputs.append(x)
        return x

    def _has_activity_regularizers(self):
        return any(layer.activity_regularizer is not None for layer in self._run_layers)

    def _train_batch(self, xb, yb, wb):
        """One step on one batch: returns [loss, metric values...] before the update."""
        outputs = [] if self._activity else None
        out = self._forward(xb, True, outputs)
        grad = self._buffer("grad", out.shape)
        loss = self._compiled_loss(yb, out, wb, grad, self._run_layers[-1].logits)
        if self._regularized or outputs is not None:
            loss += self._penalties(outputs)
        values = [loss]
        for m in self._metrics:
            values.append(m(yb, out, wb))
        layers = self._run_layers
        last = len(layers) - 1
        fused = self._compiled_loss.fused
        g = grad
        for i in range(last, -1, -1):
            if outputs is not None and layers[i].activity_regularizer is not None:
                layers[i].activity_regularizer.add_gradient(outputs[i], g)
            g = layers[i].backward(g, i > 0, fused and i == last)
        for w in self._regularized:
            w.regularizer.add_gradient(w.value, w.grad)
        store = self._store
        if store.params.size:
            self.optimizer.apply_gradients_flat(store.params, store.grads, store.segments)
        for w in self._constrained:
            w.value[...] = w.constraint(w.value)
        return values

    def _test_batch(self, xb, yb, wb):
        outputs = [] if self._has_activity_regularizers() else None
        out = self._forward(xb, False, outputs)
        loss = self._compiled_loss(yb, out, wb, None, self._run_layers[-1].logits)
        loss += self._penalties(outputs)
        return [loss] + [m(yb, out, wb) for m in self._metrics]

    @staticmethod
    def _batch_slices(n, batch_size):
        return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]

    # ---- fit -------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
            **kwargs):
        """Trains for `epochs` epochs (Keras 2 semantics; see the seed documentation). `x` may
        also be a generator or a seqnet.utils.Sequence yielding (x, y[, sample_weight])."""
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {sorted(kwargs)}")
        if training_generator.is_data_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("fit: `y` and `sample_weight` are not supported when x is a generator or a "
                                 "Sequence (it yields the targets)")
            return self.fit_generator(x, steps_per_epoch, epochs, verbose, callbacks, validation_data,
                                      validation_steps, class_weight, max_queue_size, workers,
                                      use_multiprocessing, shuffle, initial_epoch)
        self._require_compiled()
        batch_size = _check_batch_size(batch_size)
        _check_int("epochs", epochs, minimum=0)
        _check_int("initial_epoch", initial_epoch, minimum=0)
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"fit: shuffle must be True, False or 'batch', got {shuffle!r}")
        if steps_per_epoch is not None:
            raise ValueError("fit: steps_per_epoch with array data is not supported yet; use batch_size")
        x, y, w = self._standardize_xy(x, y, sample_weight, class_weight)
        if data_utils.n_samples(x) == 0:
            raise ValueError("fit: x and y contain no samples")
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                                 f"val_sample_weights), got {type(validation_data).__name__}")
            val = self._standardize_xy(*validation_data[:2],
                                       sample_weight=validation_data[2] if len(validation_data) == 3 else None)
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split!r}")
            n = data_utils.n_samples(x)
            split_at = int(n * (1.0 - validation_split))
            if split_at == 0 or split_at == n:
                raise ValueError(f"fit: validation_split={validation_split} of {n} samples leaves an empty "
                                 "training or validation set")
            take = data_utils.take
            val = (take(x, split_at, n), take(y, split_at, n), take(w, split_at, n))
            x, y, w = take(x, 0, split_at), take(y, 0, split_at), take(w, 0, split_at)
        self._prepare_training()

        out_labels = list(self.metrics_names)
        cbk = self._training_callbacks(callbacks, verbose, "samples", val is not None, batch_size=batch_size,
                                       epochs=epochs, steps=None, samples=data_utils.n_samples(x))
        cbk.call("on_train_begin", {})
        n = data_utils.n_samples(x)
        slices = self._batch_slices(n, batch_size)
        wants_begin = cbk.wants("on_train_batch_begin")
        for epoch in range(initial_epoch, epochs):
            cbk.call("on_epoch_begin", epoch, {})
            epoch_logs = {}
            index = _epoch_order(n, batch_size, shuffle)
            for batch_index, (start, end) in enumerate(slices):
                if index is None:  # in order: batches are views, no copy
                    take = data_utils.take
                    xb, yb, wb = take(x, start, end), take(y, start, end), take(w, start, end)
                else:
                    ids = index[start:end]
                    xb, yb, wb = self._gather("x", x, ids), self._gather("y", y, ids), self._gather("w", w, ids)
                logs = {"batch": batch_index, "size": end - start}
                if wants_begin:
                    cbk.call("on_train_batch_begin", batch_index, logs)
                for label, value in zip(out_labels, self._train_batch(xb, yb, wb)):
                    logs[label] = value
                cbk.call("on_train_batch_end", batch_index, logs)
                if self.stop_training:
                    break
            # Validate unless training stopped before the epoch's last batch (as Keras).
            if val is not None and (not self.stop_training or batch_index == len(slices) - 1):
                for label, value in zip(out_labels, self._test_loop(*val, batch_size=batch_size)):
                    epoch_logs["val_" + label] = value
            cbk.call("on_epoch_end", epoch, epoch_logs)
            if self.stop_training:
                break
        cbk.call("on_train_end", {})
        return self.history

    def _training_callbacks(self, callbacks, verbose, count_mode, do_validation, **params):
        """The callbacks of a fit: BaseLogger, the progress bar, the user's, then History."""
        out_labels = list(self.metrics_names)
        self.history = History()
        cbs = [BaseLogger()] + ([ProgbarLogger(count_mode=count_mode)] if verbose else [])
        cbs += list(callbacks or []) + [self.history]
        cbk = CallbackList(cbs)
        cbk.set_model(self)
        cbk.set_params(dict(params, verbose=verbose, do_validation=do_validation,
                            metrics=out_labels + (["val_" + n for n in out_labels] if do_validation else [])))
        self.stop_training = False
        return cbk

    # ---- saving (seqnet/saving) --------------------------------------------------------------
    def to_json(self, **kwargs):
        """The architecture as Keras' JSON; `seqnet.models.model_from_json` rebuilds it."""
        from seqnet.saving.model_config import model_to_json
        return model_to_json(self, **kwargs)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Saves architecture, weights, compile arguments and optimizer state to an HDF5
        file in Keras 2's layout (`seqnet.models.load_model` and tf-keras read it)."""
        from seqnet.saving import save_model
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Saves the weights to an HDF5 file in Keras 2's weights-only layout."""
        from seqnet.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False):
        """Loads weights from `save_weights` or `save` files (seqnet's or Keras'), in layer
        order or, with `by_name`, into layers of the same name. On error nothing changes."""
        from seqnet.saving import load_weights
        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    # ---- generators (engine/training_generator.py) -----------------------------------------
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10,
                      workers=1, use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """Trains on batches from a generator or a seqnet.utils.Sequence (Keras 2 semantics)."""
        return training_generator.fit_generator(
            self, generator, steps_per_epoch, epochs, verbose, callbacks, validation_data, validation_steps,
            class_weight, max_queue_size, workers, use_multiprocessing, shuffle, initial_epoch)

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0, callbacks=None):
        """Loss and metrics over `steps` batches of a generator or Sequence, averaged over samples."""
        return training_generator.evaluate_generator(self, generator, steps, max_queue_size, workers,
                                                     use_multiprocessing, verbose, callbacks)

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0, callbacks=None):
        """The outputs for `steps` batches of inputs from a generator or Sequence, concatenated."""
        return training_generator.predict_generator(self, generator, steps, max_queue_size, workers,
                                                    use_multiprocessing, verbose, callbacks)

    # ---- evaluate / predict --------------------------------------------------------------
    def _test_loop(self, x, y, w, batch_size, verbose=0, callbacks=None):
        totals = np.zeros(len(self.metrics_names))
        n, take = data_utils.n_samples(x), data_utils.take
        progbar = Progbar(n, verbose=verbose) if verbose == 1 else None
        for batch_index, (start, end) in enumerate(self._batch_slices(n, batch_size)):
            if callbacks is not None:
                callbacks.call("on_test_batch_begin", batch_index, {"batch": batch_index, "size": end - start})
            values = self._test_batch(take(x, start, end), take(y, start, end), take(w, start, end))
            totals += np.asarray(values) * (end - start)
            if callbacks is not None:
                callbacks.call("on_test_batch_end", batch_index,
                               dict(zip(self.metrics_names, values), batch=batch_index, size=end - start))
            if progbar is not None:
                progbar.update(end, list(zip(self.metrics_names, values)))
        return [float(v) for v in totals / max(n, 1)]

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None,
                 callbacks=None, max_queue_size=10, workers=1, use_multiprocessing=False, **kwargs):
        """The loss and metrics on (x, y), averaged over samples: a scalar without metrics.
        `x` may also be a generator or a Sequence (then `steps` batches are used)."""
        if kwargs:
            raise TypeError(f"evaluate: unexpected keyword argument(s) {sorted(kwargs)}")
        if training_generator.is_data_source(x):
            if y is not None or sample_weight is not None:
                raise ValueError("evaluate: `y` and `sample_weight` are not supported when x is a generator or "
                                 "a Sequence")
            return self.evaluate_generator(x, steps, max_queue_size, workers, use_multiprocessing, verbose,
                                           callbacks)
        self._require_compiled()
        batch_size = _check_batch_size(batch_size)
        if steps is not None:
            raise ValueError("evaluate: steps with array data is not supported yet; use batch_size")
        x, y, w = self._standardize_xy(x, y, sample_weight)
        if not self._metrics_ready:
            self._finish_compile()
        cbk = CallbackList(callbacks)
        cbk.set_model(self)
        cbk.call("on_test_begin", {})
        result = self._test_loop(x, y, w, batch_size, verbose=verbose, callbacks=cbk)
        cbk.call("on_test_end", {})
        return result[0] if len(result) == 1 else result

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None, max_queue_size=10, workers=1,
                use_multiprocessing=False):
        """The model's outputs for x, computed in batches (x may be a generator or Sequence)."""
        if training_generator.is_data_source(x):
            return self.predict_generator(x, steps, max_queue_size, workers, use_multiprocessing, verbose,
                                          callbacks)
        batch_size = _check_batch_size(batch_size)
        if steps is not None:
            raise ValueError("predict: steps with array data is not supported yet; use batch_size")
        x = self._standardize_x(x)
        out = None
        n = data_utils.n_samples(x)
        progbar = Progbar(n, verbose=verbose) if verbose == 1 else None
        cbk = CallbackList(callbacks)
        cbk.set_model(self)
        cbk.call("on_predict_begin", {})
        for batch_index, (start, end) in enumerate(self._batch_slices(n, batch_size)):
            cbk.call("on_predict_batch_begin", batch_index, {"batch": batch_index, "size": end - start})
            yb = self._forward(data_utils.take(x, start, end), False)
            if isinstance(yb, list):  # several outputs
                if out is None:
                    out = [np.empty((n,) + a.shape[1:], dtype=np.float32) for a in yb]
                for o, a in zip(out, yb):
                    o[start:end] = a
            else:
                if out is None:
                    out = np.empty((n,) + yb.shape[1:], dtype=np.float32)
                out[start:end] = yb
            cbk.call("on_predict_batch_end", batch_index, {"batch": batch_index, "size": end - start})
            if progbar is not None:
                progbar.update(end)
        cbk.call("on_predict_end", {})
        if out is None:
            out = self._empty_prediction()
        return out

    def _empty_prediction(self):
        return np.empty((0,) + tuple(self._output_shape_nobatch()), dtype=np.float32)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, reset_metrics=True):
        """One gradient update on one batch; returns the loss (and metrics) before it."""
        self._require_compiled()
        x, y, w = self._standardize_xy(x, y, sample_weight, class_weight)
        self._prepare_training()
        values = self._train_batch(x, y, w)
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y, sample_weight=None, reset_metrics=True):
        self._require_compiled()
        x, y, w = self._standardize_xy(x, y, sample_weight)
        if not self._metrics_ready:
            self._finish_compile()
        values = self._test_batch(x, y, w)
        return values[0] if len(values) == 1 else values

    def predict_on_batch(self, x):
        x = self._standardize_x(x)
        return self._forward(x, False).copy()


def _check_batch_size(batch_size):
    if batch_size is None:
        return 32
    _check_int("batch_size", batch_size, minimum=1)
    return int(batch_size)


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _epoch_order(n, batch_size, shuffle):
    """The sample order of an epoch (None: in order), drawn from NumPy's global generator."""
    if not shuffle:
        return None
    if shuffle == "batch":  # shuffle whole batches, then within each batch (Keras' batch_shuffle)
        batch_count = n // batch_size
        index = np.arange(n, dtype=np.int64)
        head = index[:batch_count * batch_size].reshape(batch_count, batch_size)
        np.random.shuffle(head)
        return np.concatenate([head.ravel(), index[batch_count * batch_size:]])
    return np.random.permutation(n).astype(np.int64)
