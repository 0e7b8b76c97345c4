"""Lambda: wraps a function of seqnet.backend ops as a layer; it trains through the backend's
tape like any Keras-style layer."""
import inspect

from seqnet.engine.base_layer import Layer
from seqnet.engine.keras_tensor import KerasTensor, SymbolicMask


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)`` as Keras 2.2.4:
    `function(inputs, **arguments)` (it also gets ``mask=`` if it takes one); `output_shape`
    a shape without the batch axis, or a function of the input shape (inferred by a dry run
    when None); `mask` a mask (or a function of (inputs, mask)) for the output.

    Saving: seqnet writes a named function by name and never reads code from a file. To
    load, pass the function in ``custom_objects`` under its name, or, for a ``lambda``,
    under the layer's name: ``load_model(path, custom_objects={'lambda_1': fn})``."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {function!r}")
        if output_shape is not None and not callable(output_shape) and not isinstance(output_shape, (tuple, list)):
            raise TypeError(f"Lambda: output_shape must be a tuple or a function, got {output_shape!r}")
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self.mask = mask
        if mask is not None:
            self.supports_masking = True

    def call(self, inputs, mask=None):
        arguments = dict(self.arguments)
        if _takes(self.function, "mask"):
            arguments["mask"] = mask
        return self.function(inputs, **arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
            return [tuple(s) for s in shape] if isinstance(shape, list) else tuple(shape)
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch,) + tuple(self._output_shape)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            symbolic = isinstance(inputs, KerasTensor) or (isinstance(inputs, list) and inputs
                                                           and isinstance(inputs[0], KerasTensor))
            if symbolic:  # the function runs on arrays; assume it returns a mask
                first = inputs[0] if isinstance(inputs, list) else inputs
                return SymbolicMask(first.shape[:-1])
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = super().get_config()
        name = getattr(self.function, "__name__", None)
        config.update(function=name, function_type="lambda" if name in (None, "<lambda>") else "function",
                      output_shape=self._output_shape if isinstance(self._output_shape, (tuple, list)) else
                      getattr(self._output_shape, "__name__", None),
                      output_shape_type="raw" if not callable(self._output_shape) else "function",
                      arguments=self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the layer with its function from `custom_objects` (or the custom-object
        scope): by the function's name, or by the layer's name for a lambda. Code stored in
        a file (Keras' marshalled lambdas) is never run."""
        from seqnet.utils.generic_utils import get_custom_objects
        config = dict(config)
        objects = dict(get_custom_objects())
        objects.update(custom_objects or {})
        name = config.get("name")
        function = config.pop("function", None)
        config.pop("function_type", None)
        if not callable(function):
            key = function if isinstance(function, str) and function in objects else name
            function = objects.get(key)
        if not callable(function):
            raise ValueError(f"Lambda layer '{name}': its function is not in custom_objects. seqnet never runs code "
                             f"stored in a file; pass the function as custom_objects={{'{name}': fn}} (or under its "
                             "function name).")
        output_shape = config.pop("output_shape", None)
        if config.pop("output_shape_type", "raw") == "function" or isinstance(output_shape, str):
            output_shape = objects.get(output_shape) if isinstance(output_shape, str) else None
        elif isinstance(output_shape, list):
            output_shape = tuple(output_shape)
        return cls(function, output_shape=output_shape, **config)


def _takes(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params
