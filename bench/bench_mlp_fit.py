"""Time `fit` of the seed softmax MLP, or of the Keras mnist_mlp recipe, in seqnet, PyTorch
(CPU) and tf-keras.

--model guide (default): the Keras 2 guide's "MLP for multi-class softmax classification":

    x (1000, 20) random, y one-hot of 10 classes
    Dense(64, relu, input_dim=20) - Dropout(0.5) - Dense(64, relu) -
    Dropout(0.5) - Dense(10, softmax)
    SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
    categorical_crossentropy, metrics=['accuracy']
    fit(batch_size=128, epochs=20, shuffle=True, verbose=0)

--model mnist_mlp: the Keras example mnist_mlp.py on random data of MNIST's shape:

    x (60000, 784) random in [0, 1), y one-hot of 10 classes
    Dense(512, relu, input_shape=(784,)) - Dropout(0.2) - Dense(512, relu) -
    Dropout(0.2) - Dense(10, softmax)
    RMSprop() (lr 0.001, rho 0.9), categorical_crossentropy, metrics=['accuracy']
    fit(batch_size=128, shuffle=True, verbose=0); by default 1 epoch x 3 repeats

--model raw_pixels: mnist_mlp with sigmoid hidden layers on unscaled pixels, the classic
slip of forgetting `x /= 255`:

    x (12000, 784) random in [0, 255), y one-hot of 10 classes
    Dense(512, sigmoid, input_shape=(784,)) - Dropout(0.2) - Dense(512, sigmoid) -
    Dropout(0.2) - Dense(10, softmax); RMSprop() as mnist_mlp

    The first layer's pre-activations reach -200, so a few of its sigmoids fall below
    1.2e-38: subnormal floats, of which every product that reads one pays an assist of
    about a hundred cycles unless they are flushed to zero. TensorFlow and seqnet flush
    them; PyTorch does not by default (torch.set_flush_denormal).

seqnet and tf-keras run the very same Keras code (`import seqnet as keras` /
`import tf_keras as keras`, the latter with tf_keras.optimizers.legacy);
PyTorch runs the loop a user would write by hand (randperm shuffling, slicing
batches, CrossEntropyLoss on logits, torch.optim.SGD nesterov with the same
time-based decay as a per-step LambdaLR, or torch.optim.RMSprop with alpha=rho,
loss and accuracy read back per batch as Keras does). Each framework: one warm-up
fit of 1 epoch, then --repeats fits of --epochs epochs on the same model; the
reported number is the median over repeats of (fit wall time / epochs), in
milliseconds.

Frameworks that cannot be imported are skipped with the reason, so the script
runs with any Python that has numpy:

    python3 bench/bench_mlp_fit.py                  # whatever imports
    /work/peers/bin/python bench/bench_mlp_fit.py   # all three
    python3 bench/bench_mlp_fit.py --only seqnet --repeats 3 --json out.json
    /work/peers/bin/python bench/bench_mlp_fit.py --model mnist_mlp
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

CLASSES, BATCH = 10, 128
LR, DECAY, MOMENTUM = 0.01, 1e-6, 0.9          # the guide's SGD
RMS_LR, RMS_RHO, RMS_EPS = 0.001, 0.9, 1e-7    # Keras 2's RMSprop() defaults

# rows, features, hidden units, dropout rate, optimizer, default epochs and repeats
MODELS = {
    "guide": dict(rows=1000, dim=20, hidden=64, dropout=0.5, optimizer="sgd", epochs=20, repeats=5),
    "mnist_mlp": dict(rows=60000, dim=784, hidden=512, dropout=0.2, optimizer="rmsprop", epochs=1, repeats=3),
    "raw_pixels": dict(rows=12000, dim=784, hidden=512, dropout=0.2, optimizer="sgd", epochs=1, repeats=3,
                       activation="sigmoid", scale=255.0),
}
M = MODELS["guide"]  # the model being timed (main sets it)


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    x = (rng.random_sample((M["rows"], M["dim"])) * M.get("scale", 1.0)).astype(np.float32)
    labels = rng.randint(CLASSES, size=M["rows"])
    y = np.eye(CLASSES, dtype=np.float32)[labels]
    return x, y, labels


class Skip(Exception):
    pass


# --------------------------------------------------------------------------
# the Keras code, shared by seqnet and tf-keras
# --------------------------------------------------------------------------
def keras_model(keras, optimizer):
    Sequential = keras.models.Sequential
    Dense, Dropout = keras.layers.Dense, keras.layers.Dropout
    model = Sequential()
    act = M.get("activation", "relu")
    model.add(Dense(M["hidden"], activation=act, input_dim=M["dim"]))
    model.add(Dropout(M["dropout"]))
    model.add(Dense(M["hidden"], activation=act))
    model.add(Dropout(M["dropout"]))
    model.add(Dense(CLASSES, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=optimizer,
                  metrics=["accuracy"])
    return model


def keras_optimizer(optimizers):
    """The model's optimizer from a Keras optimizers module (seqnet's, or tf_keras' legacy)."""
    if M["optimizer"] == "rmsprop":
        return optimizers.RMSprop(learning_rate=RMS_LR, rho=RMS_RHO, epsilon=RMS_EPS)
    return optimizers.SGD(learning_rate=LR, decay=DECAY, momentum=MOMENTUM, nesterov=True)


