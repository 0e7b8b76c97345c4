"""Training steps with the Activation fusion on and off (seqnet.engine.network.FUSE_ACTIVATIONS),
alternated in one process: Keras' cifar10_cnn recipe (five Activation layers after linear
convolutions and a Dense) and bench_batchnorm.py's Conv + BatchNormalization + ReLU convnet; with
--switch gates, only the max pooling after a ReLU (FUSE_RELU_GATES: its backward hands back the
gradient before the ReLU, and in training a Conv2D writes its output), also on the seed VGG and
Keras' mnist_cnn.

    python bench/bench_fusion.py                       # both models, 30 rounds of 3 steps each way
    python bench/bench_fusion.py --models bn_convnet --rounds 20
    python bench/bench_fusion.py --switch gates --models vgg,mnist_cnn,cifar10_cnn --rounds 12
    python bench/bench_fusion.py --switch gates --predict --models vgg,mnist_cnn,cifar10_cnn

--predict times predict on the batch (x4 for mnist_cnn and cifar10_cnn) instead of training steps.

With --switch pool_grads, only the pooled gradient handed to the convolution (FUSE_POOL_GRADIENTS:
with the gate on, a Conv2D whose output the pooling read takes the pooling's dy and argmax as they
are, and a Winograd convolution forms each tile's gradient from them instead of reading the scatter
to its output's size):

    python bench/bench_fusion.py --switch pool_grads --models vgg,mnist_cnn,cifar10_cnn --rounds 12

With --switch prefetch, the setting is sgemm's prefetch plans (_engine.set_gemm_prefetch: the
kernel asks L2 for the next tile's lines as it computes), on any of profile_model.py's builtin
models (vgg, mnist_cnn, cifar10_cnn, mnist_mlp, lstm):

    python bench/bench_fusion.py --switch prefetch --models vgg,mnist_cnn,cifar10_cnn,mnist_mlp

Both settings compute the same bits (tests/test_network_fusion.py, tests/test_gemm.py); the table
gives the median and the fastest round's milliseconds per step, and the ratio of the medians (off
/ on).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import seqnet as keras  # noqa: E402
from seqnet import _engine  # noqa: E402
from seqnet.engine import network  # noqa: E402


def build(name):
    """(model, x, y) of one benchmark model on a random batch."""
    rng = np.random.default_rng(0)
    if name in ("mnist_mlp", "lstm"):
        import profile_model
        model, batch = profile_model.builtin_model(name), profile_model.BUILTIN_BATCH[name]
        legacy = np.random.RandomState(0)
        x = profile_model.random_inputs(model, profile_model.input_shapes(model, None), batch, legacy)[0]
        return model, x, profile_model.random_targets(model, batch, legacy)[0]
    if name in ("cifar10_cnn", "vgg", "mnist_cnn"):
        import profile_model
        model, batch = profile_model.builtin_model(name), profile_model.BUILTIN_BATCH[name]
        x = rng.random((batch,) + model.input_shape[1:], dtype=np.float32)
        classes = model.output_shape[-1]
    else:
        import bench_batchnorm
        model = bench_batchnorm.keras_net(keras, keras.optimizers.SGD(lr=0.01))
        batch, side, classes = 64, bench_batchnorm.NET["side"], bench_batchnorm.NET["classes"]
        x = rng.random((batch, side, side, 3), dtype=np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, len(x))]
    return model, x, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="cifar10_cnn,bn_convnet")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--steps", type=int, default=3, help="training steps per round and setting")
    ap.add_argument("--switch", choices=("all", "gates", "pool_grads", "prefetch"), default="all",
                    help="what to turn off: every fusion (FUSE_ACTIVATIONS), the max-pooling ReLU gate alone, "
                         "the pooled gradient read by the convolution alone, or sgemm's prefetch plans")
    ap.add_argument("--predict", action="store_true", help="time predict instead of training steps")
    args = ap.parse_args(argv)
    if args.switch == "prefetch":
        saved, setting = _engine.gemm_prefetch(), _engine.set_gemm_prefetch
        on_name, off_name = "prefetch", "none"
    else:
        flag = {"all": "FUSE_ACTIVATIONS", "gates": "FUSE_RELU_GATES", "pool_grads": "FUSE_POOL_GRADIENTS"}[args.switch]
        saved, setting = getattr(network, flag), lambda on: setattr(network, flag, on)
        on_name, off_name = "fused", "apart"
    unit = "predict" if args.predict else "step"
    print(f"| model | {on_name} ms/{unit} (median / fastest) | {off_name} ms/{unit} | {off_name} / {on_name} |")
    print("|---|---:|---:|---:|")
    try:
        for name in args.models.split(","):
            model, x, y = build(name)
            if args.predict and name != "vgg":
                x = np.concatenate([x] * 4)
            for _ in range(3):
                model.train_on_batch(x, y) if not args.predict else model.predict(x, batch_size=len(x))
            times = {True: [], False: []}
            for _ in range(args.rounds):
                for fuse in (True, False):
                    setting(fuse)
                    t0 = time.perf_counter()
                    for _ in range(args.steps):
                        model.train_on_batch(x, y) if not args.predict else model.predict(x, batch_size=len(x))
                    times[fuse].append(1e3 * (time.perf_counter() - t0) / args.steps)
            on, off = np.median(times[True]), np.median(times[False])
            print(f"| {name} | {on:.2f} / {min(times[True]):.2f} | {off:.2f} / {min(times[False]):.2f} | "
                  f"{off / on:.3f} |")
    finally:
        setting(saved)


if __name__ == "__main__":
    main()
