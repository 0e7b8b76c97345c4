"""seqnet's sgemm against numpy's BLAS (OpenBLAS in numpy's wheels), in the same run.

    python bench/bench_gemm.py                  # default shapes, 1 and 2 threads
    python bench/bench_gemm.py --threads 2 --shapes 1024 128x64x64:nt
    python bench/bench_gemm.py --models         # the Dense products of the benchmark models
    python bench/bench_gemm.py --peak 179       # the '% peak' column against a fixed 179 GFLOP/s per
                                                # thread (default: the FMA peak measured around each timing)

The '% peak' column is against the peak of all the threads of the row, also for the small
products that sgemm runs on one thread by design (a 2-thread row of 128x64x64 reads 36%).
    python bench/bench_gemm.py --amx --rounds 12  # AMX path against the AVX-512 kernels, alternated
    python bench/bench_gemm.py --few-rows       # batches of one, and a Dense(1)'s weight gradient
    python bench/bench_gemm.py --sweep          # every m, n, k in 1, 3, 8, ... 2000 and 3 transposes:
                                                # the worst ratios to numpy, to find slow shapes (1 thread)
    python bench/bench_gemm.py --rules          # each path rule of gemm.cpp on against off, alternated:
                                                # named shapes and random ones the rule takes

A shape is MxKxN (op(A) is M x K, op(B) is K x N) or S for SxSxS; ':tn' etc. picks the
transposes of A and B. Both libraries write into a preallocated C (numpy through
``matmul(..., out=c)``, transposes as views), so the timings are of the product and the
call, not of allocation. Each thread count runs in a fresh process, because OpenBLAS
reads OPENBLAS_NUM_THREADS only when numpy is imported.
"""

import argparse
import os
import subprocess
import sys
import time

DEFAULT_SHAPES = [
    # The Dense layers of training (batch x features) and their backward products:
    # forward X W, dX = dY W^T (':nt'), dW = X^T dY (':tn').
    "128x20x64", "128x64x64", "128x64x10",
    "128x64x20:nt", "128x64x64:nt", "128x10x64:nt",
    "20x128x64:tn", "64x128x64:tn", "64x128x10:tn",
    # The VGG-like seed model (100x100x3 input, 3x3 convolutions 32-32-64-64, Dense 256) as
    # im2col products for one image: (output pixels) x (3*3*channels in) x (filters), and
    # its Dense layer on a batch of 32 with the backward products.
    "9604x27x32", "9216x288x32", "2025x288x64", "1849x576x64",
    "32x28224x256", "32x256x28224:nt", "28224x32x256:tn",
    "256", "512", "1024", "2048",
]

# The Dense layers of the benchmark models (forward X W, dX = dY W^T, dW = X^T dY).
MODEL_SHAPES = [
    # seed VGG: Dense(256) on the flattened (32, 30976) features
    "32x30976x256", "32x256x30976:nt", "30976x32x256:tn",
    # mnist_mlp: Dense(512) on 784 inputs and Dense(512) on 512, batch 128
    "128x784x512", "128x512x784:nt", "784x128x512:tn",
    "128x512x512", "128x512x512:nt", "512x128x512:tn",
    # mnist_cnn: Dense(128) on 9216 features, batch 128
    "128x9216x128", "128x128x9216:nt", "9216x128x128:tn",
    # cifar10 cnn: Dense(512) on 2304 features, batch 32
    "32x2304x512", "32x512x2304:nt", "2304x32x512:tn",
]


# The streaming and dot paths (gemm.cpp): the same Dense layers on a batch of one (inference
# one sample at a time) or of four, a square matrix-vector product, the weight gradients of a
# Dense(1) output layer (512 and 9216 features, batch 128; a 2000 x 2000 one), its forward
# product (X w on a batch of 128, 512 and 2000), and a batch of one against a transposed B.
FEW_ROW_SHAPES = [
    "1x784x512", "1x512x512", "1x9216x128", "1x2304x512", "1x30976x256", "4x784x512", "4x512x512", "8x784x512",
    "1x2048x2048", "512x128x1:tn", "9216x128x1:tn", "2000x2000x1:tn",
    "128x512x1", "512x512x1", "2000x512x1", "1x512x2000:nt", "4x784x512:nt",
]


