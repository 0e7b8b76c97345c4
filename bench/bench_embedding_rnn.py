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
    python bench/bench_embedding_rnn.py --small    # small layers, Zipf ids: what the path must save

--small sweeps layers from Embedding(100, 8) - LSTM(4) up, on Zipf-distributed ids, the fused runs
forced onto the distinct-token path whatever it saves (BaseRNN._MIN_SAVED_MACS 0): the extra calls
cost tens of microseconds, so below a few million multiply-adds saved a step the layers are
better apart; the table gives the multiply-adds saved per step with each speed-up.
"""
import argparse
import statistics
import time

import numpy as np

import seqnet as keras
from seqnet.engine import network
from seqnet.layers.recurrent.base_rnn import BaseRNN

BATCH, STEPS, EMB, UNITS, N = 16, 80, 256, 128, 256


def word_ids(kind, vocab, rng, n=N, steps=STEPS):
    if kind == "zipf":
        p = 1.0 / np.arange(1, vocab + 1)
        return rng.choice(vocab, size=(n, steps), p=p / p.sum()).astype(np.int32)
    return rng.randint(vocab, size=(n, steps)).astype(np.int32)


def model(vocab, cell, bidirectional=False):
    L = keras.layers
    rnn = getattr(L, cell)(UNITS // 2 if bidirectional else UNITS)
    net = keras.models.Sequential([L.Embedding(vocab, EMB, input_length=STEPS),
                                   L.Bidirectional(rnn) if bidirectional else rnn, L.Dense(1, activation="sigmoid")])
    net.compile(keras.optimizers.RMSprop(lr=0.001), "binary_crossentropy")
    return net


def steps_ms(net, x, y, batch=BATCH):
    t0 = time.perf_counter()
    for i in range(0, len(x), batch):
        net.train_on_batch(x[i:i + batch], y[i:i + batch])
    return (time.perf_counter() - t0) / (len(x) // batch) * 1e3


def alternated(net, x, y, rounds, batch=BATCH, force=True):
    """ms per step fused and apart (medians), and the median of the paired ratios."""
    saved = BaseRNN._DISTINCT_TOKENS, BaseRNN._MIN_SAVED_MACS
    times = {True: [], False: []}
    try:
        if force:
            BaseRNN._DISTINCT_TOKENS, BaseRNN._MIN_SAVED_MACS = 1.01, 0
        for fuse in (True, False):  # warm-up
            network.FUSE_EMBEDDINGS = fuse
            steps_ms(net, x, y, batch)
        for r in range(rounds):
            for fuse in ((False, True) if r % 2 else (True, False)):
                network.FUSE_EMBEDDINGS = fuse
                times[fuse].append(steps_ms(net, x, y, batch))
    finally:
        network.FUSE_EMBEDDINGS = True
        BaseRNN._DISTINCT_TOKENS, BaseRNN._MIN_SAVED_MACS = saved
    ratios = [a / f for a, f in zip(times[False], times[True])]
    return statistics.median(times[True]), statistics.median(times[False]), statistics.median(ratios)


SMALL = [(100, 8, 4, 32, 10), (1000, 32, 16, 32, 20), (2000, 64, 32, 32, 40), (5000, 64, 64, 16, 40),
         (5000, 128, 64, 16, 80), (5000, 256, 128, 16, 80)]


def small(rounds):
    print("Embedding(V, E) - LSTM(U) - Dense(1) on Zipf ids, the fused runs forced onto the distinct-token "
          f"path; ms per training step, median of {rounds} alternated rounds")
    print("| V, E, U, batch x steps | distinct share | saved MACs a step | apart ms | fused ms | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    rng = np.random.RandomState(1)
    for vocab, emb, units, batch, steps in SMALL:
        x = word_ids("zipf", vocab, rng, 16 * batch, steps)
        y = rng.randint(2, size=(len(x), 1)).astype(np.float32)
        L = keras.layers
        net = keras.models.Sequential([L.Embedding(vocab, emb, input_length=steps), L.LSTM(units),
                                       L.Dense(1, activation="sigmoid")])
        net.compile(keras.optimizers.RMSprop(lr=0.001), "binary_crossentropy")
        share = np.mean([np.unique(x[i:i + batch]).size / (batch * steps) for i in range(0, len(x), batch)])
        saved = (1 - share) * batch * steps * 3 * emb * 4 * units
        fused, apart, ratio = alternated(net, x, y, rounds, batch)
        print(f"| {vocab}, {emb}, {units}, {batch} x {steps} | {share:.2f} | {saved / 1e6:.1f}M | {apart:.3f} | "
              f"{fused:.3f} | {ratio:.2f}x |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru", "simple"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--bidirectional", action="store_true",
                    help=f"Bidirectional(cell({UNITS // 2})), as Keras' imdb_bidirectional_lstm")
    ap.add_argument("--small", action="store_true", help="small layers on Zipf ids (see the module doc)")
    args = ap.parse_args(argv)
    if args.small:
        return small(args.rounds)
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
        fused, apart, ratio = alternated(net, x, y, args.rounds)
        print(f"| {kind} over {vocab} | {share:.2f} | {apart:.2f} | {fused:.2f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
