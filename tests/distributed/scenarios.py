"""Training runs shared by tests/test_distributed.py (the single-process reference, in the
test process) and run_scenarios.py (the same runs under mpiexec, one shard per rank).

Each scenario builds its model from a fixed seed and trains it; `parallel=True` trains with
seqnet.distribute (batch b per rank), `parallel=False` as one process with the global
batch (size * b), which the distributed run must equal."""
import numpy as np

import seqnet as keras
import seqnet.distribute as hvd
from seqnet.layers import LSTM, Dense, Dropout, GaussianNoise, Input
from seqnet.models import Model, Sequential

EPOCHS = 3


def mlp_dropout(parallel, size):
    """Dropout, shuffling, sample weights with zeros, 50 samples (uneven shards), validation."""
    keras.utils.set_random_seed(3)
    model = Sequential([Dense(16, activation="relu", input_shape=(6,)), Dropout(0.4), GaussianNoise(0.1),
                        Dense(3, activation="softmax")])
    rng = np.random.RandomState(0)
    x = rng.rand(50, 6).astype("float32")
    y = keras.utils.to_categorical(rng.randint(0, 3, 50), 3)
    w = rng.rand(50).astype("float32")
    w[::7] = 0.0
    opt = keras.optimizers.SGD(lr=0.2, momentum=0.5)
    model.compile(hvd.DistributedOptimizer(opt) if parallel else opt, "categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    batch = 4 if parallel else 4 * size
    cbs = [hvd.callbacks.BroadcastGlobalVariablesCallback(0), hvd.callbacks.MetricAverageCallback()] if parallel else []
    history = model.fit(x, y, sample_weight=w, batch_size=batch, epochs=EPOCHS, verbose=0, shuffle=True,
                        validation_data=(x[:10], y[:10]), callbacks=cbs)
    return model, history.history


def lstm_masked(parallel, size):
    """An LSTM with dropout and recurrent_dropout (masks per gate), two outputs, an
    activity regularizer and a weight regularizer; 23 samples, no shuffling."""
    keras.utils.set_random_seed(5)
    inp = Input(shape=(5, 3))
    h = LSTM(6, dropout=0.3, recurrent_dropout=0.2)(inp)
    a = Dense(2, kernel_regularizer=keras.regularizers.l2(0.01), name="a")(h)
    b = Dense(1, activation="sigmoid", activity_regularizer=keras.regularizers.l1(0.01), name="b")(h)
    model = Model(inp, [a, b])
    rng = np.random.RandomState(1)
    x = rng.rand(23, 5, 3).astype("float32")
    ya = rng.rand(23, 2).astype("float32")
    yb = (rng.rand(23, 1) > 0.5).astype("float32")
    opt = keras.optimizers.Adam(lr=0.01)
    model.compile(hvd.DistributedOptimizer(opt) if parallel else opt, ["mse", "binary_crossentropy"],
                  loss_weights=[1.0, 0.5], metrics=["mae"])
    batch = 3 if parallel else 3 * size
    history = model.fit(x, [ya, yb], batch_size=batch, epochs=EPOCHS, verbose=0, shuffle=False)
    return model, history.history


class Batches(keras.utils.Sequence):
    """Seven batches of uneven sizes (the last is short)."""

    def __init__(self, group=1):
        rng = np.random.RandomState(2)
        sizes = [5, 5, 5, 5, 5, 5, 3]
        self.items = [(rng.rand(s, 4).astype("float32"), rng.rand(s, 2).astype("float32")) for s in sizes]
        self.group = group

    def __len__(self):
        return -(-len(self.items) // self.group)

    def __getitem__(self, k):
        part = self.items[k * self.group:(k + 1) * self.group]
        return np.concatenate([p[0] for p in part]), np.concatenate([p[1] for p in part])


def sequence(parallel, size):
    """fit_generator on a Sequence: rank r reads batch k * size + r; the reference reads the
    concatenation of batches k * size .. k * size + size - 1."""
    keras.utils.set_random_seed(7)
    model = Sequential([Dense(5, activation="tanh", input_shape=(4,)), Dropout(0.25), Dense(2)])
    opt = keras.optimizers.RMSprop(lr=0.01)
    model.compile(hvd.DistributedOptimizer(opt) if parallel else opt, "mse")
    data = Batches(1 if parallel else size)
    history = model.fit_generator(data, epochs=EPOCHS, verbose=0, shuffle=False, workers=0)
    return model, history.history


def unsharded_train_on_batch(parallel, size):
    """train_on_batch with shard_data=False (Horovod's way: each rank brings its own batch,
    here of rank-dependent size 3 + rank): equals one process on the ranks' batches
    concatenated in rank order."""
    keras.utils.set_random_seed(9)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dropout(0.3), Dense(2, activation="softmax")])
    opt = keras.optimizers.Adagrad(lr=0.05)
    model.compile(hvd.DistributedOptimizer(opt, shard_data=False) if parallel else opt, "categorical_crossentropy",
                  metrics=["accuracy"])
    data = []
    for r in range(size):
        rng = np.random.RandomState(20 + r)
        data.append((rng.rand(4, 3 + r, 3).astype("float32"),
                     keras.utils.to_categorical(rng.randint(0, 2, (4, 3 + r)), 2)))
    losses = []
    for step in range(4):
        if parallel:
            x, y = data[hvd.rank()][0][step], data[hvd.rank()][1][step]
        else:
            x = np.concatenate([d[0][step] for d in data])
            y = np.concatenate([d[1][step] for d in data])
        losses.append(model.train_on_batch(x, y))
    return model, {"loss": [v[0] for v in losses], "accuracy": [v[1] for v in losses]}


SCENARIOS = {"mlp_dropout": mlp_dropout, "lstm_masked": lstm_masked, "sequence": sequence,
             "unsharded_train_on_batch": unsharded_train_on_batch}
