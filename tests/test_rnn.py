"""Recurrent layers (LSTM, GRU, SimpleRNN) and Embedding: kernels against a NumPy float64
step-by-step reference, gradients against finite differences of that reference,
determinism across threads and instruction sets, and parity with tf-keras fixtures
(tests/fixtures/make_rnn_fixtures.py)."""
from pathlib import Path

import numpy as np
import pytest

import seqnet
from seqnet import _engine
from seqnet.layers import GRU, LSTM, Dense, Embedding, SimpleRNN
from seqnet.models import Sequential

FIXTURES = Path(__file__).parent / "fixtures"
CELLS = {"simple": _engine.RnnCell.SimpleRNN, "gru": _engine.RnnCell.GRU, "lstm": _engine.RnnCell.LSTM}
GATES = {"simple": 1, "gru": 3, "lstm": 4}
A = _engine.Activation
LINEAR, RELU, SIGMOID, HARD_SIGMOID, TANH = A.linear, A.relu, A.sigmoid, A.hard_sigmoid, A.tanh


# ---- NumPy float64 reference ---------------------------------------------------------------
def act64(code, v):
    return {LINEAR: lambda a: a, RELU: lambda a: np.maximum(a, 0.0), SIGMOID: lambda a: 1.0 / (1.0 + np.exp(-a)),
            HARD_SIGMOID: lambda a: np.clip(0.2 * a + 0.5, 0.0, 1.0), TANH: np.tanh}[code](v)


def reference(cell, x, w, u, b, h0, c0=None, in_mask=None, rec_mask=None, act=TANH, rec=HARD_SIGMOID,
              back=False):
    """h of every step (step order), final h, final c — float64, one step at a time."""
    x, w, u = (np.asarray(a, np.float64) for a in (x, w, u))
    batch, steps, _ = x.shape
    n = u.shape[0]
    g_count = GATES[cell]
    b = np.zeros(g_count * n) if b is None else np.asarray(b, np.float64)
    im = np.ones((g_count,) + (batch, x.shape[2])) if in_mask is None else np.asarray(in_mask, np.float64)
    rm = np.ones((g_count, batch, n)) if rec_mask is None else np.asarray(rec_mask, np.float64)
    h = np.asarray(h0, np.float64).copy()
    c = None if c0 is None else np.asarray(c0, np.float64).copy()
    W = [w[:, k * n:(k + 1) * n] for k in range(g_count)]
    U = [u[:, k * n:(k + 1) * n] for k in range(g_count)]
    B = [b[k * n:(k + 1) * n] for k in range(g_count)]
    outs = []
    for s in range(steps):
        xt = x[:, steps - 1 - s if back else s]
        xp = [(xt * im[k]) @ W[k] + B[k] for k in range(g_count)]
        if cell == "lstm":
            i = act64(rec, xp[0] + (h * rm[0]) @ U[0])
            f = act64(rec, xp[1] + (h * rm[1]) @ U[1])
            g = act64(act, xp[2] + (h * rm[2]) @ U[2])
            o = act64(rec, xp[3] + (h * rm[3]) @ U[3])
            c = f * c + i * g
            h = o * act64(act, c)
        elif cell == "gru":
            z = act64(rec, xp[0] + (h * rm[0]) @ U[0])
            r = act64(rec, xp[1] + (h * rm[1]) @ U[1])
            hh = act64(act, xp[2] + (r * h * rm[2]) @ U[2])
            h = z * h + (1 - z) * hh
        else:
            h = act64(act, xp[0] + (h * rm[0]) @ U[0])
        outs.append(h)
    return np.stack(outs, axis=1), h, c


