"""What the engine asks of data-parallel training (Model.fit and train_on_batch reach it
as ``optimizer.data_parallel``): the collectives of a step, the sharding order, which
callbacks run on this rank, the same-model check and what a failing rank does."""
import hashlib

import numpy as np

from seqnet import backend as K
from seqnet.callbacks import CSVLogger, ModelCheckpoint, ProgbarLogger, TensorBoard
from seqnet.distribute.comm import failure_message
from seqnet.engine.base_layer import Layer

# Callbacks with side effects outside the process (files, the terminal) run on rank 0 only.
# Any callback can say otherwise with a `root_rank_only` attribute (True or False).
ROOT_RANK_ONLY = (ProgbarLogger, ModelCheckpoint, CSVLogger, TensorBoard)


class ModelMismatchError(ValueError):
    """The ranks of a data-parallel job build different models (raised on every rank)."""

    all_ranks = True  # raised everywhere at the same point: an error, not an abort


class DataParallel:
    """The data-parallel hooks of one DistributedOptimizer over a Communicator."""

    def __init__(self, comm, shard_data=True):
        self.comm = comm
        self.shard_data = bool(shard_data)
        self._checked = set()

    @property
    def size(self):
        return self.comm.size

    @property
    def rank(self):
        return self.comm.rank

    # ---- per step -----------------------------------------------------------------------------
    def allreduce_gradients(self, grads):
        """Sums the flat gradient buffer over ranks in place (each rank's part is already
        weighted by its share of the global batch)."""
        self.comm.allreduce_sum_(grads)

    def sum_in_order(self, terms):
        return self.comm.sum_in_order(np.asarray(terms, dtype=np.float64))

    def gather_counts(self, count):
        """Every rank's batch size, in rank order."""
        return [int(c) for c in self.comm.allgather_rows(np.array([count], dtype=np.int64))[:, 0]]

    def any(self, flag):
        return self.comm.any(flag)

    # ---- per epoch ----------------------------------------------------------------------------
    def broadcast_order(self, index):
        """Rank 0's sample order of the epoch, on every rank."""
        return self.comm.bcast_(np.ascontiguousarray(index, dtype=np.int64), root=0)

    def broadcast_seed(self):
        """A seed drawn on rank 0 (from NumPy's global generator), the same on every rank."""
        return int(self.comm.bcast_(np.random.randint(0, 2 ** 31 - 1, size=1).astype(np.int64), root=0)[0])

    # ---- per fit ------------------------------------------------------------------------------
    def callbacks_for_rank(self, callbacks):
        """The callbacks this rank runs: all on rank 0; elsewhere those without outside
        side effects (not the progress bar, ModelCheckpoint, CSVLogger, TensorBoard, nor a
        callback with ``root_rank_only = True``)."""
        if self.rank == 0:
            return list(callbacks)
        return [cb for cb in callbacks if not getattr(cb, "root_rank_only", isinstance(cb, ROOT_RANK_ONLY))]

    def check_model(self, model):
        """Raises ModelMismatchError on every rank unless all ranks train the same
        architecture (layer classes, weight shapes, outputs, metrics, optimizer class)."""
        key = (id(model), tuple(id(w) for w in model.weights))
        if key in self._checked:
            return
        check_same_model(self.comm, model)
        self._checked.add(key)

    def fail(self, exc):
        """A rank's exception in training: errors raised on every rank alike pass through;
        anything else ends the whole job (MPI abort) with this rank and its exception named."""
        if getattr(exc, "all_ranks", False):
            return
        self.comm.abort(failure_message(self.rank, self.size, exc))


def model_summary(model):
    """The architecture as text: what must agree across ranks (names may differ)."""
    parts = [type(model).__name__, f"inputs={len(model.inputs)}", f"outputs={len(model.outputs)}"]
    parts += [type(layer).__name__ for layer in model.layers]
    parts += [f"{tuple(w.shape)}{'' if w.trainable else ' frozen'}" for w in model.weights]
    parts += [f"metrics={list(getattr(model, 'metrics_names', []))}",
              f"optimizer={type(getattr(model, 'optimizer', None)).__name__}"]
    return "\n".join(parts)


def check_same_model(comm, model):
    summary = model_summary(model)
    digest = hashlib.sha256(summary.encode()).hexdigest()[:16]
    params = int(sum(int(np.prod(w.shape)) for w in model.weights))
    mine = np.frombuffer(bytes.fromhex(digest), dtype=np.uint8)
    digests = comm.allgather_rows(mine)
    if (digests == digests[0]).all():
        return
    counts = comm.allgather_rows(np.array([len(model.layers), len(model.weights), params], dtype=np.int64))
    lines = [f"  rank {r}: {int(c[0])} layers, {int(c[1])} weights, {int(c[2])} parameters (hash {d.tobytes().hex()})"
             for r, (c, d) in enumerate(zip(counts, digests))]
    raise ModelMismatchError("seqnet.distribute: the ranks do not train the same model (architecture, weight shapes, "
                             "metrics or optimizer differ), so their gradients cannot be combined:\n"
                             + "\n".join(lines) + "\nBuild the same model on every rank (the same script, with "
                             "nothing depending on the rank before compile).")


def broadcast_model(comm, model, root_rank=0):
    """Every rank takes `root_rank`'s weights, optimizer state (when root has any) and the
    keys and positions of the random layers' streams (dropout masks), so all ranks start
    from the same point. Collective: every rank must call it."""
    if not 0 <= root_rank < comm.size:
        raise ValueError(f"root_rank must be in [0, {comm.size}), got {root_rank!r}")
    check_same_model(comm, model)
    for w in model.weights:
        value = w.value
        if value.flags.c_contiguous and value.flags.writeable:
            comm.bcast_(value, root_rank)
        else:
            w.value[...] = comm.bcast_(np.ascontiguousarray(value), root_rank)
    _broadcast_optimizer(comm, model, root_rank)
    layers = random_layers(model)
    if layers:
        keys = comm.bcast_(np.array([layer._key for layer in layers], dtype=np.uint64), root_rank)
        steps = comm.bcast_(np.array([layer._step for layer in layers], dtype=np.int64), root_rank)
        for layer, key, step in zip(layers, keys, steps):
            layer._key, layer._step = int(key), int(step)


def _broadcast_optimizer(comm, model, root_rank):
    opt = getattr(model, "optimizer", None)
    if opt is None or not hasattr(opt, "_slot_buffers"):
        return
    state = None
    if opt._slot_size >= 0:
        state = (int(K.get_value(opt.iterations)), [float(v) for _, v in opt._scalar_state()], opt._slot_size)
    state = comm.bcast_object(state, root_rank)
    if state is None:
        return
    iterations, scalars, size = state
    store = getattr(model, "_store", None)
    if opt._slot_size != size:
        opt._create_slots(size)
        opt._slot_size = size
        if store is not None and store.params.size == size:
            opt._segments = store.segments
    K.set_value(opt.iterations, iterations)
    opt._set_scalar_state(scalars)
    for _, buf in opt._slot_buffers():
        comm.bcast_(buf, root_rank)


def random_layers(model):
    """The layers (shared-layer clones included) that draw from a random stream, in a
    fixed order."""
    seen, found = set(), []

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if "_key" in vars(layer) and "_step" in vars(layer):
            found.append(layer)
        for value in list(vars(layer).values()):
            items = value if isinstance(value, (list, tuple)) else (value,)
            for item in items:
                if isinstance(item, Layer):
                    visit(item)
                elif isinstance(getattr(item, "runner", None), Layer):  # a plan step of a model
                    visit(item.runner)

    visit(model)
    return found
