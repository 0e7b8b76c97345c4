"""TimeDistributed and Bidirectional (Keras 2.2.4 semantics): tf-keras fixtures for predict
and training (tests/fixtures/make_wrapper_fixtures.py), gradients against central finite
differences of float64 NumPy references, masks, configs, save/load both ways, bad arguments."""
import json
import os

import h5py
import numpy as np
import pytest

import seqnet as keras
from seqnet.engine.keras_tensor import SymbolicMask
from seqnet.layers import (GRU, LSTM, Bidirectional, Conv2D, Dense, Dot, Dropout, Embedding, Flatten, Input, Layer,
                           Masking, TimeDistributed)
from seqnet.models import Model, Sequential, load_model, model_from_json
from test_rnn_masks import reference as rnn_reference

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TD = np.load(os.path.join(FIXTURES, "wrappers_td.npz"))
BI = np.load(os.path.join(FIXTURES, "wrappers_bi.npz"))
MODES = ["concat", "sum", "mul", "ave", None]


def weights(data, case, prefix="w"):
    n = len([k for k in data.files if k.startswith(f"{case}_{prefix}") and k[len(case) + 1 + len(prefix):].isdigit()])
    return [data[f"{case}_{prefix}{i}"] for i in range(n)]


def outputs(data, case, key="pred"):
    if f"{case}_{key}" in data.files:
        return [data[f"{case}_{key}"]]
    return [data[f"{case}_{key}{j}"] for j in range(10) if f"{case}_{key}{j}" in data.files]


def check_predict(model, data, case, x=None):
    got = model.predict(data[f"{case}_x"] if x is None else x)
    got, wants = (got if isinstance(got, list) else [got]), outputs(data, case)
    assert len(got) == len(wants) > 0
    for g, want in zip(got, wants):
        np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-6)


def check_training(model, data, case, n_outputs=1):
    for k in range(3):
        ys = data[f"{case}_y{k}"] if n_outputs == 1 else [data[f"{case}_y{k}_{j}"] for j in range(n_outputs)]
        out = model.train_on_batch(data[f"{case}_x{k}"], ys)
        loss = out[0] if isinstance(out, list) else out
        assert loss == pytest.approx(float(data[f"{case}_loss"][k]), rel=1e-3)
    after = weights(data, case, "after_w")
    assert len(after) == len(model.get_weights()) > 0
    for got, want in zip(model.get_weights(), after):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# ---- TimeDistributed against tf-keras -----------------------------------------------------------
def test_time_distributed_dense_after_an_lstm_matches_tf_keras():
    model = Sequential([LSTM(4, return_sequences=True, input_shape=(5, 3)),
                        TimeDistributed(Dense(3, activation="softmax"))])
    model.set_weights(weights(TD, "td_dense"))
    check_predict(model, TD, "td_dense")
    model.compile(keras.optimizers.Adam(lr=0.01), "categorical_crossentropy")
    check_training(model, TD, "td_dense")


def test_time_distributed_passes_the_mask_to_a_masked_loss_as_tf_keras():
    model = Sequential([Embedding(10, 4, mask_zero=True, input_length=6), LSTM(4, return_sequences=True),
                        TimeDistributed(Dense(1, activation="sigmoid"))])
    model.set_weights(weights(TD, "td_dense_mask"))
    check_predict(model, TD, "td_dense_mask")
    model.compile(keras.optimizers.RMSprop(lr=0.01), "binary_crossentropy")
    check_training(model, TD, "td_dense_mask")


def test_time_distributed_conv2d_on_5d_input_matches_tf_keras():
    model = Sequential([TimeDistributed(Conv2D(3, (3, 3), activation="relu"), input_shape=(3, 6, 6, 2)),
                        TimeDistributed(Flatten()), LSTM(4), Dense(2)])
    assert model.layers[0].output_shape == (None, 3, 4, 4, 3)
    model.set_weights(weights(TD, "td_conv2d"))
    check_predict(model, TD, "td_conv2d")
    model.compile(keras.optimizers.SGD(lr=0.05, momentum=0.9), "mse")
    check_training(model, TD, "td_conv2d")


