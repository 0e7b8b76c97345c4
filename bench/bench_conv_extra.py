"""Time a training epoch of small models built on DepthwiseConv2D, SeparableConv1D/2D and
Conv2DTranspose in seqnet, tf-keras and PyTorch (CPU).

Models (batch 32, SGD(lr=0.01, momentum=0.9)):

  mobilenet    x (512, 32, 32, 3) random, y one-hot of 10 classes;
               Conv2D(32, 3x3, strides 2, same, relu) - [DepthwiseConv2D(3x3, same, relu) -
               Conv2D(64, 1x1, relu)] - [DepthwiseConv2D(3x3, strides 2, same, relu) -
               Conv2D(128, 1x1, relu)] - [DepthwiseConv2D(3x3, same, relu) - Conv2D(128, 1x1,
               relu)] - GlobalAveragePooling2D - Dense(10, softmax); categorical_crossentropy
  separable2d  x, y as mobilenet; SeparableConv2D(32, 3x3, same, relu) - MaxPooling2D -
               SeparableConv2D(64, 3x3, same, depth_multiplier 2, relu) - MaxPooling2D -
               SeparableConv2D(128, 3x3, same, relu) - GlobalAveragePooling2D - Dense(10, softmax)
  separable1d  x (512, 128, 32) random, y binary; SeparableConv1D(64, 5, same, relu) -
               SeparableConv1D(64, 5, strides 2, same, relu) - GlobalAveragePooling1D -
               Dense(1, sigmoid); binary_crossentropy
  decoder      x (512, 8, 8, 16) random codes, y (512, 32, 32, 3) random images;
               Conv2DTranspose(64, 3x3, strides 2, same, relu) - Conv2DTranspose(32, 3x3,
               strides 2, same, relu) - Conv2DTranspose(3, 3x3, same, sigmoid); mse

seqnet and tf-keras run the same Keras code (tf-keras with tf_keras.optimizers.legacy);
PyTorch runs the equivalent nn.Sequential (NCHW, groups=channels for the depthwise steps,
ConvTranspose2d with output_padding for the 'same' upsampling) with the loop a user writes.
Each framework runs in its own interpreter: seqnet in this one, tf-keras and PyTorch in
--peers-python (default /work/peers/bin/python). Each: one warm-up epoch, then --repeats
epochs; reported: the median ms per epoch and its ratio to seqnet's (above 1: seqnet is faster).

    python bench/bench_conv_extra.py
    python bench/bench_conv_extra.py --models decoder --only seqnet,torch --repeats 3
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

N, BATCH, LR, MOMENTUM = 512, 32, 0.01, 0.9


def make_data(model, seed=0):
    rng = np.random.RandomState(seed)
    if model in ("mobilenet", "separable2d"):
        x = rng.random_sample((N, 32, 32, 3)).astype(np.float32)
        labels = rng.randint(10, size=N)
        return x, np.eye(10, dtype=np.float32)[labels], labels
    if model == "separable1d":
        x = rng.random_sample((N, 128, 32)).astype(np.float32)
        labels = rng.randint(2, size=N)
        return x, labels.reshape(-1, 1).astype(np.float32), labels
    x = rng.random_sample((N, 8, 8, 16)).astype(np.float32)
    return x, rng.random_sample((N, 32, 32, 3)).astype(np.float32), None


def keras_model(keras, name, legacy):
    L = keras.layers
    if name == "mobilenet":
        layers = [L.Conv2D(32, 3, strides=2, padding="same", activation="relu", input_shape=(32, 32, 3))]
        for filters, stride in ((64, 1), (128, 2), (128, 1)):
            layers += [L.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu"),
                       L.Conv2D(filters, 1, activation="relu")]
        layers += [L.GlobalAveragePooling2D(), L.Dense(10, activation="softmax")]
        loss = "categorical_crossentropy"
    elif name == "separable2d":
        layers = [L.SeparableConv2D(32, 3, padding="same", activation="relu", input_shape=(32, 32, 3)),
                  L.MaxPooling2D(),
                  L.SeparableConv2D(64, 3, padding="same", depth_multiplier=2, activation="relu"),
                  L.MaxPooling2D(),
                  L.SeparableConv2D(128, 3, padding="same", activation="relu"),
                  L.GlobalAveragePooling2D(), L.Dense(10, activation="softmax")]
        loss = "categorical_crossentropy"
    elif name == "separable1d":
        layers = [L.SeparableConv1D(64, 5, padding="same", activation="relu", input_shape=(128, 32)),
                  L.SeparableConv1D(64, 5, strides=2, padding="same", activation="relu"),
                  L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")]
        loss = "binary_crossentropy"
    else:
        layers = [L.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu", input_shape=(8, 8, 16)),
                  L.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
                  L.Conv2DTranspose(3, 3, padding="same", activation="sigmoid")]
        loss = "mse"
    model = keras.models.Sequential(layers)
    model.compile(loss=loss, optimizer=legacy.SGD(learning_rate=LR, momentum=MOMENTUM))
    return model


def worker_seqnet(name, repeats):
    import seqnet as keras
    import seqnet.optimizers
    x, y, _ = make_data(name)
    model = keras_model(keras, name, seqnet.optimizers)
    version = "seqnet %s (isa %s, threads %d)" % (getattr(keras, "__version__", "?"), keras._engine.active_isa(),
                                                  keras._engine.get_num_threads())
    return version, time_keras(model, x, y, BATCH, 1, repeats)


def worker_tf_keras(name, repeats):
    import tensorflow as tf
    import tf_keras as keras
    tf.random.set_seed(0)
    x, y, _ = make_data(name)
    model = keras_model(keras, name, keras.optimizers.legacy)
    version = "tf_keras %s (tensorflow %s)" % (keras.__version__, tf.__version__)
    return version, time_keras(model, x, y, BATCH, 1, repeats)


def torch_model(nn, name):
    if name == "mobilenet":
        layers = [nn.Conv2d(3, 32, 3, stride=2, padding=1), nn.ReLU()]
        channels = 32
        for filters, stride in ((64, 1), (128, 2), (128, 1)):
            layers += [nn.Conv2d(channels, channels, 3, stride=stride, padding=1, groups=channels), nn.ReLU(),
                       nn.Conv2d(channels, filters, 1), nn.ReLU()]
            channels = filters
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10)]
        return nn.Sequential(*layers), nn.CrossEntropyLoss()

    def separable(conv, cin, cout, k, stride=1, multiplier=1):
        pad = k // 2
        return [conv(cin, cin * multiplier, k, stride=stride, padding=pad, groups=cin, bias=False),
                conv(cin * multiplier, cout, 1), nn.ReLU()]

    if name == "separable2d":
        layers = (separable(nn.Conv2d, 3, 32, 3) + [nn.MaxPool2d(2)] + separable(nn.Conv2d, 32, 64, 3, multiplier=2)
                  + [nn.MaxPool2d(2)] + separable(nn.Conv2d, 64, 128, 3)
                  + [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10)])
        return nn.Sequential(*layers), nn.CrossEntropyLoss()
    if name == "separable1d":
        layers = (separable(nn.Conv1d, 32, 64, 5) + separable(nn.Conv1d, 64, 64, 5, stride=2)
                  + [nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(64, 1)])
        return nn.Sequential(*layers), nn.BCEWithLogitsLoss()
    layers = [nn.ConvTranspose2d(16, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
              nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
              nn.ConvTranspose2d(32, 3, 3, padding=1), nn.Sigmoid()]
    return nn.Sequential(*layers), nn.MSELoss()


def worker_torch(name, repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    x, y, labels = make_data(name)
    model, loss_fn = torch_model(nn, name)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1)))
    if name in ("mobilenet", "separable2d"):
        yt = torch.from_numpy(labels.astype(np.int64))
    elif name == "separable1d":
        yt = torch.from_numpy(y)
    else:
        yt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(y, -1, 1)))

    def epoch():
        model.train()
        perm = torch.randperm(len(xt))
        last = 0.0
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            last = loss.item()
        return last

    epoch()
    times, last = [], 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        last = epoch()
        times.append(time.perf_counter() - t0)
    return "torch %s (threads %d)" % (torch.__version__, torch.get_num_threads()), (times, last)


WORKERS = {"seqnet": worker_seqnet, "tf_keras": worker_tf_keras, "torch": worker_torch}
MODELS = ("mobilenet", "separable2d", "separable1d", "decoder")


def run_worker(python, name, model, repeats):
    cmd = [python, os.path.abspath(__file__), "--worker", name, "--models", model, "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, err
    return json.loads(lines[-1]), None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--only", default="seqnet,tf_keras,torch")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peers-python", default="/work/peers/bin/python")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        version, (times, loss) = WORKERS[args.worker](args.models, args.repeats)
        print(json.dumps(dict(version=version, times=times, loss=loss)))
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    print("one epoch of %d samples, batch %d, median of %d (+1 warm-up); python %s on %s, %s CPUs"
          % (N, BATCH, args.repeats, platform.python_version(), platform.machine(), os.cpu_count()))
    everything = {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        results = {}
        for name in wanted:
            python = sys.executable if name == "seqnet" else args.peers_python
            res, err = run_worker(python, name, model, args.repeats)
            if res is None:
                print("skip %-8s (%s): %s" % (name, model, err))
                continue
            results[name] = res
        everything[model] = results
        print()
        print("model %s" % model)
        print("| framework | ms/epoch (median) | min | last loss | ratio to seqnet |")
        print("|---|---:|---:|---:|---:|")
        base = statistics.median(results["seqnet"]["times"]) if "seqnet" in results else None
        for name, r in results.items():
            med = statistics.median(r["times"])
            ratio = "%.2f" % (med / base) if base else "n/a"
            print("| %s | %.1f | %.1f | %.4f | %s |" % (r["version"], 1000 * med, 1000 * min(r["times"]),
                                                        r["loss"], ratio))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
