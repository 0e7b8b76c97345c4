"""The one epoch loop of fit, and the loops of evaluate and predict, over batch sources
(engine/batch_sources.py): arrays, generators and Sequences all run here."""
import numpy as np

from seqnet.callbacks import CallbackList
from seqnet.utils.generic_utils import Progbar


def fit_loop(model, train, val, epochs, initial_epoch, callbacks, verbose):
    """Trains on `train` for epochs initial_epoch..epochs-1, validating on `val` (a source
    or None) after every complete epoch; returns the History. In data-parallel training
    (seqnet.distribute) every rank runs this loop in step; an exception on one rank ends
    all of them (MPI abort) instead of leaving the others waiting."""
    parallel = model._data_parallel()
    if parallel is None:
        return _fit_loop(model, train, val, epochs, initial_epoch, callbacks, verbose, None)
    try:
        return _fit_loop(model, train, val, epochs, initial_epoch, callbacks, verbose, parallel)
    except BaseException as exc:
        parallel.fail(exc)
        raise


def _fit_loop(model, train, val, epochs, initial_epoch, callbacks, verbose, parallel):
    labels = list(model.metrics_names)
    cbk = model._training_callbacks(callbacks, verbose, train.count_mode, val is not None, epochs=epochs,
                                    **train.params())
    validation_data = _validation_data(model, val)
    for cb in cbk:
        cb.validation_data = validation_data
    wants_begin = cbk.wants("on_train_batch_begin")
    try:
        cbk.call("on_train_begin", {})
        prepared = False
        for epoch in range(initial_epoch, epochs):
            cbk.call("on_epoch_begin", epoch, {})
            epoch_logs = {}
            step = -1
            for step, (xs, ys, ws, size) in enumerate(train.epoch()):
                if not prepared:  # after the first batch: an unbuilt model is built from it
                    model._prepare_training()
                    prepared = True
                logs = {"batch": step, "size": size}
                if wants_begin:
                    cbk.call("on_train_batch_begin", step, logs)
                if parallel is None:
                    for label, value in zip(labels, model._train_batch(xs, ys, ws)):
                        logs[label] = value
                else:  # the slice's place in the global batch; logs hold the global batch's values
                    for label, value in zip(labels, model._train_batch(xs, ys, ws, train.position)):
                        logs[label] = value
                    logs["size"] = model._global_batch_size
                cbk.call("on_train_batch_end", step, logs)
                if parallel is not None:  # a callback may stop one rank only: all stop together
                    model.stop_training = parallel.any(model.stop_training)
                if model.stop_training:
                    break
            if step < 0 and train.exhausted:  # no data at all this epoch: nothing to report
                break
            # Validate unless training stopped before the epoch's last batch (as Keras); the
            # on_test_* hooks see it, as in tf-keras.
            if val is not None and step == train.steps_per_epoch - 1:
                cbk.call("on_test_begin", {})
                values = test_loop(model, val, callbacks=cbk)
                cbk.call("on_test_end", dict(zip(labels, values)))
                for label, value in zip(labels, values):
                    epoch_logs["val_" + label] = value
            cbk.call("on_epoch_end", epoch, epoch_logs)
            if parallel is not None:
                model.stop_training = parallel.any(model.stop_training)
            if model.stop_training or train.exhausted:
                break
        cbk.call("on_train_end", {})
    finally:
        train.stop()
        if val is not None:
            val.stop()
    return model.history


def _validation_data(model, val):
    """Keras 2.2.4's ``callback.validation_data`` for validation arrays: the inputs, the
    targets and the sample weights (ones where none were given); None for a generator."""
    if val is None or getattr(val, "ys", None) is None:
        return None
    ws = val.ws or [None] * len(val.ys)
    weights = [w if w is not None else np.ones(y.shape[:2] if temporal else y.shape[:1], dtype=np.float32)
               for w, y, temporal in zip(ws, val.ys, model._temporal)]
    return list(val.xs) + list(val.ys) + weights


def test_loop(model, source, verbose=0, callbacks=None):
    """Loss and metrics over one pass of `source`, each the mean over batches weighted by
    their sizes (Keras 2.2.4's evaluate)."""
    if not model._metrics_ready:
        model._finish_compile()
    names = model.metrics_names
    totals, seen = None, 0
    progbar = Progbar(source.n if source.count_mode == "samples" else source.steps, verbose=verbose) \
        if verbose == 1 else None
    for step, (xs, ys, ws, size) in enumerate(source.epoch()):
        if not model._metrics_ready:
            model._finish_compile()
        if callbacks is not None:
            callbacks.call("on_test_batch_begin", step, {"batch": step, "size": size})
        values = np.asarray(model._test_batch(xs, ys, ws), dtype=np.float64)
        totals = values * size if totals is None else totals + values * size
        seen += size
        if callbacks is not None:
            callbacks.call("on_test_batch_end", step, dict(zip(names, values.tolist()), batch=step, size=size))
        if progbar is not None:
            progbar.update(seen if source.count_mode == "samples" else step + 1, list(zip(names, values.tolist())))
    if not seen:
        if source.count_mode == "samples":
            return [float("nan")] * len(names)
        raise ValueError(f"{source.what} produced no batches to evaluate")
    return [float(v) for v in totals / seen]


def predict_loop(model, source, verbose=0, callbacks=None):
    """The outputs for every batch of `source`, concatenated (a list for several outputs)."""
    cbk = CallbackList(callbacks)
    cbk.set_model(model)
    n = source.n if source.count_mode == "samples" else None
    progbar = Progbar(n if n is not None else source.steps, verbose=verbose) if verbose == 1 else None
    out, parts, seen = None, [], 0
    chain = model._inference_chain()
    wants_outputs = cbk.wants("on_predict_batch_end")
    try:
        cbk.call("on_predict_begin", {})
        for step, (xs, _, _, size) in enumerate(source.epoch()):
            cbk.call("on_predict_batch_begin", step, {"batch": step, "size": size})
            outs = model._run(xs, False, chain=chain)
            if n is not None:  # arrays: fill one preallocated result per output
                if out is None:
                    out = [np.empty((n,) + a.shape[1:], dtype=np.float32) for a in outs]
                for o, a in zip(out, outs):
                    o[seen:seen + size] = a
                kept = [o[seen:seen + size] for o in out]
            else:
                kept = [a.copy() for a in outs]
                parts.append(kept)
            seen += size
            if wants_outputs:  # tf-keras: the batch's predictions under 'outputs' (the rows kept above)
                cbk.call("on_predict_batch_end", step, {"batch": step, "size": size,
                                                        "outputs": kept[0] if len(kept) == 1 else kept})
            if progbar is not None:
                progbar.update(seen if n is not None else step + 1)
        cbk.call("on_predict_end", {})
    finally:
        source.stop()
    if n is None:
        if not parts:
            raise ValueError("predict_generator: the generator produced no batches")
        out = [np.concatenate(p) for p in zip(*parts)]
    elif out is None:
        out = [np.empty((0,) + tuple(t.shape[1:]), dtype=np.float32) for t in model.outputs]
    return out[0] if len(out) == 1 else out
