"""InputSpec: what a layer accepts as input (rank, dtype, fixed axes), checked each time the
layer is called on a tensor, as Keras 2.2.4's ``Layer.assert_input_compatibility``. Custom
layers of the Keras 2 era set ``self.input_spec`` in ``__init__`` or ``build``; seqnet's own
layers check their inputs in ``build`` and leave it None."""


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer.

    Arguments (Keras 2.2.4): ``dtype`` (e.g. 'float32'), ``shape`` (a tuple, None for any size
    on an axis; sets ``ndim``), ``ndim``, ``max_ndim``, ``min_ndim`` (ranks, batch axis
    included), ``axes`` (a dict {axis: size}, negative axes counting from the end). A layer
    with several inputs may set ``input_spec`` to a list of them, one per input (None: that
    input is not checked).
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def __repr__(self):
        fields = [f"{name}={value!r}" for name, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim), ("max_ndim", self.max_ndim),
            ("min_ndim", self.min_ndim), ("axes", self.axes or None)) if value is not None]
        return f"InputSpec({', '.join(fields)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def assert_input_compatibility(layer, tensors):
    """ValueError unless every tensor of `tensors` (the symbolic inputs of one call, a list)
    meets `layer.input_spec` (one spec for all, or a list with one per input)."""
    spec = getattr(layer, "input_spec", None)
    if not spec:
        return
    specs = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    where = f"layer '{layer.name}' ({type(layer).__name__})"
    if len(specs) != len(tensors):
        raise ValueError(f"The {where} expects {len(specs)} input(s) (its input_spec), but it received "
                         f"{len(tensors)} input tensor(s) of shapes {[tuple(t.shape) for t in tensors]}")
    for index, (tensor, spec) in enumerate(zip(tensors, specs)):
        if spec is None:
            continue
        if not isinstance(spec, InputSpec):
            raise TypeError(f"The {where}: input_spec must be an InputSpec, a list of them or None, got {spec!r}")
        shape = tuple(tensor.shape)
        ndim = len(shape)

        def fail(expected):
            raise ValueError(f"Input {index} is incompatible with {where}: expected {expected}, found shape "
                             f"{shape} (ndim={ndim}, dtype={tensor.dtype})")

        if spec.ndim is not None and ndim != spec.ndim:
            fail(f"ndim={spec.ndim}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            fail(f"max_ndim={spec.max_ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            fail(f"min_ndim={spec.min_ndim}")
        if spec.dtype is not None and str(tensor.dtype) != str(spec.dtype):
            fail(f"dtype={spec.dtype}")
        for axis, value in spec.axes.items():
            if not -ndim <= int(axis) < ndim:
                fail(f"an axis {axis} (input_spec axes {spec.axes})")
            if value is not None and shape[int(axis)] not in (value, None):
                fail(f"axis {axis} of the input shape to have value {value}")
        if spec.shape is not None:
            for expected, found in zip(spec.shape, shape):
                if expected is not None and found is not None and expected != found:
                    fail(f"shape={spec.shape}")
