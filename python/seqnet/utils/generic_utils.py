"""Keras 2.2.4's generic utilities: custom objects by name (``custom_object_scope``),
``serialize_keras_object`` / ``deserialize_keras_object``, ``has_arg``, and ``Progbar``,
the progress bar (which does not flood logs when stdout is not a terminal).

Deserialization only looks names up in dictionaries it is given (custom objects, the
custom-object scope, a module's table of public objects): nothing named in a config is
ever imported, and no code stored in a file is ever run (``func_load`` refuses).
"""
import inspect
import os
import sys
import time
import types

import numpy as np

_GLOBAL_CUSTOM_OBJECTS = {}


class CustomObjectScope:
    """A ``with`` block inside which custom objects are known by name.

    ``with CustomObjectScope({'MyLayer': MyLayer, 'my_loss': my_loss}):`` makes
    ``load_model``, ``losses.get('my_loss')``, ``activations.get(...)`` and the other
    deserializers find those names. Changes made to the global custom objects inside the
    block (``get_custom_objects()[...] = ...``) are undone when it ends.

    Arguments: any number of dicts mapping names to classes or functions.
    """

    def __init__(self, *args):
        self.custom_objects = args
        self.backup = None

    def __enter__(self):
        self.backup = _GLOBAL_CUSTOM_OBJECTS.copy()
        for objects in self.custom_objects:
            _GLOBAL_CUSTOM_OBJECTS.update(objects or {})
        return self

    def __exit__(self, *exc_info):
        _GLOBAL_CUSTOM_OBJECTS.clear()
        _GLOBAL_CUSTOM_OBJECTS.update(self.backup)
        return False


def custom_object_scope(*args):
    """``CustomObjectScope(*args)``: ``with custom_object_scope({'MyObject': MyObject}):``
    makes the names known to every deserializer inside the block."""
    return CustomObjectScope(*args)


def get_custom_objects():
    """The live global dict of custom objects (name -> class or function).

    ``get_custom_objects()['my_loss'] = my_loss`` registers a name for the rest of the
    program; ``custom_object_scope`` is the scoped alternative.
    """
    return _GLOBAL_CUSTOM_OBJECTS


