"""LambdaCallback: a callback built from plain functions."""
from seqnet.callbacks.callback import _HOOKS, Callback


class LambdaCallback(Callback):
    """Calls the given functions at the matching points of training (Keras 2.2.4):
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``. Other hooks (``on_train_batch_end=...``, ``on_test_begin=...``)
    may be given by keyword as in tf-keras; any other keyword becomes an attribute.

    Example: ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs['loss']))``.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        named = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_batch_begin": on_batch_begin,
                 "on_batch_end": on_batch_end, "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for hook in _HOOKS:
            if hook in kwargs:
                named[hook] = kwargs.pop(hook)
        for hook, fn in named.items():
            if fn is not None and not callable(fn):
                raise TypeError(f"LambdaCallback: {hook} must be callable, got {type(fn).__name__}")
        self._functions = {hook: fn for hook, fn in named.items() if fn is not None}
        self.__dict__.update(kwargs)

    def _call(self, hook, *args):
        fn = self._functions.get(hook)
        if fn is not None:
            fn(*args)

    # The training loop dispatches by the hooks a class defines, so every hook is defined here
    # and forwards to the function given for it, if any.
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_batch_begin(self, batch, logs=None): self._call("on_batch_begin", batch, logs)
    def on_batch_end(self, batch, logs=None): self._call("on_batch_end", batch, logs)
    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin" if "on_train_batch_begin" in self._functions else "on_batch_begin",
                   batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end" if "on_train_batch_end" in self._functions else "on_batch_end", batch, logs)

    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs)
