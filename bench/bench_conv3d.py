"""Time a training epoch of a small Conv3D + MaxPooling3D model and of a LocallyConnected2D
model in seqnet, PyTorch (CPU) and tf-keras, in one run, with the ratios.

Models:

  conv3d  x (128, 16, 16, 16, 1) random, y one-hot of 4 classes; Conv3D(16, 3, relu) -
          MaxPooling3D(2) - Conv3D(32, 3, relu) - MaxPooling3D(2) - Flatten - Dense(4, softmax);
          SGD(lr=0.01, momentum=0.9), categorical_crossentropy, batch_size=16
  lc2d    x (512, 16, 16, 3) random, y one-hot of 10 classes; LocallyConnected2D(16, 3, relu) -
          LocallyConnected2D(16, 3, relu) - Flatten - Dense(10, softmax); SGD(lr=0.01,
          momentum=0.9), categorical_crossentropy, batch_size=32. PyTorch has no
          locally-connected layer: this model is compared with tf-keras only.

seqnet and tf-keras run the same Keras code (tf-keras with tf_keras.optimizers.legacy and its
default implementation=1 for the locally-connected layers); PyTorch runs the equivalent
nn.Sequential with the loop a user writes (NCDHW data prepared once, outside the timing). Each
framework: one warm-up epoch, then --repeats fits of --epochs epochs; reported: the median of
(fit time / epochs) in ms. Run with the interpreter that has seqnet; the peers run in a child
process of --peer-python (the one with torch and tf_keras), so one command gives all columns:

    python bench/bench_conv3d.py
    python bench/bench_conv3d.py --models lc2d --epochs 2 --repeats 2 --json out.json
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
from bench_conv import Skip, time_keras  # noqa: E402  (the same fit timing as the 2-D benchmark)

SPEC = {  # samples, input shape, classes, batch
    "conv3d": (128, (16, 16, 16, 1), 4, 16),
    "lc2d": (512, (16, 16, 3), 10, 32),
}


def make_data(model, seed=0):
    n, shape, classes, _ = SPEC[model]
    rng = np.random.RandomState(seed)
    x = rng.random_sample((n,) + shape).astype(np.float32)
    labels = rng.randint(classes, size=n)
    return x, np.eye(classes, dtype=np.float32)[labels], labels


def keras_model(keras, name, sgd):
    L = keras.layers
    if name == "conv3d":
        layers = [L.Conv3D(16, 3, activation="relu", input_shape=SPEC[name][1]), L.MaxPooling3D(2),
                  L.Conv3D(32, 3, activation="relu"), L.MaxPooling3D(2), L.Flatten(), L.Dense(4, activation="softmax")]
    else:
        layers = [L.LocallyConnected2D(16, 3, activation="relu", input_shape=SPEC[name][1]),
                  L.LocallyConnected2D(16, 3, activation="relu"), L.Flatten(), L.Dense(10, activation="softmax")]
    model = keras.models.Sequential(layers)
    model.compile(loss="categorical_crossentropy", optimizer=sgd(learning_rate=0.01, momentum=0.9))
    return model


def run_seqnet(name, x, y, labels, epochs, repeats):
    try:
        import seqnet as keras
        from seqnet.optimizers import SGD
    except Exception as e:
        raise Skip(f"cannot import seqnet: {type(e).__name__}: {e}")
    model = keras_model(keras, name, lambda learning_rate, momentum: SGD(lr=learning_rate, momentum=momentum))
    version = (f"seqnet {getattr(keras, '__version__', '?')} (isa {keras._engine.active_isa()}, threads "
               f"{keras._engine.get_num_threads()})")
    return version, time_keras(model, x, y, SPEC[name][3], epochs, repeats)


def run_tf_keras(name, x, y, labels, epochs, repeats):
    try:
        import tensorflow as tf
        import tf_keras as keras
    except Exception as e:
        raise Skip(f"cannot import tf_keras: {type(e).__name__}: {e}")
    tf.random.set_seed(0)
    model = keras_model(keras, name, keras.optimizers.legacy.SGD)
    return (f"tf_keras {keras.__version__} (tensorflow {tf.__version__})",
            time_keras(model, x, y, SPEC[name][3], epochs, repeats))


def run_torch(name, x, y, labels, epochs, repeats):
    if name != "conv3d":
        raise Skip("PyTorch has no locally-connected layer")
    try:
        import torch
        from torch import nn
    except Exception as e:
        raise Skip(f"cannot import torch: {type(e).__name__}: {e}")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv3d(1, 16, 3), nn.ReLU(), nn.MaxPool3d(2), nn.Conv3d(16, 32, 3), nn.ReLU(),
                          nn.MaxPool3d(2), nn.Flatten(), nn.Linear(32 * 2 * 2 * 2, 4))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    yt = torch.from_numpy(labels.astype(np.int64))
    batch, n = SPEC[name][3], len(x)

    def fit(n_epochs):
        model.train()
        total = 0.0
        for _ in range(n_epochs):
            perm = torch.randperm(n)
            total = 0.0
            for s in range(0, n, batch):
                idx = perm[s:s + batch]
                loss = loss_fn(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
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


def measure(models, wanted, epochs, repeats):
    results = {}
    for model in models:
        x, y, labels = make_data(model)
        rows = results.setdefault(model, {})
        for name, fn in FRAMEWORKS:
            if name not in wanted:
                continue
            try:
                version, (per_epoch, loss) = fn(model, x, y, labels, epochs, repeats)
            except Skip as e:
                print(f"skip {model:6s} {name:8s} {e}", flush=True)
                continue
            ms = [1000.0 * t for t in per_epoch]
            rows[name] = dict(version=version, median_ms=statistics.median(ms), min_ms=min(ms), max_ms=max(ms),
                              runs_ms=ms, final_loss=loss)
            print(f"done {model:6s} {name:8s} {version}: {statistics.median(ms):.1f} ms/epoch", flush=True)
    return results


def run_peers(args, wanted):
    """The peers' rows, measured by a child process of --peer-python running this script."""
    peers = [w for w in wanted if w != "seqnet"]
    if not peers or not args.peer_python:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "peers.json")
        cmd = [args.peer_python, os.path.abspath(__file__), "--models", args.models, "--epochs", str(args.epochs),
               "--repeats", str(args.repeats), "--only", ",".join(peers), "--json", out, "--no-peers"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0 or not os.path.exists(out):
            print(f"the peers' run failed (rc={proc.returncode}): {' '.join(cmd)}")
            return {}
        with open(out) as f:
            return json.load(f)


def table(results):
    for model, rows in results.items():
        base = rows.get("seqnet", {}).get("median_ms")
        n, shape, _, batch = SPEC[model]
        print(f"\n{model}: x ({n}, {', '.join(map(str, shape))}), batch {batch}")
        print("| framework | ms/epoch (median) | min | max | last loss | time / seqnet's |")
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows.values():
            ratio = f"{r['median_ms'] / base:.2f}" if base else "n/a"
            print(f"| {r['version']} | {r['median_ms']:.1f} | {r['min_ms']:.1f} | {r['max_ms']:.1f} | "
                  f"{r['final_loss']:.4f} | {ratio} |")
        if base:
            for other in ("torch", "tf_keras"):
                if other in rows:
                    print(f"{other}/seqnet = {rows[other]['median_ms'] / base:.2f} (above 1: seqnet is faster)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="conv3d,lc2d")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", default="seqnet,torch,tf_keras")
    ap.add_argument("--peer-python", default="/work/peers/bin/python",
                    help="interpreter with torch and tf_keras for the peers' columns ('' to skip)")
    ap.add_argument("--no-peers", action="store_true", help="measure --only in this process only")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    print(f"{args.epochs} epochs x {args.repeats} repeats (+1 warm-up epoch); python {platform.python_version()} "
          f"on {platform.machine()}, {os.cpu_count()} CPUs", flush=True)
    here = [w for w in wanted if args.no_peers or w == "seqnet"]
    results = measure(models, here, args.epochs, args.repeats)
    if not args.no_peers:
        for model, rows in run_peers(args, wanted).items():
            results.setdefault(model, {}).update(rows)
    if not args.no_peers:
        table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
