"""Time BatchNormalization in seqnet, PyTorch (CPU) and tf-keras: the layer's training
forward + backward alone, and an epoch of a small Conv2D + BatchNormalization + ReLU convnet.

Layer (one training step of the layer: batch statistics, moving-average update, normalised
output, then dx, dgamma, dbeta):

  conv    x (32, 28, 28, 64)   channels_last (PyTorch: its native NCHW, BatchNorm2d)
  first   x (32, 64, 28, 28)   axis=1 (channels_first; PyTorch: BatchNorm2d)
  dense   x (256, 1024)        (PyTorch: BatchNorm1d)

  seqnet: layer.forward(x, True) + layer.backward(dy) (two engine calls, dx in place);
  tf-keras: a tf.function with a GradientTape over layer(x, training=True) (its fused
  kernel where it applies); PyTorch: y = bn(x); y.backward(dy). Reported: the median ms
  over --iters calls after warm-up.

Convnet (same Keras code in seqnet and tf-keras, the equivalent nn.Sequential in PyTorch):

  x (512, 32, 32, 3) random, y one-hot of 10 classes; [Conv2D(32, 3x3, same) - BN - ReLU] x2 -
  MaxPooling2D - Conv2D(64, 3x3, same) - BN - ReLU - GlobalAveragePooling2D -
  Dense(10, softmax); SGD(lr=0.01, momentum=0.9), categorical_crossentropy, batch 64.
  Reported: the median ms per epoch over --repeats epochs after one warm-up epoch.

Each framework runs in its own interpreter: seqnet in this one, tf-keras and PyTorch in
--peers-python (default /work/peers/bin/python). Ratios are to seqnet (above 1: seqnet is
faster).

    python bench/bench_batchnorm.py
    python bench/bench_batchnorm.py --only seqnet,torch --cases conv,net --threads 1
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

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_conv import time_keras  # noqa: E402  (the same fit timing as the other benchmarks)

LAYER_CASES = {
    "conv": dict(shape=(32, 28, 28, 64), axis=-1),
    "first": dict(shape=(32, 64, 28, 28), axis=1),
    "dense": dict(shape=(256, 1024), axis=-1),
}
NET = dict(n=512, side=32, classes=10, batch=64)


def layer_data(case):
    spec = LAYER_CASES[case]
    rng = np.random.RandomState(0)
    x = rng.standard_normal(spec["shape"]).astype(np.float32)
    dy = rng.standard_normal(spec["shape"]).astype(np.float32)
    return x, dy, spec["axis"]


def net_data():
    rng = np.random.RandomState(0)
    x = rng.random_sample((NET["n"], NET["side"], NET["side"], 3)).astype(np.float32)
    labels = rng.randint(NET["classes"], size=NET["n"])
    return x, np.eye(NET["classes"], dtype=np.float32)[labels], labels


def timed(fn, iters, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def keras_net(keras, sgd):
    L = keras.layers
    model = keras.models.Sequential()
    model.add(L.Conv2D(32, (3, 3), padding="same", input_shape=(NET["side"], NET["side"], 3)))
    model.add(L.BatchNormalization())
    model.add(L.Activation("relu"))
    model.add(L.Conv2D(32, (3, 3), padding="same"))
    model.add(L.BatchNormalization())
    model.add(L.Activation("relu"))
    model.add(L.MaxPooling2D((2, 2)))
    model.add(L.Conv2D(64, (3, 3), padding="same"))
    model.add(L.BatchNormalization())
    model.add(L.Activation("relu"))
    model.add(L.GlobalAveragePooling2D())
    model.add(L.Dense(NET["classes"], activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=sgd)
    return model


def seqnet_layer(case, iters):
    import seqnet
    from seqnet.layers import BatchNormalization
    x, dy, axis = layer_data(case)
    layer = BatchNormalization(axis=axis)
    layer.build((None,) + x.shape[1:])
    grad = dy.copy()

    def step():
        layer.forward(x, True)
        layer.backward(grad, True)  # dx lands in grad (in place), as in a training step

    times = timed(step, iters)
    assert np.isfinite(grad).all()
    return "seqnet (isa %s, threads %d)" % (seqnet._engine.active_isa(), seqnet._engine.get_num_threads()), times


def seqnet_net(repeats):
    import seqnet as keras
    x, y, _ = net_data()
    model = keras_net(keras, keras.optimizers.SGD(lr=0.01, momentum=0.9))
    return "seqnet (isa %s)" % keras._engine.active_isa(), time_keras(model, x, y, NET["batch"], 1, repeats)


def tf_keras_layer(case, iters):
    import tensorflow as tf
    import tf_keras as keras
    x, dy, axis = layer_data(case)
    layer = keras.layers.BatchNormalization(axis=axis)
    layer.build((None,) + x.shape[1:])
    xt, dyt = tf.constant(x), tf.constant(dy)

    @tf.function
    def step(xv, dyv):
        with tf.GradientTape() as tape:
            tape.watch(xv)
            y = layer(xv, training=True)
        return tape.gradient(y, [xv] + layer.trainable_weights, output_gradients=dyv)

    def run():
        out = step(xt, dyt)
        out[0].numpy()

    return "tf_keras %s (tensorflow %s)" % (keras.__version__, tf.__version__), timed(run, iters)


def tf_keras_net(repeats):
    import tensorflow as tf
    import tf_keras as keras
    tf.random.set_seed(0)
    x, y, _ = net_data()
    model = keras_net(keras, keras.optimizers.legacy.SGD(learning_rate=0.01, momentum=0.9))
    return "tf_keras %s" % keras.__version__, time_keras(model, x, y, NET["batch"], 1, repeats)


def torch_layer(case, iters):
    import torch
    from torch import nn
    x, dy, axis = layer_data(case)
    if x.ndim == 4 and axis == -1:  # PyTorch's BatchNorm2d wants NCHW: give it its native layout
        x, dy = (np.ascontiguousarray(a.transpose(0, 3, 1, 2)) for a in (x, dy))
    bn = nn.BatchNorm2d(x.shape[1]) if x.ndim == 4 else nn.BatchNorm1d(x.shape[1])
    bn.train()
    xt = torch.from_numpy(x).requires_grad_(True)
    dyt = torch.from_numpy(dy)

    def step():
        xt.grad = None
        bn.zero_grad(set_to_none=True)
        bn(xt).backward(dyt)

    return "torch %s (threads %d)" % (torch.__version__, torch.get_num_threads()), timed(step, iters)


def torch_net(repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    x, _, labels = net_data()
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, NET["classes"]))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(labels.astype(np.int64))
    batch, n = NET["batch"], len(x)

    def epoch():
        model.train()
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

    epoch()
    times, loss = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        loss = epoch()
        times.append(time.perf_counter() - t0)
    return "torch %s (threads %d)" % (torch.__version__, torch.get_num_threads()), (times, loss)


LAYER_WORKERS = {"seqnet": seqnet_layer, "tf_keras": tf_keras_layer, "torch": torch_layer}
NET_WORKERS = {"seqnet": seqnet_net, "tf_keras": tf_keras_net, "torch": torch_net}


def set_threads(name, threads):
    """Caps every framework at `threads` threads (0: each framework's default)."""
    if not threads:
        return
    if name == "seqnet":
        import seqnet
        seqnet._engine.set_num_threads(threads)
    elif name == "torch":
        import torch
        torch.set_num_threads(threads)
    else:
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def worker(name, case, iters, repeats, threads):
    set_threads(name, threads)
    if case == "net":
        version, (times, loss) = NET_WORKERS[name](repeats)
        return dict(version=version, times=times, loss=loss)
    version, times = LAYER_WORKERS[name](case, iters)
    return dict(version=version, times=times)


def run_worker(python, name, case, iters, repeats, threads):
    cmd = [python, os.path.abspath(__file__), "--worker", name, "--cases", case, "--iters", str(iters),
           "--repeats", str(repeats), "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, err
    return json.loads(lines[-1]), None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default="conv,first,dense,net")
    ap.add_argument("--only", default="seqnet,torch,tf_keras")
    ap.add_argument("--iters", type=int, default=30, help="timed layer steps per case")
    ap.add_argument("--repeats", type=int, default=3, help="timed convnet epochs")
    ap.add_argument("--threads", type=int, default=0, help="threads per framework (0: its default)")
    ap.add_argument("--peers-python", default="/work/peers/bin/python")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.cases, args.iters, args.repeats, args.threads)))
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    print("BatchNormalization: layer forward+backward (median of %d) and a convnet epoch (median of %d); "
          "python %s on %s, %s CPUs, threads %s" % (args.iters, args.repeats, platform.python_version(),
                                                    platform.machine(), os.cpu_count(), args.threads or "default"))
    for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
        results = {}
        for name in wanted:
            python = sys.executable if name == "seqnet" else args.peers_python
            res, err = run_worker(python, name, case, args.iters, args.repeats, args.threads)
            if res is None:
                print("skip %-8s (%s): %s" % (name, case, err))
                continue
            results[name] = res
        what = "convnet epoch %s" % NET if case == "net" else "layer %s" % LAYER_CASES[case]
        print("\n%s: %s" % (case, what))
        print("| framework | ms (median) | min | ratio to seqnet |")
        print("|---|---:|---:|---:|")
        base = statistics.median(results["seqnet"]["times"]) if "seqnet" in results else None
        for name, r in results.items():
            med = statistics.median(r["times"])
            ratio = "%.2f" % (med / base) if base else "n/a"
            print("| %s | %.2f | %.2f | %s |" % (r["version"], 1000 * med, 1000 * min(r["times"]), ratio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