def test_time_distributed_nested_model_matches_tf_keras():
    inner = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)])
    model = Sequential([TimeDistributed(inner, input_shape=(5, 3))])
    model.set_weights(weights(TD, "td_nested"))
    check_predict(model, TD, "td_nested")
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    check_training(model, TD, "td_nested")


# ---- Bidirectional against tf-keras ----------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seq", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_bidirectional_merge_modes_match_tf_keras(kind, seq, mode):
    case = f"bi_{kind}{'_seq' if seq else ''}_{mode or 'none'}"
    x = Input((5, 3))
    inner = LSTM(4, return_sequences=seq) if kind == "lstm" else GRU(4, return_sequences=seq)
    model = Model(x, Bidirectional(inner, merge_mode=mode)(x))
    model.set_weights(weights(BI, case))
    check_predict(model, BI, case)
    if f"{case}_loss" in BI.files:
        model.compile(keras.optimizers.SGD(lr=0.1), "mse")
        check_training(model, BI, case, n_outputs=2 if mode is None else 1)


def masked_bidirectional_model():
    return Sequential([Embedding(10, 4, mask_zero=True, input_length=6), Bidirectional(LSTM(3, return_sequences=True)),
                       TimeDistributed(Dense(1, activation="sigmoid"))])


def test_masked_bidirectional_sequences_repeat_outputs_as_keras_224_and_train():
    model = masked_bidirectional_model()
    model.set_weights(weights(BI, "bi_mask_lstm_seq"))
    check_predict(model, BI, "bi_mask_lstm_seq")
    x = BI["bi_mask_lstm_seq_x"]
    bare = Model(model.inputs, model.layers[1].output).predict(x)
    np.testing.assert_allclose(bare, BI["bi_mask_lstm_bare_pred"], rtol=1e-4, atol=1e-6)
    # tf-keras' own Bidirectional writes zeros at masked steps; Keras 2.2.4 (and seqnet) repeat
    tf_default, mask = BI["bi_mask_lstm_bare_pred_tfkeras"], x != 0
    np.testing.assert_allclose(bare[mask], tf_default[mask], rtol=1e-4, atol=1e-6)
    assert np.all(tf_default[~mask] == 0) and np.abs(bare[~mask]).max() > 0.01
    model.compile(keras.optimizers.RMSprop(lr=0.01), "binary_crossentropy")
    check_training(model, BI, "bi_mask_lstm_seq")


def test_masked_bidirectional_gru_matches_tf_keras():
    model = Sequential([Embedding(10, 4, mask_zero=True, input_length=6), Bidirectional(GRU(3), merge_mode="sum"),
                        Dense(1, activation="sigmoid")])
    model.set_weights(weights(BI, "bi_mask_gru"))
    check_predict(model, BI, "bi_mask_gru")
    model.compile(keras.optimizers.SGD(lr=0.5), "binary_crossentropy")
    check_training(model, BI, "bi_mask_gru")


def test_bidirectional_return_state_in_a_functional_model_matches_tf_keras():
    x = Input((5, 3))
    outs = Bidirectional(LSTM(4, return_state=True))(x)
    assert [t.shape for t in outs] == [(None, 8)] + [(None, 4)] * 4
    model = Model(x, [Dense(1)(outs[0]), Dense(2)(outs[4])])
    model.set_weights(weights(BI, "bi_state_lstm"))
    check_predict(Model(x, outs), BI, "bi_state_lstm")
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    check_training(model, BI, "bi_state_lstm", n_outputs=2)


