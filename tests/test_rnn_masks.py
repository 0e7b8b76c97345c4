"""Sequence masks in the recurrent kernels and layers (Keras 2.2.4 K.rnn semantics), GRU with
reset_after=True, and the layers' return_state: the engine against a NumPy float64
step-by-step reference, its gradients against central finite differences of that reference.

Masked-step semantics checked here: the states carry over unchanged, the output repeats the
previous step's output (zeros before the first kept step, whatever the initial state), and
backward sends the gradients of a skipped step straight to the step before it."""
import numpy as np
import pytest

from seqnet import _engine
from seqnet.layers import GRU, LSTM, SimpleRNN

A = _engine.Activation
CELL = {"lstm": _engine.RnnCell.LSTM, "gru": _engine.RnnCell.GRU, "gru_ra": _engine.RnnCell.GRU,
        "simple": _engine.RnnCell.SimpleRNN}
GATES = {"lstm": 4, "gru": 3, "gru_ra": 3, "simple": 1}
CELLS = list(CELL)

# One row per pattern the brief asks for: leading, trailing and middle zeros, a fully
# masked row, and a row that keeps every step.
MASK = np.array([[0, 0, 1, 1, 1],
                 [1, 1, 1, 0, 0],
                 [1, 0, 0, 1, 1],
                 [0, 0, 0, 0, 0],
                 [1, 1, 1, 1, 1]], np.uint8)


# ---- NumPy float64 reference ----------------------------------------------------------------
def act64(name, v):
    return {"linear": lambda a: a, "relu": lambda a: np.maximum(a, 0.0),
            "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
            "hard_sigmoid": lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0), "tanh": np.tanh}[name](v)


def reference(cell, x, w, u, b, h0, c0=None, mask=None, in_mask=None, rec_mask=None, act="tanh",
              rec="hard_sigmoid", back=False):
    """Outputs of every step (step order), final h, final c — float64, one step at a time,
    with K.rnn's masking: where mask[b, t] == 0 the states carry over and the output is the
    previous output (zeros at first)."""
    x, w, u = (np.asarray(a, np.float64) for a in (x, w, u))
    batch, steps, dim = x.shape
    n = u.shape[0]
    g = GATES[cell]
    if b is None:
        b = np.zeros((2, g * n) if cell == "gru_ra" else g * n)
    b = np.asarray(b, np.float64)
    b_in, b_rec = (b[0], b[1]) if cell == "gru_ra" else (b, None)
    im = np.ones((g, batch, dim)) if in_mask is None else np.asarray(in_mask, np.float64)
    rm = np.ones((g, batch, n)) if rec_mask is None else np.asarray(rec_mask, np.float64)
    keep = np.ones((batch, steps), bool) if mask is None else np.asarray(mask).astype(bool)
    h = np.asarray(h0, np.float64).copy()
    c = None if c0 is None else np.asarray(c0, np.float64).copy()
    W = [w[:, k * n:(k + 1) * n] for k in range(g)]
    U = [u[:, k * n:(k + 1) * n] for k in range(g)]
    B = [b_in[k * n:(k + 1) * n] for k in range(g)]
    prev_out = np.zeros((batch, n))
    outs = []
    for s in range(steps):
        t = steps - 1 - s if back else s
        xp = [(x[:, t] * im[k]) @ W[k] + B[k] for k in range(g)]
        new_c = None
        if cell == "lstm":
            i = act64(rec, xp[0] + (h * rm[0]) @ U[0])
            f = act64(rec, xp[1] + (h * rm[1]) @ U[1])
            cc = act64(act, xp[2] + (h * rm[2]) @ U[2])
            o = act64(rec, xp[3] + (h * rm[3]) @ U[3])
            new_c = f * c + i * cc
            new_h = o * act64(act, new_c)
        elif cell == "gru":
            z = act64(rec, xp[0] + (h * rm[0]) @ U[0])
            r = act64(rec, xp[1] + (h * rm[1]) @ U[1])
            hh = act64(act, xp[2] + (r * h * rm[2]) @ U[2])
            new_h = z * h + (1 - z) * hh
        elif cell == "gru_ra":
            BR = [b_rec[k * n:(k + 1) * n] for k in range(g)]
            z = act64(rec, xp[0] + (h * rm[0]) @ U[0] + BR[0])
            r = act64(rec, xp[1] + (h * rm[1]) @ U[1] + BR[1])
            hh = act64(act, xp[2] + r * ((h * rm[2]) @ U[2] + BR[2]))
            new_h = z * h + (1 - z) * hh
        else:
            new_h = act64(act, xp[0] + (h * rm[0]) @ U[0])
        m = keep[:, t][:, None]
        out = np.where(m, new_h, prev_out)
        h = np.where(m, new_h, h)
        if c is not None:
            c = np.where(m, new_c, c)
        prev_out = out
        outs.append(out)
    return np.stack(outs, axis=1), h, c


