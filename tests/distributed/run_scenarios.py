"""Run under mpiexec by tests/test_distributed.py: every scenario of scenarios.py with
seqnet.distribute; each rank writes its final weights and history to OUT/rank<r>.npz, and
rank-0-only callbacks are checked on the way."""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seqnet as keras  # noqa: E402
import seqnet.distribute as hvd  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402


def main(out):
    hvd.init()
    results = {}
    for name, run in SCENARIOS.items():
        model, history = run(True, hvd.size())
        for i, w in enumerate(model.get_weights()):
            results[f"{name}/w{i}"] = w
        for key, values in history.items():
            results[f"{name}/h/{key}"] = np.asarray(values)
    # side effects on rank 0 only
    csv = keras.callbacks.CSVLogger(os.path.join(out, "log.csv"))
    ckpt = keras.callbacks.ModelCheckpoint(os.path.join(out, "ckpt.h5"))

    class Marker(keras.callbacks.Callback):
        root_rank_only = True

        def on_epoch_end(self, epoch, logs=None):
            with open(os.path.join(out, f"marker{hvd.rank()}.txt"), "a") as f:
                f.write(f"{epoch}\n")

    model, _ = SCENARIOS["mlp_dropout"](True, hvd.size())
    x = np.random.RandomState(4).rand(20, 6).astype("float32")
    y = keras.utils.to_categorical(np.arange(20) % 3, 3)
    cbs = [csv, ckpt, Marker()]
    model.fit(x, y, batch_size=2, epochs=2, verbose=1, callbacks=cbs)
    results["callbacks_set"] = np.array([cb.model is not None for cb in cbs])
    np.savez(os.path.join(out, f"rank{hvd.rank()}.npz"), **results)
    with open(os.path.join(out, f"done{hvd.rank()}.json"), "w") as f:
        json.dump({"size": hvd.size(), "rank": hvd.rank(), "local_rank": hvd.local_rank()}, f)


if __name__ == "__main__":
    main(sys.argv[1])
