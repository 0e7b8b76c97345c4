"""DistributedOptimizer: an optimizer whose update first sums the ranks' gradients."""
from seqnet import optimizers
from seqnet.distribute.comm import world
from seqnet.distribute.data_parallel import DataParallel

_CLASSES = {}


class Compression:
    """Horovod's gradient compression choices; seqnet sums float32 gradients as they are."""

    none = None
    fp16 = "fp16"


Average = "average"
Sum = "sum"


def DistributedOptimizer(optimizer, name=None, device_dense="", device_sparse="", compression=Compression.none,
                         sparse_as_dense=False, op=Average, backward_passes_per_step=1, shard_data=True):
    """Wraps `optimizer` (an instance or a name) for data-parallel training, as
    ``horovod.keras.DistributedOptimizer``: each update first combines the gradients of all
    ranks with one in-place MPI Allreduce of the model's flat gradient buffer, so every rank
    applies the same update. The result is an instance of the same optimizer class (saved
    under its own name), sharing the wrapped optimizer's state.

    Where seqnet differs from Horovod: the combination is the exact gradient of the global
    batch, each rank's gradient weighted by its share of it (samples, non-zero sample
    weights and unmasked timesteps), not a plain average; and ``fit`` shards the data.
    With ``shard_data=True`` (default) ``fit`` on arrays (the same on every rank) gives
    each rank its slice of every global batch of ``size() * batch_size`` samples, and a
    ``Sequence`` is split by batch index; a plain generator is read per rank. With
    ``shard_data=False`` every rank trains on the batches it is given (Horovod's
    behaviour: shard the data yourself, e.g. by ``rank()``).

    ``name``, ``device_dense``, ``device_sparse`` and ``sparse_as_dense`` are accepted for
    Horovod scripts and have no effect (seqnet runs on the CPU with dense gradients);
    ``compression`` must be ``Compression.none``, ``op`` ``Average`` and
    ``backward_passes_per_step`` 1.
    """
    if compression is not Compression.none:
        raise ValueError(f"DistributedOptimizer: compression must be Compression.none (seqnet allreduces float32), "
                         f"got {compression!r}")
    if op not in (Average, None):
        raise ValueError(f"DistributedOptimizer: op must be Average (the gradient of the global batch), got {op!r}")
    if backward_passes_per_step != 1:
        raise ValueError(f"DistributedOptimizer: backward_passes_per_step must be 1, got {backward_passes_per_step!r}")
    optimizer = optimizers.get(optimizer)
    if isinstance(optimizer, _Distributed):
        raise ValueError("DistributedOptimizer: the optimizer is already a DistributedOptimizer")
    base = type(optimizer)
    cls = _CLASSES.get(base)
    if cls is None:
        cls = type(base.__name__, (_Distributed, base), {"__module__": base.__module__,
                                                          "__doc__": base.__doc__})
        _CLASSES[base] = cls
    wrapped = cls.__new__(cls)
    wrapped.__dict__.update(optimizer.__dict__)
    wrapped._data_parallel = DataParallel(world(), shard_data=shard_data)
    return wrapped


class _Distributed:
    """Mixed into the wrapped optimizer's class by DistributedOptimizer."""

    @property
    def data_parallel(self):
        """The hooks Model.fit uses (None in a single process: plain training)."""
        hooks = self._data_parallel
        return hooks if hooks.size > 1 else None

    def apply_gradients_flat(self, params, grads, segments, sparse_rows=None):
        """Sums the flat gradient buffer over ranks (in place), then updates as the wrapped
        optimizer does (the summed gradient of a table has the rows of every rank: no
        `sparse_rows` then; a single process passes them on)."""
        if self._data_parallel.size > 1:
            self._data_parallel.allreduce_gradients(grads)
            sparse_rows = None
        super().apply_gradients_flat(params, grads, segments, sparse_rows=sparse_rows)
