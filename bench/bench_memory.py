"""Memory `fit` adds over its training set: the Keras mnist_mlp recipe (60000 x 784 float32
inputs, 179 MiB, one-hot targets of 10 classes; Dense(512, relu) - Dropout(0.2) -
Dense(512, relu) - Dropout(0.2) - Dense(10, softmax), RMSprop, batch 128) for one epoch.

Each framework runs in its own process: it builds the data and the model, runs a one-batch
warm-up fit, then resets the process's peak resident size (Linux: /proc/self/clear_refs) and
reports the peak during one epoch of fit minus the resident size just before it. A float64
or per-epoch copy of the inputs would show as +359 / +179 MiB.

    python bench/bench_memory.py                              # seqnet
    /work/peers/bin/python bench/bench_memory.py --only torch,tf_keras
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

MIB = 1 << 20


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _data():
    import numpy as np
    rng = np.random.RandomState(0)
    x = rng.random_sample((60000, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.randint(10, size=60000)]
    return x, y


def _keras_fit(keras, rmsprop):
    x, y = _data()
    L = keras.layers
    model = keras.models.Sequential([L.Dense(512, activation="relu", input_shape=(784,)), L.Dropout(0.2),
                                     L.Dense(512, activation="relu"), L.Dropout(0.2),
                                     L.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=rmsprop(), metrics=["accuracy"])
    model.fit(x[:128], y[:128], batch_size=128, epochs=1, verbose=0)
    return x, lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0)


def worker(name):
    if name == "seqnet":
        import seqnet as keras
        x, fit = _keras_fit(keras, keras.optimizers.RMSprop)
    elif name == "tf_keras":
        import tf_keras as keras
        x, fit = _keras_fit(keras, keras.optimizers.legacy.RMSprop)
    else:
        import torch
        x_np, y_np = _data()
        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.argmax(1))
        model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                    torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                    torch.nn.Linear(512, 10))
        opt = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()

        def fit():
            for i in torch.randperm(len(x)).split(128):
                opt.zero_grad()
                loss_fn(model(x[i]), y[i]).backward()
                opt.step()
        fit()
    data = x.nbytes if hasattr(x, "nbytes") else x.numel() * 4
    before = _status("VmRSS")
    _reset_peak()
    fit()
    peak = _status("VmHWM")
    print(json.dumps({"framework": name, "data_mib": data / MIB, "added_mib": (peak - before) / MIB}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="seqnet,torch,tf_keras")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker)
    print(f"{'framework':10} {'training set':>14} {'fit adds (peak)':>16}")
    for name in args.only.split(","):
        run = subprocess.run([sys.executable, __file__, "--worker", name], capture_output=True, text=True)
        lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
        if run.returncode or not lines:
            reason = (run.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"{name:10} skipped: {reason}")
            continue
        r = json.loads(lines[-1])
        print(f"{name:10} {r['data_mib']:11.0f} MiB {r['added_mib']:12.1f} MiB")


if __name__ == "__main__":
    main()
