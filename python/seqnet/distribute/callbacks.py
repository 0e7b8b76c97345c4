"""Callbacks of data-parallel training, with horovod.keras.callbacks' names."""
import numpy as np

from seqnet.callbacks import Callback
from seqnet.distribute.comm import world
from seqnet.distribute.data_parallel import broadcast_model


class BroadcastGlobalVariablesCallback(Callback):
    """Before the first training step, every rank takes `root_rank`'s weights, optimizer
    state (when it has any, e.g. after ``load_model``) and random-layer streams, so all
    ranks start from the same model. Checks first that every rank built the same model.
    Horovod broadcasts after the first batch; seqnet before it, so the first update is
    already the global batch's. ``device`` is accepted and ignored."""

    def __init__(self, root_rank, device=""):
        super().__init__()
        self.root_rank = root_rank
        self.broadcast_done = False

    def on_train_batch_begin(self, batch, logs=None):
        if self.broadcast_done:
            return
        broadcast_model(world(), self.model, self.root_rank)
        self.broadcast_done = True


class MetricAverageCallback(Callback):
    """Averages the epoch's logs over ranks at the end of each epoch. The training and
    validation values of a seqnet distributed fit are already those of the global batch
    (the same on every rank), so this changes only values a callback computed per rank;
    it is kept so that Horovod scripts run unchanged. Place it before the callbacks that
    read the averaged values."""

    def on_epoch_end(self, epoch, logs=None):
        comm = world()
        if logs is None or comm.size == 1:
            return
        names = sorted(k for k, v in logs.items() if isinstance(v, (int, float, np.number)) and not isinstance(v, bool))
        all_names = comm.allgather_object(names)
        if any(n != names for n in all_names):
            raise ValueError(f"MetricAverageCallback: the ranks log different metrics: {all_names}")
        if not names:
            return
        rows = comm.allgather_rows(np.array([float(logs[k]) for k in names], dtype=np.float64))
        for j, name in enumerate(names):
            column = rows[:, j]
            if not (column == column[0]).all():  # values equal everywhere stay exactly as they are
                total = 0.0
                for value in column:  # in rank order: the same result on every rank
                    total += float(value)
                logs[name] = total / comm.size
