"""An Embedding read only by an LSTM, GRU or SimpleRNN hands that layer its indices
(engine/network.py, _graph_tokens): the layer projects each distinct token of the batch once,
and writes dW and the Embedding's gradient from its gate gradients summed per token
(BaseRNN._token_inputs). Checked against the two layers run apart (FUSE_EMBEDDINGS off, itself
checked against tf-keras fixtures elsewhere) and against a float64 NumPy SimpleRNN; the fallback
(too few repeated tokens, input dropout) and the plans that must not fuse."""
import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine as E
from seqnet.engine import network
from seqnet.engine.base_layer import TokenRows
from seqnet.layers import (GRU, LSTM, RNN, Bidirectional, Dense, Embedding, GlobalAveragePooling1D, Input, LSTMCell,
                           SimpleRNN)
from seqnet.layers.recurrent.base_rnn import BaseRNN

VOCAB, STEPS = 300, 20


@pytest.fixture(autouse=True)
def fusion_setting():
    saved = network.FUSE_EMBEDDINGS, BaseRNN._DISTINCT_TOKENS, BaseRNN._MIN_SAVED_MACS
    BaseRNN._MIN_SAVED_MACS = 0  # the small layers here take the distinct-token path too
    yield
    network.FUSE_EMBEDDINGS, BaseRNN._DISTINCT_TOKENS, BaseRNN._MIN_SAVED_MACS = saved


def text_ids(n, seed, vocab=VOCAB, zipf=True):
    """Word ids as running text has them (Zipf's law: many repeats), or uniform."""
    rng = np.random.RandomState(seed)
    if not zipf:
        return rng.randint(vocab, size=(n, STEPS)).astype(np.int32)
    p = 1.0 / np.arange(1, vocab + 1)
    return rng.choice(vocab, size=(n, STEPS), p=p / p.sum()).astype(np.int32)


CELLS = {"lstm": lambda **kw: LSTM(8, **kw), "gru": lambda **kw: GRU(8, **kw),
         "gru_reset_after": lambda **kw: GRU(8, reset_after=True, **kw), "simple": lambda **kw: SimpleRNN(8, **kw)}


def build(cell, functional=False, mask_zero=False, sequences=False, **rnn_kw):
    np.random.seed(3)
    if not functional:
        return keras.models.Sequential([Embedding(VOCAB, 16, input_length=STEPS), CELLS[cell](**rnn_kw),
                                        Dense(1, activation="sigmoid")])
    inp = Input((STEPS,))
    h = Embedding(VOCAB, 16, mask_zero=mask_zero)(inp)
    h = CELLS[cell](return_sequences=sequences, **rnn_kw)(h)
    if sequences:
        h = GlobalAveragePooling1D()(h)
    return keras.models.Model(inp, Dense(1, activation="sigmoid")(h))


def train(make, fuse, x, y, optimizer="rmsprop", epochs=3):
    network.FUSE_EMBEDDINGS = fuse
    model = make()
    model.compile(optimizer, "binary_crossentropy")
    hist = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, shuffle=False)
    marks = sum(m is not None for m in model._token_fusions())  # Embeddings the plan may hand over
    return model, model.get_weights(), hist.history["loss"], model.predict(x, batch_size=16), marks


def rnn_of(model):
    layer = next(layer for layer in model.layers if isinstance(layer, (BaseRNN, Bidirectional)))
    return layer.forward_layer if isinstance(layer, Bidirectional) else layer


def assert_close(fused, apart, rtol):
    for a, b in zip(fused, apart):
        scale = max(np.max(np.abs(b)), 1e-3)
        assert np.max(np.abs(a - b)) <= rtol * scale, (np.max(np.abs(a - b)), scale)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("shape", ["sequential", "functional_mask_zero", "sequences_backwards"])