def time_keras(model, x, y, epochs, repeats):
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    per_epoch, hist = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        hist = model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True,
                         verbose=0)
        per_epoch.append((time.perf_counter() - t0) / epochs)
    h = hist.history
    acc = h.get("accuracy", h.get("acc"))
    return per_epoch, float(h["loss"][-1]), float(acc[-1])


def run_seqnet(x, y, labels, epochs, repeats):
    saved = os.environ.get("GOMP_SPINCOUNT")
    try:
        import seqnet as keras
        import seqnet.layers  # noqa: F401
        import seqnet.models  # noqa: F401
        import seqnet.optimizers  # noqa: F401
    except Exception as e:  # ImportError, or a broken build
        raise Skip("cannot import seqnet: %s: %s" % (type(e).__name__, e))
    finally:
        # seqnet sets libgomp's spin for itself on import (its libgomp has read it by now);
        # PyTorch, imported later in this process, loads its own libgomp, which would read it
        # too: leave it the environment it would have had alone.
        if saved is None:
            os.environ.pop("GOMP_SPINCOUNT", None)
        else:
            os.environ["GOMP_SPINCOUNT"] = saved
    try:
        model = keras_model(keras, keras_optimizer(keras.optimizers))
    except Exception as e:
        raise Skip("seqnet cannot build the model: %s: %s"
                   % (type(e).__name__, e))
    version = getattr(keras, "__version__", "?")
    try:
        res = time_keras(model, x, y, epochs, repeats)
    except Exception as e:
        raise Skip("seqnet fit failed: %s: %s" % (type(e).__name__, e))
    return version, res


def run_tf_keras(x, y, labels, epochs, repeats):
    try:
        import tensorflow as tf
        import tf_keras as keras
    except Exception as e:
        raise Skip("cannot import tf_keras: %s: %s" % (type(e).__name__, e))
    tf.random.set_seed(0)
    model = keras_model(keras, keras_optimizer(keras.optimizers.legacy))
    version = "tf_keras %s (tensorflow %s, intra-op threads %s)" % (
        keras.__version__, tf.__version__,
        tf.config.threading.get_intra_op_parallelism_threads() or "auto")
    return version, time_keras(model, x, y, epochs, repeats)


