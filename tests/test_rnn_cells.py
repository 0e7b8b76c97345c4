"""RNN(cell), SimpleRNNCell / GRUCell / LSTMCell and StackedRNNCells: against tf-keras
fixtures (tests/fixtures/make_rnn_cell_fixtures.py, Keras 2.2.4 semantics), a float64 NumPy
reference with finite differences for a user cell on the tape, the native and tape paths
against each other, save/load both ways, and argument errors."""
import functools
import os

import numpy as np
import pytest

import seqnet as keras
import seqnet.backend as K
from seqnet.layers import (GRU, LSTM, RNN, Dense, Embedding, GRUCell, Input, Layer, LSTMCell, Masking, SimpleRNN,
                           SimpleRNNCell, StackedRNNCells, concatenate)
from seqnet.models import Model, Sequential, load_model, model_from_json

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
DATA = np.load(os.path.join(FIXTURES, "rnn_cells_tfkeras.npz"))
ROUNDTRIP = np.load(os.path.join(FIXTURES, "rnn_cells_roundtrip.npz"))
T, D = 5, 3


class MinimalRNNCell(Layer):
    """The Keras documentation's example cell."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        output = K.dot(inputs, self.kernel) + K.dot(states[0], self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


class TwoStateCell(Layer):
    """A user cell with two states and an output that is not a state:
    z = x W + h U + b; h' = tanh(z); s' = 0.9 s + sigmoid(z); output = h' * s'."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = (units, units)
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, self.units))
        self.bias = self.add_weight("bias", (self.units,))
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h, s = states
        z = K.bias_add(K.dot(inputs, self.kernel) + K.dot(h, self.recurrent_kernel), self.bias)
        h_new = K.tanh(z)
        s_new = 0.9 * s + K.sigmoid(z)
        return h_new * s_new, [h_new, s_new]


def two_state_reference(x, w, u, b, h, s, mask, go_backwards):
    """float64 K.rnn of TwoStateCell: outputs (processing order) and final states."""
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    prev, outs = np.zeros_like(h), []
    for t in steps:
        z = x[:, t] @ w + h @ u + b
        h_new, s_new = np.tanh(z), 0.9 * s + 1 / (1 + np.exp(-z))
        keep = mask[:, t:t + 1]
        out = np.where(keep, h_new * s_new, prev)
        h, s = np.where(keep, h_new, h), np.where(keep, s_new, s)
        outs.append(out)
        prev = out
    return np.stack(outs, 1), h, s


def weights(data, case, prefix="w"):
    n = len([k for k in data.files if k.startswith(f"{case}_{prefix}") and k[len(case) + 1 + len(prefix):].isdigit()])
    return [data[f"{case}_{prefix}{i}"] for i in range(n)]


def cell(kind, units=4, **kw):
    if kind == "lstm":
        return LSTMCell(units, **kw)
    if kind in ("gru", "gru_ra"):
        return GRUCell(units, reset_after=kind == "gru_ra", **kw)
    return SimpleRNNCell(units, **kw)


LAYERS = {"lstm": LSTM, "gru": GRU, "gru_ra": functools.partial(GRU, reset_after=True), "simple": SimpleRNN}
KINDS = list(LAYERS)


def check_training(model, case, optimizer, loss, inputs=("x",)):
    model.compile(optimizer, loss)
    for k in range(3):
        xs = [DATA[f"{case}_{name}{k}"] for name in inputs]
        got = model.train_on_batch(xs[0] if len(xs) == 1 else xs, DATA[f"{case}_y{k}"])
        assert got == pytest.approx(float(DATA[f"{case}_loss"][k]), rel=1e-3), k


def check_weights(got_weights, want_weights):
    assert len(got_weights) == len(want_weights)
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def predict_close(model, x, want):
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-4, atol=1e-6)