# ---- the engine, called directly ------------------------------------------------------------
def make_case(cell, batch=5, steps=5, dim=3, n=3, seed=0, scale=0.5, dropout=False):
    rng = np.random.RandomState(seed)
    g = GATES[cell]
    f32 = lambda *shape: rng.uniform(-scale, scale, shape).astype(np.float32)  # noqa: E731
    case = dict(x=f32(batch, steps, dim) * 2, w=f32(dim, g * n), u=f32(n, g * n),
                b=f32(2, g * n) if cell == "gru_ra" else f32(g * n), h0=f32(batch, n),
                c0=f32(batch, n) if cell == "lstm" else None, in_mask=None, rec_mask=None)
    if dropout:
        case["in_mask"] = (rng.uniform(size=(g, batch, dim)) > 0.3).astype(np.float32) / 0.7
        case["rec_mask"] = (rng.uniform(size=(g, batch, n)) > 0.3).astype(np.float32) / 0.7
    return case


def engine_forward(cell, c, mask, act=A.tanh, rec=A.hard_sigmoid, back=False):
    x = c["x"]
    batch, steps, dim = x.shape
    n = c["u"].shape[0]
    out = dict(gates=np.empty((batch, steps, GATES[cell] * n), np.float32), hs=np.empty((batch, steps, n), np.float32),
               aux=None if cell == "simple" else np.empty((batch, steps, n), np.float32),
               h_last=np.empty((batch, n), np.float32),
               c_last=np.empty((batch, n), np.float32) if cell == "lstm" else None,
               scratch=np.empty(_engine.rnn_scratch_size(CELL[cell], batch, steps, dim, n), np.float32))
    _engine.rnn_forward(CELL[cell], x, c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"], c["rec_mask"],
                        out["gates"], out["hs"], out["aux"], out["scratch"], act, rec, back, mask=mask,
                        h_last=out["h_last"], c_last=out["c_last"], reset_after=cell == "gru_ra")
    return out


def engine_grads(cell, c, mask, act, rec, back, dhs, dh_last, dc_last):
    f = engine_forward(cell, c, mask, act, rec, back)
    g = dict(x=np.empty_like(c["x"]), w=np.empty_like(c["w"]), u=np.empty_like(c["u"]), b=np.empty_like(c["b"]),
             h0=np.empty_like(c["h0"]), c0=np.empty_like(c["h0"]) if cell == "lstm" else None)
    _engine.rnn_backward(CELL[cell], c["x"], c["w"], c["u"], c["h0"], c["c0"], c["in_mask"], c["rec_mask"],
                         f["gates"], f["hs"], f["aux"], dhs, dh_last, dc_last, g["x"], g["w"], g["u"], g["b"], g["h0"],
                         g["c0"], f["scratch"], act, rec, back, mask=mask, reset_after=cell == "gru_ra")
    return g


def as_mask(dtype, steps=5):
    m = MASK[:, :steps]
    return m.astype(bool) if dtype == "bool" else m.copy()


