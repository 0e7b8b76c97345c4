"""Per-layer profile of a training step: milliseconds per layer and direction, share of the
step, FLOPs per sample and effective GFLOP/s (seqnet.profiler.profile_model), for a saved
model or one of the benchmark models.

    python bench/profile_model.py model.h5 [--batch-size 32] [--steps 20] [--warmup 3]
    python bench/profile_model.py model.h5 --input-shape 80      # fills the unknown (None) axes
    python bench/profile_model.py --builtin vgg                  # vgg, mnist_cnn, cifar10_cnn, mnist_mlp, lstm
    python bench/profile_model.py model.h5 --inference           # the forward pass of predict only

Inputs and targets are random: float32 in [0, 1) for inputs, integer ids below the
Embedding's input_dim for inputs only Embedding layers read; one-hot, class-id or 0/1
targets for the categorical, sparse categorical and binary cross-entropies, [0, 1)
otherwise. A model saved without its training configuration is compiled with --loss and
--optimizer. The builtin models are those of the issue-8 benchmarks (bench_conv.py's seed
VGG, bench_lstm.py's Embedding + LSTM, the Keras examples mnist_cnn, cifar10_cnn and
mnist_mlp), each with its benchmark batch size unless --batch-size is given.

Timings are from the machine as it is: on a shared or busy machine run more --steps.

    python bench/profile_model.py --builtin vgg --compare-prefetch --rounds 6

--compare-prefetch profiles the model --rounds times each way, alternating, with sgemm's
prefetch plans on and off (_engine.set_gemm_prefetch), and prints each layer's median forward
and backward milliseconds both ways (a machine whose speed drifts can only be compared so).
"""
import argparse
import dataclasses
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seqnet as keras  # noqa: E402
from seqnet import _engine  # noqa: E402
from seqnet.profiler import profile_model  # noqa: E402

BUILTIN_BATCH = {"vgg": 32, "mnist_cnn": 128, "cifar10_cnn": 32, "mnist_mlp": 128, "lstm": 16}


def builtin_model(name):
    """The benchmark model `name`, compiled as its benchmark compiles it."""
    L = keras.layers
    if name in ("vgg", "mnist_cnn", "cifar10_cnn"):  # the models of bench_conv.py (examples/)
        from bench_conv import keras_model
        return keras_model(keras, name, keras.optimizers)
    if name == "lstm":
        from bench_lstm import keras_model
        return keras_model(keras, "embedding", keras.optimizers.RMSprop())
    model = keras.models.Sequential()
    if name == "mnist_mlp":  # examples/mnist_mlp.py
        model.add(L.Dense(512, activation="relu", input_shape=(784,)))
        model.add(L.Dropout(0.2))
        model.add(L.Dense(512, activation="relu"))
        model.add(L.Dropout(0.2))
        model.add(L.Dense(10, activation="softmax"))
        model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    else:
        raise SystemExit(f"--builtin: unknown model {name!r}; choose from {sorted(BUILTIN_BATCH)}")
    return model


def parse_shape(text):
    try:
        return tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise SystemExit(f"--input-shape: expected integers separated by commas, e.g. 100,100,3; got {text!r}")


def input_shapes(model, given):
    """The per-sample shape of each input: the model's, with None axes taken from `given`."""
    shapes = []
    given = given or []
    if given and len(given) != len(model.inputs):
        raise SystemExit(f"--input-shape: the model has {len(model.inputs)} input(s), got {len(given)} shape(s)")
    for i, t in enumerate(model.inputs):
        shape = tuple(t.shape[1:])
        if given:
            wanted = given[i]
            if len(wanted) != len(shape) or any(a is not None and a != b for a, b in zip(shape, wanted)):
                raise SystemExit(f"--input-shape: input '{model.input_names[i]}' has shape {shape} (None: free), "
                                 f"which {wanted} does not fit")
            shape = wanted
        if any(d is None for d in shape):
            raise SystemExit(f"input '{model.input_names[i]}' has shape {shape}: give the unknown axes with "
                             "--input-shape (once per input, e.g. --input-shape 80,16)")
        shapes.append(shape)
    return shapes


def random_inputs(model, shapes, batch, rng):
    xs = []
    for i, shape in enumerate(shapes):
        readers = [s.layer for s in model._steps if i in s.in_slots]
        if readers and all(getattr(layer, "reads_integer_indices", False) for layer in readers):
            high = min(layer.input_dim for layer in readers)
            xs.append(rng.randint(0, high, size=(batch,) + shape).astype(np.int32))
        else:
            xs.append(rng.random_sample((batch,) + shape).astype(np.float32))
    return xs