def serialize_keras_object(instance):
    """What a Keras config stores for ``instance``: ``{'class_name', 'config'}`` for an
    object with ``get_config`` (a layer, an initializer, an optimizer, ...), the
    ``__name__`` of a function, None for None; ValueError otherwise."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": type(instance).__name__, "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return instance.__name__
    raise ValueError(f"Cannot serialize {instance!r}: it has neither get_config nor __name__")


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None,
                             printable_module_name="object", expected=None):
    """The object a config names, as Keras 2.2.4 (see _deserialize). `expected` (seqnet's
    addition) is a sentence appended to the 'Unknown ...' error, e.g. the names one may use."""
    try:
        return _deserialize(identifier, module_objects, custom_objects, printable_module_name)
    except ValueError as err:
        if expected and str(err).startswith(f"Unknown {printable_module_name}"):
            raise ValueError(f"{err}. {expected}") from None
        raise


def _deserialize(identifier, module_objects=None, custom_objects=None, printable_module_name="object"):
    """The object a config names, as Keras 2.2.4.

    ``identifier`` is a name (a function such as 'relu' or a custom object) or a dict
    ``{'class_name': ..., 'config': {...}}`` (an instance: the class's ``from_config``,
    or the class (or factory) called with the config as keyword arguments). Names are
    looked up, in order, in ``custom_objects``, the custom-object scope
    (``get_custom_objects()``) and ``module_objects`` (a dict of the public objects of a
    module); anything else raises ``ValueError('Unknown <printable_module_name>:
    <name>')``. Nothing is imported or evaluated. ``custom_objects`` are also in scope
    while ``from_config`` runs, so nested configs find them.
    """
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format for a {printable_module_name}: {identifier!r} (expected "
                             "a dict with 'class_name' and 'config')")
        cls = _look_up(identifier["class_name"], module_objects, custom_objects, printable_module_name)
        config = identifier["config"]
        if not isinstance(config, dict):
            raise ValueError(f"Improper config format for {printable_module_name} "
                             f"{identifier['class_name']!r}: 'config' must be a dict, got {config!r}")
        custom_objects = custom_objects or {}
        if hasattr(cls, "from_config"):
            if has_arg(cls.from_config, "custom_objects"):
                return cls.from_config(config, custom_objects={**_GLOBAL_CUSTOM_OBJECTS, **custom_objects})
            with CustomObjectScope(custom_objects):
                return cls.from_config(config)
        with CustomObjectScope(custom_objects):
            return cls(**config)
    if isinstance(identifier, str):
        return _look_up(identifier, module_objects, custom_objects, printable_module_name)
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier!r}")


def has_arg(fn, name, accept_all=False):
    """Whether the callable ``fn`` can be called with the keyword argument ``name``
    (a positional-or-keyword or keyword-only parameter). With ``accept_all``, a
    ``**kwargs`` parameter counts too."""
    signature = inspect.signature(fn)
    parameter = signature.parameters.get(name)
    if parameter is None:
        return accept_all and any(p.kind == inspect.Parameter.VAR_KEYWORD
                                  for p in signature.parameters.values())
    return parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def func_dump(func):
    """Not supported: Keras 2.2.4 stored a function's bytecode (Lambda layers, custom
    objects) so a file could carry code. seqnet never stores or runs code from a file;
    refer to functions by name and pass them in ``custom_objects`` when loading."""
    raise ValueError("func_dump: seqnet does not serialize Python code (a model file must never carry code to "
                     "run). Refer to the function by name and pass it in custom_objects when loading.")


def func_load(code, defaults=None, closure=None, globs=None):
    """Refuses: Keras 2.2.4 rebuilt a function from bytecode stored in a file, which
    runs whatever code the file holds. seqnet never runs code from a file; pass the
    function itself in ``custom_objects`` instead."""
    raise ValueError("func_load: seqnet does not load Python code from serialized data, because that would run "
                     "whatever code a file contains. Pass the function itself in custom_objects instead.")


def to_list(x, allow_tuple=False):
    """``x`` as a list: a list unchanged (a tuple too with ``allow_tuple``), anything
    else wrapped in a one-element list."""
    if isinstance(x, list) or (allow_tuple and isinstance(x, tuple)):
        return list(x)
    return [x]


def unpack_singleton(x):
    """The only element of a one-element list or tuple, else ``x`` itself."""
    if isinstance(x, (list, tuple)) and len(x) == 1:
        return x[0]
    return x


class Progbar:
    """Displays progress as Keras 2 does.

    On a terminal (or in Jupyter) the bar redraws in place with carriage returns, at
    most every `interval` seconds. When stdout is a file or a pipe, only the final line of
    each bar is written (plus one line every `log_interval` seconds for long runs), so a
    log file gets one line per epoch, not thousands.

    Arguments: target (total units, or None if unknown), width of the bar, verbose
    (1: bar, 2: final line only), interval (seconds between redraws), stateful_metrics
    (names shown as given rather than averaged), unit_name for the per-unit time.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step", log_interval=60.0):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.log_interval = log_interval
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic_display = ((hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
                                 or "ipykernel" in sys.modules or os.environ.get("SEQNET_DYNAMIC_PROGBAR") == "1")
        self._total_width = 0
        self._seen_so_far = 0
        self._values = {}
        self._start = time.time()
        self._last_update = 0.0
        self._last_log = self._start

    def update(self, current, values=None, finalize=None):
        """Moves the bar to `current`; values are (name, value) pairs averaged over units."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for k, v in values or ():
            if k in self.stateful_metrics:
                self._values[k] = [v, 1]
                continue
            step = max(current - self._seen_so_far, 1)
            entry = self._values.setdefault(k, [0.0, 0])
            entry[0] += v * step
            entry[1] += step
        self._seen_so_far = current

        now = time.time()
        if self.verbose == 1:
            if not finalize:
                if now - self._last_update < self.interval:
                    return
                if not self._dynamic_display and now - self._last_log < self.log_interval:
                    return
            self._write_bar(current, now, finalize)
        elif self.verbose == 2 and finalize:
            sys.stdout.write(" - %.0fs%s\n" % (now - self._start, self._metrics_text()))
            sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None):
        """Moves the bar forward by `n` units (see `update` for `values`)."""
        self.update(self._seen_so_far + n, values)

    def set_value(self, name, value):
        """Sets a metric to show as is (e.g. a validation value at the end of an epoch)."""
        self._values[name] = [value, 1]

    def _metrics_text(self):
        info = ""
        for k, (total, count) in self._values.items():
            avg = total / max(1, count)
            info += " - %s:" % k
            info += (" %.4f" % avg) if abs(avg) > 1e-3 else (" %.4e" % avg)
        return info

    def _write_bar(self, current, now, finalize):
        prev_total_width = self._total_width
        if self._dynamic_display:
            sys.stdout.write("\r")
        if self.target is not None:
            numdigits = int(np.floor(np.log10(self.target))) + 1 if self.target > 0 else 1
            bar = ("%" + str(numdigits) + "d/%d [") % (current, self.target)
            prog_width = int(self.width * (float(current) / self.target if self.target else 1.0))
            if prog_width > 0:
                bar += "=" * (prog_width - 1)
                bar += ">" if current < self.target else "="
            bar += "." * (self.width - prog_width) + "]"
        else:
            bar = "%7d/Unknown" % current
        time_per_unit = (now - self._start) / current if current else 0.0
        if not finalize and self.target is not None:
            eta = time_per_unit * (self.target - current)
            if eta > 3600:
                eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
            elif eta > 60:
                eta_format = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_format = "%ds" % eta
            info = " - ETA: %s" % eta_format
        else:
            info = " - %.0fs" % (now - self._start)
            if time_per_unit >= 1:
                info += " %.0fs/%s" % (time_per_unit, self.unit_name)
            elif time_per_unit >= 1e-3:
                info += " %.0fms/%s" % (time_per_unit * 1e3, self.unit_name)
            else:
                info += " %.0fus/%s" % (time_per_unit * 1e6, self.unit_name)
        line = bar + info + self._metrics_text()
        self._total_width = len(line)
        if self._dynamic_display and prev_total_width > self._total_width:
            line += " " * (prev_total_width - self._total_width)
        if finalize or not self._dynamic_display:
            line += "\n"
        sys.stdout.write(line)
        sys.stdout.flush()
        self._last_log = now


def _look_up(name, module_objects, custom_objects, printable_module_name):
    if not isinstance(name, str):
        raise ValueError(f"Could not interpret serialized {printable_module_name}: {name!r}")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    # A module's table holds its public objects; a private name or a module (numpy,
    # the backend, ...) found there is never what a config means.
    found = (module_objects or {}).get(name) if not name.startswith("_") else None
    if found is None or isinstance(found, types.ModuleType):
        raise ValueError(f"Unknown {printable_module_name}: {name}")
    return found
