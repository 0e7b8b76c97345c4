"""K.function and K.placeholder: the backend's window onto the symbolic graph of models.

The graph lives in seqnet.engine, which sits above the backend, so the engine registers
the implementation here when it is imported (``import seqnet`` always imports it)."""
_IMPLEMENTATION = {}


def register(function_factory, placeholder_factory):
    """Called once by seqnet.engine."""
    _IMPLEMENTATION["function"] = function_factory
    _IMPLEMENTATION["placeholder"] = placeholder_factory


def function(inputs, outputs, updates=None, **kwargs):
    """Keras' ``K.function(inputs, outputs)``: a callable taking a list of input arrays and
    returning the list of output arrays. `inputs` are Input tensors of a model (e.g.
    ``model.layers[0].input``) and may include ``K.learning_phase()``, fed 0 (test) or 1
    (train); `outputs` are tensors of layers called on them (``model.layers[3].output``).
    ``updates`` are not supported (seqnet's optimizers update weights themselves)."""
    if updates:
        raise ValueError("K.function: updates are not supported by seqnet; train with model.fit or "
                         "train_on_batch")
    unknown = sorted(set(kwargs) - {"name"})
    if unknown:
        raise ValueError(f"K.function: unexpected keyword argument(s) {unknown}")
    return _IMPLEMENTATION["function"](inputs, outputs)


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """A symbolic input tensor of `shape` (batch axis included; or `ndim` unknown axes):
    the same as ``Input(batch_shape=shape)``, for K.function and models."""
    if sparse:
        raise ValueError("K.placeholder: sparse tensors are not supported by seqnet")
    if shape is None:
        if ndim is None:
            raise ValueError("K.placeholder: give shape or ndim")
        shape = (None,) * int(ndim)
    return _IMPLEMENTATION["placeholder"](tuple(shape), dtype, name)
