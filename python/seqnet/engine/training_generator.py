"""Training, evaluation and prediction from generators and Sequences (Keras 2.2.4's
fit_generator / evaluate_generator / predict_generator)."""
import inspect
import warnings

import numpy as np

from seqnet.callbacks import CallbackList
from seqnet.engine.data import n_samples
from seqnet.utils.data_utils import Sequence, iter_batches
from seqnet.utils.generic_utils import Progbar


def is_data_source(x):
    """True for what the generator loops consume: a Sequence, a generator or an iterator."""
    return isinstance(x, Sequence) or inspect.isgenerator(x) or (
        hasattr(x, "__next__") and hasattr(x, "__iter__") and not isinstance(x, np.ndarray))


def unpack(item, what):
    """(x, y, sample_weight) from a generator's output, or ValueError naming what was found."""
    if isinstance(item, tuple) and len(item) in (2, 3):
        return item if len(item) == 3 else (item[0], item[1], None)
    found = f"a {type(item).__name__}" + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
    raise ValueError(f"Output of {what} should be a tuple `(x, y, sample_weight)` or `(x, y)`. Found: {found}")


def _steps(source, steps, name):
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"{name} must be a positive integer, got {steps!r}")
        return int(steps)
    if isinstance(source, Sequence):
        return len(source)
    raise ValueError(f"`{name}=None` is only valid for a generator based on the `seqnet.utils.Sequence` class. "
                     f"Please specify `{name}` or use the `seqnet.utils.Sequence` class.")


def _check_workers(workers, max_queue_size):
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0, got {workers!r}")
    if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, (int, np.integer)) or max_queue_size < 1:
        raise ValueError(f"max_queue_size must be a positive integer, got {max_queue_size!r}")


def _ran_out(what, done, wanted):
    warnings.warn(f"{what} ran out of data after {done} of {wanted} steps; stopping. Make sure it can produce "
                  f"at least steps * epochs batches (a generator should loop forever).", UserWarning, stacklevel=4)


def fit_generator(model, generator, steps_per_epoch, epochs, verbose, callbacks, validation_data,
                  validation_steps, class_weight, max_queue_size, workers, use_multiprocessing, shuffle,
                  initial_epoch):
    model._require_compiled()
    if not is_data_source(generator):
        raise ValueError(f"fit_generator: expected a generator or a seqnet.utils.Sequence, got "
                         f"{type(generator).__name__}")
    steps_per_epoch = _steps(generator, steps_per_epoch, "steps_per_epoch")
    _check_workers(workers, max_queue_size)
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit_generator: verbose must be 0, 1 or 2, got {verbose!r}")
    val_arrays = val_source = None
    if validation_data is not None:
        if is_data_source(validation_data):
            val_source = validation_data
            validation_steps = _steps(validation_data, validation_steps, "validation_steps")
        elif isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
            val_arrays = validation_data
        else:
            raise ValueError("fit_generator: validation_data must be a generator, a Sequence, or a tuple "
                             f"(x_val, y_val[, val_sample_weights]); got {type(validation_data).__name__}")
    do_validation = validation_data is not None
    cbk = model._training_callbacks(callbacks, verbose, "steps", do_validation, epochs=epochs,
                                    steps=steps_per_epoch, samples=None)
    batches, enqueuer = iter_batches(generator, workers, use_multiprocessing, max_queue_size,
                                     shuffle=bool(shuffle) and isinstance(generator, Sequence))
    val_batches = val_enqueuer = None
    try:
        if val_arrays is not None:
            val_arrays = model._standardize_xy(*val_arrays[:2],
                                               sample_weight=val_arrays[2] if len(val_arrays) == 3 else None)
        if val_source is not None:
            val_batches, val_enqueuer = iter_batches(val_source, workers, use_multiprocessing, max_queue_size)
        cbk.call("on_train_begin", {})
        prepared = False
        labels = list(model.metrics_names)
        for epoch in range(initial_epoch, epochs):
            cbk.call("on_epoch_begin", epoch, {})
            epoch_logs = {}
            step = 0
            while step < steps_per_epoch:
                try:
                    item = next(batches)
                except StopIteration:
                    _ran_out("The generator", step, steps_per_epoch)
                    model.stop_training = True
                    break
                x, y, w = model._standardize_xy(*unpack(item, "generator"), class_weight=class_weight)
                if not prepared:  # after the first batch: an unbuilt model is built from it
                    model._prepare_training()
                    prepared = True
                logs = {"batch": step, "size": n_samples(x)}
                cbk.call("on_train_batch_begin", step, logs)
                for label, value in zip(labels, model._train_batch(x, y, w)):
                    logs[label] = value
                cbk.call("on_train_batch_end", step, logs)
                step += 1
                if model.stop_training:
                    break
            if step == 0 and model.stop_training:  # no data at all this epoch: nothing to report
                break
            if do_validation and step == steps_per_epoch:
                if val_arrays is not None:
                    values = model._test_loop(*val_arrays, batch_size=32)
                else:
                    values = _evaluate_batches(model, val_batches, validation_steps, "validation_data")
                for label, value in zip(labels, values):
                    epoch_logs["val_" + label] = value
            cbk.call("on_epoch_end", epoch, epoch_logs)
            if model.stop_training:
                break
        cbk.call("on_train_end", {})
    finally:
        for running in (enqueuer, val_enqueuer):
            if running is not None:
                running.stop()
    return model.history


