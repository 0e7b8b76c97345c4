"""Recurrent layers (LSTM, GRU, SimpleRNN) started from given initial states, as Keras 2.2.4's
``layer(x, initial_state=[...])`` and ``layer([x, h0, ...])``: predictions and SGD steps against
tf-keras fixtures (tests/fixtures/make_sweep_rnn_fixtures.py: states from Inputs, from Dense
layers, from an encoder; masks, go_backwards, return_state, reset_after), a float64 NumPy
reference, stateful layers, save/load, ONNX export, and the argument errors."""
import json
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import GRU, LSTM, RNN, Dense, Embedding, Input, LSTMCell, SimpleRNN, TimeDistributed
from seqnet.models import Model, load_model, model_from_json

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
DATA = np.load(os.path.join(FIXTURES, "sweep_rnn.npz"))
CASES = json.loads(str(DATA["config"]))
# as in make_sweep_rnn_fixtures.py
TIMESTEPS, FEATURES, UNITS, Z, STEPS, LR = 5, 4, 3, 6, 2, 0.1
KINDS = {"LSTM": LSTM, "GRU": GRU, "SimpleRNN": SimpleRNN}


def build(spec):
    """The seqnet twin of make_sweep_rnn_fixtures.build."""
    rnn = KINDS[spec["kind"]]
    n_states = 2 if spec["kind"] == "LSTM" else 1
    if spec["embed"]:
        seq = Input((TIMESTEPS,), dtype="int32")
        x = Embedding(spec["embed"], FEATURES, mask_zero=True)(seq)
    else:
        seq = Input((TIMESTEPS, FEATURES))
        x = seq
    encoder_kwargs = {}
    if spec["kind"] != "SimpleRNN":
        encoder_kwargs["recurrent_activation"] = spec["kwargs"].get("recurrent_activation", "hard_sigmoid")
    if spec["kwargs"].get("reset_after") is not None:
        encoder_kwargs["reset_after"] = spec["kwargs"]["reset_after"]
    if spec["source"] == "input":
        inputs = [Input((UNITS,)) for _ in range(n_states)]
        states = inputs
    elif spec["source"] == "dense":
        inputs = [Input((Z,))]
        states = [Dense(UNITS, activation="tanh")(inputs[0]) for _ in range(n_states)]
    else:
        inputs = [Input((TIMESTEPS + 1, FEATURES))]
        states = rnn(UNITS, return_state=True, **encoder_kwargs)(inputs[0])[1:]
    layer = rnn(UNITS, **spec["kwargs"])
    out = layer([x] + states) if spec["call"] == "list" else layer(x, initial_state=states)
    outs = out if isinstance(out, list) else [out]
    if spec["head"]:
        outs = [TimeDistributed(Dense(2))(outs[0])] + outs[1:]
    return Model([seq] + inputs, outs if len(outs) > 1 else outs[0])


def unpack(model, flat):
    weights, at = [], 0
    for w in model.get_weights():
        weights.append(flat[at:at + w.size].reshape(w.shape))
        at += w.size
    assert at == flat.size
    return weights


def case_arrays(case, what):
    arrays, i = [], 0
    while f"{case}_{what}{i}" in DATA:
        arrays.append(DATA[f"{case}_{what}{i}"])
        i += 1
    return arrays


def as_list(a):
    return a if isinstance(a, list) else [a]


@pytest.mark.parametrize("case", sorted(CASES))
def test_initial_states_predict_as_tf_keras(case):
    model = build(CASES[case])
    model.set_weights(unpack(model, DATA[f"{case}_w"]))
    preds = as_list(model.predict(case_arrays(case, "x")))
    want = case_arrays(case, "pred")
    assert len(preds) == len(want)
    for got, ref in zip(preds, want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CASES))
def test_initial_states_train_as_tf_keras(case):
    """The gradients reach the initial states: through them, the Dense layers or the encoder
    that make them train as tf-keras'."""
    model = build(CASES[case])
    model.set_weights(unpack(model, DATA[f"{case}_w"]))
    model.compile(keras.optimizers.SGD(lr=LR), "mse")
    xs, ys = case_arrays(case, "x"), case_arrays(case, "y")
    losses = [float(np.ravel(model.train_on_batch(xs, ys if len(ys) > 1 else ys[0]))[0]) for _ in range(STEPS)]
    np.testing.assert_allclose(losses, DATA[f"{case}_loss"], rtol=1e-4)
    for got, ref in zip(model.get_weights(), unpack(model, DATA[f"{case}_after_w"])):
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-5)