# ---- kernels: forward ------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("dtype", ["uint8", "bool"])
def test_masked_forward_matches_reference(cell, back, dropout, dtype, isa):
    c = make_case(cell, dropout=dropout, scale=0.8)
    got = engine_forward(cell, c, as_mask(dtype), back=back)
    hs, h, cc = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], MASK, c["in_mask"],
                          c["rec_mask"], back=back)
    np.testing.assert_allclose(got["hs"], hs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["h_last"], h, rtol=1e-5, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(got["c_last"], cc, rtol=1e-5, atol=1e-6)
    # the pieces of the semantics, spelled out on the rows built for them
    assert not got["hs"][3].any(), "a fully masked row outputs zeros"
    np.testing.assert_array_equal(got["h_last"][3], c["h0"][3])  # ... and keeps its initial state
    # two skipped steps come first: row 0 ([0, 0, 1, 1, 1]) forwards, row 1 ([1, 1, 1, 0, 0]) backwards
    row = 1 if back else 0
    assert not got["hs"][row, :2].any(), "leading masked steps output zeros even with h0 != 0"
    assert got["hs"][row, 2:].any()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("back", [False, True])
def test_all_ones_mask_is_bit_identical_to_no_mask(cell, back):
    c = make_case(cell, batch=3, steps=4, seed=3, dropout=True)
    plain = engine_forward(cell, c, None, back=back)
    ones = engine_forward(cell, c, np.ones((3, 4), np.uint8), back=back)
    for key in ("hs", "h_last", "gates") + (("aux", "c_last") if cell != "simple" else ()):
        assert np.array_equal(plain[key], ones[key]), key
    rng = np.random.RandomState(1)
    dhs, dh = rng.normal(size=(3, 4, 3)).astype(np.float32), rng.normal(size=(3, 3)).astype(np.float32)
    g0 = engine_grads(cell, c, None, A.tanh, A.sigmoid, back, dhs, dh, None)
    g1 = engine_grads(cell, c, np.ones((3, 4), bool), A.tanh, A.sigmoid, back, dhs, dh, None)
    for key in g0:
        if g0[key] is not None:
            assert np.array_equal(g0[key], g1[key]), key


def test_no_mask_final_states_are_the_last_outputs():
    for cell in CELLS:
        c = make_case(cell, seed=2)
        got = engine_forward(cell, c, None)
        np.testing.assert_array_equal(got["h_last"], got["hs"][:, -1])
        if cell == "lstm":
            np.testing.assert_array_equal(got["c_last"], got["aux"][:, -1])


# ---- kernels: backward against finite differences -------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("back,dropout", [(False, False), (True, False), (False, True), (True, True)])
def test_masked_backward_matches_finite_differences(cell, back, dropout):
    c = make_case(cell, batch=5, steps=5, dim=2, n=3, seed=4, dropout=dropout)
    act, rec = A.tanh, A.sigmoid
    rng = np.random.RandomState(11)
    w_out, w_h, w_c = rng.normal(size=(5, 5, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 3))

    def loss(**over):
        a = {k: c[k] for k in ("x", "w", "u", "b", "h0", "c0")}
        a.update(over)
        outs, h, cc = reference(cell, a["x"], a["w"], a["u"], a["b"], a["h0"], a["c0"], MASK, c["in_mask"],
                                c["rec_mask"], "tanh", "sigmoid", back)
        return float(np.sum(outs * w_out) + np.sum(h * w_h) + (np.sum(cc * w_c) if cc is not None else 0.0))

    got = engine_grads(cell, c, MASK, act, rec, back, w_out.astype(np.float32), w_h.astype(np.float32),
                       w_c.astype(np.float32) if cell == "lstm" else None)
    eps = 1e-6
    for name in ("x", "w", "u", "b", "h0") + (("c0",) if cell == "lstm" else ()):
        base = c[name].astype(np.float64)
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += eps
            minus[idx] -= eps
            num[idx] = (loss(**{name: plus}) - loss(**{name: minus})) / (2 * eps)
        np.testing.assert_allclose(got[name], num, rtol=1e-3, atol=1e-4, err_msg=f"{cell} d{name}")
    # masked steps: dx exactly 0 (not merely small)
    skipped = ~MASK.astype(bool)
    assert not got["x"][skipped].any()


@pytest.mark.parametrize("cell", CELLS)
def test_masked_backward_only_output_or_only_states(cell):
    """dhs alone (return_sequences) and dh_last alone (the last output / returned state)."""
    c = make_case(cell, batch=5, steps=5, dim=2, n=3, seed=6)
    rng = np.random.RandomState(5)
    w_out, w_h = rng.normal(size=(5, 5, 3)), rng.normal(size=(5, 3))
    for use_seq in (True, False):
        def loss(use_seq=use_seq, **over):
            a = {k: c[k] for k in ("x", "w", "u", "b", "h0", "c0")}
            a.update(over)
            outs, h, _ = reference(cell, a["x"], a["w"], a["u"], a["b"], a["h0"], a["c0"], MASK,
                                   act="tanh", rec="sigmoid")
            return float(np.sum(outs * w_out)) if use_seq else float(np.sum(h * w_h))

        got = engine_grads(cell, c, MASK, A.tanh, A.sigmoid, False, w_out.astype(np.float32) if use_seq else None,
                           None if use_seq else w_h.astype(np.float32), None)
        for name in ("w", "h0"):
            base = c[name].astype(np.float64)
            num = np.zeros_like(base)
            for idx in np.ndindex(base.shape):
                plus, minus = base.copy(), base.copy()
                plus[idx] += 1e-6
                minus[idx] -= 1e-6
                num[idx] = (loss(**{name: plus}) - loss(**{name: minus})) / 2e-6
            np.testing.assert_allclose(got[name], num, rtol=1e-3, atol=1e-4, err_msg=f"{cell} d{name} seq={use_seq}")


# ---- GRU reset_after ------------------------------------------------------------------------
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
def test_gru_reset_after_forward_and_backward(back, dropout, isa):
    c = make_case("gru_ra", batch=3, steps=4, dim=3, n=4, seed=8, scale=0.8, dropout=dropout)
    got = engine_forward("gru_ra", c, None, A.tanh, A.sigmoid, back)
    hs, h, _ = reference("gru_ra", c["x"], c["w"], c["u"], c["b"], c["h0"], None, None, c["in_mask"],
                         c["rec_mask"], "tanh", "sigmoid", back)
    np.testing.assert_allclose(got["hs"], hs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["h_last"], h, rtol=1e-5, atol=1e-6)
    rng = np.random.RandomState(2)
    w_out = rng.normal(size=hs.shape)

    def loss(**over):
        a = {k: c[k] for k in ("x", "w", "u", "b", "h0")}
        a.update(over)
        outs, _, _ = reference("gru_ra", a["x"], a["w"], a["u"], a["b"], a["h0"], None, None, c["in_mask"],
                               c["rec_mask"], "tanh", "sigmoid", back)
        return float(np.sum(outs * w_out))

    grads = engine_grads("gru_ra", c, None, A.tanh, A.sigmoid, back, w_out.astype(np.float32), None, None)
    for name in ("x", "w", "u", "b", "h0"):
        base = c[name].astype(np.float64)
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += 1e-6
            minus[idx] -= 1e-6
            num[idx] = (loss(**{name: plus}) - loss(**{name: minus})) / 2e-6
        np.testing.assert_allclose(grads[name], num, rtol=1e-3, atol=1e-4, err_msg=f"gru reset_after d{name}")


def test_gru_reset_after_differs_from_reset_before():
    # The same weights through both formulations must not agree: the flag reaches the kernel.
    c = make_case("gru_ra", seed=9, scale=0.9)
    before = dict(c, b=np.ascontiguousarray(c["b"][0]))
    a = engine_forward("gru_ra", c, None)["hs"]
    b = engine_forward("gru", before, None)["hs"]
    assert not np.allclose(a, b, atol=1e-3)
    # with a zero recurrent bias and r == 1 (hard_sigmoid saturated) they coincide
    sat = dict(c, b=np.stack([c["b"][0], np.zeros_like(c["b"][1])]))
    sat["b"][0, 3:6] = 100.0
    sat_before = dict(sat, b=np.ascontiguousarray(sat["b"][0]))
    np.testing.assert_allclose(engine_forward("gru_ra", sat, None)["hs"],
                               engine_forward("gru", sat_before, None)["hs"], rtol=1e-5, atol=1e-6)


# ---- determinism --------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_masked_bit_identical_for_1_and_2_threads(cell, restore_threads):
    # LSTM large enough to split its recurrence over batch rows (see test_rnn.py).
    c = make_case(cell, batch=9, steps=30, dim=8, n=64, seed=10, scale=0.3, dropout=True)
    rng = np.random.RandomState(3)
    mask = (rng.uniform(size=(9, 30)) > 0.3).astype(np.uint8)
    mask[0] = 0
    dhs = rng.normal(size=(9, 30, 64)).astype(np.float32)
    dh = rng.normal(size=(9, 64)).astype(np.float32)
    runs = []
    for threads in (1, 2):
        _engine.set_num_threads(threads)
        f = engine_forward(cell, c, mask, back=True)
        g = engine_grads(cell, c, mask, A.tanh, A.hard_sigmoid, True, dhs, dh, None)
        runs.append([f["hs"], f["h_last"]] + [v for v in g.values() if v is not None])
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    ref, _, _ = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], mask, c["in_mask"],
                          c["rec_mask"], back=True)
    np.testing.assert_allclose(runs[0][0], ref, rtol=1e-4, atol=1e-5)


