"""Predict from C++ (the native model runtime, examples/cpp/predict_h5) against seqnet's Python
predict and tf-keras' predict, on the same saved .h5 files: latency at batch 1 and throughput at
batch 128, for the guide's MLP (784-512-512-10), a VGG-like convnet (32x32x3) and an IMDB-style
Embedding + LSTM(128).

    python bench/bench_native_predict.py [--repeat 50] [--threads N] [--work DIR]

The C++ app is configured, built and installed under --work (once; later runs reuse it). Both
sides run 3x3 convolutions with the same algorithm (--conv-algo, the default rule 'auto'). tf-keras
runs in the peers' interpreter (/work/peers/bin/python, or $SEQNET_PEERS_PYTHON) when it exists,
in a separate process: TensorFlow is never imported here. Every time is the mean over --repeat
calls after one warm-up call, and Python and C++ run in turn --rounds times per case (the median is
reported: this machine's speed drifts by tens of percent between runs); ratios are against seqnet's
Python predict measured in this run. The app is rebuilt whenever the engine's sources change.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import seqnet
from seqnet import layers as L
from seqnet.models import Sequential

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("SEQNET_PEERS_PYTHON", "/work/peers/bin/python")

TF_SCRIPT = r"""
import json, sys, time, numpy as np
import tf_keras
spec = json.loads(sys.argv[1])
out = {}
for name, path, shape, dtype in spec["models"]:
    model = tf_keras.models.load_model(path, compile=False)
    for batch in (1, 128):
        x = np.load(path + f".x{batch}.npy")
        model.predict(x, batch_size=batch, verbose=0)
        t = time.perf_counter()
        for _ in range(spec["repeat"]):
            model.predict(x, batch_size=batch, verbose=0)
        out[f"{name}/{batch}"] = (time.perf_counter() - t) / spec["repeat"]
