"""Effective GFLOP/s of each 3x3 convolution layer of the seed VGG-like convnet and the Keras
mnist_cnn / cifar10_cnn recipes, per pass and algorithm (im2col + GEMM, the direct path with no
im2col matrix, Winograd F(2x2,3x3), Winograd F(4x4,3x3)), by direct calls into the engine.

Effective GFLOP/s = direct-convolution FLOPs (2 * n * oh * ow * 9 * c * f) / time, so a fast
algorithm can pass the machine's FMA peak. Passes:

  forward     y = relu(conv(x, W) + b)              (_engine.conv_forward)
  input_grad  dx = conv(dz, flipped W), as conv_backward runs it (the forward pass of the
              transposed shape: 'valid' becomes 'full', 'same' stays 'same')
  kernel_grad dW and db from dz                     (_engine.conv_backward with dx=None)

Each cell is the fastest of --repeats timed calls (after one warm-up), algorithms interleaved so
that load from other processes hits them alike. The column "auto" is what the engine picks (the
fixed rule per layer shape of seqnet's default), and "auto / peak" its rate against the FP32
multiply-add peak of the engine's threads (_engine.fma_peak) measured just before and after the
row: above 100% for Winograd, which does fewer multiply-adds than the direct count.

    python bench/bench_conv_layers.py                      # every layer, every algorithm
    python bench/bench_conv_layers.py --models vgg --repeats 10 --json layers.json
"""
import argparse
import json
import time

import numpy as np
from seqnet import _engine

# (name, batch, h, w, c, f, padding) of each 3x3 convolution layer.
LAYERS = {
    "vgg": [("conv1", 32, 100, 100, 3, 32, "valid"), ("conv2", 32, 98, 98, 32, 32, "valid"),
            ("conv3", 32, 48, 48, 32, 64, "valid"), ("conv4", 32, 46, 46, 64, 64, "valid")],
    "mnist_cnn": [("conv1", 128, 28, 28, 1, 32, "valid"), ("conv2", 128, 26, 26, 32, 64, "valid")],
    "cifar10_cnn": [("conv1", 32, 32, 32, 3, 32, "same"), ("conv2", 32, 32, 32, 32, 32, "valid"),
                    ("conv3", 32, 15, 15, 32, 64, "same"), ("conv4", 32, 15, 15, 64, 64, "valid")],
}
ALGOS = ("im2col", "direct", "winograd2", "winograd4")
PASSES = ("forward", "input_grad", "kernel_grad")


class Layer:
    """Arrays and workspaces of one layer, and a call per pass."""

    def __init__(self, batch, h, w, c, f, padding, rng):
        pad = 1 if padding == "same" else 0
        self.oh, self.ow = (h, w) if pad else (h - 2, w - 2)
        self.pads, self.tpads = (pad, pad), (2 - pad, 2 - pad)
        self.flops = 2.0 * batch * self.oh * self.ow * 9 * c * f
        self.x = rng.standard_normal((batch, h, w, c)).astype(np.float32)
        self.k = (rng.standard_normal((3, 3, c, f)) * 0.1).astype(np.float32)
        self.kt = np.ascontiguousarray(self.k[::-1, ::-1].transpose(0, 1, 3, 2))
        self.b = np.zeros(f, np.float32)
        self.y = np.empty((batch, self.oh, self.ow, f), np.float32)
        self.dy = rng.standard_normal(self.y.shape).astype(np.float32)
        self.dx = np.empty_like(self.x)
        self.dk, self.db = np.empty_like(self.k), np.empty_like(self.b)
        images = max(1, min(batch, (1 << 23) // (self.oh * self.ow * 9 * c)))
        self.col = np.empty((images * self.oh * self.ow, 9 * c), np.float32)
        timages = max(1, min(batch, (1 << 23) // (h * w * 9 * f)))
        self.tcol = np.empty((timages * h * w, 9 * f), np.float32)
        self.partials = np.empty(_engine.conv_dw_partials_size(batch, self.oh, self.ow, 3, 3, c, f), np.float32)

    def auto_algo(self, which):
        """The algorithm the engine's 'auto' setting runs for this pass (the input gradient runs as
        the forward convolution of dy by the flipped kernel)."""
        one = (1, 1)
        if which == "input_grad":
            return _engine.conv_algo_rule(self.dy, self.kt, self.dx, one, one, self.tpads)
        return _engine.conv_algo_rule(self.x, self.k, self.y, one, one, self.pads)

    def run(self, which):
        E, one = _engine, (1, 1)
        if which == "forward":
            E.conv_forward(self.x, self.k, self.b, None, self.y, self.col, one, one, self.pads, E.Activation.relu)
        elif which == "input_grad":
            E.conv_forward(self.dy, self.kt, None, None, self.dx, self.tcol, one, one, self.tpads,
                           E.Activation.linear)
        else:
            E.conv_backward(self.x, self.k, None, self.y, self.dy, None, self.dk, self.db, self.col, self.partials,
                            one, one, self.pads, E.Activation.linear, True)


def measure(layer, which, repeats):
    times = {a: [] for a in ALGOS + ("auto",)}
    for algo in times:
        _engine.set_conv_algo(algo)
        layer.run(which)  # warm-up
    for _ in range(repeats):
        for algo, runs in times.items():
            _engine.set_conv_algo(algo)
            t0 = time.perf_counter()
            layer.run(which)
            runs.append(time.perf_counter() - t0)
    return {a: min(t) for a, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(LAYERS))
    ap.add_argument("--passes", default=",".join(PASSES))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, help="engine threads (default: the engine's)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.threads:
        _engine.set_num_threads(args.threads)
    previous = _engine.conv_algo()
    print(f"seqnet engine: isa {_engine.active_isa()}, threads {_engine.get_num_threads()}, "
          f"gemm {_engine.gemm_kernel_name()}")
    print("effective GFLOP/s (direct-convolution FLOPs / time); 'auto' names the algorithm the engine chose; "
          "'auto / peak': its rate against the FMA peak of the engine's threads measured just before and after the "
          "row (a fast algorithm does fewer multiply-adds than counted, and may pass 100%)\n")
    print("| model | layer | shape (n, h, w, c -> f) | pass | im2col | direct | winograd2 | winograd4 | auto | "
          "best / im2col | auto / peak |")
    print("|---|---|---|---|---:|---:|---:|---:|---|---:|---:|")
    results = []
    try:
        for model in args.models.split(","):
            for name, batch, h, w, c, f, padding in LAYERS[model]:
                layer = Layer(batch, h, w, c, f, padding, rng)
                for which in args.passes.split(","):
                    before = _engine.fma_peak()
                    t = measure(layer, which, args.repeats)
                    peak = max(before, _engine.fma_peak())
                    gf = {a: layer.flops / t[a] / 1e9 for a in t}
                    chosen = layer.auto_algo(which)
                    best = min(t[a] for a in ALGOS)
                    print(f"| {model} | {name} | {batch}, {h}, {w}, {c} -> {f} ({padding}) | {which} | "
                          f"{gf['im2col']:.0f} | {gf['direct']:.0f} | {gf['winograd2']:.0f} | {gf['winograd4']:.0f} | "
                          f"{chosen} {gf['auto']:.0f} | {t['im2col'] / best:.2f}x | {100 * gf['auto'] / peak:.0f}% |",
                          flush=True)
                    results.append({"model": model, "layer": name, "batch": batch, "h": h, "w": w, "c": c, "f": f,
                                    "padding": padding, "pass": which, "seconds": t, "gflops": gf, "auto": chosen,
                                    "peak_gflops": peak})
    finally:
        _engine.set_conv_algo(previous)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