def test_bidirectional_return_state_with_merge_mode_none_and_a_mask():
    x = Input((6,))
    outs = Bidirectional(GRU(3, return_sequences=True, return_state=True), merge_mode=None)(
        Embedding(10, 4, mask_zero=True)(x))
    assert [t._keras_mask is not None for t in outs] == [True, True, False, False]
    model = Model(x, outs)
    model.set_weights(weights(BI, "bi_state_gru_none"))
    check_predict(model, BI, "bi_state_gru_none")


def test_stateful_bidirectional_carries_both_states_until_reset():
    model = Sequential([Bidirectional(LSTM(3, stateful=True), batch_input_shape=(2, 5, 3))])
    model.set_weights(weights(BI, "bi_stateful"))
    for x, key in (("x1", "pred1"), ("x2", "pred2")):
        np.testing.assert_allclose(model.predict(BI[f"bi_stateful_{x}"], batch_size=2), BI[f"bi_stateful_{key}"],
                                   rtol=1e-4, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(BI["bi_stateful_x2"], batch_size=2), BI["bi_stateful_pred2_reset"],
                               rtol=1e-4, atol=1e-6)


# ---- saving -------------------------------------------------------------------------------------------
def test_tf_keras_saved_files_load_and_predict():
    model = load_model(os.path.join(FIXTURES, "wrappers_bi_td.h5"))
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "Bidirectional", "TimeDistributed"]
    np.testing.assert_allclose(model.predict(BI["h5_bi_td_x"]), BI["h5_bi_td_pred"], rtol=1e-4, atol=1e-6)
    model = load_model(os.path.join(FIXTURES, "wrappers_td_nested_dot.h5"))
    inner = model.get_layer("time_distributed").layer
    assert isinstance(inner, Sequential) and len(inner.layers) == 2
    got = model.predict([BI["h5_nested_dot_xa"], BI["h5_nested_dot_xb"]])
    np.testing.assert_allclose(got, BI["h5_nested_dot_pred"], rtol=1e-4, atol=1e-6)


def wrapper_model():
    ids, feats = Input((6,), name="ids"), Input((6, 3), name="feats")
    h = Bidirectional(LSTM(3, return_sequences=True), merge_mode="ave")(Embedding(10, 4, mask_zero=True)(ids))
    h = TimeDistributed(Dense(2))(h)
    inner = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)], name="inner")
    g = TimeDistributed(inner)(feats)
    return Model([ids, feats], Dot(axes=2)([h, g]))


def test_seqnet_h5_round_trip_keeps_config_weights_and_predictions(tmp_path):
    model = wrapper_model()
    rng = np.random.RandomState(0)
    xs = [BI["h5_bi_td_x"], rng.randn(6, 6, 3).astype(np.float32)]
    path = tmp_path / "wrappers.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        bi = model.layers[3].name
        names = [n.decode() if isinstance(n, bytes) else n for n in f["model_weights"][bi].attrs["weight_names"]]
        assert names[0].startswith(f"{bi}/forward_lstm_") and names[0].endswith("/kernel:0")
        assert names[3].startswith(f"{bi}/backward_lstm_") and len(names) == 6
    clone = load_model(path)
    assert clone.get_config() == model.get_config()
    np.testing.assert_allclose(clone.predict(xs), model.predict(xs), rtol=1e-6)
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(xs), model.predict(xs), rtol=1e-6)


def test_configs_have_keras_224_keys_and_rebuild_the_wrapped_layers():
    td, bi = TimeDistributed(Dense(2), name="td"), Bidirectional(GRU(3), merge_mode="mul", name="bi")
    assert td.get_config()["layer"] == {"class_name": "Dense", "config": td.layer.get_config()}
    config = bi.get_config()
    assert set(config) == {"name", "trainable", "dtype", "layer", "merge_mode"} and config["merge_mode"] == "mul"
    assert config["layer"]["class_name"] == "GRU" and config["layer"]["config"]["go_backwards"] is False
    rebuilt = Bidirectional.from_config(json.loads(json.dumps(config)))
    assert rebuilt.merge_mode == "mul" and rebuilt.backward_layer.go_backwards
    assert rebuilt.forward_layer.name == "forward_" + config["layer"]["config"]["name"]


