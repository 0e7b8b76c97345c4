"""Callback: the base class of everything that hooks into fit, evaluate and predict."""


class Callback:
    """Hooks called by the training loop; override the ones you need.

    Attributes set by the loop: ``model`` and ``params`` (batch_size, epochs, steps,
    samples, verbose, do_validation, metrics). ``logs`` dicts hold the current values:
    per batch ``batch``, ``size`` and each metric; per epoch the epoch's averages and the
    ``val_`` metrics.
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls a hook on every callback in order. Per-batch hooks are dispatched only to
    callbacks that override them, so an idle hook costs nothing per step."""

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])
        self._refresh()

    def _refresh(self):
        self._overriding = {}
        for hook in _HOOKS:
            base = getattr(Callback, hook)
            self._overriding[hook] = [getattr(cb, hook) for cb in self.callbacks
                                      if getattr(type(cb), hook, base) is not base]
        # on_train_batch_* defaults forward to on_batch_*: merge, keeping each callback once.
        for new, old in (("on_train_batch_begin", "on_batch_begin"), ("on_train_batch_end", "on_batch_end")):
            merged = []
            for cb in self.callbacks:
                if getattr(type(cb), new, None) is not getattr(Callback, new):
                    merged.append(getattr(cb, new))
                elif getattr(type(cb), old, None) is not getattr(Callback, old):
                    merged.append(getattr(cb, old))
            self._overriding[new] = merged

    def append(self, callback):
        self.callbacks.append(callback)
        self._refresh()

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def call(self, hook, *args):
        for fn in self._overriding[hook]:
            fn(*args)

    def wants(self, hook):
        return bool(self._overriding[hook])

    def __iter__(self):
        return iter(self.callbacks)