print(json.dumps(out))
"""


def models():
    seqnet.utils.set_random_seed(0)
    mlp = Sequential([L.Dense(512, activation="relu", input_shape=(784,)), L.Dropout(0.2),
                      L.Dense(512, activation="relu"), L.Dropout(0.2), L.Dense(10, activation="softmax")])
    vgg = Sequential([L.Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(32, 32, 3)),
                      L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D(), L.Dropout(0.25),
                      L.Conv2D(64, (3, 3), padding="same", activation="relu"), L.Conv2D(64, (3, 3), activation="relu"),
                      L.MaxPooling2D(), L.Dropout(0.25), L.Flatten(), L.Dense(512, activation="relu"),
                      L.Dropout(0.5), L.Dense(10, activation="softmax")])
    lstm = Sequential([L.Embedding(20000, 128, input_length=80), L.LSTM(128), L.Dense(1, activation="sigmoid")])
    return [("mlp", mlp, (784,), np.float32), ("vgg", vgg, (32, 32, 3), np.float32), ("lstm", lstm, (80,), np.int32)]


def source_stamp():
    """A hash of what the C++ app is built from (the engine, its build files and the app), so a
    cached build is reused only while they are unchanged: a stale app would time old kernels."""
    h = hashlib.sha1()
    tops = [os.path.join(ROOT, "cpp"), os.path.join(ROOT, "examples", "cpp", "predict_h5"),
            os.path.join(ROOT, "CMakeLists.txt")]
    for top in tops:
        walk = [(os.path.dirname(top), [], [os.path.basename(top)])] if os.path.isfile(top) else os.walk(top)
        for folder, dirs, files in walk:
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(folder, f)
                h.update(os.path.relpath(path, ROOT).encode())
                with open(path, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()


def build_app(work):
    """predict_h5 built against an install of this checkout (reused while the sources are unchanged)."""
    exe = os.path.join(work, "app", "predict_h5")
    stamp_path, stamp = os.path.join(work, "sources.sha1"), source_stamp()
    if os.path.exists(exe) and os.path.exists(stamp_path) and open(stamp_path).read() == stamp:
        return exe
    build, prefix, app = (os.path.join(work, d) for d in ("build", "prefix", "app"))
    for cmd in (["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release"],
                ["cmake", "--build", build, "-j", str(os.cpu_count() or 2)],
                ["cmake", "--install", build, "--prefix", prefix],
                ["cmake", "-S", os.path.join(ROOT, "examples", "cpp", "predict_h5"), "-B", app,
                 "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"],
                ["cmake", "--build", app]):
        subprocess.run(cmd, check=True, capture_output=True)
    with open(stamp_path, "w") as fh:
        fh.write(stamp)
    return exe


def time_python(model, x, batch, repeat):
    model.predict(x, batch_size=batch)
    t = time.perf_counter()
    for _ in range(repeat):
        model.predict(x, batch_size=batch)
    return (time.perf_counter() - t) / repeat


def time_native(exe, path, x_path, batch, repeat, env):
    out = subprocess.run([exe, path, x_path, x_path + ".out.npy", "--batch-size", str(batch), "--repeat", str(repeat)],
                         check=True, capture_output=True, text=True, env=env).stdout
    return float(out.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3,
                        help="Python and C++ timed in turn this many times per case; the medians are reported "
                             "(the machine's speed drifts between runs)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "seqnet_native_bench"))
    parser.add_argument("--conv-algo", default="auto",
                        help="3x3 convolution algorithm on both sides (SEQNET_CONV_ALGO; 'tune' measures per process, "
                             "so the two sides may then round differently)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    env = dict(os.environ, SEQNET_CONV_ALGO=args.conv_algo)
    if hasattr(seqnet._engine, "set_conv_algo"):
        seqnet._engine.set_conv_algo(args.conv_algo)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
        seqnet._engine.set_num_threads(args.threads)
    exe = build_app(args.work)
    rows, spec = [], []
    rng = np.random.default_rng(0)
    for name, model, shape, dtype in models():
        path = os.path.join(args.work, f"{name}.h5")
        model.save(path)
        spec.append((name, path, list(shape), np.dtype(dtype).name))
        for batch in (1, 128):
            x = (rng.integers(1, 20000, size=(batch,) + shape) if dtype == np.int32
                 else rng.standard_normal((batch,) + shape)).astype(dtype)
            x_path = f"{path}.x{batch}.npy"
            np.save(x_path, x)
            pys, cpps = [], []
            for _ in range(max(1, args.rounds)):
                pys.append(time_python(model, x, batch, args.repeat))
                cpps.append(time_native(exe, path, x_path, batch, args.repeat, env))
            py, cpp = float(np.median(pys)), float(np.median(cpps))
            want = model.predict(x, batch_size=batch)
            same = np.array_equal(np.load(x_path + ".out.npy"), want)
            rows.append([name, batch, py, cpp, None, same])
    if os.path.exists(PEERS):
        done = subprocess.run([PEERS, "-c", TF_SCRIPT, json.dumps({"models": spec, "repeat": args.repeat})],
                              check=False, capture_output=True, text=True, env=dict(env, TF_CPP_MIN_LOG_LEVEL="3"))
        if done.returncode == 0:
            tf = json.loads(done.stdout.strip().splitlines()[-1])
            for row in rows:
                row[4] = tf.get(f"{row[0]}/{row[1]}")
        else:
            print(f"tf-keras run failed: {done.stderr[-500:]}", file=sys.stderr)
    print(f"threads: {seqnet._engine.get_num_threads()}, repeat: {args.repeat}, rounds: {args.rounds} "
          "(medians; Python and C++ alternated)")
    print(f"{'model':6} {'batch':>5} {'python ms':>10} {'C++ ms':>9} {'tf-keras ms':>12} {'C++ vs py':>10} "
          f"{'C++ vs tf':>10} {'bit-identical':>14}")
    for name, batch, py, cpp, tf, same in rows:
        tf_text = f"{tf * 1e3:12.3f}" if tf else f"{'-':>12}"
        vs_tf = f"{tf / cpp:9.2f}x" if tf else f"{'-':>10}"
        print(f"{name:6} {batch:5d} {py * 1e3:10.3f} {cpp * 1e3:9.3f} {tf_text} {py / cpp:9.2f}x {vs_tf} {same!s:>14}")
    print("frugally-deep: not measured (not packaged for Debian or PyPI; it needs its own TensorFlow-based "
          "conversion of the .h5 file to JSON, and FunctionalPlus + Eigen, which Debian has).")


if __name__ == "__main__":
    main()