def test_a_config_nesting_wrappers_too_deep_is_refused():
    entry = {"class_name": "Dense", "config": {"units": 2}}
    for _ in range(40):
        entry = {"class_name": "TimeDistributed", "config": {"layer": entry}}
    with pytest.raises(ValueError, match="nests more than 16 wrapped layers"):
        TimeDistributed.from_config(entry["config"])
    entry = {"class_name": "TimeDistributed", "config": {"layer": {"class_name": "Dense", "config": {"units": 2}}}}
    assert isinstance(TimeDistributed.from_config(entry["config"]).layer, Dense)


class Scale(Layer):
    """A Keras-style layer: y = x * w (one weight per feature)."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")
        super().build(input_shape)

    def call(self, inputs):
        return inputs * self.w


def test_a_wrapped_custom_layer_needs_custom_objects_to_load():
    model = Sequential([TimeDistributed(Scale(), input_shape=(4, 3))])
    model.set_weights([np.array([1.0, -2.0, 0.5], np.float32)])
    x = np.random.RandomState(1).randn(2, 4, 3).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), x * [1.0, -2.0, 0.5], rtol=1e-6)
    with pytest.raises(ValueError, match="Scale"):
        model_from_json(model.to_json())
    clone = model_from_json(model.to_json(), custom_objects={"Scale": Scale})
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-6)


# ---- gradients against finite differences ------------------------------------------------------------
def finite_difference(f, arrays, eps=1e-6):
    """Central differences of scalar f() w.r.t. every float64 array in `arrays` (changed in place)."""
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + eps
            up = f()
            a[i] = keep - eps
            down = f()
            a[i] = keep
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def rnn_np(kind, x, ws, mask, back):
    out, h, c = rnn_reference(kind, x, *ws, np.zeros((x.shape[0], ws[1].shape[0])),
                              np.zeros((x.shape[0], ws[1].shape[0])) if kind == "lstm" else None, mask=mask, back=back)
    return out, [h] + ([c] if kind == "lstm" else [])


def bidirectional_np(kind, x, wf, wb, mode, seq, state, mask):
    """Keras 2.2.4's Bidirectional in float64: [merged (or both)] (+ forward and backward states)."""
    yf, sf = rnn_np(kind, x, wf, mask, False)
    yb, sb = rnn_np(kind, x, wb, mask, True)
    yf, yb = (yf, yb[:, ::-1]) if seq else (yf[:, -1], yb[:, -1])
    merged = {"concat": lambda: [np.concatenate([yf, yb], -1)], "sum": lambda: [yf + yb], "mul": lambda: [yf * yb],
              "ave": lambda: [(yf + yb) / 2], None: lambda: [yf, yb]}[mode]()
    return merged + (sf + sb if state else [])


@pytest.mark.parametrize("kind,mode,seq,state", [("lstm", "concat", True, False), ("gru", "sum", False, False),
                                                 ("lstm", "mul", True, True), ("gru", "ave", True, True),
                                                 ("lstm", None, False, True), ("gru", "mul", False, False)])
