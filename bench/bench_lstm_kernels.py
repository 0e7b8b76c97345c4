"""The seed Embedding + LSTM layer's kernels alone, through the engine: LSTM(128) over 80 steps
of 256 features, batch 16, forward and backward (the gradient reaching only the last step, so
it decays through time as in training a return_sequences=False model), and the large products
of its backward step: dx = dG W^T and the stacked dW = X^T dG, dU = H^T dG.

    python bench/bench_lstm_kernels.py                   # AMX on and off, alternated
    python bench/bench_lstm_kernels.py --rounds 20
    python bench/bench_lstm_kernels.py --steps 400       # gradients decay into subnormals
    python bench/bench_lstm_kernels.py --cell gru        # the same shapes for GRU(128)

Over 80 steps the gradient stays in the normal range; over 400, a tenth of the gate gradients
would be subnormal, which the recurrence flushes (cpu.h, DenormalsMode): the backward took
615 ms with them (built before the flush, AVX-512) and 115 ms without.

Each round times every kernel once per mode; the table gives the median and the fastest
round in milliseconds. Modes alternate within one process, since this machine's speed drifts
by 2x within minutes.

With AMX, each round is framed by two probes of the tile unit's own rate (a bare loop of tile
products, _engine.amx_tile_product_ns): on a shared host other tenants take half of it or more
for seconds at a time (7.7 against 15-19 ns a product here). A second table keeps only the
rounds whose probes were both within 15% of the fastest probe of the run, so AMX and AVX-512
are compared at the tile unit's full rate, whatever the hour.
"""
import argparse
import time

import numpy as np

from seqnet import _engine

BATCH, DIM, UNITS = 16, 256, 128


CELLS = {"lstm": (_engine.RnnCell.LSTM, 4, False), "gru": (_engine.RnnCell.GRU, 3, False),
         "gru_ra": (_engine.RnnCell.GRU, 3, True),  # gru_ra: GRU(reset_after=True)
         "simple": (_engine.RnnCell.SimpleRNN, 1, False)}


def kernels(steps, seed=0, cell_name="lstm"):
    """name -> callable, on the seed layer's shapes over `steps` steps."""
    STEPS = steps
    rng = np.random.RandomState(seed)
    f32 = lambda *shape, s=0.1: rng.uniform(-s, s, shape).astype(np.float32)  # noqa: E731
    cell, gates, reset_after = CELLS[cell_name]
    n = gates * UNITS
    x, w, u = f32(BATCH, STEPS, DIM, s=0.2), f32(DIM, n), f32(UNITS, n)
    b = f32(2, n) if reset_after else f32(n)
    h0 = np.zeros((BATCH, UNITS), np.float32)
    c0 = np.zeros((BATCH, UNITS), np.float32) if cell_name == "lstm" else None
    act, rec = _engine.Activation.tanh, _engine.Activation.hard_sigmoid
    fwd = dict(gates=np.empty((BATCH, STEPS, n), np.float32), hs=np.empty((BATCH, STEPS, UNITS), np.float32),
               aux=None if cell_name == "simple" else np.empty((BATCH, STEPS, UNITS), np.float32),
               h_last=np.empty((BATCH, UNITS), np.float32),
               c_last=np.empty((BATCH, UNITS), np.float32) if c0 is not None else None,
               scratch=np.empty(_engine.rnn_scratch_size(cell, BATCH, STEPS, DIM, UNITS), np.float32))
    dhs = np.zeros((BATCH, STEPS, UNITS), np.float32)
    dh = rng.normal(size=(BATCH, UNITS)).astype(np.float32)
    grads = dict(x=np.empty_like(x), w=np.empty_like(w), u=np.empty_like(u), b=np.empty_like(b),
                 h0=np.empty_like(h0), c0=np.empty_like(c0) if c0 is not None else None)

    def forward():
        _engine.rnn_forward(cell, x, w, u, b, h0, c0, None, None, fwd["gates"], fwd["hs"], fwd["aux"],
                            fwd["scratch"], act, rec, False, h_last=fwd["h_last"], c_last=fwd["c_last"],
                            reset_after=reset_after)

    def backward():
        forward()  # backward overwrites the gates with their gradients
        _engine.rnn_backward(cell, x, w, u, h0, c0, None, None, fwd["gates"], fwd["hs"], fwd["aux"], dhs, dh, None,
                             grads["x"], grads["w"], grads["u"], grads["b"], grads["h0"], grads["c0"],
                             fwd["scratch"], act, rec, False, reset_after=reset_after)

    rows = BATCH * STEPS
    xs, dg, hp = f32(rows, DIM), f32(rows, n), f32(rows, UNITS)
    dx, dw, du = np.empty((rows, DIM), np.float32), np.empty((DIM, n), np.float32), np.empty((UNITS, n), np.float32)
    return {
        "forward": forward,
        "forward + backward": backward,
        "dx = dG W^T": lambda: _engine.sgemm(dg, w, dx, False, True),
        "dW, dU (stacked)": lambda: _engine.sgemm_stacked([xs, hp], dg, [dw, du], True, False),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--cell", choices=sorted(CELLS), default="lstm",
                    help="the layer: LSTM(128), GRU(128), GRU(128, reset_after=True) or SimpleRNN(128)")
    args = ap.parse_args(argv)
    modes = [True, False] if _engine.amx_available() else [False]
    ks = kernels(args.steps, cell_name=args.cell)
    times = {(name, m): [] for name in ks for m in modes}
    probes = []  # per round: the slower of the two tile-rate probes around it
    saved = _engine.amx_active()
    try:
        for _ in range(args.rounds):
            before = _engine.amx_tile_product_ns()
            for m in modes:
                _engine.set_amx(m)
                for name, fn in ks.items():
                    t0 = time.perf_counter()
                    fn()
                    times[name, m].append(1e3 * (time.perf_counter() - t0))
            probes.append(max(before, _engine.amx_tile_product_ns()))
    finally:
        _engine.set_amx(saved)
    print(f"{args.cell.upper()}({UNITS}) on {BATCH}x{args.steps}x{DIM}, threads {_engine.get_num_threads()}, {args.rounds} rounds; "
          f"ms, median / fastest")
    tables = [("all rounds", range(args.rounds))]
    if _engine.amx_available():
        full = [r for r, p in enumerate(probes) if p <= 1.15 * min(probes)]
        tables.append((f"rounds at the tile unit's full rate ({len(full)} of {args.rounds}; tile product "
                       f"{min(probes):.1f} ns, slowest round {max(probes):.1f})", full))
    for title, kept in tables:
        print(f"\n{title}\n")
        print("| kernel | " + " | ".join("AMX" if m else "AVX-512" for m in modes) + " |")
        print("|---|" + "---:|" * len(modes))
        for name in ks:
            cells = []
            for m in modes:
                t = [times[name, m][r] for r in kept]
                cells.append(f"{np.median(t):.2f} / {min(t):.2f}")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