# ---- the engine, called directly ------------------------------------------------------------
def engine_forward(cell, x, w, u, b, h0, c0=None, in_mask=None, rec_mask=None, act=TANH, rec=HARD_SIGMOID,
                   back=False):
    batch, steps, dim = x.shape
    n = u.shape[0]
    gates = np.empty((batch, steps, GATES[cell] * n), np.float32)
    hs = np.empty((batch, steps, n), np.float32)
    aux = None if cell == "simple" else np.empty_like(hs)
    scratch = np.empty(_engine.rnn_scratch_size(CELLS[cell], batch, steps, dim, n), np.float32)
    _engine.rnn_forward(CELLS[cell], x, w, u, b, h0, c0, in_mask, rec_mask, gates, hs, aux, scratch, act, rec,
                        back)
    return gates, hs, aux, scratch


def engine_grads(cell, x, w, u, b, h0, c0, in_mask, rec_mask, act, rec, back, dhs, dh_last):
    gates, hs, aux, scratch = engine_forward(cell, x, w, u, b, h0, c0, in_mask, rec_mask, act, rec, back)
    dx, dw, du = np.empty_like(x), np.empty_like(w), np.empty_like(u)
    db = np.empty_like(b)
    dh0 = np.empty_like(h0)
    dc0 = np.empty_like(h0) if cell == "lstm" else None
    _engine.rnn_backward(CELLS[cell], x, w, u, h0, c0, in_mask, rec_mask, gates, hs, aux, dhs, dh_last, None, dx,
                         dw, du, db, dh0, dc0, scratch, act, rec, back)
    return dict(x=dx, w=dw, u=du, b=db, h0=dh0, c0=dc0)


def make_case(cell, batch=3, steps=4, dim=5, n=4, seed=0, scale=0.4, masks=False):
    rng = np.random.RandomState(seed)
    g = GATES[cell]
    f32 = lambda *shape: rng.uniform(-scale, scale, shape).astype(np.float32)  # noqa: E731
    case = dict(x=f32(batch, steps, dim) * 2, w=f32(dim, g * n), u=f32(n, g * n), b=f32(g * n), h0=f32(batch, n),
                c0=f32(batch, n) if cell == "lstm" else None, in_mask=None, rec_mask=None)
    if masks:
        case["in_mask"] = (rng.uniform(size=(g, batch, dim)) > 0.3).astype(np.float32) / 0.7
        case["rec_mask"] = (rng.uniform(size=(g, batch, n)) > 0.3).astype(np.float32) / 0.7
    return case


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("back", [False, True])
@pytest.mark.parametrize("rec", [HARD_SIGMOID, SIGMOID])
@pytest.mark.parametrize("masks", [False, True])
def test_forward_matches_reference(cell, back, rec, masks):
    c = make_case(cell, masks=masks, scale=0.8)
    act = TANH if cell != "simple" or rec == SIGMOID else RELU
    gates, hs, aux, _ = engine_forward(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"],
                                       c["rec_mask"], act, rec, back)
    ref_hs, ref_h, ref_c = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"],
                                     c["rec_mask"], act, rec, back)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-5, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(aux[:, -1], ref_c, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
@pytest.mark.parametrize("back,masks,sequences", [(False, False, True), (True, False, False),
                                                  (False, True, True), (True, True, False)])
def test_backward_matches_finite_differences(cell, back, masks, sequences):
    c = make_case(cell, batch=2, steps=3, dim=3, n=3, seed=1, masks=masks)
    rng = np.random.RandomState(7)
    act, rec = TANH, SIGMOID
    weights_hs = rng.normal(size=(2, 3, 3))
    weights_h = rng.normal(size=(2, 3))

    def loss(**over):
        args = {k: c[k] for k in ("x", "w", "u", "b", "h0", "c0")}
        args.update(over)
        hs, h, _ = reference(cell, args["x"], args["w"], args["u"], args["b"], args["h0"], args["c0"],
                             c["in_mask"], c["rec_mask"], act, rec, back)
        return float(np.sum(hs * weights_hs)) if sequences else float(np.sum(h * weights_h))

    dhs = weights_hs.astype(np.float32) if sequences else None
    dh_last = None if sequences else weights_h.astype(np.float32)
    got = engine_grads(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"], c["rec_mask"], act,
                       rec, back, dhs, dh_last)
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


def _train_step_grads(cell_cls, units=32, shape=(16, 12, 24), **kw):
    np.random.seed(3)
    layer = cell_cls(units, return_sequences=True, **kw)
    layer.build(shape)
    x = np.random.normal(size=shape).astype(np.float32)
    y = layer.forward(x, training=True).copy()
    dx = layer.backward(np.ones_like(y) * 0.1, need_dx=True).copy()
    return [y, dx] + [w.grad.copy() for w in layer.trainable_weights]


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_bit_identical_for_1_and_2_threads(cls):
    before = _engine.get_num_threads()
    try:
        _engine.set_num_threads(1)
        one = _train_step_grads(cls, dropout=0.2, recurrent_dropout=0.2)
        _engine.set_num_threads(2)
        two = _train_step_grads(cls, dropout=0.2, recurrent_dropout=0.2)
    finally:
        _engine.set_num_threads(before)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("kw", [dict(), dict(dropout=0.2, recurrent_dropout=0.2, go_backwards=True)])
def test_lstm_split_over_batch_rows_is_bit_identical(kw):
    # Large enough that each thread runs the whole recurrence of its own batch rows (9 rows:
    # 5 + 4); the rows must come out as the one-thread loop computes them.
    before = _engine.get_num_threads()
    try:
        _engine.set_num_threads(1)
        one = _train_step_grads(LSTM, units=64, shape=(9, 30, 8), **kw)
        _engine.set_num_threads(2)
        two = _train_step_grads(LSTM, units=64, shape=(9, 30, 8), **kw)
    finally:
        _engine.set_num_threads(before)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)


