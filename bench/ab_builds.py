"""Whole training steps of a benchmark model under two builds of seqnet, in fresh processes taken in
turn, so that both see the same spells of a host whose speed drifts from minute to minute.

    python bench/ab_builds.py --old /tmp/oldp --new python --model cifar10_cnn --pairs 8 --steps 40

--old / --new are directories holding a `seqnet` package (a checkout's `python/` with its built
engine, or a copy of an installed one); --model is one of profile_model.py's builtins. Each
process times --steps training steps (after 3 warm-up steps) and reports their median; the summary
gives each build's median over the pairs and the median and range of the per-pair ratios old/new
(above 1: the new build is faster). Used for the changes whose effect is below this host's noise
between separate runs (docs/performance.md).
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

_STEPS = """
import sys, time
import numpy as np
sys.path.insert(0, {here!r})
import profile_model as PM
model = PM.builtin_model({model!r})
batch = PM.BUILTIN_BATCH[{model!r}]
rng = np.random.RandomState(0)
xs = PM.random_inputs(model, PM.input_shapes(model, None), batch, rng)
ys = PM.random_targets(model, batch, rng)
for _ in range(3):
    model.train_on_batch(xs, ys)
times = []
for _ in range({steps}):
    t = time.perf_counter()
    model.train_on_batch(xs, ys)
    times.append(time.perf_counter() - t)
print(np.median(times) * 1e3)
"""


def step_ms(package_dir, model, steps):
    """Median ms per training step of `model` in a fresh process importing seqnet from package_dir."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(package_dir))
    code = _STEPS.format(here=HERE, model=model, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def summarize(old, new):
    """Medians of each build's step times and the per-pair ratios old / new (pairs in order)."""
    if not old or len(old) != len(new):
        raise ValueError(f"summarize: expected two equal, non-empty lists of times, got {len(old)} and {len(new)}")
    ratios = [o / n for o, n in zip(old, new)]
    return {"old_ms": statistics.median(old), "new_ms": statistics.median(new),
            "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="directory holding the old build's seqnet package")
    ap.add_argument("--new", required=True, help="directory holding the new build's seqnet package")
    ap.add_argument("--model", default="cifar10_cnn", help="a builtin of profile_model.py")
    ap.add_argument("--pairs", type=int, default=6, help="processes of each build, taken in turn")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per process")
    args = ap.parse_args(argv)
    for name in ("old", "new"):
        path = getattr(args, name)
        if not os.path.isdir(os.path.join(path, "seqnet")):
            ap.error(f"--{name}: {path!r} holds no seqnet package (expected {os.path.join(path, 'seqnet')})")
    if args.pairs < 1 or args.steps < 1:
        ap.error(f"--pairs and --steps must be at least 1, got {args.pairs} and {args.steps}")
    old, new = [], []
    for i in range(args.pairs):
        old.append(step_ms(args.old, args.model, args.steps))
        new.append(step_ms(args.new, args.model, args.steps))
        print(f"pair {i + 1}: old {old[-1]:.2f} ms, new {new[-1]:.2f} ms", flush=True)
    s = summarize(old, new)
    print(f"{args.model}: old {s['old_ms']:.2f} ms/step, new {s['new_ms']:.2f} (medians of {args.pairs}); "
          f"old/new per pair: median {s['ratio']:.3f}, {s['ratio_min']:.3f}-{s['ratio_max']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
