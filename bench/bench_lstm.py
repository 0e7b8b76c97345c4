"""Time a training epoch of the seed LSTM models in seqnet, tf-keras and PyTorch (CPU).

Models (the Keras 2 guide's examples):

  stacked:   x (1000, 8, 16) random, y (1000, 10) random;
             LSTM(32, return_sequences) - LSTM(32, return_sequences) - LSTM(32) -
             Dense(10, softmax); rmsprop, categorical_crossentropy, batch 64
  stateful:  the same stack with stateful=True and batch_input_shape (32, 8, 16); x (320,
             8, 16), y (320, 10) random; batch 32, shuffle=False (the states reached
             after a batch start the next one; PyTorch carries them, detached)
  embedding: x (1024, 80) word ids < 5000, y (1024, 1) in {0, 1};
             Embedding(5000, 256) - LSTM(128) - Dropout(0.5) - Dense(1, sigmoid);
             rmsprop, binary_crossentropy, batch 16 (the seed's batch size)
  embedding_50k: the same with word ids < 50000 and Embedding(50000, 256)
  embedding_text: the embedding model on word ids drawn as running text has them (Zipf's law
             over the 5000 words: a batch of 16 x 80 words holds about 550 distinct ones, where
             uniform ids give about 1120), which seqnet's LSTM projects once per distinct word
             (engine/network.py, _graph_tokens; bench_embedding_rnn.py)
  embedding_gru: the embedding model with GRU(128) for LSTM(128) (Keras 2.2.4's GRU:
             reset_after=False, stated for tf-keras; PyTorch's nn.GRU applies the reset gate
             after its product, as reset_after=True: fine for timing)
  stacked_gru, stacked_simple: the stacked model with GRU(32) / SimpleRNN(32) layers
             (PyTorch: nn.GRU / nn.RNN with tanh, 3 layers)

seqnet and tf-keras run the same Keras code (tf-keras with recurrent_activation=
'hard_sigmoid' stated, the Keras 2.2.4 default seqnet uses, and legacy RMSprop); PyTorch
runs the loop a user writes by hand with nn.LSTM (sigmoid gates: fine for timing),
RMSprop(alpha=0.9, eps=1e-7). Each framework runs in its own interpreter: seqnet in this
one, tf-keras and PyTorch in --peers-python (default /work/peers/bin/python) when they
import there. Each: one warm-up epoch, then --repeats epochs; the number reported is the
median ms per epoch, with ratios to seqnet (above 1: seqnet is faster). Under each table, a
roofline line: the epoch's FLOPs (seqnet.profiler's per-layer count, the direct algorithm),
the FMA peak seqnet's process measured after its epochs (seqnet.profiler.fma_peak), the
epoch that peak would allow, seqnet's share of it and the share an epoch twice as fast as
the fastest peer would need (above 100%: beyond the FP32 direct algorithm on this machine).

    python bench/bench_lstm.py
    python bench/bench_lstm.py --models stacked,stateful --only seqnet --repeats 3
    python bench/bench_lstm.py --models embedding --rounds 3     # frameworks in turn, 3 times
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

MODELS = {
    "stacked": dict(n=1000, steps=8, dim=16, classes=10, units=32, batch=64),
    "stateful": dict(n=320, steps=8, dim=16, classes=10, units=32, batch=32),
    "embedding": dict(n=1024, steps=80, vocab=5000, emb=256, units=128, batch=16),
    # the same with a 50000-word vocabulary: the dense update of the table no longer hides
    "embedding_50k": dict(n=1024, steps=80, vocab=50000, emb=256, units=128, batch=16),
    "embedding_text": dict(n=1024, steps=80, vocab=5000, emb=256, units=128, batch=16, zipf=True),
    "embedding_gru": dict(n=1024, steps=80, vocab=5000, emb=256, units=128, batch=16, cell="gru"),
    "stacked_gru": dict(n=1000, steps=8, dim=16, classes=10, units=32, batch=64, cell="gru"),
    "stacked_simple": dict(n=1000, steps=8, dim=16, classes=10, units=32, batch=64, cell="simple"),
}
KERAS_CELLS = {"lstm": "LSTM", "gru": "GRU", "simple": "SimpleRNN"}


def is_stack(model):
    """The stacked and stateful models: random sequences into three recurrent layers."""
    return "dim" in MODELS[model]


def make_data(model, seed=0):
    rng = np.random.RandomState(seed)
    m = MODELS[model]
    if is_stack(model):
        x = rng.random_sample((m["n"], m["steps"], m["dim"])).astype(np.float32)
        y = rng.random_sample((m["n"], m["classes"])).astype(np.float32)
    else:
        if m.get("zipf"):
            p = 1.0 / np.arange(1, m["vocab"] + 1)
            x = rng.choice(m["vocab"], size=(m["n"], m["steps"]), p=p / p.sum()).astype(np.float32)
        else:
            x = rng.randint(m["vocab"], size=(m["n"], m["steps"])).astype(np.float32)
        y = rng.randint(2, size=(m["n"], 1)).astype(np.float32)
    return x, y


def keras_model(keras, model, rmsprop, **rnn_kw):
    L = keras.layers
    m = MODELS[model]
    net = keras.models.Sequential()
    rnn = getattr(L, KERAS_CELLS[m.get("cell", "lstm")])
    if is_stack(model):
        if model == "stateful":
            rnn_kw = dict(rnn_kw, stateful=True)
            first = dict(batch_input_shape=(m["batch"], m["steps"], m["dim"]))
        else:
            first = dict(input_shape=(m["steps"], m["dim"]))
        net.add(rnn(m["units"], return_sequences=True, **first, **rnn_kw))
        net.add(rnn(m["units"], return_sequences=True, **rnn_kw))
        net.add(rnn(m["units"], **rnn_kw))
        net.add(L.Dense(m["classes"], activation="softmax"))
        net.compile(loss="categorical_crossentropy", optimizer=rmsprop, metrics=["accuracy"])
    else:
        net.add(L.Embedding(m["vocab"], m["emb"], input_length=m["steps"]))
        net.add(rnn(m["units"], **rnn_kw))
        net.add(L.Dropout(0.5))
        net.add(L.Dense(1, activation="sigmoid"))
        net.compile(loss="binary_crossentropy", optimizer=rmsprop, metrics=["accuracy"])
    return net


def time_keras(net, x, y, batch, repeats, shuffle=True):
    net.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=shuffle)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        hist = net.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=shuffle)
        times.append(time.perf_counter() - t0)
    return times, float(hist.history["loss"][-1])


def epoch_flops(net, samples):
    """FLOPs of one training epoch of a seqnet Sequential `net` on `samples` samples: each
    layer's forward and backward count per sample (seqnet.profiler.layer_flops, the direct
    algorithm, 1 multiply-add = 2; the first layer computes no input gradient). A layer the
    count does not know raises ValueError rather than leave the roofline short of it."""
    from seqnet.profiler import layer_flops
    total = 0
    for i, layer in enumerate(net.layers):
        fwd, bwd = layer_flops(layer, [tuple(layer.input_shape[1:])], [tuple(layer.output_shape[1:])], True, i > 0)
        if fwd is None or bwd is None:
            raise ValueError(f"epoch_flops: no FLOP count for layer '{layer.name}' ({type(layer).__name__})")
        total += fwd + bwd
    return total * samples


def roofline(flops, peak_gflops, times):
    """(floor ms, share of the peak) of an epoch of `flops` FLOPs whose median time is that
    of `times` (seconds), against an FMA peak of `peak_gflops`: the floor is the epoch at
    100% of the peak."""
    floor = flops / (peak_gflops * 1e9)
    return 1000 * floor, floor / statistics.median(times)


def worker_seqnet(model, repeats):
    import seqnet as keras
    from seqnet.profiler import fma_peak
    x, y = make_data(model)
    net = keras_model(keras, model, keras.optimizers.RMSprop(lr=0.001))
    timed = time_keras(net, x, y, MODELS[model]["batch"], repeats, shuffle=model != "stateful")
    # the roofline below the table: the FMA peak of the engine's threads, just after the epochs
    extra = dict(flops=epoch_flops(net, len(x)), peak=fma_peak())
    return ("seqnet %s" % getattr(keras, "__version__", "?"), timed, extra)


def worker_tf_keras(model, repeats):
    import tensorflow as tf
    import tf_keras as keras
    tf.random.set_seed(0)
    x, y = make_data(model)
    kw = dict(reset_after=False) if MODELS[model].get("cell") == "gru" else {}
    net = keras_model(keras, model, keras.optimizers.legacy.RMSprop(learning_rate=0.001),
                      recurrent_activation="hard_sigmoid", **kw)
    return ("tf_keras %s (tensorflow %s)" % (keras.__version__, tf.__version__),
            time_keras(net, x, y, MODELS[model]["batch"], repeats, shuffle=model != "stateful"))


def worker_torch(model, repeats):
    import torch
    from torch import nn
    torch.manual_seed(0)
    m = MODELS[model]
    x, y = make_data(model)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "simple": nn.RNN}[m.get("cell", "lstm")]
            if is_stack(model):
                self.rnn = rnn(m["dim"], m["units"], num_layers=3, batch_first=True)
                self.out = nn.Linear(m["units"], m["classes"])
            else:
                self.emb = nn.Embedding(m["vocab"], m["emb"])
                self.rnn = rnn(m["emb"], m["units"], batch_first=True)
                self.drop = nn.Dropout(0.5)
                self.out = nn.Linear(m["units"], 1)

        def forward(self, xb, state=None):
            if is_stack(model):
                h, state = self.rnn(xb, state)
                return self.out(h[:, -1]), state
            h, state = self.rnn(self.emb(xb))
            return self.out(self.drop(h[:, -1])), state

    net = Net()
    opt = torch.optim.RMSprop(net.parameters(), lr=0.001, alpha=0.9, eps=1e-7)
    xt = torch.from_numpy(x) if is_stack(model) else torch.from_numpy(x.astype(np.int64))
    yt = torch.from_numpy(y)

    def loss_fn(logits, target):
        if is_stack(model):  # categorical cross-entropy with soft targets, as Keras
            return -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        return nn.functional.binary_cross_entropy_with_logits(logits, target)

    def epoch():
        net.train()
        stateful = model == "stateful"
        perm = torch.arange(len(xt)) if stateful else torch.randperm(len(xt))
        last, state = 0.0, None
        for i in range(0, len(xt), m["batch"]):
            idx = perm[i:i + m["batch"]]
            opt.zero_grad()
            logits, new_state = net(xt[idx], state if stateful else None)
            if stateful:
                state = tuple(s.detach() for s in new_state)
            loss = loss_fn(logits, yt[idx])
            loss.backward()
            opt.step()
            last = loss.item()
        return last

    epoch()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        last = epoch()
        times.append(time.perf_counter() - t0)
    return "torch %s (threads %d)" % (torch.__version__, torch.get_num_threads()), (times, last)


WORKERS = {"seqnet": worker_seqnet, "tf_keras": worker_tf_keras, "torch": worker_torch}


def run_worker(python, name, model, repeats):
    cmd = [python, os.path.abspath(__file__), "--worker", name, "--models", model, "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return None, err
    return json.loads(lines[-1]), None


def print_roofline(model, results):
    """What the FP32 multiply-add peak allows: seqnet's epoch FLOPs against the peak its own
    process measured, and the share of that peak an epoch twice as fast as the fastest peer
    would need (above 100%: out of reach of the direct algorithm on this machine)."""
    r = results.get("seqnet")
    if not r or not r.get("flops") or not r.get("peak"):
        return
    floor, share = roofline(r["flops"], r["peak"], r["times"])
    line = ("roofline: %.1f GFLOP per epoch (forward + backward, direct algorithm%s); FMA peak %.0f GFLOP/s: "
            "floor %.0f ms/epoch, seqnet at %.0f%% of the peak"
            % (r["flops"] / 1e9, ", fewer on the distinct-token path" if MODELS[model].get("zipf") else "",
               r["peak"], floor, 100 * share))
    peers = [statistics.median(p["times"]) for name, p in results.items() if name != "seqnet"]
    if peers:
        half_ms = 1000 * min(peers) / 2  # the epoch twice as fast as the fastest peer's
        line += "; 2x the fastest peer (%.0f ms) needs %.0f%%" % (2 * half_ms, 100 * floor / half_ms)
    print(line)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="stacked,stateful,embedding,embedding_50k,embedding_text,embedding_gru,stacked_gru,"
                                        "stacked_simple")
    ap.add_argument("--only", default="seqnet,tf_keras,torch")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the frameworks this many times in turn (fresh processes), pooling the epochs: "
                         "on a machine whose speed drifts, every framework then sees the same spells")
    ap.add_argument("--peers-python", default="/work/peers/bin/python")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        version, (times, loss), *extra = WORKERS[args.worker](args.models, args.repeats)
        print(json.dumps(dict(version=version, times=times, loss=loss, **(extra[0] if extra else {}))))
        return 0
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    if args.rounds < 1 or args.repeats < 1:
        ap.error("--rounds and --repeats must be at least 1")
    print("seed LSTM models, one epoch each, median of %d x %d round(s) (+1 warm-up each); python %s on %s, %s CPUs"
          % (args.repeats, args.rounds, platform.python_version(), platform.machine(), os.cpu_count()))
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        results, failed = {}, set()
        for _ in range(args.rounds):
            for name in wanted:
                if name in failed:
                    continue
                python = sys.executable if name == "seqnet" else args.peers_python
                res, err = run_worker(python, name, model, args.repeats)
                if res is None:
                    print("skip %-8s (%s): %s" % (name, model, err))
                    failed.add(name)
                    continue
                if name in results:  # pool the epochs of every round
                    res["times"] = results[name]["times"] + res["times"]
                results[name] = res
        print()
        print("model %s: %s" % (model, MODELS[model]))
        print("| framework | ms/epoch (median) | min | last loss | ratio to seqnet |")
        print("|---|---:|---:|---:|---:|")
        base = statistics.median(results["seqnet"]["times"]) if "seqnet" in results else None
        for name, r in results.items():
            med = statistics.median(r["times"])
            ratio = "%.2f" % (med / base) if base else "n/a"
            print("| %s | %.1f | %.1f | %.4f | %s |" % (r["version"], 1000 * med, 1000 * min(r["times"]),
                                                        r["loss"], ratio))
        print_roofline(model, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