def test_lstm_split_over_batch_rows_matches_reference():
    c = make_case("lstm", batch=9, steps=30, dim=8, n=64, seed=4, scale=0.3, masks=True)
    before = _engine.get_num_threads()
    try:
        _engine.set_num_threads(2)
        _, hs, cs, _ = engine_forward("lstm", c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"],
                                      c["rec_mask"], TANH, HARD_SIGMOID, False)
    finally:
        _engine.set_num_threads(before)
    ref_hs, _, ref_c = reference("lstm", c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], c["in_mask"],
                                 c["rec_mask"], TANH, HARD_SIGMOID, False)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cs[:, -1], ref_c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_every_isa_matches_reference(isa):
    before = _engine.active_isa()
    try:
        got = _engine.set_isa(isa)
        for cell in ("lstm", "gru", "simple"):
            for act, rec in ((TANH, HARD_SIGMOID), (TANH, SIGMOID), (RELU, SIGMOID)):
                c = make_case(cell, seed=5, scale=0.8)
                _, hs, _, _ = engine_forward(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], None, None,
                                             act, rec, False)
                ref, _, _ = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], None, None, act, rec)
                np.testing.assert_allclose(hs, ref, rtol=1e-5, atol=1e-6, err_msg=f"{got} {cell}")
    finally:
        _engine.set_isa(before)


# ---- layers ---------------------------------------------------------------------------------
def test_lstm_layer_options_match_reference():
    rng = np.random.RandomState(2)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    for kw in (dict(), dict(return_sequences=True), dict(go_backwards=True, return_sequences=True),
               dict(recurrent_activation="sigmoid")):
        layer = LSTM(6, **kw)
        layer.build((None, 5, 4))
        w, u, b = layer.get_weights()
        assert w.shape == (4, 24) and u.shape == (6, 24) and b.shape == (24,)
        assert np.all(b[6:12] == 1.0) and np.all(b[:6] == 0.0) and np.all(b[12:] == 0.0)  # unit_forget_bias
        y = layer.forward(x, training=False)
        rec = SIGMOID if kw.get("recurrent_activation") == "sigmoid" else HARD_SIGMOID
        hs, h, _ = reference("lstm", x, w, u, b, np.zeros((3, 6)), np.zeros((3, 6)), rec=rec,
                             back=kw.get("go_backwards", False))
        np.testing.assert_allclose(y, hs if kw.get("return_sequences") else h, rtol=1e-5, atol=1e-6)