# --------------------------------------------------------------------------
# PyTorch, written the way a user writes the loop
# --------------------------------------------------------------------------
def run_torch(x, y, labels, epochs, repeats):
    try:
        import torch
        from torch import nn
    except Exception as e:
        raise Skip("cannot import torch: %s: %s" % (type(e).__name__, e))
    torch.manual_seed(0)
    dim, hidden, rate = M["dim"], M["hidden"], M["dropout"]
    act = nn.Sigmoid if M.get("activation") == "sigmoid" else nn.ReLU
    model = nn.Sequential(
        nn.Linear(dim, hidden), act(), nn.Dropout(rate),
        nn.Linear(hidden, hidden), act(), nn.Dropout(rate),
        nn.Linear(hidden, CLASSES))      # softmax is inside CrossEntropyLoss
    if M["optimizer"] == "rmsprop":
        opt = torch.optim.RMSprop(model.parameters(), lr=RMS_LR, alpha=RMS_RHO, eps=RMS_EPS)
        sched = None
    else:
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM,
                              nesterov=True)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda it: 1.0 / (1.0 + DECAY * it))   # Keras time-based decay
    N = M["rows"]
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(labels.astype(np.int64))

    def fit(n_epochs):
        model.train()
        last = None
        for _ in range(n_epochs):
            perm = torch.randperm(N)
            tot_loss = tot_acc = 0.0
            for s in range(0, N, BATCH):
                idx = perm[s:s + BATCH]
                xb, yb = xt[idx], yt[idx]
                out = model(xb)
                loss = loss_fn(out, yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                nb = len(idx)
                tot_loss += loss.item() * nb
                tot_acc += (out.argmax(1) == yb).float().mean().item() * nb
            last = (tot_loss / N, tot_acc / N)
        return last

    fit(1)
    per_epoch, last = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        last = fit(epochs)
        per_epoch.append((time.perf_counter() - t0) / epochs)
    version = "torch %s (threads %d)" % (torch.__version__,
                                         torch.get_num_threads())
    return version, (per_epoch, last[0], last[1])


FRAMEWORKS = [("seqnet", run_seqnet), ("torch", run_torch),
              ("tf_keras", run_tf_keras)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="guide",
                    help="the guide's softmax MLP (default), the Keras mnist_mlp recipe, or raw_pixels")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs per timed fit (default 20, mnist_mlp and raw_pixels 1)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed fits (default 5, mnist_mlp and raw_pixels 3)")
    ap.add_argument("--only", default="seqnet,torch,tf_keras",
                    help="comma-separated subset of seqnet,torch,tf_keras")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--verbose-errors", action="store_true",
                    help="print tracebacks of skipped frameworks")
    args = ap.parse_args(argv)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    global M
    M = MODELS[args.model]
    args.epochs = M["epochs"] if args.epochs is None else args.epochs
    args.repeats = M["repeats"] if args.repeats is None else args.repeats

    x, y, labels = make_data()
    title = {"guide": "seed softmax MLP", "mnist_mlp": "Keras mnist_mlp recipe",
             "raw_pixels": "mnist_mlp with sigmoids on unscaled pixels"}[args.model]
    print("%s: x %s, batch %d, %d epochs x %d repeats "
          "(+1 warm-up epoch); python %s on %s, %s CPUs"
          % (title, x.shape, BATCH, args.epochs, args.repeats,
             platform.python_version(), platform.machine(), os.cpu_count()))
    results = {}
    for name, fn in FRAMEWORKS:
        if name not in wanted:
            continue
        try:
            version, (per_epoch, loss, acc) = fn(x, y, labels, args.epochs,
                                                 args.repeats)
        except Skip as e:
            print("skip %-8s %s" % (name, e))
            if args.verbose_errors:
                traceback.print_exc()
            continue
        ms = [1000.0 * t for t in per_epoch]
        results[name] = dict(version=version, median_ms=statistics.median(ms),
                             min_ms=min(ms), max_ms=max(ms), runs_ms=ms,
                             final_loss=loss, final_acc=acc)
        print("done %-8s %s" % (name, version))

    if not results:
        print("no framework could be timed")
        return 0
    base = results.get("seqnet", {}).get("median_ms")
    print()
    print("| framework | ms/epoch (median) | min | max | last loss | last acc "
          "| ratio to seqnet |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = "%.2f" % (r["median_ms"] / base) if base else "n/a"
        print("| %s | %.2f | %.2f | %.2f | %.4f | %.4f | %s |" % (
            name, r["median_ms"], r["min_ms"], r["max_ms"], r["final_loss"],
            r["final_acc"], ratio))
    if base:
        for other in ("torch", "tf_keras"):
            if other in results:
                print("%s/seqnet = %.2f (above 1: seqnet is faster)" % (
                    other, results[other]["median_ms"] / base))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(model=args.model, epochs=args.epochs, repeats=args.repeats,
                           batch_size=BATCH, rows=M["rows"], results=results), f,
                      indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
