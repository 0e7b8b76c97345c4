"""Data-parallel training (seqnet.distribute) on this machine, and what it projects to on many.

    python bench/bench_distributed.py [--steps 40] [--vgg-steps 3]

Measured (examples/mnist_mlp.py's model, global batch 256, the same cores both ways):
samples/s of 1 process x 2 threads against 2 processes x 1 thread (mpiexec -n 2,
OMP_NUM_THREADS=1, batch 128 each), and the time each step spends in the gradient
Allreduce and its share of the step.

Projected, with the ring-allreduce cost model: a step sends and receives
2 (N - 1) / N * bytes over each link, in 2 (N - 1) messages, so

    t_allreduce(N) = 2 (N - 1) / N * bytes / bandwidth + 2 (N - 1) * latency

and, as seqnet does not overlap the allreduce with the backward pass and every process
keeps its batch (weak scaling), the scaling efficiency is t_step / (t_step + t_allreduce(N)),
t_step being one process's measured step (1 process x 2 threads here). Assumed links:
10 Gbit/s with 20 us latency per message (TCP Ethernet) and 100 Gbit/s with 5 us (RDMA-class).
Models: mnist_mlp (669,706 parameters, batch 128 per process) and the seed's VGG-like convnet
(examples/seeds/vgg_like_convnet.py, batch 32 per process). Gradients are float32.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

LINKS = [("10 Gbit/s", 10e9 / 8, 20e-6), ("100 Gbit/s", 100e9 / 8, 5e-6)]
RANKS = [8, 64, 512]


def ring_allreduce_seconds(n, nbytes, bandwidth, latency):
    """The cost model above, for n processes."""
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * (n - 1) * latency


def build(kind):
    import seqnet as keras
    from seqnet.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from seqnet.models import Sequential
    keras.utils.set_random_seed(0)
    if kind == "mlp":
        return Sequential([Dense(512, activation="relu", input_shape=(784,)), Dropout(0.2),
                           Dense(512, activation="relu"), Dropout(0.2), Dense(10, activation="softmax")]), (784,)
    return Sequential([Conv2D(32, (3, 3), activation="relu", input_shape=(100, 100, 3)),
                       Conv2D(32, (3, 3), activation="relu"), MaxPooling2D((2, 2)), Dropout(0.25),
                       Conv2D(64, (3, 3), activation="relu"), Conv2D(64, (3, 3), activation="relu"),
                       MaxPooling2D((2, 2)), Dropout(0.25), Flatten(), Dense(256, activation="relu"),
                       Dropout(0.5), Dense(10, activation="softmax")]), (100, 100, 3)


def worker(kind, batch, steps):
    """Times `steps` training steps of fit (after 2 warm-up steps) in this process; prints JSON."""
    import numpy as np

    import seqnet as keras
    import seqnet.distribute as hvd
    from seqnet.distribute.comm import world
    hvd.init()
    model, shape = build(kind)
    model.compile(hvd.DistributedOptimizer(keras.optimizers.SGD(lr=0.01, momentum=0.9)), "categorical_crossentropy")
    comm, spent = world(), [0.0]
    reduce = comm.allreduce_sum_

    def timed(array):
        start = time.perf_counter()
        reduce(array)
        if array.size > 1000:  # the gradient buffer, not the small reductions
            spent[0] += time.perf_counter() - start
        return array

    comm.allreduce_sum_ = timed
    warm = 2
    n = (steps + warm) * batch * hvd.size()
    rng = np.random.RandomState(0)
    x = rng.rand(n, *shape).astype(np.float32)
    y = keras.utils.to_categorical(rng.randint(0, 10, n), 10)
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_begin(self, step, logs=None):
            if step == warm:
                spent[0] = 0.0
                marks.append(time.perf_counter())

    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()])
    elapsed = time.perf_counter() - marks[0]
    if hvd.rank() == 0:
        params = int(sum(w.value.size for w in model.trainable_weights))
        print(json.dumps({"step_s": elapsed / steps, "samples_per_s": steps * batch * hvd.size() / elapsed,
                          "allreduce_s": spent[0] / steps, "params": params}))


def run(kind, batch, steps, ranks, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind, "--batch", str(batch), "--steps", str(steps)]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        if mpiexec is None:
            return None
        cmd = [mpiexec, "-n", str(ranks)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="timed steps of the MLP")
    parser.add_argument("--vgg-steps", type=int, default=3, help="timed steps of the VGG-like convnet")
    parser.add_argument("--worker", choices=["mlp", "vgg"])
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.batch, args.steps)
        return
    one = run("mlp", 256, args.steps, 1, 2)
    two = run("mlp", 128, args.steps, 2, 1)
    print("mnist_mlp, global batch 256, 2 cores       samples/s   step (ms)   allreduce (ms)   share")
    print(f"  1 process  x 2 threads               {one['samples_per_s']:10.0f}  {one['step_s'] * 1e3:10.2f}"
          f"  {'-':>15}  {'-':>6}")
    if two is None:
        print("  2 processes x 1 thread               (skipped: mpiexec not found; pip install seqnet[mpi])")
    else:
        print(f"  2 processes x 1 thread               {two['samples_per_s']:10.0f}  {two['step_s'] * 1e3:10.2f}"
              f"  {two['allreduce_s'] * 1e3:15.3f}  {two['allreduce_s'] / two['step_s']:6.1%}")
        print(f"  ratio (2 x 1 / 1 x 2)                {two['samples_per_s'] / one['samples_per_s']:10.2f}")
    mlp = run("mlp", 128, args.steps, 1, 2)
    vgg = run("vgg", 32, args.vgg_steps, 1, 2)
    models = [("mnist_mlp", mlp), ("seed VGG", vgg)]
    print("\nProjected scaling efficiency (ring allreduce, no overlap, batch per process fixed; "
          "step measured with 1 process x 2 threads)")
    print(f"  {'model':10} {'params':>10} {'grad MB':>8} {'step (ms)':>10}  {'link':10} "
          + " ".join(f"{n:>7} ranks" for n in RANKS))
    for name, m in models:
        nbytes, step = 4 * m["params"], m["step_s"]
        for link, bandwidth, latency in LINKS:
            eff = [step / (step + ring_allreduce_seconds(n, nbytes, bandwidth, latency)) for n in RANKS]
            print(f"  {name:10} {m['params']:10d} {nbytes / 1e6:8.2f} {step * 1e3:10.1f}  {link:10} "
                  + " ".join(f"{e:13.1%}" for e in eff))


if __name__ == "__main__":
    main()