# ---- tf-keras fixtures -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_rnn_over_a_builtin_cell_matches_tf_keras_and_the_layer(kind):
    case = f"{kind}_seq"
    model = Sequential([RNN(cell(kind), return_sequences=True, input_shape=(T, D))])
    assert model.layers[0]._native is not None  # the sequence kernels, not a loop over steps
    model.set_weights(weights(DATA, case))
    predict_close(model, DATA[case + "_x"], DATA[case + "_pred"])
    layer = Sequential([LAYERS[kind](4, return_sequences=True, input_shape=(T, D))])
    layer.set_weights(weights(DATA, case))
    np.testing.assert_array_equal(layer.predict(DATA[case + "_x"]), model.predict(DATA[case + "_x"]))


@pytest.mark.parametrize("kind", KINDS)
def test_rnn_over_a_builtin_cell_trains_as_tf_keras(kind):
    case = f"{kind}_train"
    model = Sequential([RNN(cell(kind), input_shape=(T, D)), Dense(2)])
    model.set_weights(weights(DATA, case))
    predict_close(model, DATA[case + "_x"], DATA[case + "_pred"])
    check_training(model, case, keras.optimizers.SGD(lr=0.1), "mse")
    check_weights(model.get_weights(), weights(DATA, case, "after_w"))


def test_stacked_cells_backwards_match_tf_keras():
    model = Sequential([RNN([cell("lstm"), cell("gru", 3), cell("simple", 2)], return_sequences=True,
                            go_backwards=True, input_shape=(T, D))])
    model.set_weights(weights(DATA, "stacked_seq"))
    predict_close(model, DATA["stacked_seq_x"], DATA["stacked_seq_pred"])


def test_stacked_cells_train_as_tf_keras():
    model = Sequential([RNN(StackedRNNCells([cell("lstm"), cell("gru_ra", 3)]), input_shape=(T, D)), Dense(2)])
    assert model.layers[0]._native is not None
    model.set_weights(weights(DATA, "stacked_train"))
    predict_close(model, DATA["stacked_train_x"], DATA["stacked_train_pred"])
    check_training(model, "stacked_train", keras.optimizers.RMSprop(lr=0.01), "mse")
    check_weights(model.get_weights(), weights(DATA, "stacked_train", "after_w"))


def test_stacked_return_state_in_keras_224_order():
    x = Input((T, D))
    outputs = RNN([cell("lstm"), cell("gru", 3)], return_state=True)(x)
    assert [tuple(t.shape) for t in outputs] == [(None, 3), (None, 3), (None, 4), (None, 4)]
    model = Model(x, outputs)
    model.set_weights(weights(DATA, "stacked_state"))
    out, h2, h1, c1 = model.predict(DATA["stacked_state_x"])
    # tf-keras returns the states in cell order: [output, h1, c1, h2]
    want = [DATA[f"stacked_state_pred{j}"] for j in range(4)]
    for got, ref in zip((out, h1, c1, h2), want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-6)


def test_minimal_user_cell_trains_as_tf_keras():
    model = Sequential([RNN(MinimalRNNCell(4), input_shape=(T, D)), Dense(2)])
    assert model.layers[0]._native is None
    model.set_weights(weights(DATA, "minimal_train"))
    predict_close(model, DATA["minimal_train_x"], DATA["minimal_train_pred"])
    check_training(model, "minimal_train", keras.optimizers.Adam(lr=0.01), "mse")
    check_weights(model.get_weights(), weights(DATA, "minimal_train", "after_w"))


def test_masked_user_cell_trains_as_tf_keras():
    model = Sequential([Masking(0.0, input_shape=(T, D)), RNN(MinimalRNNCell(4), return_sequences=True), Dense(2)])
    model.set_weights(weights(DATA, "minimal_masked"))
    predict_close(model, DATA["minimal_masked_x"], DATA["minimal_masked_pred"])
    check_training(model, "minimal_masked", keras.optimizers.SGD(lr=0.1), "mse")
    check_weights(model.get_weights(), weights(DATA, "minimal_masked", "after_w"))


def test_builtin_cells_on_the_tape_in_a_masked_stack_train_as_tf_keras():
    cells = [MinimalRNNCell(3), cell("lstm"), cell("gru_ra", 3), cell("gru", 3), cell("simple", 2)]
    model = Sequential([Masking(0.0, input_shape=(T, D)), RNN(cells), Dense(2)])
    assert model.layers[1]._native is None
    model.set_weights(weights(DATA, "tape_stack"))
    predict_close(model, DATA["tape_stack_x"], DATA["tape_stack_pred"])
    check_training(model, "tape_stack", keras.optimizers.SGD(lr=0.1), "mse")
    check_weights(model.get_weights(), weights(DATA, "tape_stack", "after_w"))


