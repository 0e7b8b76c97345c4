"""Per-step cost of seqnet's training loop: engine calls per step, time inside the engine,
and the Python overhead around it, on the guide's softmax MLP (batch 128).

    python bench/bench_step_overhead.py

The design budget (docs/architecture.md): one engine call per layer per direction, one
fused loss call, one optimizer call for the whole model, and no array allocated per step.
"""
import time
import tracemalloc

import numpy as np

import seqnet as keras
from seqnet import _engine
from seqnet.layers import Dense, Dropout
from seqnet.models import Sequential
from seqnet.optimizers import SGD


def build():
    keras.utils.set_random_seed(0)
    model = Sequential([Dense(64, activation="relu", input_dim=20), Dropout(0.5), Dense(64, activation="relu"),
                        Dropout(0.5), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
                  metrics=["accuracy"])
    return model


def main(steps=3000):
    x = np.random.random((1000, 20)).astype(np.float32)
    y = keras.utils.to_categorical(np.random.randint(10, size=1000), 10)
    model = build()
    model.fit(x, y, epochs=1, batch_size=128, verbose=0)  # warm: buffers allocated
    xb, yb = x[:128], y[:128]

    counts, inside = {}, [0.0]
    originals = {name: getattr(_engine, name) for name in dir(_engine) if not name.startswith("_")}

    def counted(name, fn):
        def call(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                inside[0] += time.perf_counter() - t
        return call

    for name, fn in originals.items():
        if callable(fn):
            setattr(_engine, name, counted(name, fn))
    try:
        model._train_batch(xb, yb, None)
        counts.clear()
        inside[0] = 0.0
        for _ in range(100):
            model._train_batch(xb, yb, None)
        calls = {k: v // 100 for k, v in sorted(counts.items())}
        engine_us = inside[0] / 100 * 1e6
    finally:
        for name, fn in originals.items():
            setattr(_engine, name, fn)

    t = time.perf_counter()
    for _ in range(steps):
        model._train_batch(xb, yb, None)
    step_us = (time.perf_counter() - t) / steps * 1e6

    tracemalloc.start()
    model._train_batch(xb, yb, None)
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in range(20):
        model._train_batch(xb, yb, None)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print("engine calls per training step:", sum(calls.values()))
    for name, n in calls.items():
        print(f"  {name:20s} {n}")
    print(f"step time            {step_us:8.1f} us")
    print(f"  inside the engine  {engine_us:8.1f} us (measured with call counting on)")
    print(f"peak extra memory during 20 steps: {peak - base} bytes; retained: {current - base} bytes")


if __name__ == "__main__":
    main()