def test_stateful_lstm_carries_states_and_resets():
    rng = np.random.RandomState(4)
    model = Sequential([LSTM(4, stateful=True, batch_input_shape=(2, 3, 5)), Dense(1)])
    x1, x2 = rng.normal(size=(2, 2, 3, 5)).astype(np.float32)
    w, u, b = model.layers[0].get_weights()
    model.predict(x1, batch_size=2)
    h_after_1 = model.layers[0].states[0].copy()
    _, h1, c1 = reference("lstm", x1, w, u, b, np.zeros((2, 4)), np.zeros((2, 4)))
    np.testing.assert_allclose(h_after_1, h1, rtol=1e-5, atol=1e-6)
    model.predict(x2, batch_size=2)
    _, h2, _ = reference("lstm", x2, w, u, b, h1, c1)
    np.testing.assert_allclose(model.layers[0].states[0], h2, rtol=1e-5, atol=1e-6)
    model.reset_states()
    assert not model.layers[0].states[0].any() and not model.layers[0].states[1].any()
    with pytest.raises(ValueError, match=r"batch size 2.*3 samples"):
        model.layers[0].forward(np.zeros((3, 3, 5), np.float32), training=False)
    with pytest.raises(ValueError, match="stateful"):
        Sequential([LSTM(4, stateful=True, input_shape=(3, 5))])


def test_input_argument_forms_are_equivalent():
    shapes = []
    for kw in (dict(input_shape=(10, 64)), dict(batch_input_shape=(None, 10, 64)),
               dict(input_length=10, input_dim=64)):
        model = Sequential()
        model.add(LSTM(32, **kw))
        shapes.append(model.input_shape)
    assert shapes == [(None, 10, 64)] * 3
    model = Sequential([LSTM(8, input_dim=3)])
    assert model.input_shape == (None, None, 3)


def test_return_state_in_sequential_is_a_clear_error():
    # return_state works in functional models (tests/test_rnn_masks.py); a Sequential model
    # passes one tensor from layer to layer.
    with pytest.raises(TypeError, match="single output tensor"):
        Sequential([LSTM(4, return_state=True, input_shape=(3, 2))])


def test_rnn_config_round_trip_and_defaults():
    layer = GRU(7, dropout=0.1, go_backwards=True)
    config = layer.get_config()
    assert config["recurrent_activation"] == "hard_sigmoid" and config["reset_after"] is False
    clone = GRU.from_config(config)
    assert clone.go_backwards and clone.dropout == 0.1
    assert LSTM(3).get_config()["unit_forget_bias"] is True
    after = GRU.from_config(GRU(3, reset_after=True).get_config())
    assert after.reset_after is True and after.get_config()["reset_after"] is True
    with pytest.raises(ValueError, match="units"):
        LSTM(0)