# ---- binding checks -----------------------------------------------------------------------------
def test_mask_and_reset_after_are_validated():
    c = make_case("gru", batch=2, steps=3)
    bad = {
        "float32 mask": (dict(mask=np.ones((2, 3), np.float32)), r"rnn_forward: mask: expected a bool or uint8"),
        "mask shape": (dict(mask=np.ones((3, 2), np.uint8)), r"mask: expected shape \(2, 3\), got \(3, 2\)"),
        "mask noncontig": (dict(mask=np.ones((2, 6), np.uint8)[:, ::2]), r"mask: expected a C-contiguous"),
        "mask list": (dict(mask=[[1, 1, 1], [1, 1, 1]]), r"mask: expected a C-contiguous bool or uint8 array"),
        "h_last shape": (dict(h_last=np.empty((3, 3), np.float32)), r"h_last: expected shape \(2, 3\)"),
        "c_last on gru": (dict(c_last=np.empty((2, 3), np.float32)), r"c_last is for the LSTM cell only"),
        "bias for reset_after": (dict(reset_after=True), r"bias: expected shape \(2, 9\), got \(9,\)"),
    }
    for kw, msg in bad.values():
        gates, hs, rh = np.empty((2, 3, 9), np.float32), np.empty((2, 3, 3), np.float32), np.empty((2, 3, 3), np.float32)
        scratch = np.empty(_engine.rnn_scratch_size(_engine.RnnCell.GRU, 2, 3, 3, 3), np.float32)
        with pytest.raises(ValueError, match=msg):
            _engine.rnn_forward(_engine.RnnCell.GRU, c["x"], c["w"], c["u"], c["b"], c["h0"], None, None, None, gates,
                                hs, rh, scratch, A.tanh, A.hard_sigmoid, False, **kw)
    s = make_case("simple", batch=2, steps=3)
    with pytest.raises(ValueError, match="reset_after applies to the GRU cell only"):
        _engine.rnn_forward(_engine.RnnCell.SimpleRNN, s["x"], s["w"], s["u"], s["b"], s["h0"], None, None, None,
                            np.empty((2, 3, 3), np.float32), np.empty((2, 3, 3), np.float32), None,
                            np.empty(10000, np.float32), A.tanh, A.tanh, False, reset_after=True)


