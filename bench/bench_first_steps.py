"""The first training steps of a freshly built model: the seed Embedding(5000, 256) - LSTM(128) -
Dense(1) model, built and compiled, then its first 40 train_on_batch steps (batch 16 x 80 words),
timed, each round in a new process (a fresh NumPy and engine), the recurrent initializer
alternated between the default Orthogonal and glorot_uniform. Orthogonal calls NumPy's QR; a
threaded QR left OpenBLAS's workers spinning for about 0.1 s on the cores the engine trains on
(initializers._numpy_blas_on_one_thread), which these first steps would pay.

    python bench/bench_first_steps.py
    python bench/bench_first_steps.py --rounds 5
"""
import argparse
import json
import statistics
import subprocess
import sys

WORKER = r"""
import json, sys, time
import numpy as np
import seqnet as keras
L = keras.layers
m = keras.models.Sequential([L.Embedding(5000, 256, input_length=80),
                             L.LSTM(128, recurrent_initializer=sys.argv[1]), L.Dense(1, activation="sigmoid")])
m.compile("rmsprop", "binary_crossentropy")
rng = np.random.RandomState(0)
x, y = rng.randint(5000, size=(16, 80)), np.ones((16, 1), np.float32)
t0 = time.perf_counter()
for _ in range(40):
    m.train_on_batch(x, y)
print(json.dumps((time.perf_counter() - t0) * 1e3))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    ms = {"orthogonal": [], "glorot_uniform": []}
    for _ in range(args.rounds):
        for init in ms:
            out = subprocess.run([sys.executable, "-c", WORKER, init], capture_output=True, text=True, check=True)
            ms[init].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("| recurrent initializer | first 40 steps, ms (median) | by round |")
    print("|---|---:|---|")
    for init, v in ms.items():
        print(f"| {init} | {statistics.median(v):.0f} | {', '.join(f'{t:.0f}' for t in v)} |")


if __name__ == "__main__":
    main()