def _evaluate_batches(model, batches, steps, what, progbar=None, callbacks=None):
    """Sample-weighted means of the loss and metrics over `steps` batches."""
    totals, seen = None, 0
    for step in range(steps):
        try:
            item = next(batches)
        except StopIteration:
            _ran_out(what, step, steps)
            break
        x, y, w = model._standardize_xy(*unpack(item, what))
        size = n_samples(x)
        if callbacks is not None:
            callbacks.call("on_test_batch_begin", step, {"batch": step, "size": size})
        values = np.asarray(model._test_batch(x, y, w), dtype=np.float64)
        totals = values * size if totals is None else totals + values * size
        seen += size
        if callbacks is not None:
            callbacks.call("on_test_batch_end", step, dict(zip(model.metrics_names, values.tolist()),
                                                           batch=step, size=size))
        if progbar is not None:
            progbar.update(step + 1, list(zip(model.metrics_names, values.tolist())))
    if not seen:
        raise ValueError(f"{what} produced no batches to evaluate")
    return [float(v) for v in totals / seen]


def evaluate_generator(model, generator, steps, max_queue_size, workers, use_multiprocessing, verbose, callbacks):
    model._require_compiled()
    if not is_data_source(generator):
        raise ValueError(f"evaluate_generator: expected a generator or a seqnet.utils.Sequence, got "
                         f"{type(generator).__name__}")
    steps = _steps(generator, steps, "steps")
    _check_workers(workers, max_queue_size)
    batches, enqueuer = iter_batches(generator, workers, use_multiprocessing, max_queue_size)
    cbk = CallbackList(callbacks)
    cbk.set_model(model)
    try:
        if not model._metrics_ready and model._is_built():
            model._finish_compile()
        cbk.call("on_test_begin", {})
        progbar = Progbar(steps, verbose=verbose) if verbose == 1 else None
        result = _evaluate_batches(model, _finishing_compile(model, batches), steps, "the generator", progbar, cbk)
        cbk.call("on_test_end", {})
    finally:
        if enqueuer is not None:
            enqueuer.stop()
    return result[0] if len(result) == 1 else result


def _finishing_compile(model, batches):
    """Passes batches through, completing compile once the first one has built the model."""
    for item in batches:
        yield item
        if not model._metrics_ready:
            model._finish_compile()


def predict_generator(model, generator, steps, max_queue_size, workers, use_multiprocessing, verbose, callbacks):
    if not is_data_source(generator):
        raise ValueError(f"predict_generator: expected a generator or a seqnet.utils.Sequence, got "
                         f"{type(generator).__name__}")
    steps = _steps(generator, steps, "steps")
    _check_workers(workers, max_queue_size)
    batches, enqueuer = iter_batches(generator, workers, use_multiprocessing, max_queue_size)
    cbk = CallbackList(callbacks)
    cbk.set_model(model)
    outputs = []
    progbar = Progbar(steps, verbose=verbose) if verbose == 1 else None
    try:
        cbk.call("on_predict_begin", {})
        for step in range(steps):
            try:
                item = next(batches)
            except StopIteration:
                _ran_out("The generator", step, steps)
                break
            x = item[0] if isinstance(item, tuple) and len(item) in (1, 2, 3) else item
            x = model._standardize_x(x)
            size = n_samples(x)
            cbk.call("on_predict_batch_begin", step, {"batch": step, "size": size})
            out = model._forward(x, False)
            outputs.append([a.copy() for a in out] if isinstance(out, list) else out.copy())
            cbk.call("on_predict_batch_end", step, {"batch": step, "size": size})
            if progbar is not None:
                progbar.update(step + 1)
        cbk.call("on_predict_end", {})
    finally:
        if enqueuer is not None:
            enqueuer.stop()
    if not outputs:
        raise ValueError("predict_generator: the generator produced no batches")
    if isinstance(outputs[0], list):  # several outputs
        return [np.concatenate(parts) for parts in zip(*outputs)]
    return np.concatenate(outputs)
