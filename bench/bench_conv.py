"""Time a training epoch of the seed's convolutional models in seqnet, PyTorch (CPU) and
tf-keras.

Models (the Keras 2 guide's examples, examples/seeds/):

  vgg     x (100, 100, 100, 3) random, y one-hot of 10 classes;
          Conv2D(32,3x3,relu) x2 - MaxPooling2D - Dropout(.25) - Conv2D(64,3x3,relu) x2 -
          MaxPooling2D - Dropout(.25) - Flatten - Dense(256,relu) - Dropout(.5) -
          Dense(10,softmax); SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
          categorical_crossentropy, batch_size=32
  conv1d  x (256, 64, 100) random, y binary; Conv1D(64,3,relu) x2 - MaxPooling1D(3) -
          Conv1D(128,3,relu) x2 - GlobalAveragePooling1D - Dropout(.5) -
          Dense(1,sigmoid); rmsprop, binary_crossentropy, accuracy, batch_size=16
  mnist_cnn    x (6000, 28, 28, 1) random, y one-hot of 10; the Keras example (examples/mnist_cnn.py):
          Conv2D(32,3x3,relu) - Conv2D(64,3x3,relu) - MaxPooling2D - Dropout(.25) - Flatten -
          Dense(128,relu) - Dropout(.5) - Dense(10,softmax); Adadelta, batch_size=128
  cifar10_cnn  x (5000, 32, 32, 3) random, y one-hot of 10; the Keras example (examples/cifar10_cnn.py,
          without augmentation): Conv2D(32,'same') - relu - Conv2D(32) - relu - MaxPooling2D -
          Dropout(.25) - Conv2D(64,'same') - relu - Conv2D(64) - relu - MaxPooling2D -
          Dropout(.25) - Flatten - Dense(512) - relu - Dropout(.5) - Dense(10) - softmax;
          RMSprop(lr=1e-4, decay=1e-6), batch_size=32 (PyTorch: not written for these two)

Set SEQNET_CONV_ALGO=im2col (or winograd2, winograd4) to time seqnet's 3x3 convolutions with one
algorithm instead of the measured choice, e.g. A/B: run both settings alternately.

seqnet and tf-keras run the same Keras code (tf-keras with tf_keras.optimizers.legacy);
PyTorch runs the equivalent nn.Sequential with the hand-written loop a user would write
(NCHW data prepared once, outside the timing). Each framework: one warm-up epoch, then
--repeats fits of --epochs epochs; reported: the median of (fit time / epochs) in ms.

Frameworks that cannot be imported are skipped, so run it with each Python you have and
compare, e.g.:

    python bench/bench_conv.py                               # seqnet
    /work/peers/bin/python bench/bench_conv.py --only torch,tf_keras
    python bench/bench_conv.py --json a.json; ... --compare a.json b.json

or let it run the peers' interpreter itself, each framework in a fresh process, in turn, pooling
the epochs of every round (this machine's speed drifts by tens of percent within minutes; tf-keras'
own epochs vary 2x):

    python bench/bench_conv.py --models mnist_cnn --only seqnet,tf_keras --rounds 3
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np


class Skip(Exception):
    pass


IMAGES = {"vgg": (100, 100, 100, 3), "mnist_cnn": (6000, 28, 28, 1), "cifar10_cnn": (5000, 32, 32, 3)}


def make_data(model, seed=0):
    rng = np.random.RandomState(seed)
    if model in IMAGES:
        x = rng.random_sample(IMAGES[model]).astype(np.float32)
        labels = rng.randint(10, size=len(x))
        return x, np.eye(10, dtype=np.float32)[labels], labels
    x = rng.random_sample((256, 64, 100)).astype(np.float32)
    labels = rng.randint(2, size=256)
    return x, labels.reshape(-1, 1).astype(np.float32), labels


BATCH = {"vgg": 32, "conv1d": 16, "mnist_cnn": 128, "cifar10_cnn": 32}


def keras_model(keras, name, legacy):
    L = keras.layers
    model = keras.models.Sequential()
    if name == "vgg":
        model.add(L.Conv2D(32, (3, 3), activation="relu", input_shape=(100, 100, 3)))
        model.add(L.Conv2D(32, (3, 3), activation="relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Conv2D(64, (3, 3), activation="relu"))
        model.add(L.Conv2D(64, (3, 3), activation="relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Flatten())
        model.add(L.Dense(256, activation="relu"))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(10, activation="softmax"))
        opt = legacy.SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True)
        model.compile(loss="categorical_crossentropy", optimizer=opt)
    elif name == "mnist_cnn":
        model.add(L.Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)))
        model.add(L.Conv2D(64, (3, 3), activation="relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Flatten())
        model.add(L.Dense(128, activation="relu"))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(10, activation="softmax"))
        model.compile(loss="categorical_crossentropy", optimizer=legacy.Adadelta(learning_rate=1.0, rho=0.95),
                      metrics=["accuracy"])
    elif name == "cifar10_cnn":
        model.add(L.Conv2D(32, (3, 3), padding="same", input_shape=(32, 32, 3)))
        model.add(L.Activation("relu"))
        model.add(L.Conv2D(32, (3, 3)))
        model.add(L.Activation("relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Conv2D(64, (3, 3), padding="same"))
        model.add(L.Activation("relu"))
        model.add(L.Conv2D(64, (3, 3)))
        model.add(L.Activation("relu"))
        model.add(L.MaxPooling2D(pool_size=(2, 2)))
        model.add(L.Dropout(0.25))
        model.add(L.Flatten())
        model.add(L.Dense(512))
        model.add(L.Activation("relu"))
        model.add(L.Dropout(0.5))
        model.add(L.Dense(10))
        model.add(L.Activation("softmax"))
        model.compile(loss="categorical_crossentropy", optimizer=legacy.RMSprop(learning_rate=1e-4, decay=1e-6),
                      metrics=["accuracy"])
    else:
        model.add(L.Conv1D(64, 3, activation="relu", input_shape=(64, 100)))
        model.add(L.Conv1D(64, 3, activation="relu"))
        model.add(L.MaxPooling1D(3))
        model.add(L.Conv1D(128, 3, activation="relu"))
        model.add(L.Conv1D(128, 3, activation="relu"))
        model.add(L.GlobalAveragePooling1D())
        model.add(L.Dropout(0.5))
        model.add(L.Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer=legacy.RMSprop(), metrics=["accuracy"])
    return model


def time_keras(model, x, y, batch, epochs, repeats):
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    per_epoch, hist = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        hist = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0)
        per_epoch.append((time.perf_counter() - t0) / epochs)
    return per_epoch, float(hist.history["loss"][-1])


def run_seqnet(name, x, y, labels, epochs, repeats):
    try:
        import seqnet as keras
        import seqnet.optimizers
    except Exception as e:
        raise Skip(f"cannot import seqnet: {type(e).__name__}: {e}")
    model = keras_model(keras, name, seqnet.optimizers)
    threads = keras._engine.get_num_threads()
    return (f"seqnet {getattr(keras, '__version__', '?')} (isa {keras._engine.active_isa()}, threads {threads})",
            time_keras(model, x, y, BATCH[name], epochs, repeats))


def run_tf_keras(name, x, y, labels, epochs, repeats):
    try:
        import tensorflow as tf
        import tf_keras as keras
    except Exception as e:
        raise Skip(f"cannot import tf_keras: {type(e).__name__}: {e}")
    tf.random.set_seed(0)
    model = keras_model(keras, name, keras.optimizers.legacy)
    return (f"tf_keras {keras.__version__} (tensorflow {tf.__version__})",
            time_keras(model, x, y, BATCH[name], epochs, repeats))


def run_torch(name, x, y, labels, epochs, repeats):
    try:
        import torch
        from torch import nn
    except Exception as e:
        raise Skip(f"cannot import torch: {type(e).__name__}: {e}")
    if name in ("mnist_cnn", "cifar10_cnn"):
        raise Skip(f"no PyTorch version of {name}")
    torch.manual_seed(0)
    if name == "vgg":
        model = nn.Sequential(
            nn.Conv2d(3, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(64 * 22 * 22, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda it: 1.0 / (1.0 + 1e-6 * it))
        loss_fn = nn.CrossEntropyLoss()
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
        yt = torch.from_numpy(labels.astype(np.int64))
    else:
        class GAP(nn.Module):
            def forward(self, t):
                return t.mean(dim=2)
        model = nn.Sequential(
            nn.Conv1d(100, 64, 3), nn.ReLU(), nn.Conv1d(64, 64, 3), nn.ReLU(), nn.MaxPool1d(3),
            nn.Conv1d(64, 128, 3), nn.ReLU(), nn.Conv1d(128, 128, 3), nn.ReLU(), GAP(), nn.Dropout(0.5),
            nn.Linear(128, 1))
        opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
        sched = None
        loss_fn = nn.BCEWithLogitsLoss()
        xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))
        yt = torch.from_numpy(y)
    batch, n = BATCH[name], len(x)

    def fit(n_epochs):
        model.train()
        total = 0.0
        for _ in range(n_epochs):
            perm = torch.randperm(n)
            total = 0.0
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                out = model(xt[idx])
                loss = loss_fn(out, yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                if sched is not None:
                    sched.step()
                total += loss.item() * len(idx)
        return total / n

    fit(1)
    per_epoch, last = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        last = fit(epochs)
        per_epoch.append((time.perf_counter() - t0) / epochs)
    return f"torch {torch.__version__} (threads {torch.get_num_threads()})", (per_epoch, last)


FRAMEWORKS = [("seqnet", run_seqnet), ("torch", run_torch), ("tf_keras", run_tf_keras)]


def table(results):
    for model, rows in results.items():
        base = rows.get("seqnet", {}).get("median_ms")
        print(f"\n{model}: batch {BATCH[model]}")
        print("| framework | ms/epoch (median) | min | max | last loss | ratio to seqnet |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, r in rows.items():
            ratio = f"{r['median_ms'] / base:.2f}" if base else "n/a"
            print(f"| {name} | {r['median_ms']:.1f} | {r['min_ms']:.1f} | {r['max_ms']:.1f} | "
                  f"{r['final_loss']:.4f} | {ratio} |")
        if base:
            for other in ("torch", "tf_keras"):
                if other in rows:
                    print(f"{other}/seqnet = {rows[other]['median_ms'] / base:.2f} (above 1: seqnet is faster)")


def record(rows, model, name, version, ms, loss, new_ms):
    """rows[name] = the statistics of the epochs `ms` (milliseconds); prints this run's median."""
    rows[name] = dict(version=version, median_ms=statistics.median(ms), min_ms=min(ms), max_ms=max(ms),
                      runs_ms=ms, final_loss=loss)
    print(f"done {model:6s} {name:8s} {version}: {statistics.median(new_ms):.1f} ms/epoch")