# ---- layers: masks, return_state, reset_after ------------------------------------------------
LAYERS = {"lstm": lambda **kw: LSTM(3, **kw), "gru": lambda **kw: GRU(3, **kw),
          "gru_ra": lambda **kw: GRU(3, reset_after=True, **kw), "simple": lambda **kw: SimpleRNN(3, **kw)}


def built_layer(cell, steps=5, dim=2, seed=0, **kw):
    layer = LAYERS[cell](**kw)
    layer.build((None, steps, dim))
    rng = np.random.RandomState(seed)
    # random weights (not the initializers' zeros for the bias) so every term is exercised
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def layer_reference(layer, cell, x, mask, h0=None, c0=None):
    w, u, b = layer.get_weights()
    batch, n = x.shape[0], layer.units
    zeros = np.zeros((batch, n))
    rec = "sigmoid" if getattr(layer, "recurrent_activation", None) is not None and \
        layer.recurrent_activation.__name__ == "sigmoid" else "hard_sigmoid"
    return reference(cell, x, w, u, b, zeros if h0 is None else h0,
                     (zeros if c0 is None else c0) if cell == "lstm" else None, mask, rec=rec,
                     back=layer.go_backwards)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("sequences", [False, True])
@pytest.mark.parametrize("back", [False, True])
def test_layer_forward_with_mask_and_return_state(cell, sequences, back):
    layer = built_layer(cell, return_sequences=sequences, return_state=True, go_backwards=back)
    x = np.random.RandomState(1).normal(size=(5, 5, 2)).astype(np.float32)
    out = layer.forward(x, training=False, mask=MASK.astype(bool))
    n_states = 2 if cell == "lstm" else 1
    assert isinstance(out, list) and len(out) == layer.n_outputs == 1 + n_states
    outs, h, c = layer_reference(layer, cell, x, MASK)
    np.testing.assert_allclose(out[0], outs if sequences else outs[:, -1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[1], h, rtol=1e-5, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(out[2], c, rtol=1e-5, atol=1e-6)
    # the masks the layer hands on (Keras 2.2.4's RNN.compute_mask)
    m = MASK.astype(bool)
    got_mask = layer.compute_mask(x, m)
    assert isinstance(got_mask, list) and len(got_mask) == layer.n_outputs
    assert (got_mask[0] is m) if sequences else got_mask[0] is None
    assert all(v is None for v in got_mask[1:])
    shapes = layer.compute_output_shape((None, 5, 2))
    assert shapes == [(None, 5, 3) if sequences else (None, 3)] + [(None, 3)] * n_states


def test_layer_without_return_state_keeps_one_output():
    layer = built_layer("lstm", return_sequences=True)
    assert layer.n_outputs == 1 and layer.supports_masking
    x = np.random.RandomState(2).normal(size=(5, 5, 2)).astype(np.float32)
    y = layer.forward(x, training=False, mask=MASK)  # uint8 works as well as bool
    np.testing.assert_allclose(y, layer_reference(layer, "lstm", x, MASK)[0], rtol=1e-5, atol=1e-6)
    assert layer.compute_mask(x, MASK) is MASK
    assert built_layer("lstm").compute_mask(x, MASK) is None
    assert layer.compute_mask(x, [MASK, None, None]) is MASK  # Keras: [input mask] + states' masks
    np.testing.assert_array_equal(layer.forward(x, training=False, mask=np.ones((5, 5), bool)),
                                  layer.forward(x, training=False))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, timesteps\) = \(5, 5\), got \(5, 4\)"):
        layer.forward(x, training=False, mask=MASK[:, :4])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("sequences,back", [(False, False), (True, False), (False, True), (True, True)])
def test_layer_backward_with_mask_and_state_gradients(cell, sequences, back):
    layer = built_layer(cell, seed=3, return_sequences=sequences, return_state=True, go_backwards=back,
                        **({} if cell == "simple" else dict(recurrent_activation="sigmoid")))
    rng = np.random.RandomState(4)
    x = rng.normal(size=(5, 5, 2)).astype(np.float32)
    out = layer.forward(x, training=True, mask=MASK)
    w_out = rng.normal(size=out[0].shape)
    w_h = rng.normal(size=(5, 3))
    w_c = rng.normal(size=(5, 3))
    # the h gradient is left out (None) for the LSTM: every entry may be None
    grads = [w_out.astype(np.float32), None if cell == "lstm" else w_h.astype(np.float32)]
    if cell == "lstm":
        grads.append(w_c.astype(np.float32))
    dx = layer.backward(grads, need_dx=True).copy()
    weights = [v.astype(np.float64) for v in layer.get_weights()]
    got = [layer.kernel.grad.copy(), layer.recurrent_kernel.grad.copy(), layer.bias.grad.copy()]

    def loss(ws, xv):
        outs, h, c = reference(cell, xv, ws[0], ws[1], ws[2], np.zeros((5, 3)),
                               np.zeros((5, 3)) if cell == "lstm" else None, MASK,
                               rec="hard_sigmoid" if cell == "simple" else "sigmoid", back=back)
        first = outs if sequences else outs[:, -1]
        total = np.sum(first * w_out)
        return total + (np.sum(c * w_c) if cell == "lstm" else np.sum(h * w_h))

    for i, base in enumerate(weights):
        num = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = [v.copy() for v in weights], [v.copy() for v in weights]
            plus[i][idx] += 1e-6
            minus[i][idx] -= 1e-6
            num[idx] = (loss(plus, x) - loss(minus, x)) / 2e-6
        np.testing.assert_allclose(got[i], num, rtol=1e-3, atol=1e-4, err_msg=f"{cell} weight {i}")
    x64 = x.astype(np.float64)
    num = np.zeros_like(x64)
    for idx in np.ndindex(x.shape):
        plus, minus = x64.copy(), x64.copy()
        plus[idx] += 1e-6
        minus[idx] -= 1e-6
        num[idx] = (loss(weights, plus) - loss(weights, minus)) / 2e-6
    np.testing.assert_allclose(dx, num, rtol=1e-3, atol=1e-4, err_msg=f"{cell} dx")
    assert not dx[~MASK.astype(bool)].any()


def test_layer_backward_needs_a_list_with_return_state():
    layer = built_layer("gru", return_state=True)
    y = layer.forward(np.zeros((5, 5, 2), np.float32), training=True)
    with pytest.raises(ValueError, match="backward needs a list of 2 gradients"):
        layer.backward(np.ones_like(y[0]), need_dx=False)


def test_layer_h_only_gradient_equals_last_output_gradient():
    """Without return_sequences the last output is h: dL/d(output) and dL/dh add up."""
    layer = built_layer("lstm", return_state=True)
    x = np.random.RandomState(5).normal(size=(5, 5, 2)).astype(np.float32)
    g = np.random.RandomState(6).normal(size=(5, 3)).astype(np.float32)
    layer.forward(x, training=True, mask=MASK)
    layer.backward([g, None, None], need_dx=False)
    via_output = layer.kernel.grad.copy()
    layer.forward(x, training=True, mask=MASK)
    layer.backward([None, g, None], need_dx=False)
    np.testing.assert_allclose(layer.kernel.grad, via_output, rtol=1e-6, atol=1e-7)
    layer.forward(x, training=True, mask=MASK)
    layer.backward([g, g, None], need_dx=False)
    np.testing.assert_allclose(layer.kernel.grad, 2 * via_output, rtol=1e-5, atol=1e-6)


def test_stateful_layer_carries_states_past_masked_steps():
    layer = LSTM(3, stateful=True, batch_input_shape=(2, 4, 2))
    layer.build((2, 4, 2))
    rng = np.random.RandomState(7)
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    x1, x2 = rng.normal(size=(2, 2, 4, 2)).astype(np.float32)
    mask1 = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    mask2 = np.array([[0, 0, 0, 0], [0, 1, 1, 0]], bool)
    layer.forward(x1, training=False, mask=mask1)
    w, u, b = layer.get_weights()
    _, h1, c1 = reference("lstm", x1, w, u, b, np.zeros((2, 3)), np.zeros((2, 3)), mask1)
    np.testing.assert_allclose(layer.states[0], h1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.states[1], c1, rtol=1e-5, atol=1e-6)
    kept = [s.copy() for s in layer.states]
    y2 = layer.forward(x2, training=False, mask=mask2)
    outs2, h2, _ = reference("lstm", x2, w, u, b, h1, c1, mask2)
    np.testing.assert_allclose(y2, outs2[:, -1], rtol=1e-5, atol=1e-6)
    assert not y2[0].any()  # a fully masked row outputs zeros ...
    np.testing.assert_allclose(layer.states[0], h2, rtol=1e-5, atol=1e-6)
    for state, before in zip(layer.states, kept):  # ... and keeps its states, bit for bit
        np.testing.assert_array_equal(state[0], before[0])


def test_gru_reset_after_layer_weights_and_config():
    layer = GRU(4, reset_after=True, use_bias=True)
    layer.build((None, 3, 2))
    assert [w.shape for w in layer.get_weights()] == [(2, 12), (4, 12), (2, 12)]
    assert layer.get_config()["reset_after"] is True
    assert GRU.from_config(layer.get_config()).reset_after is True
    no_bias = GRU(4, reset_after=True, use_bias=False)
    no_bias.build((None, 3, 2))
    x = np.random.RandomState(8).normal(size=(2, 3, 2)).astype(np.float32)
    w, u = no_bias.get_weights()
    ref, _, _ = reference("gru_ra", x, w, u, None, np.zeros((2, 4)))
    np.testing.assert_allclose(no_bias.forward(x, training=False), ref[:, -1], rtol=1e-5, atol=1e-6)