def test_bidirectional_gradients_match_finite_differences(kind, mode, seq, state):
    rng = np.random.RandomState(3)
    layer = Bidirectional((LSTM if kind == "lstm" else GRU)(3, return_sequences=seq, return_state=state),
                          merge_mode=mode)
    layer.build((4, 5, 2))
    ws64 = [rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()]
    layer.set_weights(ws64)
    x64 = rng.uniform(-1, 1, (4, 5, 2))
    mask = np.array([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [1, 1, 0, 1, 0], [1, 0, 0, 0, 0]], bool)
    n = len(ws64) // 2
    shapes = [o.shape for o in bidirectional_np(kind, x64, ws64[:n], ws64[n:], mode, seq, state, mask)]
    dys = [rng.randn(*s) for s in shapes]
    if state:
        dys[-1] = None  # an output that gets no gradient

    def loss():
        outs = bidirectional_np(kind, x64, ws64[:n], ws64[n:], mode, seq, state, mask)
        return sum(np.sum(o * d) for o, d in zip(outs, dys) if d is not None)

    want = finite_difference(loss, [x64] + ws64)
    outs = layer.forward(x64.astype(np.float32), False, mask=mask)
    outs = outs if isinstance(outs, list) else [outs]
    assert len(outs) == len(shapes) == layer.n_outputs
    for got, ref in zip(outs, bidirectional_np(kind, x64, ws64[:n], ws64[n:], mode, seq, state, mask)):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    grads = [None if d is None else d.astype(np.float32) for d in dys]
    dx = layer.backward(grads if len(grads) > 1 else grads[0], True)
    np.testing.assert_allclose(dx, want[0], rtol=1e-3, atol=1e-4)
    for w, ref in zip(layer.trainable_weights, want[1:]):
        np.testing.assert_allclose(w.grad, ref, rtol=1e-3, atol=1e-4, err_msg=w.name)


def test_time_distributed_gradients_match_finite_differences():
    rng = np.random.RandomState(4)
    layer = TimeDistributed(Dense(3, activation="tanh"))
    layer.build((2, 4, 5))
    kernel, bias = rng.uniform(-0.5, 0.5, (5, 3)), rng.uniform(-0.5, 0.5, 3)
    layer.set_weights([kernel, bias])
    x = rng.uniform(-1, 1, (2, 4, 5))
    dy = rng.randn(2, 4, 3)
    want = finite_difference(lambda: np.sum(np.tanh(x @ kernel + bias) * dy), [x, kernel, bias])
    np.testing.assert_allclose(layer.forward(x.astype(np.float32), False), np.tanh(x @ kernel + bias), rtol=1e-5,
                               atol=1e-6)
    dx = layer.backward(dy.astype(np.float32), True)
    assert dx.shape == x.shape
    for got, ref in zip([dx, layer.layer.kernel.grad, layer.layer.bias.grad], want):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