def run_here(model, rows, wanted, args):
    """Every wanted framework importable here, in this process, one after the other."""
    x, y, labels = make_data(model)
    for name, fn in FRAMEWORKS:
        if name not in wanted:
            continue
        try:
            version, (per_epoch, loss) = fn(model, x, y, labels, args.epochs, args.repeats)
        except Skip as e:
            print(f"skip {name:8s} {e}")
            continue
        ms = [1000.0 * t for t in per_epoch]
        record(rows, model, name, version, ms, loss, ms)


def run_in_turn(model, rows, wanted, args):
    """--rounds: each framework in a fresh process (seqnet with this Python, the peers with
    --peers-python), in turn, args.rounds times, the epochs of every round pooled."""
    skipped = set()
    for _ in range(args.rounds):
        for name, _fn in FRAMEWORKS:
            if name not in wanted or name in skipped:
                continue
            python = sys.executable if name == "seqnet" or not os.path.exists(args.peers_python) else args.peers_python
            res, err = run_worker(python, name, model, args)
            if res is None:
                print(f"skip {name:8s} {err}")
                skipped.add(name)
                continue
            ms = rows.get(name, {}).get("runs_ms", []) + res["runs_ms"]
            record(rows, model, name, res["version"], ms, res["final_loss"], res["runs_ms"])