def test_embedding_mask_with_an_lstm_cell_trains_as_tf_keras():
    model = Sequential([Embedding(10, 3, mask_zero=True, input_length=T), RNN(cell("lstm")),
                        Dense(1, activation="sigmoid")])
    model.set_weights(weights(DATA, "emb_lstm"))
    predict_close(model, DATA["emb_lstm_x"], DATA["emb_lstm_pred"])
    check_training(model, "emb_lstm", keras.optimizers.SGD(lr=0.5), "binary_crossentropy")
    check_weights(model.get_weights(), weights(DATA, "emb_lstm", "after_w"))


def test_masked_gru_cell_backwards_matches_tf_keras():
    model = Sequential([Embedding(10, 3, mask_zero=True, input_length=T),
                        RNN(cell("gru"), return_sequences=True, go_backwards=True)])
    model.set_weights(weights(DATA, "emb_gru_back"))
    predict_close(model, DATA["emb_gru_back_x"], DATA["emb_gru_back_pred"])


def test_initial_state_from_other_layers_trains_as_tf_keras():
    x_in, s_in = Input((T, D)), Input((2,))
    h0 = Dense(4, activation="tanh", name="h0")(s_in)
    c0 = Dense(4, name="c0")(s_in)
    out = RNN(LSTMCell(4), name="rnn")(x_in, initial_state=[h0, c0])
    model = Model([x_in, s_in], Dense(1, name="out")(out))
    names = ("h0", "c0", "rnn", "out")
    for name in names:
        model.get_layer(name).set_weights(weights(DATA, f"initial_state_{name}"))
    predict_close(model, [DATA["initial_state_x"], DATA["initial_state_s"]], DATA["initial_state_pred"])
    check_training(model, "initial_state", keras.optimizers.SGD(lr=0.1), "mse", inputs=("x", "s"))
    for name in names:  # h0 and c0 change only through the gradient of the initial states
        check_weights(model.get_layer(name).get_weights(), weights(DATA, f"initial_state_{name}", "after_w"))