def test_time_distributed_custom_layer_gradients_on_the_tape():
    layer = TimeDistributed(Scale())
    layer.build((2, 3, 4))
    w = np.array([0.5, -1.0, 2.0, 1.5])
    layer.set_weights([w])
    x, dy = np.random.RandomState(5).randn(2, 3, 4), np.random.RandomState(6).randn(2, 3, 4)
    want = finite_difference(lambda: np.sum(x * w * dy), [x, w])
    layer.forward(x.astype(np.float32), True)
    dx = layer.backward(dy.astype(np.float32), True)
    np.testing.assert_allclose(dx, want[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.trainable_weights[0].grad, want[1], rtol=1e-4, atol=1e-5)


def test_a_shared_time_distributed_layer_sums_its_gradients():
    a, b = Input((3, 2)), Input((3, 2))
    shared = TimeDistributed(Dense(1, use_bias=False))
    model = Model([a, b], keras.layers.add([shared(a), shared(b)]))
    model.set_weights([np.array([[0.5], [-0.25]], np.float32)])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    rng = np.random.RandomState(7)
    xa, xb, y = rng.randn(4, 3, 2), rng.randn(4, 3, 2), rng.randn(4, 3, 1)
    kernel = np.array([[0.5], [-0.25]])
    err = (xa + xb) @ kernel - y
    grad = 2 * np.einsum("btk,bto->ko", xa + xb, err) / err.size
    model.train_on_batch([xa.astype(np.float32), xb.astype(np.float32)], y.astype(np.float32))
    np.testing.assert_allclose(model.get_weights()[0], kernel - 0.1 * grad, rtol=1e-5)


# ---- masks, trainability, dropout ---------------------------------------------------------------------
def test_time_distributed_masks_as_keras_224():
    x = Input((4, 3))
    masked = Masking()(x)
    dense = TimeDistributed(Dense(2))
    assert dense(masked)._keras_mask.shape == (None, 4)
    with pytest.raises(TypeError, match="does not support masking"):
        TimeDistributed(Flatten())(Masking()(Input((4, 3, 2))))
    # a wrapped layer that makes a mask: TimeDistributed(Masking) on (batch, steps, length, features)
    inner = TimeDistributed(Masking(mask_value=0.0))
    assert inner(Input((4, 3, 2)))._keras_mask.shape == (None, 4, 3)
    data = np.random.RandomState(8).randn(2, 4, 3, 2).astype(np.float32)
    data[0, 1, 2] = 0.0
    got = inner.compute_mask(data, None)
    assert got.shape == (2, 4, 3) and not got[0, 1, 2] and got.sum() == 23
    step_mask = np.array([[1, 0, 1, 1], [0, 0, 1, 1]], bool)
    np.testing.assert_array_equal(dense.compute_mask(np.zeros((2, 4, 3), np.float32), step_mask), step_mask)


def test_bidirectional_output_masks_as_keras_224():
    mask = SymbolicMask((None, 5))
    x = Input((5, 3))
    assert Bidirectional(LSTM(2, return_sequences=True)).compute_mask(x, mask) is mask
    assert Bidirectional(LSTM(2)).compute_mask(x, mask) is None
    assert Bidirectional(LSTM(2, return_sequences=True), merge_mode=None).compute_mask(x, mask) == [mask, mask]
    assert Bidirectional(LSTM(2, return_state=True)).compute_mask(x, mask) == [None] * 5


def test_trainable_flags_and_initial_weights():
    td = TimeDistributed(Dense(2, trainable=False))
    td.build((None, 3, 4))
    assert td.trainable_weights == [] and len(td.non_trainable_weights) == 2
    td.trainable = True
    assert len(td.trainable_weights) == 2 and td.layer.trainable
    start = [np.full(s, i, np.float32) for i, s in enumerate([(3, 8), (2, 8), (8,), (3, 8), (2, 8), (8,)])]
    bi = Bidirectional(LSTM(2), weights=start, trainable=False)
    bi.build((None, 5, 3))
    assert bi.trainable_weights == [] and bi.count_params() == sum(a.size for a in start)
    for got, want in zip(bi.get_weights(), start):
        np.testing.assert_array_equal(got, want)


def test_time_distributed_dropout_draws_per_timestep_and_is_identity_at_inference():
    layer = TimeDistributed(Dropout(0.5))
    layer.build((None, 6, 50))
    x = np.ones((4, 6, 50), np.float32)
    np.testing.assert_array_equal(layer.forward(x, False), x)
    y = layer.forward(x, True)
    assert set(np.unique(y)) == {0.0, 2.0} and 0.35 < (y == 0).mean() < 0.65
    assert not np.array_equal(y[:, 0], y[:, 1])


# ---- bad arguments ---------------------------------------------------------------------------------------
def test_bad_arguments_raise_value_errors_naming_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'td'.*at least 3 dimensions.*\(None, 4\)"):
        TimeDistributed(Dense(2), name="td")(Input((4,)))
    with pytest.raises(ValueError, match="must be a seqnet Layer"):
        TimeDistributed("dense")
    with pytest.raises(ValueError, match="recurrent layer.*Dense 'not_rnn'"):
        Bidirectional(Dense(2, name="not_rnn"))
    with pytest.raises(ValueError, match="invalid merge_mode 'max'"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"'bi'.*\(batch, timesteps, input_dim\).*\(None, 4, 3, 2\)"):
        Bidirectional(LSTM(2), name="bi")(Input((4, 3, 2)))
    with pytest.raises(ValueError, match="different go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    td = TimeDistributed(Dense(2), name="td2")
    td(Input((4, 3)))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(None, 3\).*\(None, 5\)"):
        td(Input((4, 5)))