def random_targets(model, batch, rng):
    ys = []
    codes = _engine.Loss
    for t, loss in zip(model.outputs, model._compiled_losses):
        shape = (batch,) + tuple(t.shape[1:])
        if any(d is None for d in shape):
            raise SystemExit(f"output of shape {tuple(t.shape)} has unknown axes; random targets need a fixed shape")
        if loss.code == codes.categorical_crossentropy:
            ys.append(np.eye(shape[-1], dtype=np.float32)[rng.randint(shape[-1], size=shape[:-1])])
        elif loss.code == codes.sparse_categorical_crossentropy:
            ys.append(rng.randint(shape[-1], size=shape[:-1] + (1,)).astype(np.float32))
        elif loss.code == codes.binary_crossentropy:
            ys.append(rng.randint(2, size=shape).astype(np.float32))
        else:
            ys.append(rng.random_sample(shape).astype(np.float32))
    return ys


def compare_prefetch(model, xs, ys, batch, args):
    """Per-layer median ms, forward and backward, with the prefetch plans on and off."""
    saved = _engine.gemm_prefetch()
    times = {True: {}, False: {}}
    try:
        for _ in range(args.rounds):
            for on in (True, False):
                _engine.set_gemm_prefetch(on)
                profile = profile_model(model, xs, ys, batch_size=batch, steps=args.steps, warmup=args.warmup,
                                        training=not args.inference, peak=False)
                for row in profile.rows:
                    times[on].setdefault(row.name, []).append((row.forward_ms, row.backward_ms))
    finally:
        _engine.set_gemm_prefetch(saved)
    print(f"prefetch plans on and off, {args.rounds} alternated rounds of {args.steps} steps; median ms")
    print("| layer | forward, plans | forward, none | backward, plans | backward, none | both: none / plans |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in times[True].items():
        (f_on, b_on), (f_off, b_off) = np.median(rows, axis=0), np.median(times[False][name], axis=0)
        ratio = f"{(f_off + b_off) / (f_on + b_on):.3f}" if f_on + b_on > 0 else "—"
        print(f"| {name} | {f_on:.3f} | {f_off:.3f} | {b_on:.3f} | {b_off:.3f} | {ratio} |")
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", help="a model saved with model.save (HDF5)")
    ap.add_argument("--builtin", choices=sorted(BUILTIN_BATCH), help="profile a benchmark model instead of a file")
    ap.add_argument("--batch-size", type=int, default=None, help="samples per step (default 32, or the builtin's)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--input-shape", action="append", type=parse_shape,
                    help="per-sample shape of an input, e.g. 80 or 100,100,3 (once per input, in order)")
    ap.add_argument("--inference", action="store_true", help="profile the forward pass of inference only")
    ap.add_argument("--loss", default="mse", help="for a model saved without training configuration")
    ap.add_argument("--optimizer", default="sgd", help="for a model saved without training configuration")
    ap.add_argument("--threads", type=int, default=None, help="engine threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--line-length", type=int, default=None)
    ap.add_argument("--json", help="also write the profile to this file")
    ap.add_argument("--no-peak", action="store_true",
                    help="skip measuring the FMA peak (and the table's share-of-peak columns)")
    ap.add_argument("--compare-prefetch", action="store_true",
                    help="per-layer medians with sgemm's prefetch plans on and off, alternated --rounds times")
    ap.add_argument("--rounds", type=int, default=6, help="rounds each way for --compare-prefetch (default 6)")
    args = ap.parse_args(argv)
    if (args.model is None) == (args.builtin is None):
        ap.error("give a model file or --builtin NAME (one of them)")
    if args.threads is not None:
        keras.set_num_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    if args.builtin:
        model, source = builtin_model(args.builtin), f"--builtin {args.builtin}"
        batch = args.batch_size or BUILTIN_BATCH[args.builtin]
    else:
        model, source = keras.models.load_model(args.model), args.model
        batch = args.batch_size or 32
        if model.optimizer is None and not args.inference:
            model.compile(optimizer=args.optimizer, loss=args.loss)
    rng = np.random.RandomState(args.seed)
    xs = random_inputs(model, input_shapes(model, args.input_shape), batch, rng)
    ys = None if args.inference else random_targets(model, batch, rng)
    if args.compare_prefetch:
        return compare_prefetch(model, xs, ys, batch, args)
    profile = profile_model(model, xs, ys, batch_size=batch, steps=args.steps, warmup=args.warmup,
                            training=not args.inference, peak=not args.no_peak)
    print(f"{source}: seqnet {keras.__version__}, isa {_engine.active_isa()}, gemm {_engine.gemm_kernel_name()}, "
          f"threads {_engine.get_num_threads()}")
    profile.summary(line_length=args.line_length)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dataclasses.asdict(profile), f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
