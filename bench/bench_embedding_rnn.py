"""Embedding -> recurrent layer: the layer reading the Embedding's indices (projecting each
distinct token of a batch once, engine/network.py _graph_tokens) against the two layers run
apart, by the share of distinct tokens in a batch.

The seed Embedding + LSTM model (Embedding(V, 256) - LSTM(128) - Dense(1, sigmoid), RMSprop,
batch 16 x 80 words), one training step (train_on_batch) at a time, the two ways alternated
in one process (this machine's speed drifts by 2x within minutes). Word ids are uniform over V
words (few repeats when V is large) or follow Zipf's law over 5000 words, as running text
does. The fused runs force the distinct-token path (BaseRNN._DISTINCT_TOKENS above 1) so the
break-even share can be read off; in use, batches with more than that share distinct run apart.

    python bench/bench_embedding_rnn.py
    python bench/bench_embedding_rnn.py --cell gru --rounds 9
    python bench/bench_embedding_rnn.py --bidirectional          # Bidirectional(LSTM(64))
"""
import argparse
import statistics
import time

import numpy as np

import seqnet as keras
from seqnet.engine import network
from seqnet.layers.recurrent.base_rnn import BaseRNN

BATCH, STEPS, EMB, UNITS, N = 16, 80, 256, 128, 256


def word_ids(kind, vocab, rng):
    if kind == "zipf":
        p = 1.0 / np.arange(1, vocab + 1)
        return rng.choice(vocab, size=(N, STEPS), p=p / p.sum()).astype(np.int32)
    return rng.randint(vocab, size=(N, STEPS)).astype(np.int32)


def model(vocab, cell, bidirectional=False):
    L = keras.layers
    rnn = getattr(L, cell)(UNITS // 2 if bidirectional else UNITS)
    net = keras.models.Sequential([L.Embedding(vocab, EMB, input_length=STEPS),
                                   L.Bidirectional(rnn) if bidirectional else rnn, L.Dense(1, activation="sigmoid")])
    net.compile(keras.optimizers.RMSprop(lr=0.001), "binary_crossentropy")
    return net


def steps_ms(net, x, y):
    t0 = time.perf_counter()
    for i in range(0, N, BATCH):
        net.train_on_batch(x[i:i + BATCH], y[i:i + BATCH])
    return (time.perf_counter() - t0) / (N // BATCH) * 1e3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru", "simple"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--bidirectional", action="store_true",
                    help=f"Bidirectional(cell({UNITS // 2})), as Keras' imdb_bidirectional_lstm")
    args = ap.parse_args(argv)
    cell = {"lstm": "LSTM", "gru": "GRU", "simple": "SimpleRNN"}[args.cell]
    rng = np.random.RandomState(0)
    layer = f"Bidirectional({cell}({UNITS // 2}))" if args.bidirectional else f"{cell}({UNITS})"
    print(f"Embedding(V, {EMB}) - {layer} - Dense(1), batch {BATCH} x {STEPS} words; "
          f"ms per training step, median of {args.rounds} alternated rounds")
    print("| word ids | distinct share | apart ms | fused ms | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for kind, vocab in (("uniform", 500), ("uniform", 1000), ("uniform", 2000), ("uniform", 3000),
                        ("uniform", 5000), ("zipf", 5000), ("zipf", 20000)):
        x = word_ids(kind, vocab, rng)
        y = rng.randint(2, size=(N, 1)).astype(np.float32)
        share = np.mean([np.unique(x[i:i + BATCH]).size / (BATCH * STEPS) for i in range(0, N, BATCH)])
        net = model(vocab, cell, args.bidirectional)
        saved = BaseRNN._DISTINCT_TOKENS
        times = {True: [], False: []}
        try:
            BaseRNN._DISTINCT_TOKENS = 1.01
            for fuse in (True, False):  # warm-up
                network.FUSE_EMBEDDINGS = fuse
                steps_ms(net, x, y)
            for _ in range(args.rounds):
                for fuse in (False, True):
                    network.FUSE_EMBEDDINGS = fuse
                    times[fuse].append(steps_ms(net, x, y))
        finally:
            network.FUSE_EMBEDDINGS, BaseRNN._DISTINCT_TOKENS = True, saved
        apart, fused = statistics.median(times[False]), statistics.median(times[True])
        ratios = [a / f for a, f in zip(times[False], times[True])]
        print(f"| {kind} over {vocab} | {share:.2f} | {apart:.2f} | {fused:.2f} | {statistics.median(ratios):.2f}x |")


if __name__ == "__main__":
    main()
