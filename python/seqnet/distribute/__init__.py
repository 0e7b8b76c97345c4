"""Data-parallel training over MPI (``seqnet.distribute``), with horovod.keras' names, so a
Horovod script ports by its import::

    import seqnet as keras
    import seqnet.distribute as hvd

    hvd.init()
    model.compile(optimizer=hvd.DistributedOptimizer(keras.optimizers.SGD(lr=0.01 * hvd.size())), ...)
    model.fit(x, y, batch_size=64,
              callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0),
                         hvd.callbacks.MetricAverageCallback()])

and ``mpiexec -n 4 python train.py`` (``pip install seqnet[mpi]`` installs mpi4py and
MPICH). Without mpi4py, or started without mpiexec, everything works in one process:
``size() == 1``, ``rank() == 0`` and training is plain training.

What a distributed ``fit`` does (N ranks, batch size b):

* each step trains on a global batch of N * b samples, rank r on its contiguous slice of
  it (``fit`` on arrays that are the same on every rank: no rank copies the data set; a
  shuffled epoch uses rank 0's order; a ``Sequence`` is split by batch index; a plain
  generator is read per rank); ``DistributedOptimizer(opt, shard_data=False)`` turns the
  sharding off;
* the update equals that of one process with batch N * b, to float32 rounding: one
  in-place Allreduce of the flat gradient buffer per step, each rank's gradient weighted
  by its share of the global batch (samples, non-zero sample weights, unmasked
  timesteps); dropout and noise layers draw the masks of the global batch's positions;
* the loss and metrics in the logs are those of the global batch, the same on every rank,
  so History, EarlyStopping and ReduceLROnPlateau decide alike; the progress bar,
  ModelCheckpoint, CSVLogger and TensorBoard run on rank 0 only (a callback with
  ``root_rank_only = True`` too);
* a rank that raises ends the whole job (MPI abort, naming the rank and the exception);
  different models on different ranks are an error at the first step.

Limits: BatchNormalization normalizes with each rank's slice statistics (as Horovod without
SyncBatchNorm); Keras-style cells in ``RNN(cell)`` draw their dropout masks per rank;
validation, ``evaluate`` and ``predict`` run on the whole data on every rank.
"""
import numpy as np

from seqnet.distribute import callbacks
from seqnet.distribute.comm import forget_world, world
from seqnet.distribute.data_parallel import ModelMismatchError, broadcast_model
from seqnet.distribute.optimizer import Average, Compression, DistributedOptimizer, Sum

__all__ = ["init", "shutdown", "is_initialized", "size", "rank", "local_rank", "local_size", "allreduce",
           "allgather", "broadcast", "broadcast_global_variables", "DistributedOptimizer", "load_model", "callbacks",
           "Compression", "Average", "Sum", "ModelMismatchError"]


def init():
    """Starts MPI (through mpi4py) and learns this process's rank; safe to call twice.
    In a job of several processes, an uncaught exception on any rank then aborts them all
    with a message naming the rank, instead of leaving the others waiting."""
    world()


def shutdown():
    """Forgets the communicator (MPI itself is finalized when the process exits)."""
    forget_world()


def is_initialized():
    return world(create=False) is not None


def _initialized(what):
    comm = world(create=False)
    if comm is None:
        raise ValueError(f"seqnet.distribute.{what}(): call seqnet.distribute.init() first (as hvd.init())")
    return comm


def size():
    """The number of processes in the job (1 without MPI)."""
    return _initialized("size").size


def rank():
    """This process's index in the job, 0 .. size() - 1."""
    return _initialized("rank").rank


def local_rank():
    """This process's index among the processes on its machine."""
    return _initialized("local_rank").local_rank


def local_size():
    """The number of processes of the job on this machine."""
    return _initialized("local_size").local_size


def allreduce(value, name=None, average=True, op=None):
    """The elementwise sum over ranks of `value` (an array or number; the same shape on
    every rank), divided by size() when `average` (Horovod's default) or ``op=Average``.
    Returns a NumPy array (float64 for numbers). `name` is accepted for Horovod scripts."""
    comm = _initialized("allreduce")
    if op is not None:
        if op not in (Average, Sum):
            raise ValueError(f"allreduce: op must be Average or Sum, got {op!r}")
        average = op == Average
    array = np.array(value, dtype=np.float64 if np.ndim(value) == 0 and not isinstance(value, np.ndarray) else None)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"allreduce: expected numbers, got an array of dtype {array.dtype}")
    array = np.ascontiguousarray(array)
    comm.allreduce_sum_(array)
    if average:
        array = array / comm.size if array.dtype.kind == "f" else array / float(comm.size)
    return array


def allgather(value, name=None):
    """Every rank's array concatenated along the first axis, in rank order (the first
    dimension may differ between ranks)."""
    comm = _initialized("allgather")
    array = np.asarray(value)
    if array.ndim == 0:
        array = array.reshape(1)
    return np.concatenate(comm.allgather_object(array), axis=0)


def broadcast(value, root_rank, name=None):
    """`root_rank`'s value (any picklable object; arrays come back as arrays) on every rank."""
    comm = _initialized("broadcast")
    if not isinstance(root_rank, (int, np.integer)) or isinstance(root_rank, bool) or not 0 <= root_rank < comm.size:
        raise ValueError(f"broadcast: root_rank must be an integer in [0, {comm.size}), got {root_rank!r}")
    return comm.bcast_object(value, int(root_rank))


def broadcast_global_variables(model, root_rank=0):
    """Gives every rank `root_rank`'s weights, optimizer state and random-layer streams
    (what BroadcastGlobalVariablesCallback does before training). Horovod's function takes
    no model: seqnet has no global session, so the model is named."""
    broadcast_model(_initialized("broadcast_global_variables"), model, root_rank)


def load_model(filepath, custom_objects=None, compression=Compression.none):
    """``seqnet.models.load_model`` with the saved optimizer wrapped in DistributedOptimizer
    (its state included), as ``horovod.keras.load_model``."""
    from seqnet.saving import load_model as _load
    model = _load(filepath, custom_objects=custom_objects)
    if getattr(model, "optimizer", None) is not None:
        model.optimizer = DistributedOptimizer(model.optimizer, compression=compression)
    return model