def run_worker(python, name, model, args):
    """(result, None) of one framework on one model in a fresh process, or (None, why)."""
    cmd = [python, os.path.abspath(__file__), "--worker", name, "--models", model, "--epochs", str(args.epochs),
           "--repeats", str(args.repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return None, (proc.stderr.strip().splitlines() or ["no output"])[-1]
    res = json.loads(lines[-1])
    return (None, res["skip"]) if "skip" in res else (res, None)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="vgg,conv1d")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="seqnet,torch,tf_keras")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--compare", nargs="+", help="only print the merged table of these --json files")
    ap.add_argument("--rounds", type=int, default=0,
                    help="run each framework in a fresh process, in turn, this many times, pooling the epochs "
                         "(seqnet with this Python, the peers with --peers-python): on a machine whose speed "
                         "drifts every framework then sees the same spells; 0 (default): all in this process")
    ap.add_argument("--peers-python", default="/work/peers/bin/python")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:  # one framework on one model, for --rounds: prints its result as JSON
        x, y, labels = make_data(args.models)
        fn = dict(FRAMEWORKS)[args.worker]
        try:
            version, (per_epoch, loss) = fn(args.models, x, y, labels, args.epochs, args.repeats)
        except Skip as e:
            print(json.dumps(dict(skip=str(e))))
            return 0
        print(json.dumps(dict(version=version, runs_ms=[1000.0 * t for t in per_epoch], final_loss=loss)))
        return 0
    if args.rounds < 0 or args.repeats < 1 or args.epochs < 1:
        ap.error("--rounds must be >= 0, --repeats and --epochs >= 1")
    if args.compare:
        merged = {}
        for path in args.compare:
            with open(path) as f:
                for model, rows in json.load(f).items():
                    merged.setdefault(model, {}).update(rows)
        table(merged)
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    print(f"{args.epochs} epochs x {args.repeats} repeats (+1 warm-up epoch); python {platform.python_version()} "
          f"on {platform.machine()}, {os.cpu_count()} CPUs")
    results = {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        rows = results.setdefault(model, {})
        if args.rounds:
            run_in_turn(model, rows, wanted, args)
        else:
            run_here(model, rows, wanted, args)
    table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