# ---- the tape path: finite differences on a float64 reference ---------------------------------------
@pytest.mark.parametrize("go_backwards", [False, True])
def test_user_cell_gradients_match_finite_differences(go_backwards):
    rng = np.random.RandomState(3)
    batch, units = 4, 3
    layer = RNN(TwoStateCell(units), return_sequences=True, return_state=True, go_backwards=go_backwards)
    layer.build([(None, T, D), (None, units), (None, units)])
    ws = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(ws)
    x = rng.uniform(-1, 1, (batch, T, D)).astype(np.float32)
    h0, s0 = (rng.uniform(-0.5, 0.5, (batch, units)).astype(np.float32) for _ in range(2))
    mask = np.ones((batch, T), bool)
    mask[0, :2] = mask[1, -2:] = mask[2, 1:4] = False
    outs = layer.forward([x, h0, s0], False, mask=[mask, None, None])
    inputs64 = [a.astype(np.float64) for a in [x, h0, s0] + ws]

    def reference(x, h, s, w, u, b):
        return two_state_reference(x, w, u, b, h, s, mask, go_backwards)

    for got, want in zip(outs, reference(*inputs64)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    cotangents = [rng.standard_normal(o.shape) for o in outs]
    dx, dh0, ds0 = layer.backward([c.astype(np.float32) for c in cotangents], True)
    analytic = [dx, dh0, ds0] + [w.grad.copy() for w in layer.weights]

    def loss(arrays):
        return sum(float(np.sum(o * c)) for o, c in zip(reference(*arrays), cotangents))

    for which, grad in enumerate(analytic):
        numeric = finite_differences(loss, inputs64, which)
        np.testing.assert_allclose(grad, numeric, rtol=2e-4, atol=2e-5, err_msg=str(which))


def finite_differences(loss, arrays, which, eps=1e-6):
    arrays = [a.copy() for a in arrays]
    target = arrays[which]
    grad = np.zeros_like(target)
    for idx in np.ndindex(target.shape):
        old = target[idx]
        target[idx] = old + eps
        plus = loss(arrays)
        target[idx] = old - eps
        grad[idx] = (plus - loss(arrays)) / (2 * eps)
        target[idx] = old
    return grad


# ---- the native path against the tape path --------------------------------------------------------
class TapeLSTMCell(LSTMCell):
    def call(self, inputs, states, training=None):
        return super().call(inputs, states, training=training)


class TapeGRUCell(GRUCell):
    def call(self, inputs, states, training=None):
        return super().call(inputs, states, training=training)


class TapeSimpleRNNCell(SimpleRNNCell):
    def call(self, inputs, states, training=None):
        return super().call(inputs, states, training=training)


def run_once(layer, x, mask, dys):
    out = layer.forward(x, False, mask=mask)
    outs = [o.copy() for o in out] if isinstance(out, list) else [out.copy()]
    dx = layer.backward([d.copy() for d in dys] if len(dys) > 1 else dys[0].copy(), True)
    return outs, [dx.copy()] + [w.grad.copy() for w in layer.weights]


@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_native_stack_equals_the_same_cells_on_the_tape(return_sequences, go_backwards, return_state, masked):
    rng = np.random.RandomState(11)
    options = dict(return_sequences=return_sequences, go_backwards=go_backwards, return_state=return_state)
    native = RNN([LSTMCell(4), GRUCell(3, reset_after=True), SimpleRNNCell(2)], **options)
    tape = RNN([TapeLSTMCell(4), TapeGRUCell(3, reset_after=True), TapeSimpleRNNCell(2)], **options)
    for layer in (native, tape):
        layer.build((None, 6, D))
    assert native._native is not None and tape._native is None
    ws = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in native.get_weights()]
    native.set_weights(ws)
    tape.set_weights(ws)
    x = rng.uniform(-1, 1, (4, 6, D)).astype(np.float32)
    mask = None
    if masked:
        mask = np.ones((4, 6), bool)
        mask[0, :2] = mask[1, -3:] = mask[2, :] = mask[3, 2:4] = False
    shapes = native.compute_output_shape((4, 6, D))
    shapes = shapes if return_state else [shapes]
    dys = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    outs_n, grads_n = run_once(native, x, mask, dys)
    outs_t, grads_t = run_once(tape, x, mask, dys)
    for a, b in zip(outs_n + grads_n, outs_t + grads_t):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_a_cell_called_alone_on_arrays_is_one_step():
    rng = np.random.RandomState(2)
    layer = RNN(LSTMCell(3), return_state=True)
    layer.build((None, 1, D))
    layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])
    x = rng.uniform(-1, 1, (2, 1, D)).astype(np.float32)
    h0 = np.zeros((2, 3), np.float32)
    out, (h, c) = layer.cell.call(x[:, 0], [h0, h0])
    y, h_last, c_last = layer.forward(x, False)
    np.testing.assert_allclose(out, y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c, c_last, rtol=1e-6, atol=1e-7)


