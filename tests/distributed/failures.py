"""Run under mpiexec by tests/test_distributed.py: what happens when ranks go wrong.

mode "raise": rank 1 raises inside fit while the others wait for it in a reduction;
mode "uncaught": rank 1 raises outside fit while rank 0 waits in an allreduce;
mode "mismatch": rank 1 builds a different model (every rank must get the error)."""
import sys
import time

import numpy as np

import seqnet as keras
import seqnet.distribute as hvd
from seqnet.layers import Dense
from seqnet.models import Sequential


class Boom(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if hvd.rank() == 1 and batch == 3:
            raise RuntimeError("boom on purpose")


def main(mode):
    hvd.init()
    keras.utils.set_random_seed(0)
    layers = [Dense(4, activation="relu", input_shape=(3,)), Dense(1)]
    if mode == "mismatch" and hvd.rank() == 1:
        layers.insert(1, Dense(4))
    model = Sequential(layers)
    model.compile(hvd.DistributedOptimizer(keras.optimizers.SGD()), "mse")
    x, y = np.random.rand(64, 3).astype("float32"), np.random.rand(64, 1).astype("float32")
    if mode == "uncaught":
        if hvd.rank() == 1:
            raise KeyError("uncaught on purpose")
        hvd.allreduce(np.ones(3))
        time.sleep(60)  # never reached: the job is aborted
    try:
        model.fit(x, y, batch_size=4, epochs=1000, verbose=0,
                  callbacks=[hvd.callbacks.BroadcastGlobalVariablesCallback(0), Boom()])
    except hvd.ModelMismatchError as exc:
        print(f"rank {hvd.rank()} MISMATCH: {exc}", flush=True)
        return
    print(f"rank {hvd.rank()} finished training", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