def test_fused_training_matches_the_layers_run_apart(cell, shape):
    x, y = text_ids(64, 0), np.random.RandomState(1).randint(2, size=(64, 1)).astype(np.float32)
    if shape == "sequential":
        make = lambda: build(cell)  # noqa: E731
    elif shape == "functional_mask_zero":
        make = lambda: build(cell, functional=True, mask_zero=True)  # noqa: E731
    else:
        make = lambda: build(cell, functional=True, sequences=True, go_backwards=True)  # noqa: E731
    fused = train(make, True, x, y)
    apart = train(make, False, x, y)
    # the fused runs took the distinct-token path; the others ran the Embedding apart
    assert rnn_of(fused[0])._tokens[0] is not None and rnn_of(apart[0])._tokens == (None, None)
    assert fused[4] == 1 and apart[4] == 0
    assert_close(fused[1], apart[1], 2e-5)
    np.testing.assert_allclose(fused[2], apart[2], rtol=1e-5)
    np.testing.assert_allclose(fused[3], apart[3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_dense_gradient_optimizers(optimizer):
    # RMSprop updates the table's rows alone (row-sparse gradient); these take it dense
    x, y = text_ids(48, 2), np.random.RandomState(2).randint(2, size=(48, 1)).astype(np.float32)
    fused = train(lambda: build("lstm"), True, x, y, optimizer)
    apart = train(lambda: build("lstm"), False, x, y, optimizer)
    assert rnn_of(fused[0])._tokens[0] is not None
    assert_close(fused[1], apart[1], 2e-5)


def simple_rnn_reference(table, ids, w, u, b, dh_last):
    """float64: h_t = tanh(E[ids_t] W + h U + b) from h = 0; gradients of sum(h_last * dh_last)
    with respect to the table, W, U and b."""
    table, w, u, b, dh_last = (a.astype(np.float64) for a in (table, w, u, b, dh_last))
    x = table[ids]
    batch, steps = ids.shape
    hs = [np.zeros((batch, u.shape[0]))]
    for t in range(steps):
        hs.append(np.tanh(x[:, t] @ w + hs[-1] @ u + b))
    dtable, dw, du, db = np.zeros_like(table), np.zeros_like(w), np.zeros_like(u), np.zeros_like(b)
    dh = dh_last
    for t in range(steps - 1, -1, -1):
        dz = dh * (1 - hs[t + 1] ** 2)
        dw += x[:, t].T @ dz
        du += hs[t].T @ dz
        db += dz.sum(0)
        np.add.at(dtable, ids[:, t], dz @ w.T)
        dh = dz @ u.T
    return hs[-1], dtable, dw, du, db


def test_token_rows_against_float64_numpy():
    rng = np.random.RandomState(5)
    emb, rnn = Embedding(50, 12), SimpleRNN(7)
    emb.build((None, 30))
    rnn.build((None, 30, 12))
    for wt in emb.weights + rnn.weights:
        wt.value[...] = rng.uniform(-0.5, 0.5, wt.value.shape)
    ids = rng.randint(0, 12, size=(6, 30)).astype(np.int64)  # 12 of 50 words: many repeats
    dh_last = rng.standard_normal((6, 7)).astype(np.float32)
    tokens = emb.token_rows(ids)
    assert isinstance(tokens, TokenRows) and tokens.shape == (6, 30, 12)
    h = rnn.forward(tokens, True)
    assert rnn._tokens[0] is not None
    dx = rnn.backward(dh_last, need_dx=True)
    assert dx.shape == ids.shape and not dx.any()  # indices take no gradient
    h_ref, dtable, dw, du, db = simple_rnn_reference(emb.embeddings.value, ids, rnn.kernel.value,
                                                     rnn.recurrent_kernel.value, rnn.bias.value, dh_last)
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6)
    for got, ref in ((emb.embeddings.grad, dtable), (rnn.kernel.grad, dw), (rnn.recurrent_kernel.grad, du),
                     (rnn.bias.grad, db)):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
    assert not emb.embeddings.grad[12:].any()


def test_few_repeats_and_input_dropout_run_the_embedding_apart():
    x, y = text_ids(32, 4, vocab=VOCAB, zipf=False), np.ones((32, 1), np.float32)
    BaseRNN._DISTINCT_TOKENS = 0.05  # as if the batch's words hardly repeat
    fused = train(lambda: build("gru"), True, x, y, epochs=1)
    rnn = rnn_of(fused[0])
    assert fused[4] == 1 and rnn._tokens[1] is not None
    apart = train(lambda: build("gru"), False, x, y, epochs=1)
    for a, b in zip(fused[1], apart[1]):  # the same computation: the same bits
        assert np.array_equal(a, b)
    BaseRNN._DISTINCT_TOKENS = 1.0
    fused = train(lambda: build("lstm", functional=True, dropout=0.25), True, x, y, epochs=1)
    apart = train(lambda: build("lstm", functional=True, dropout=0.25), False, x, y, epochs=1)
    for a, b in zip(fused[1], apart[1]):
        assert np.array_equal(a, b)
    network.FUSE_EMBEDDINGS = True
    fused[0].train_on_batch(x[:16], y[:16])
    # training with input dropout: the plan runs the Embedding itself and hands over its output
    assert rnn_of(fused[0])._tokens == (None, None) and network._TOKENS not in fused[0]._token_run
    fused[0].predict(x[:16])
    assert rnn_of(fused[0])._tokens[0] is not None  # inference has no dropout: distinct tokens


def test_frozen_layers():
    x, y = text_ids(32, 6), np.zeros((32, 1), np.float32)

    def make(frozen):
        def f():
            m = build("lstm")
            m.layers[frozen].trainable = False
            return m
        return f
    for frozen in (0, 1):
        fused = train(make(frozen), True, x, y, epochs=2)
        apart = train(make(frozen), False, x, y, epochs=2)
        assert rnn_of(fused[0])._tokens[0] is not None
        assert_close(fused[1], apart[1], 2e-5)
        before = make(frozen)().get_weights()
        kept = [0] if frozen == 0 else [1, 2, 3]
        for i in kept:
            assert np.array_equal(fused[1][i], before[i])


def test_plans_that_do_not_fuse():
    network.FUSE_EMBEDDINGS = True
    # the Embedding's output read twice, or a model output, or its layer called twice
    inp = Input((STEPS,))
    e = Embedding(VOCAB, 8)(inp)
    two = keras.models.Model(inp, keras.layers.add([LSTM(4)(e), GRU(4)(e)]))
    assert not any(two._token_fusions())
    out = keras.models.Model(inp, [e, LSTM(4)(e)])
    assert not any(out._token_fusions())
    shared = Embedding(VOCAB, 8)
    a, b = Input((STEPS,)), Input((STEPS,))
    model = keras.models.Model([a, b], keras.layers.concatenate([LSTM(4)(shared(a)), LSTM(4)(shared(b))]))
    marks = model._token_fusions()
    assert sum(m is not None for m in marks) == 1  # the call whose backward runs first, not the accumulating one


def test_shared_embedding_gradients_add_up():
    shared_rnn_inputs = (text_ids(32, 7), text_ids(32, 8))
    y = np.random.RandomState(3).randint(2, size=(32, 1)).astype(np.float32)

    def make():
        np.random.seed(4)
        shared = Embedding(VOCAB, 8)
        a, b = Input((STEPS,)), Input((STEPS,))
        h = keras.layers.concatenate([LSTM(4)(shared(a)), SimpleRNN(4)(shared(b))])
        return keras.models.Model([a, b], Dense(1, activation="sigmoid")(h))
    results = []
    for fuse in (True, False):
        network.FUSE_EMBEDDINGS = fuse
        m = make()
        m.compile("rmsprop", "binary_crossentropy")
        m.fit(list(shared_rnn_inputs), y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        results.append(m.get_weights())
    assert_close(results[0], results[1], 2e-5)


def test_tensorboard_values_keep_the_embedding_output():
    from seqnet.callbacks import tensorboard_model
    x = text_ids(8, 9)
    model = build("lstm")
    model.compile("rmsprop", "binary_crossentropy")
    values = tensorboard_model.forward(model, [x.astype(np.float32)])
    emb_out = values[model._steps[0].out_slots[0]]
    np.testing.assert_array_equal(emb_out, model.layers[0].embeddings.value[x])


def test_bad_index_names_it():
    x = text_ids(16, 10)
    x[3, 4] = VOCAB + 7
    model = build("lstm")
    model.compile("rmsprop", "binary_crossentropy")
    with pytest.raises(ValueError, match=str(VOCAB + 7)):
        model.train_on_batch(x, np.ones((16, 1), np.float32))


def test_engine_checks_a_missing_x():
    b, t, d, u = 2, 3, 4, 5
    f = lambda *s: np.zeros(s, np.float32)  # noqa: E731
    args = dict(gates=f(b, t, 4 * u), hs=f(b, t, u), aux=f(b, t, u),
                scratch=f(E.rnn_scratch_size(E.RnnCell.LSTM, b, t, d, u)))
    act, rec = E.Activation.tanh, E.Activation.hard_sigmoid
    with pytest.raises(ValueError, match="in_mask must be None"):
        E.rnn_forward(E.RnnCell.LSTM, None, f(d, 4 * u), f(u, 4 * u), None, f(b, u), f(b, u), f(4, b, d), None,
                      args["gates"], args["hs"], args["aux"], args["scratch"], act, rec, False)
    with pytest.raises(ValueError, match="dx and dkernel must be None"):
        E.rnn_backward(E.RnnCell.LSTM, None, f(d, 4 * u), f(u, 4 * u), f(b, u), f(b, u), None, None, args["gates"],
                       args["hs"], args["aux"], None, f(b, u), None, None, f(d, 4 * u), f(u, 4 * u), None, None, None,
                       args["scratch"], act, rec, False)
    # gates hold x W + b: the forward without x gives the forward with it
    rng = np.random.RandomState(0)
    x, w, uu, bias = (rng.uniform(-1, 1, s).astype(np.float32) for s in ((b, t, d), (d, 4 * u), (u, 4 * u), (4 * u,)))
    outs = []
    for given in (True, False):
        g, hs, cs = f(b, t, 4 * u), f(b, t, u), f(b, t, u)
        if not given:
            g[...] = (x.reshape(-1, d).astype(np.float64) @ w + bias).reshape(b, t, 4 * u)
        E.rnn_forward(E.RnnCell.LSTM, x if given else None, w, uu, bias, f(b, u), f(b, u), None, None, g, hs, cs,
                      args["scratch"], act, rec, False)
        outs.append(hs)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_profile_names_the_layer_that_ran_the_embedding():
    from seqnet.profiler import profile_model
    model = build("lstm")
    model.compile("rmsprop", "binary_crossentropy")
    x = text_ids(16, 11)
    p = profile_model(model, x, np.ones((16, 1), np.float32), batch_size=16, steps=2, warmup=1)
    emb = p.row(model.layers[0].name)
    assert emb.run_by == model.layers[1].name and emb.forward_ms == 0.0 and emb.backward_ms == 0.0
    assert emb.forward_flops == 0 and emb.backward_flops == STEPS * 16  # still counted, as run apart
    assert p.row(model.layers[1].name).run_by is None


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_engine_distinct_rows(dtype):
    rng = np.random.RandomState(12)
    ids = rng.randint(0, 40, size=(7, 9)).astype(dtype)
    distinct, inverse = np.full(ids.size, -5, np.int64), np.empty(ids.shape, np.int64)
    for _ in range(2):  # the engine's per-row slots are left clear for the next call
        count = E.embedding_distinct(ids, 40, distinct, inverse)
        flat = ids.reshape(-1).astype(np.int64)
        _, first = np.unique(flat, return_index=True)
        np.testing.assert_array_equal(distinct[:count], flat[np.sort(first)])  # order of first appearance
        np.testing.assert_array_equal(distinct[:count][inverse], ids.astype(np.int64))
    bad = ids.copy()
    bad[2, 3] = 40
    with pytest.raises(ValueError, match="40"):
        E.embedding_distinct(bad, 40, distinct, inverse)
    with pytest.raises(ValueError, match="inverse_out must have the indices' shape"):
        E.embedding_distinct(ids, 40, distinct, np.empty(ids.size, np.int64))
    with pytest.raises(ValueError, match="distinct_out must be 1-D with room"):
        E.embedding_distinct(ids, 40, distinct[:5], inverse)
    with pytest.raises(ValueError, match="int64"):
        E.embedding_distinct(ids, 40, distinct.astype(np.int32), inverse)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("large", [False, True])
def test_fused_training_bit_identical_for_any_thread_count(cell, large):
    # a small layer (each thread projects its own rows) and a seed-sized one (LSTM(128) on 256
    # features over 80 steps: its products run on sgemm's threads)
    steps, emb, units = (80, 256, 128) if large else (STEPS, 16, 8)
    rng = np.random.RandomState(13)
    p = 1.0 / np.arange(1, VOCAB + 1)
    x = rng.choice(VOCAB, size=(32, steps), p=p / p.sum()).astype(np.int32)
    y = rng.randint(2, size=(32, 1)).astype(np.float32)

    def make():
        np.random.seed(6)
        return keras.models.Sequential([Embedding(VOCAB, emb, input_length=steps),
                                        (LSTM if cell == "lstm" else GRU)(units), Dense(1, activation="sigmoid")])
    before = E.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            E.set_num_threads(threads)
            m = train(make, True, x, y, epochs=2)
            assert rnn_of(m[0])._tokens[0] is not None
            results.append(m[1] + [m[3]])
    finally:
        E.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)


BIDIRECTIONAL = {
    "lstm_concat": lambda: Bidirectional(LSTM(8)),
    "gru_sum_sequences": lambda: Bidirectional(GRU(8, return_sequences=True), merge_mode="sum"),
    "simple_ave": lambda: Bidirectional(SimpleRNN(8), merge_mode="ave"),
    "rnn_cell": lambda: Bidirectional(RNN(LSTMCell(8))),  # a layer that cannot take indices: gathered here
    "gru_two_outputs": lambda: Bidirectional(GRU(8), merge_mode=None),  # returns [forward, backward]
}


@pytest.mark.parametrize("kind", sorted(BIDIRECTIONAL))
@pytest.mark.parametrize("share", [0.75, 0.05])  # the distinct-token path, and the per-layer fallback
def test_bidirectional_adds_both_directions(kind, share):
    BaseRNN._DISTINCT_TOKENS = share
    x, y = text_ids(48, 14), np.random.RandomState(6).randint(2, size=(48, 1)).astype(np.float32)

    def make():
        np.random.seed(7)
        inp = Input((STEPS,))
        h = BIDIRECTIONAL[kind]()(Embedding(VOCAB, 12)(inp))
        if isinstance(h, list):
            h = keras.layers.concatenate(h)
        if len(h.shape) == 3:
            h = GlobalAveragePooling1D()(h)
        return keras.models.Model(inp, Dense(1, activation="sigmoid")(h))
    fused = train(make, True, x, y)
    apart = train(make, False, x, y)
    assert fused[4] == 1 and apart[4] == 0
    sub = rnn_of(fused[0])
    if kind != "rnn_cell":
        assert (sub._tokens[0] is not None) == (share > 0.5) and (sub._tokens[1] is not None) == (share < 0.5)
    assert_close(fused[1], apart[1], 2e-5)
    np.testing.assert_allclose(fused[3], apart[3], rtol=1e-5, atol=1e-6)


def test_return_state_and_nested_models():
    x, y = text_ids(32, 15), np.random.RandomState(8).randint(2, size=(32, 1)).astype(np.float32)

    def with_states():  # return_state: the layer's output is a list; its states feed the head
        np.random.seed(9)
        inp = Input((STEPS,))
        out, h, c = LSTM(8, return_state=True)(Embedding(VOCAB, 12)(inp))
        return keras.models.Model(inp, Dense(1, activation="sigmoid")(keras.layers.concatenate([out, h, c])))

    def nested():  # a Sequential (Embedding, GRU) used as a layer of another model
        np.random.seed(10)
        inner = keras.models.Sequential([Embedding(VOCAB, 12, input_length=STEPS), GRU(8)])
        inp = Input((STEPS,))
        return keras.models.Model(inp, Dense(1, activation="sigmoid")(inner(inp)))
    for make in (with_states, nested):
        fused = train(make, True, x, y)
        apart = train(make, False, x, y)
        assert_close(fused[1], apart[1], 2e-5)
        np.testing.assert_allclose(fused[3], apart[3], rtol=1e-5, atol=1e-6)
    inner = fused[0].layers[1]
    assert inner._token_run[0] is network._TOKENS and rnn_of(inner)._tokens[0] is not None


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("large", [False, True])
def test_forward_gives_the_bits_of_the_layers_apart(cell, large):
    # each output sums the same products in the same order: only the rows projected differ
    rng = np.random.RandomState(16)
    p = 1.0 / np.arange(1, VOCAB + 1)
    steps = 80 if large else STEPS
    x = rng.choice(VOCAB, size=(32, steps), p=p / p.sum())
    np.random.seed(11)
    units, dim = (128, 256) if large else (8, 16)
    layer = {"lstm": LSTM, "gru": GRU, "gru_reset_after": lambda u, **kw: GRU(u, reset_after=True, **kw),
             "simple": SimpleRNN}[cell](units, return_sequences=True)
    model = keras.models.Sequential([Embedding(VOCAB, dim, input_length=steps), layer])
    outs = []
    for fuse in (True, False):
        network.FUSE_EMBEDDINGS = fuse
        outs.append(model.predict(x, batch_size=16))
        assert (rnn_of(model)._tokens[0] is not None) == fuse
    assert np.array_equal(outs[0], outs[1])


def test_engine_distinct_rows_of_a_huge_table():
    # past 2**22 rows (and 16 per index) the rows are hashed, not given a slot each
    rng = np.random.RandomState(17)
    ids = rng.choice([5, 2 ** 23 + 7, 3 * 2 ** 22, 2 ** 30 - 1, 0, 123456], size=(9, 11)).astype(np.int64)
    distinct, inverse = np.empty(ids.size, np.int64), np.empty(ids.shape, np.int64)
    for input_dim in (2 ** 30, 2 ** 40):
        count = E.embedding_distinct(ids, input_dim, distinct, inverse)
        flat = ids.reshape(-1)
        _, first = np.unique(flat, return_index=True)
        np.testing.assert_array_equal(distinct[:count], flat[np.sort(first)])
        np.testing.assert_array_equal(distinct[:count][inverse], ids)
    with pytest.raises(ValueError, match="input_dim"):
        E.embedding_distinct(ids, -1, distinct, inverse)


def test_small_layers_run_apart_at_the_default_threshold():
    BaseRNN._MIN_SAVED_MACS = 1 << 24
    x = text_ids(32, 18)
    small = build("lstm")  # Embedding(300, 16) - LSTM(8): a few hundred thousand multiply-adds saved
    small.predict(x, batch_size=16)
    assert rnn_of(small)._tokens == (None, None) and network._TOKENS not in small._token_run
    np.random.seed(12)
    rng = np.random.RandomState(19)
    p = 1.0 / np.arange(1, VOCAB + 1)
    ids = rng.choice(VOCAB, size=(16, 80), p=p / p.sum())
    seed_sized = keras.models.Sequential([Embedding(VOCAB, 256, input_length=80), LSTM(128)])
    seed_sized.predict(ids, batch_size=16)
    assert rnn_of(seed_sized)._tokens[0] is not None