def test_simple_rnn_from_a_given_state_matches_numpy_float64():
    rng = np.random.RandomState(3)
    x_in, h_in = Input((4, 2)), Input((3,))
    model = Model([x_in, h_in], SimpleRNN(3, return_sequences=True, go_backwards=True)(x_in, initial_state=h_in))
    kernel, recurrent, bias = [rng.uniform(-0.6, 0.6, w.shape) for w in model.get_weights()]
    model.set_weights([kernel, recurrent, bias])
    x, h0 = rng.normal(0, 1, (2, 4, 2)), rng.normal(0, 1, (2, 3))
    h, want = h0, []
    for t in range(3, -1, -1):  # go_backwards: the outputs in processing order
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        want.append(h)
    got = model.predict([x.astype(np.float32), h0.astype(np.float32)])
    np.testing.assert_allclose(got, np.stack(want, axis=1), rtol=1e-5, atol=1e-6)


def test_a_given_state_replaces_a_stateful_layers_stored_state_on_every_call():
    """Keras 2.2.4: given initial states win over the stored ones on each call (tf-keras uses them
    only while the stored states are all zero); the final states are stored all the same."""
    rng = np.random.RandomState(4)
    x_in, h_in = Input(batch_shape=(2, 4, 3)), Input(batch_shape=(2, 3))
    stateful = GRU(3, stateful=True, return_state=True, name="g")
    model = Model([x_in, h_in], stateful(x_in, initial_state=[h_in]))
    x_in2, h_in2 = Input((4, 3)), Input((3,))
    plain = Model([x_in2, h_in2], GRU(3, return_state=True)(x_in2, initial_state=[h_in2]))
    plain.set_weights(model.get_weights())
    x, h0 = rng.normal(0, 1, (2, 4, 3)).astype(np.float32), rng.normal(0, 1, (2, 3)).astype(np.float32)
    want = plain.predict([x, h0])
    for _ in range(2):
        got = model.predict([x, h0], batch_size=2)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(stateful.states[0], want[1], rtol=1e-6, atol=1e-7)


def test_an_encoder_decoder_saves_and_loads(tmp_path):
    spec = CASES["lstm_seq2seq_masked"]
    model = build(spec)
    model.set_weights(unpack(model, DATA["lstm_seq2seq_masked_w"]))
    xs = case_arrays("lstm_seq2seq_masked", "x")
    want = model.predict(xs)
    path = str(tmp_path / "s2s.h5")
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict(xs), want, rtol=1e-6, atol=1e-7)
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(xs), want, rtol=1e-6, atol=1e-7)


def test_initial_states_export_to_onnx(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import seqnet.onnx

    x_in, h_in, c_in, g_in = Input((5, 3)), Input((4,)), Input((4,)), Input((2,))
    y = LSTM(4, return_sequences=True)(x_in, initial_state=[h_in, c_in])
    z = GRU(2, return_state=True, go_backwards=True, reset_after=True)(x_in, initial_state=[g_in])
    s = SimpleRNN(4)([x_in, h_in])
    model = Model([x_in, h_in, c_in, g_in], [y, s] + z)
    rng = np.random.RandomState(5)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    xs = [rng.normal(0, 1, (3,) + shape).astype(np.float32) for shape in ((5, 3), (4,), (4,), (2,))]
    path = str(tmp_path / "m.onnx")
    seqnet.onnx.export(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: x for i, x in zip(session.get_inputs(), xs)})
    for g, w in zip(got, model.predict(xs)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda x, h: LSTM(3)(x, initial_state=[h]), r"initial states must have shapes \[\(None, 3\), \(None, 3\)\]"),
    (lambda x, h: GRU(2)(x, initial_state=[h]),
     r"initial states must have shapes \[\(None, 2\)\].*got \[\(None, 3\)\]"),
    (lambda x, h: SimpleRNN(3)([x, h], initial_state=[h]), "either in the input list or as initial_state"),
    (lambda x, h: SimpleRNN(3)(x, constants=[h]), "constants"),
    (lambda x, h: RNN(LSTMCell(3))(x, initial_state=[h]), "state_size"),
])
def test_bad_initial_states_raise_valueerror(make, match):
    with pytest.raises(ValueError, match=match):
        make(Input((5, 2)), Input((3,)))


def test_initial_states_of_the_wrong_batch_raise_valueerror():
    x_in, h_in = Input((5, 2)), Input((3,))
    model = Model([x_in, h_in], SimpleRNN(3)(x_in, initial_state=h_in))
    layer = model.layers[-1]
    with pytest.raises(ValueError, match=r"initial states must be 1 array\(s\) of shape \(batch, units\) = \(2, 3\)"):
        layer.forward([np.zeros((2, 5, 2), np.float32), np.zeros((4, 3), np.float32)], False)