# Products the AMX path takes (gemm_uses_amx) and two it leaves to the AVX-512 kernels: the
# seed Embedding + LSTM's input projection and dx, square sizes, and the LSTM's dW and dU
# (which it takes stacked, as one product: sgemm_stacked).
AMX_SHAPES = [
    "1280x256x512", "1280x512x256:nt", "512", "1024",
    "256x1280x512:tn", "128x1280x512:tn",
]


def parse(shape):
    dims, _, trans = shape.partition(":")
    parts = [int(x) for x in dims.split("x")]
    m, k, n = parts if len(parts) == 3 else parts * 3
    return m, k, n, trans[:1] == "t", trans[1:2] == "t"


def shape_name(m, k, n, ta, tb):
    """The MxKxN[:tn] spelling parse() reads."""
    return f"{m}x{k}x{n}" + (":" + "nt"[ta] + "nt"[tb] if ta or tb else "")


def best_seconds(fn, budget=0.3, samples=7):
    """Best per-call time over `samples` batches of about budget / samples seconds."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    reps = max(1, int(budget / samples / once))
    best = float("inf")
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def run(shapes, threads, peak):
    import numpy as np
    from seqnet import _engine

    _engine.set_num_threads(threads)
    kernel = _engine.gemm_kernel_name() if hasattr(_engine, "gemm_kernel_name") else _engine.active_isa()
    rng = np.random.default_rng(0)
    for shape in shapes:
        m, k, n, ta, tb = parse(shape)
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        a_op, b_op = (a.T if ta else a), (b.T if tb else b)
        flops = 2.0 * m * n * k
        budget = 0.3 if flops < 1e9 else 1.0
        # A pause before each library: the other's worker threads spin for a while after
        # their last call (OpenBLAS, libgomp) and would steal a core from this one.
        time.sleep(0.2)
        # The '% peak' column: against a given per-thread peak, or the FP32 multiply-add peak of
        # these threads measured just before and just after the timing (the higher of the two),
        # as this VM's cores run faster or slower from one minute to the next.
        before = peak * threads if peak else _engine.fma_peak(threads)
        ours = best_seconds(lambda: _engine.sgemm(a, b, c, ta, tb), budget)
        reference = before if peak else max(before, _engine.fma_peak(threads))
        time.sleep(0.2)
        theirs = best_seconds(lambda: np.matmul(a_op, b_op, out=c), budget)
        pct = f"{100 * flops / ours / 1e9 / reference:>6.0f}"
        print(f"{shape:<16} {kernel:<14} {threads:>7} {flops / ours / 1e9:>9.1f} {pct} {flops / theirs / 1e9:>9.1f} "
              f"{theirs / ours:>6.2f} {ours * 1e6:>10.2f} {theirs * 1e6:>10.2f}", flush=True)


SWEEP_SIZES = [1, 3, 8, 17, 64, 130, 512, 2000]


def run_sweep(threads, worst=30):
    """Every m, n, k in SWEEP_SIZES (m n k at most 2000 * 2000 * 512) with A, B or neither
    transposed, seqnet against numpy's BLAS on the same operands: the `worst` shapes by ratio
    and the median ratio. A quick hunt for shapes a path handles badly (it found the matrix-vector
    shapes at 0.08-0.2x that the streaming and dot paths fixed), not a precise timing: each
    shape gets about 20 ms."""
    import itertools

    import numpy as np
    from seqnet import _engine

    _engine.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for m, n, k in itertools.product(SWEEP_SIZES, repeat=3):
        if m * n * k > 2000 * 2000 * 512:
            continue
        for ta, tb in ((False, False), (True, False), (False, True)):
            a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
            b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
            c = np.empty((m, n), np.float32)
            a_op, b_op = (a.T if ta else a), (b.T if tb else b)
            ours = best_seconds(lambda: _engine.sgemm(a, b, c, ta, tb), 0.01, 3)
            theirs = best_seconds(lambda: np.matmul(a_op, b_op, out=c), 0.01, 3)
            rows.append((theirs / ours, shape_name(m, k, n, ta, tb), ours * 1e6, theirs * 1e6))
    rows.sort()
    print(f"threads {threads}: {len(rows)} shapes, median ratio to numpy {np.median([r[0] for r in rows]):.2f}; "
          f"the {worst} worst (MxKxN, ratio above 1: seqnet faster)")
    for ratio, shape, ours, theirs in rows[:worst]:
        print(f"  {shape:<18} ratio {ratio:5.2f}   seqnet {ours:9.1f} us   numpy {theirs:9.1f} us")


# The path rules (_engine.set_gemm_rule; gemm.cpp): the thread count each is measured on and
# the named shapes it changes (and one it leaves alone for threaded_cols, 1024^3:tn: a
# transposed A whose steps of k lie 4 KiB apart).
RULES = {
    "threaded_cols": (2, ["512", "512x512x512:tn", "512x512x512:nt", "1024x512x512", "1280x512x512:nt",
                          "700x600x500", "384x1280x512:tn", "1500", "3000x1000x3000", "1024", "1024x1024x512:nt",
                          "2048", "1024x1024x1024:tn"]),
    "shared_l3_blocks": (1, ["2048", "3000x1000x3000", "1000x2000x3000:tn", "1024"]),
    "packed_a": (1, ["128x784x512", "128x512x512", "256x512x512", "48x784x512", "32x512x512", "32x2304x512",
                     "96x2048x512", "64x1024x1024"]),
}


def rule_takes(rule, m, k, n, ta, tb, l2, l3=32 << 20):
    """Whether `rule` changes the product (a mirror of gemm.cpp's choice for the AVX-512
    14 x 32 kernel at kc 512; a shape it misjudges just measures about 1.0)."""
    def ceil_div(a, b):
        return -(-a // b)

    kb = min(512, ceil_div(ceil_div(k, ceil_div(k, 512)), 8) * 8)  # gemm.cpp's k_block
    if rule == "packed_a":  # on one thread: the few-row and batch products of the column path, A and B in place
        if ta or tb or m <= 8 or n < 256 or k * n * 4 > l3 // 4:
            return False  # transposed, streamed, narrow, or an op(B) the column path's chunks stream better
        if k * ceil_div(n, 32) * 32 * 4 <= l2 // 2:
            return False  # op(B) in L2: the rows path, or the column path this rule leaves alone
        return m <= 56 or m * kb * 4 <= l2 // 2
    packed = m * kb * 4 > l2 // 2 and k * ceil_div(n, 32) * 32 * 4 > l2 // 2  # neither cols nor rows
    if rule == "shared_l3_blocks":
        return packed and n > 2 * (3 * 2**19 // (4 * kb) // 32 * 32)  # packed_cols
    return packed and not (m <= 56 and not tb) and ceil_div(n, 2) >= 128 and not (ta and m * 4 % 4096 == 0)


def run_rules(rounds, count, seed=7):
    """Each rule on and off in turn, `rounds` times per shape in this one process: the median
    ratio of the per-round times (above 1: the rule is faster) over the named shapes, then over
    `count` random shapes the rule takes (any transposes), with their median and range."""
    import numpy as np
    from seqnet import _engine

    rng = np.random.default_rng(seed)
    l2, l3 = _engine.cache_sizes()["l2"], _engine.cache_sizes()["l3"] or 4 * _engine.cache_sizes()["l2"]
    print(f"{'rule':<17} {'threads':>7} {'shape':<20} {'GFLOP/s on':>10} {'off':>8} {'ratio':>6} {'q25-q75':>12}")
    saved_threads = _engine.get_num_threads()
    try:
        for rule, (threads, named) in RULES.items():
            _engine.set_num_threads(threads)
            shapes = [parse(s) for s in named]
            random_shapes = []
            while len(random_shapes) < count:
                if rule == "threaded_cols":
                    dims = int(rng.integers(200, 3000)), int(rng.integers(64, 3000)), int(rng.integers(256, 3000))
                elif rule == "packed_a":
                    dims = int(rng.integers(9, 257)), int(rng.integers(64, 4097)), int(rng.integers(256, 2049))
                else:
                    dims = int(rng.integers(600, 3000)), int(rng.integers(600, 3000)), int(rng.integers(1600, 3000))
                ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
                if rule_takes(rule, *dims, ta, tb, l2, l3) and dims[0] * dims[1] * dims[2] < 3e9:
                    random_shapes.append((*dims, ta, tb))
            ratios = []
            for i, (m, k, n, ta, tb) in enumerate(shapes + random_shapes):
                a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
                b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
                c = np.empty((m, n), np.float32)
                times = {True: [], False: []}
                for r in range(rounds):
                    for on in ((True, False) if r % 2 else (False, True)):
                        _engine.set_gemm_rule(rule, on)
                        times[on].append(best_seconds(lambda: _engine.sgemm(a, b, c, ta, tb), 0.05, 3))
                _engine.set_gemm_rule(rule, True)
                per_round = np.array(times[False]) / np.array(times[True])
                ratio = float(np.median(per_round))
                if i >= len(shapes):
                    ratios.append(ratio)
                flops = 2.0 * m * n * k
                name = shape_name(m, k, n, ta, tb) + (" *" if i >= len(shapes) else "")
                print(f"{rule:<17} {threads:>7} {name:<20} "
                      f"{flops / np.median(times[True]) / 1e9:>10.1f} {flops / np.median(times[False]) / 1e9:>8.1f} "
                      f"{ratio:>6.3f} {np.quantile(per_round, 0.25):>5.2f}-{np.quantile(per_round, 0.75):<5.2f}",
                      flush=True)
            if ratios:
                print(f"{rule}: {len(ratios)} random shapes (*): median {np.median(ratios):.3f}, "
                      f"{min(ratios):.3f}-{max(ratios):.3f}\n", flush=True)
    finally:
        _engine.set_num_threads(saved_threads)
        for rule in RULES:
            _engine.set_gemm_rule(rule, True)


def run_amx(shapes, threads, rounds):
    """Each shape with AMX on and off in turn, `rounds` times, in this one process (the machine
    drifts by 2x within minutes, so only alternated runs compare): median GFLOP/s and ratio; and
    the ratio over the rounds whose two probes of the tile unit's own rate
    (_engine.amx_tile_product_ns, before and after) were within 15% of the fastest probe of the
    shape: on a shared host other tenants can take half of that rate or more for seconds."""
    import numpy as np
    from seqnet import _engine

    if not _engine.amx_available():
        raise SystemExit("--amx: this CPU has no AMX-BF16, or the OS does not grant the tile state")
    _engine.set_num_threads(threads)
    rng = np.random.default_rng(0)
    print(f"{'shape':<16} {'threads':>7} {'amx':>5} {'AMX GFLOP/s':>12} {'AVX-512 GFLOP/s':>16} {'ratio':>6} {'best/best':>9} "
          f"{'full rate: ratio (rounds)':>26}")
    for shape in shapes:
        m, k, n, ta, tb = parse(shape)
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        flops = 2.0 * m * n * k
        times, probes = {True: [], False: []}, []
        for _ in range(rounds):
            before = _engine.amx_tile_product_ns()
            for on in (True, False):
                _engine.set_amx(on)
                times[on].append(best_seconds(lambda: _engine.sgemm(a, b, c, ta, tb), 0.1, 3))
            probes.append(max(before, _engine.amx_tile_product_ns()))
        full = [r for r, p in enumerate(probes) if p <= 1.15 * min(probes)]
        full_ratio = float(np.median([times[False][r] for r in full]) / np.median([times[True][r] for r in full]))
        _engine.set_amx(True)
        uses = _engine.gemm_uses_amx(m, n, k)
        med = {on: float(np.median(t)) for on, t in times.items()}
        print(f"{shape:<16} {threads:>7} {'yes' if uses else 'no':>5} {flops / med[True] / 1e9:>12.1f} "
              f"{flops / med[False] / 1e9:>16.1f} {med[False] / med[True]:>6.2f} "
              f"{min(times[False]) / min(times[True]):>9.2f} {f'{full_ratio:.2f} ({len(full)}/{rounds})':>26}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="*", default=DEFAULT_SHAPES)
    parser.add_argument("--models", action="store_true", help="the benchmark models' Dense products")
    parser.add_argument("--few-rows", action="store_true",
                        help="products on a batch of one or four, and a Dense(1)'s weight gradient")
    parser.add_argument("--sweep", action="store_true",
                        help="all shapes over a grid of sizes: the worst ratios to numpy")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--peak", type=float, default=0.0,
                        help="one core's FP32 peak in GFLOP/s for the %% peak column (default: measured around "
                             "each timing by _engine.fma_peak)")
    parser.add_argument("--amx", action="store_true",
                        help="the AMX path against the AVX-512 kernels, alternated in one process")
    parser.add_argument("--rules", action="store_true",
                        help="each path rule on against off, alternated, on named and random shapes")
    parser.add_argument("--random", type=int, default=12, help="random shapes per rule for --rules")
    parser.add_argument("--rounds", type=int, default=12, help="alternated rounds for --amx and --rules")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak < 0:
        parser.error(f"--peak must be a per-thread GFLOP/s above 0 (or 0: measure it), got {args.peak}")
    if args.rules:
        if args.rounds < 1 or args.random < 0:
            parser.error(f"--rules needs --rounds >= 1 and --random >= 0, got --rounds {args.rounds} "
                         f"and --random {args.random}")
        run_rules(args.rounds, args.random)
        return
    if args.amx:
        shapes = args.shapes if args.shapes != DEFAULT_SHAPES else AMX_SHAPES
        for t in args.threads:
            run_amx(shapes, t, args.rounds)
        return
    if args.models:
        args.shapes = MODEL_SHAPES
    if args.few_rows:
        args.shapes = FEW_ROW_SHAPES
    if args.child:
        if args.sweep:
            run_sweep(args.threads[0])
        else:
            run(args.shapes, args.threads[0], args.peak)
        return
    if args.sweep:
        # One thread unless asked: with two, each library's calls follow the other's at once,
        # while its worker threads still spin, and take a core from it (run() pauses between the
        # two; a sweep of 4600 products cannot).
        for t in args.threads if "--threads" in sys.argv else [1]:
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
            subprocess.run([sys.executable, __file__, "--child", "--sweep", "--threads", str(t)], env=env, check=True)
        return
    print(f"{'shape':<16} {'kernel':<14} {'threads':>7} {'seqnet':>9} {'%peak':>6} {'numpy':>9} {'ratio':>6} "
          f"{'seqnet us':>10} {'numpy us':>10}")
    print(f"{'(MxKxN)':<16} {'':<14} {'':>7} {'GFLOP/s':>9} {'':>6} {'GFLOP/s':>9} {'':>6}")
    for t in args.threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
        subprocess.run([sys.executable, __file__, "--child", "--threads", str(t), "--peak", str(args.peak),
                        "--shapes", *args.shapes],
                       env=env, check=True)


if __name__ == "__main__":
    main()