# ---- states, dropout, shared layers ----------------------------------------------------------------
@pytest.mark.parametrize("make_cell", [lambda: LSTMCell(3), lambda: MinimalRNNCell(3)])
def test_stateful_rnn_carries_its_states_between_batches(make_cell):
    rng = np.random.RandomState(4)
    x = rng.uniform(-1, 1, (2, 6, D)).astype(np.float32)
    whole = Sequential([RNN(make_cell(), return_sequences=True, input_shape=(6, D))])
    parts = Sequential([RNN(make_cell(), return_sequences=True, stateful=True, batch_input_shape=(2, 3, D))])
    parts.set_weights(whole.get_weights())
    want = whole.predict(x)
    first = parts.predict(x[:, :3], batch_size=2)
    second = parts.predict(x[:, 3:], batch_size=2)
    np.testing.assert_allclose(np.concatenate([first, second], 1), want, rtol=1e-5, atol=1e-6)
    parts.reset_states()
    np.testing.assert_allclose(parts.predict(x[:, :3], batch_size=2), want[:, :3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell_class", [LSTMCell, TapeLSTMCell, GRUCell, TapeGRUCell])
def test_dropout_only_while_training(cell_class):
    rng = np.random.RandomState(5)
    layer = RNN(cell_class(4, dropout=0.5, recurrent_dropout=0.5), return_sequences=True)
    plain = RNN(cell_class(4), return_sequences=True)
    for rnn in (layer, plain):
        rnn.build((None, T, D))
    plain.set_weights(layer.get_weights())
    x = rng.uniform(-1, 1, (3, T, D)).astype(np.float32)
    np.testing.assert_array_equal(layer.forward(x, False).copy(), plain.forward(x, False))
    trained = layer.forward(x, True).copy()
    assert not np.allclose(trained, plain.forward(x, False))
    dx = layer.backward(np.ones_like(trained), True)
    assert np.isfinite(dx).all() and all(np.isfinite(w.grad).all() for w in layer.weights)


def test_a_shared_rnn_layer_trains_as_a_shared_lstm_layer():
    rng = np.random.RandomState(6)

    def build(recurrent):
        a, b = Input((T, D)), Input((T, D))
        model = Model([a, b], Dense(1)(concatenate([recurrent(a), recurrent(b)])))
        model.compile(keras.optimizers.SGD(lr=0.1), "mse")
        return model

    with_cell, with_layer = build(RNN(LSTMCell(3))), build(LSTM(3))
    with_layer.set_weights(with_cell.get_weights())
    xs = [rng.uniform(-1, 1, (4, T, D)).astype(np.float32) for _ in range(2)]
    y = rng.uniform(-1, 1, (4, 1)).astype(np.float32)
    for _ in range(2):
        assert with_cell.train_on_batch(xs, y) == pytest.approx(with_layer.train_on_batch(xs, y), rel=1e-6)
    check_weights(with_cell.get_weights(), with_layer.get_weights())


# ---- saving ----------------------------------------------------------------------------------------
def test_save_and_load_round_trip(tmp_path):
    rng = np.random.RandomState(7)
    x = rng.uniform(-1, 1, (3, T, D)).astype(np.float32)
    model = Sequential([RNN([LSTMCell(4), GRUCell(3, reset_after=True, dropout=0.1)], input_shape=(T, D)),
                        Dense(2)])
    model.compile("sgd", "mse")
    model.train_on_batch(x, np.zeros((3, 2), np.float32))
    model.save(tmp_path / "stacked.h5")
    again = load_model(tmp_path / "stacked.h5")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert [w.name for w in again.weights] == [w.name for w in model.weights]
    assert again.layers[0].cell.cells[1].get_config() == model.layers[0].cell.cells[1].get_config()

    inp = Input((T, D))
    custom = Model(inp, Dense(1)(RNN(MinimalRNNCell(4), return_sequences=True)(inp)))
    custom.save(tmp_path / "custom.h5")
    with pytest.raises(ValueError, match="MinimalRNNCell"):
        load_model(tmp_path / "custom.h5")
    again = load_model(tmp_path / "custom.h5", custom_objects={"MinimalRNNCell": MinimalRNNCell})
    np.testing.assert_array_equal(again.predict(x), custom.predict(x))
    mixed = Sequential([RNN([MinimalRNNCell(3), LSTMCell(2)], input_shape=(T, D))])
    mixed.save(tmp_path / "mixed.h5")
    again = load_model(tmp_path / "mixed.h5", custom_objects={"MinimalRNNCell": MinimalRNNCell})
    assert [type(c) for c in again.layers[0].cell.cells] == [MinimalRNNCell, LSTMCell]
    np.testing.assert_array_equal(again.predict(x), mixed.predict(x))
    from_json = model_from_json(custom.to_json(), custom_objects={"MinimalRNNCell": MinimalRNNCell})
    from_json.set_weights(custom.get_weights())
    np.testing.assert_array_equal(from_json.predict(x), custom.predict(x))


@pytest.mark.parametrize("case", ["stacked", "minimal"])
@pytest.mark.parametrize("writer", ["seqnet", "tfkeras"])
def test_files_written_by_tf_keras_and_by_seqnet_load(case, writer):
    model = load_model(os.path.join(FIXTURES, f"rnn_cells_{case}_{writer}.h5"),
                       custom_objects={"MinimalRNNCell": MinimalRNNCell})
    x = ROUNDTRIP[case + "_x"]
    predict_close(model, x, DATA[case + "_pred_tfkeras"])
    check_weights(model.get_weights(), weights(ROUNDTRIP, case))


def test_configs_have_keras_224_keys():
    assert list(LSTMCell(3).get_config()) == [
        "name", "trainable", "dtype", "units", "activation", "recurrent_activation", "use_bias",
        "kernel_initializer", "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint",
        "dropout", "recurrent_dropout", "implementation"]
    gru = GRUCell(3).get_config()
    assert gru["reset_after"] is False and gru["recurrent_activation"] == "hard_sigmoid"
    assert "recurrent_activation" not in SimpleRNNCell(3).get_config()
    config = RNN(LSTMCell(3), return_sequences=True).get_config()
    assert config["cell"]["class_name"] == "LSTMCell" and config["return_sequences"] is True
    for key in ("return_state", "go_backwards", "stateful", "unroll"):
        assert config[key] is False
    rebuilt = RNN.from_config(config)
    assert isinstance(rebuilt.cell, LSTMCell) and rebuilt.cell.units == 3
    stacked = StackedRNNCells.from_config(StackedRNNCells([LSTMCell(2), SimpleRNNCell(3)]).get_config())
    assert [type(c) for c in stacked.cells] == [LSTMCell, SimpleRNNCell] and stacked.state_size == (3, 2, 2)


def test_weights_belong_to_the_cell_and_carry_tf_keras_names():
    model = Sequential([RNN(LSTMCell(3, name="lc"), name="r", input_shape=(T, D))])
    layer = model.layers[0]
    assert [w.name for w in layer.weights] == ["r/lc/kernel:0", "r/lc/recurrent_kernel:0", "r/lc/bias:0"]
    assert all(a is b for a, b in zip(layer.weights, layer.cell.weights))
    assert [w.shape for w in layer.weights] == [(D, 12), (3, 12), (12,)]
    np.testing.assert_array_equal(layer.cell.bias.value[3:6], 1.0)  # unit_forget_bias
    layer.cell.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


# ---- errors ------------------------------------------------------------------------------------------
def test_bad_arguments_raise_value_errors_naming_the_layer_and_shapes():
    with pytest.raises(ValueError, match="state_size"):
        RNN(Dense(3))
    with pytest.raises(ValueError, match="units"):
        LSTMCell(0)
    with pytest.raises(ValueError, match="dropout"):
        GRUCell(3, dropout=1.5)
    with pytest.raises(ValueError, match="non-empty list"):
        StackedRNNCells([])
    with pytest.raises(ValueError, match=r"'r'.*\(None, 4\)"):
        RNN(LSTMCell(3), name="r")(Input((4,)))
    x, h = Input((T, D)), Input((5,))
    with pytest.raises(ValueError, match=r"'r2'.*\[\(None, 3\), \(None, 3\)\].*\(None, 5\)"):
        RNN(LSTMCell(3), name="r2")(x, initial_state=[h, h])
    with pytest.raises(ValueError, match="constants"):
        RNN(LSTMCell(3))(x, constants=[h])
    with pytest.raises(ValueError, match="time_major"):
        RNN(LSTMCell(3), time_major=True)
    with pytest.raises(ValueError, match="batch size"):
        RNN(LSTMCell(3), stateful=True)(x)
    layer = RNN(MinimalRNNCell(3), name="r3")
    layer.build((None, T, D))
    with pytest.raises(ValueError, match=r"'r3'.*\(2, 5\).*\(2, 4\)"):
        layer.forward(np.zeros((2, T, D), np.float32), False, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="LSTMCell: activation 'gelu'"):
        LSTMCell(3, activation="gelu")