def test_dropout_masks_train_and_are_off_at_inference():
    rng = np.random.RandomState(8)
    layer = LSTM(5, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    layer.build((None, 4, 3))
    x = rng.normal(size=(6, 4, 3)).astype(np.float32)
    w, u, b = layer.get_weights()
    ref, _, _ = reference("lstm", x, w, u, b, np.zeros((6, 5)), np.zeros((6, 5)))
    np.testing.assert_allclose(layer.forward(x, training=False), ref, rtol=1e-5, atol=1e-6)
    y_train = layer.forward(x, training=True).copy()
    assert not np.allclose(y_train, ref)
    assert np.all(np.isfinite(layer.backward(np.ones_like(y_train), need_dx=True)))


# ---- Embedding ------------------------------------------------------------------------------
def test_embedding_forward_backward_and_bad_indices():
    layer = Embedding(10, 3, input_length=4)
    layer.build((None, 4))
    table = layer.get_weights()[0]
    assert table.shape == (10, 3) and np.abs(table).max() <= 0.05
    idx = np.array([[1, 2, 2, 9], [0, 0, 1, 5]], np.float32)
    y = layer.forward(idx, training=True)
    np.testing.assert_array_equal(y, table[idx.astype(int)])
    dy = np.arange(24, dtype=np.float32).reshape(2, 4, 3)
    assert layer.backward(dy.copy(), need_dx=False) is None
    expected = np.zeros((10, 3), np.float32)
    np.add.at(expected, idx.astype(int), dy)
    np.testing.assert_array_equal(layer.embeddings.grad, expected)
    for bad in (10, -1, 1.5, np.nan):
        with pytest.raises(ValueError, match="index"):
            layer.forward(np.array([[0, 1, bad, 2]], np.float32), training=False)
    assert Embedding(10, 3, mask_zero=True).get_config()["mask_zero"] is True
    assert Sequential([Embedding(10, 3, input_length=4)]).output_shape == (None, 4, 3)


# ---- parity with tf-keras -------------------------------------------------------------------
def _layer_for(case):
    if case.startswith("lstm"):
        return LSTM(5, return_sequences=case in ("lstm_seq", "lstm_back", "lstm_sigmoid"),
                    go_backwards=case == "lstm_back",
                    recurrent_activation="sigmoid" if case == "lstm_sigmoid" else "hard_sigmoid",
                    input_shape=(6, 3))
    if case.startswith("gru"):
        return GRU(5, return_sequences=case == "gru_seq", go_backwards=case == "gru_back", input_shape=(6, 3))
    return SimpleRNN(5, return_sequences=case == "simple_rnn_seq",
                     activation="relu" if case == "simple_rnn_relu" else "tanh", input_shape=(6, 3))


@pytest.mark.parametrize("case", ["lstm_seq", "lstm_last", "lstm_back", "lstm_sigmoid", "gru_seq", "gru_back",
                                  "simple_rnn_seq", "simple_rnn_relu", "embedding_lstm"])
def test_predict_matches_tf_keras(case):
    data = np.load(FIXTURES / "rnn_predict.npz")
    if case == "embedding_lstm":
        model = Sequential([Embedding(20, 4, input_length=6), LSTM(5)])
    else:
        model = Sequential([_layer_for(case)])
    n = len(model.get_weights())
    model.set_weights([data[f"{case}_w{i}"] for i in range(n)])
    np.testing.assert_allclose(model.predict(data[f"{case}_x"]), data[f"{case}_y"], rtol=1e-4, atol=1e-6)


def test_training_matches_tf_keras():
    data = np.load(FIXTURES / "rnn_train.npz")
    model = Sequential([Embedding(20, 4, input_length=6), LSTM(5), Dense(1, activation="sigmoid")])
    model.set_weights([data[f"w{i}"] for i in range(len(model.get_weights()))])
    model.compile(seqnet.optimizers.RMSprop(lr=0.01), "binary_crossentropy")
    losses = [float(np.asarray(model.train_on_batch(data[f"x{s}"], data[f"y{s}"])).ravel()[0]) for s in range(3)]
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"final{i}"], rtol=1e-3, atol=1e-5)


def test_save_and_load_round_trip(tmp_path):
    from seqnet.models import load_model
    rng = np.random.RandomState(9)
    model = Sequential([Embedding(30, 4, input_length=5), LSTM(6, return_sequences=True, go_backwards=True),
                        GRU(3, return_sequences=True), SimpleRNN(2), Dense(1)])
    model.compile("rmsprop", "mse")
    x = rng.randint(0, 30, (8, 5))
    model.train_on_batch(x, rng.normal(size=(8, 1)))
    model.save(str(tmp_path / "rnn.h5"))
    again = load_model(str(tmp_path / "rnn.h5"))
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    # tf-keras writes time_major=False into recurrent configs
    assert LSTM.from_config(dict(LSTM(2).get_config(), time_major=False)).units == 2


# ---- masks, return_state and GRU(reset_after=True) against tf-keras (make_graph_fixtures.py) ---
def _fixture(name):
    return np.load(FIXTURES / name)


def _set(layer, weights, input_shape):
    layer.build(input_shape)
    layer.set_weights(weights)
    return layer


def test_return_state_matches_tf_keras():
    d = _fixture("graph_rnn_state.npz")
    x = d["return_state_lstm_x"]
    lstm = _set(LSTM(5, return_state=True, return_sequences=True), [d[f"return_state_lstm_w{i}"] for i in range(3)],
                x.shape)
    for got, j in zip(lstm.forward(x, training=False), range(3)):
        np.testing.assert_allclose(got, d[f"return_state_lstm_pred{j}"], rtol=1e-4, atol=1e-6)
    x = d["return_state_gru_x"]
    gru = _set(GRU(5, return_state=True), [d[f"return_state_gru_w{i}"] for i in range(3)], x.shape)
    for got, j in zip(gru.forward(x, training=False), range(2)):
        np.testing.assert_allclose(got, d[f"return_state_gru_pred{j}"], rtol=1e-4, atol=1e-6)
    # Embedding(mask_zero=True) -> LSTM(return_state, return_sequences): the states of a row
    # padded at the end are those of its last real step; a fully padded row gives zeros
    tokens = d["return_state_masked_x"]
    emb = d["return_state_masked_w0"][tokens]
    lstm = _set(LSTM(5, return_state=True, return_sequences=True),
                [d[f"return_state_masked_w{i}"] for i in range(1, 4)], emb.shape)
    for got, j in zip(lstm.forward(emb, training=False, mask=tokens != 0), range(3)):
        np.testing.assert_allclose(got, d[f"return_state_masked_pred{j}"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", ["gru_reset_after", "gru_reset_after_seq"])
def test_gru_reset_after_matches_tf_keras(case):
    d = _fixture("graph_rnn_state.npz")
    x = d[f"{case}_x"]
    gru = _set(GRU(5, reset_after=True, return_sequences=case.endswith("_seq")),
               [d[f"{case}_w{i}"] for i in range(3)], x.shape)
    y = gru.forward(x, training=False) @ d[f"{case}_w3"] + d[f"{case}_w4"]  # the Dense(1) head
    np.testing.assert_allclose(y, d[f"{case}_pred"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case,cls,kw,head", [
    ("emb_mask_lstm", LSTM, {}, True), ("emb_mask_lstm_seq", LSTM, dict(return_sequences=True), False),
    ("emb_mask_gru", GRU, {}, True), ("emb_mask_gru_seq", GRU, dict(return_sequences=True), False),
    ("emb_mask_simplernn", SimpleRNN, {}, True),
    ("emb_mask_simplernn_seq", SimpleRNN, dict(return_sequences=True), False),
    ("masked_go_backwards", LSTM, dict(go_backwards=True), False),
    ("masked_go_backwards_seq", LSTM, dict(go_backwards=True, return_sequences=True), False)])
def test_masked_layers_match_tf_keras(case, cls, kw, head):
    d = _fixture("graph_masks.npz")
    tokens = d[f"{case}_x"]
    emb = d[f"{case}_w0"][tokens]
    layer = _set(cls(5, **kw), [d[f"{case}_w{i}"] for i in range(1, 4)], emb.shape)
    y = layer.forward(emb, training=False, mask=tokens != 0)
    if head:  # Dense(1, sigmoid)
        y = 1.0 / (1.0 + np.exp(-(y @ d[f"{case}_w4"] + d[f"{case}_w5"])))
    np.testing.assert_allclose(y, d[f"{case}_pred"], rtol=1e-4, atol=1e-6)
