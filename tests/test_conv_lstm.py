"""ConvLSTM2D: against tf-keras fixtures (tests/fixtures/make_rnn_cell_fixtures.py, Keras
2.2.4 semantics), a float64 NumPy reference with finite-difference gradients (padding,
strides, dilation, go_backwards, return_state, channels_first, dropout masks), stateful
runs, save/load and argument errors."""
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import ConvLSTM2D, Dense, Flatten, Input
from seqnet.models import Model, Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
DATA = np.load(os.path.join(FIXTURES, "rnn_cells_convlstm.npz"))
TFKERAS = np.load(os.path.join(FIXTURES, "rnn_cells_tfkeras.npz"))
ROUNDTRIP = np.load(os.path.join(FIXTURES, "rnn_cells_roundtrip.npz"))


# ---- float64 reference ------------------------------------------------------------------------------
def conv2d(x, k, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """NHWC convolution as TensorFlow computes it ('same' puts the odd padding after)."""
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    (sh, sw), (dh, dw) = strides, dilation
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "valid":
        oh, ow, top, left = (h - span_h) // sh + 1, (w - span_w) // sw + 1, 0, 0
    else:
        oh, ow = -(-h // sh), -(-w // sw)
        top = max((oh - 1) * sh + span_h - h, 0) // 2
        left = max((ow - 1) * sw + span_w - w, 0) // 2
    xp = np.pad(x, ((0, 0), (top, span_h + sh * oh), (left, span_w + sw * ow), (0, 0)))
    out = np.zeros((n, oh, ow, f))
    for a in range(kh):
        for b in range(kw):
            rows = slice(a * dh, a * dh + (oh - 1) * sh + 1, sh)
            cols = slice(b * dw, b * dw + (ow - 1) * sw + 1, sw)
            out += xp[:, rows, cols, :] @ k[a, b]
    return out


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def conv_lstm(x, kernel, recurrent, bias, strides=(1, 1), padding="valid", dilation=(1, 1),
              rec_act=hard_sigmoid, go_backwards=False, masks=None, rec_masks=None):
    """Keras 2.2.4's ConvLSTM2D in float64 on channels_last x (B, T, H, W, C): (every h in
    processing order, h_T, c_T). masks / rec_masks: one dropout multiplier per gate."""
    f = recurrent.shape[2]
    x = x[:, ::-1] if go_backwards else x
    h = c = None
    outs = []
    for t in range(x.shape[1]):
        parts = []
        for g in range(4):
            cols = slice(g * f, (g + 1) * f)
            xg = x[:, t] if masks is None else x[:, t] * masks[g]
            z = conv2d(xg, kernel[..., cols], strides, padding, dilation) + bias[cols]
            if h is None:
                h = np.zeros(z.shape)
                c = np.zeros(z.shape)
            hg = h if rec_masks is None else h * rec_masks[g]
            parts.append(z + conv2d(hg, recurrent[..., cols], padding="same"))
        c = rec_act(parts[1]) * c + rec_act(parts[0]) * np.tanh(parts[2])
        h = rec_act(parts[3]) * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1), h, c


def weights(data, case, prefix="w"):
    n = len([k for k in data.files if k.startswith(f"{case}_{prefix}") and k[len(case) + 1 + len(prefix):].isdigit()])
    return [data[f"{case}_{prefix}{i}"] for i in range(n)]


def check_training(model, case, lr):
    model.compile(keras.optimizers.SGD(lr=lr), "mse")
    for k in range(3):
        loss = model.train_on_batch(DATA[f"{case}_x{k}"], DATA[f"{case}_y{k}"])
        assert loss == pytest.approx(float(DATA[f"{case}_loss"][k]), rel=1e-3), k
    for got, want in zip(model.get_weights(), weights(DATA, f"{case}", "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def predict_close(model, case):
    np.testing.assert_allclose(model.predict(DATA[case + "_x"]), DATA[case + "_pred"], rtol=1e-4, atol=1e-6)


# ---- tf-keras fixtures ----------------------------------------------------------------------------
def test_valid_padding_last_output_trains_as_tf_keras():
    model = Sequential([ConvLSTM2D(2, (3, 3), input_shape=(3, 5, 5, 2)), Flatten(), Dense(1)])
    assert model.layers[0].output_shape == (None, 3, 3, 2)
    model.set_weights(weights(DATA, "valid_train"))
    predict_close(model, "valid_train")
    check_training(model, "valid_train", 0.05)


def test_same_padding_sequences_train_as_tf_keras():
    model = Sequential([ConvLSTM2D(2, (2, 3), padding="same", return_sequences=True, input_shape=(3, 5, 4, 2))])
    assert model.output_shape == (None, 3, 5, 4, 2)
    model.set_weights(weights(DATA, "same_seq"))
    predict_close(model, "same_seq")
    check_training(model, "same_seq", 0.1)


def test_strides_and_go_backwards_match_tf_keras():
    model = Sequential([ConvLSTM2D(3, (3, 3), strides=2, padding="same", go_backwards=True,
                                   input_shape=(3, 6, 5, 2))])
    assert model.output_shape == (None, 3, 3, 3)
    model.set_weights(weights(DATA, "strided_back"))
    predict_close(model, "strided_back")


def test_dilation_matches_tf_keras():
    model = Sequential([ConvLSTM2D(2, (2, 2), dilation_rate=2, return_sequences=True, input_shape=(3, 6, 6, 1))])
    assert model.output_shape == (None, 3, 4, 4, 2)
    model.set_weights(weights(DATA, "dilated_seq"))
    predict_close(model, "dilated_seq")


# ---- gradients against finite differences ------------------------------------------------------------
CONFIGS = [
    dict(padding="same", return_sequences=True),
    dict(padding="valid"),
    dict(padding="same", kernel_size=(2, 2), go_backwards=True, recurrent_activation="sigmoid"),
    dict(padding="same", kernel_size=(3, 3), strides=(2, 2)),
    dict(padding="valid", kernel_size=(2, 2), dilation_rate=(2, 1), return_sequences=True),
    dict(padding="same", data_format="channels_first", return_sequences=True, go_backwards=True),
    dict(padding="valid", return_state=True, return_sequences=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_gradients_match_finite_differences(config):
    rng = np.random.RandomState(1)
    config = dict(config)
    kernel_size = config.pop("kernel_size", (3, 2))
    first = config.get("data_format") == "channels_first"
    layer = ConvLSTM2D(2, kernel_size, **config)
    shape = (2, 3, 2, 5, 4) if first else (2, 3, 5, 4, 2)
    layer.build((None,) + shape[1:])
    ws = [rng.uniform(-0.4, 0.4, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(ws)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    out = layer.forward(x, False)
    outs = [o.copy() for o in out] if isinstance(out, list) else [out.copy()]
    rec_act = sigmoid if config.get("recurrent_activation") == "sigmoid" else hard_sigmoid

    def reference(x, kernel, recurrent, bias):
        xl = x.transpose(0, 1, 3, 4, 2) if first else x
        hs, h, c = conv_lstm(xl, kernel, recurrent, bias, layer.strides, layer.padding, layer.dilation_rate,
                             rec_act, layer.go_backwards)
        if first:
            hs, h, c = hs.transpose(0, 1, 4, 2, 3), h.transpose(0, 3, 1, 2), c.transpose(0, 3, 1, 2)
        y = hs if layer.return_sequences else h
        return [y, h, c] if layer.return_state else [y]

    arrays = [x.astype(np.float64)] + [w.astype(np.float64) for w in ws]
    for got, want in zip(outs, reference(*arrays)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    cotangents = [rng.standard_normal(o.shape) for o in outs]
    dx = layer.backward([c.astype(np.float32) for c in cotangents] if len(outs) > 1
                        else cotangents[0].astype(np.float32), True)
    analytic = [dx] + [w.grad.copy() for w in layer.weights]
    check_finite_differences(reference, arrays, cotangents, analytic)


def test_dropout_masks_gradients_match_finite_differences():
    rng = np.random.RandomState(2)
    layer = ConvLSTM2D(2, (3, 3), dropout=0.3, recurrent_dropout=0.4, return_sequences=True)
    layer.build((None, 3, 5, 4, 2))
    ws = [rng.uniform(-0.4, 0.4, w.shape).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(ws)
    x = rng.uniform(-1, 1, (2, 3, 5, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x, False), conv_lstm(x.astype(np.float64), *ws)[0], rtol=1e-5,
                               atol=1e-6)
    out = layer.forward(x, True).copy()
    masks, rec_masks = (np.array(m, np.float64) for m in layer._seq._saved[-2:])  # the ones this batch drew
    assert set(np.unique(masks)) == {0.0, np.float32(1 / 0.7)} and masks.shape == (4, 2, 5, 4, 2)

    def reference(x, kernel, recurrent, bias):
        return [conv_lstm(x, kernel, recurrent, bias, masks=masks, rec_masks=rec_masks)[0]]

    arrays = [x.astype(np.float64)] + [w.astype(np.float64) for w in ws]
    np.testing.assert_allclose(out, reference(*arrays)[0], rtol=1e-5, atol=1e-6)
    cotangent = rng.standard_normal(out.shape)
    dx = layer.backward(cotangent.astype(np.float32), True)
    check_finite_differences(reference, arrays, [cotangent], [dx] + [w.grad.copy() for w in layer.weights])


def check_finite_differences(reference, arrays, cotangents, analytic, eps=1e-6, samples=30):
    """Central differences of sum(reference * cotangents) at `samples` random entries of
    each array (all of the bias)."""
    rng = np.random.RandomState(0)

    def loss():
        return sum(float(np.sum(o * c)) for o, c in zip(reference(*arrays), cotangents))

    for which, grad in enumerate(analytic):
        target = arrays[which]
        picks = rng.choice(target.size, min(samples, target.size), replace=False)
        for flat in picks:
            idx = np.unravel_index(flat, target.shape)
            old = target[idx]
            target[idx] = old + eps
            plus = loss()
            target[idx] = old - eps
            numeric = (plus - loss()) / (2 * eps)
            target[idx] = old
            assert grad[idx] == pytest.approx(numeric, rel=1e-4, abs=1e-5), (which, idx)


# ---- layouts and states ----------------------------------------------------------------------------------
def test_channels_first_is_channels_last_transposed():
    rng = np.random.RandomState(3)
    last = Sequential([ConvLSTM2D(2, 3, padding="same", return_sequences=True, input_shape=(3, 5, 4, 2))])
    first = Sequential([ConvLSTM2D(2, 3, padding="same", return_sequences=True, data_format="channels_first",
                                   input_shape=(3, 2, 5, 4))])
    first.set_weights(last.get_weights())
    x = rng.uniform(-1, 1, (2, 3, 5, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(first.predict(x.transpose(0, 1, 4, 2, 3)),
                               last.predict(x).transpose(0, 1, 4, 2, 3), rtol=1e-6, atol=1e-7)


def test_stateful_layer_carries_h_and_c_between_batches():
    rng = np.random.RandomState(4)
    x = rng.uniform(-1, 1, (2, 4, 5, 5, 1)).astype(np.float32)
    whole = Sequential([ConvLSTM2D(2, 3, padding="same", return_sequences=True, input_shape=(4, 5, 5, 1))])
    parts = Sequential([ConvLSTM2D(2, 3, padding="same", return_sequences=True, stateful=True,
                                   batch_input_shape=(2, 2, 5, 5, 1))])
    parts.set_weights(whole.get_weights())
    want = whole.predict(x)
    got = np.concatenate([parts.predict(x[:, :2], batch_size=2), parts.predict(x[:, 2:], batch_size=2)], 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    parts.reset_states()
    np.testing.assert_allclose(parts.predict(x[:, :2], batch_size=2), want[:, :2], rtol=1e-5, atol=1e-6)


def test_return_state_gives_h_and_c():
    inp = Input((3, 5, 5, 1))
    out, h, c = ConvLSTM2D(2, 3, return_state=True)(inp)
    assert [tuple(t.shape) for t in (out, h, c)] == [(None, 3, 3, 2)] * 3
    model = Model(inp, [out, h, c])
    y, h_val, c_val = model.predict(np.random.RandomState(5).uniform(-1, 1, (2, 3, 5, 5, 1)).astype(np.float32))
    np.testing.assert_array_equal(y, h_val)
    assert not np.allclose(h_val, c_val)


# ---- saving and configs ------------------------------------------------------------------------------------
def test_save_and_load_round_trip(tmp_path):
    rng = np.random.RandomState(6)
    x = rng.uniform(-1, 1, (2, 3, 5, 5, 1)).astype(np.float32)
    model = Sequential([ConvLSTM2D(2, 3, padding="same", dropout=0.1, input_shape=(3, 5, 5, 1)), Flatten(), Dense(1)])
    model.compile("sgd", "mse")
    model.train_on_batch(x, np.zeros((2, 1), np.float32))
    model.save(tmp_path / "convlstm.h5")
    again = load_model(tmp_path / "convlstm.h5")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.layers[0].get_config() == model.layers[0].get_config()


@pytest.mark.parametrize("writer", ["seqnet", "tfkeras"])
def test_files_written_by_tf_keras_and_by_seqnet_load(writer):
    model = load_model(os.path.join(FIXTURES, f"rnn_cells_convlstm_{writer}.h5"))
    np.testing.assert_allclose(model.predict(ROUNDTRIP["convlstm_x"]), TFKERAS["convlstm_pred_tfkeras"], rtol=1e-4,
                               atol=1e-6)


def test_config_has_keras_224_keys_and_weights_their_layout():
    layer = ConvLSTM2D(4, (3, 2), name="c")
    assert list(layer.get_config()) == [
        "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
        "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
        "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
        "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout"]
    assert layer.get_config()["recurrent_activation"] == "hard_sigmoid"
    layer.build((None, 3, 6, 6, 5))
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("c/kernel:0", (3, 2, 5, 16)), ("c/recurrent_kernel:0", (3, 2, 4, 16)), ("c/bias:0", (16,))]
    np.testing.assert_array_equal(layer.bias.value, np.repeat([0.0, 1.0, 0.0, 0.0], 4))
    assert ConvLSTM2D.from_config(layer.get_config()).get_config() == layer.get_config()


def test_bad_arguments_raise_errors_naming_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'c1'.*rank 5.*\(None, 5, 5, 1\)"):
        ConvLSTM2D(2, 3, name="c1")(Input((5, 5, 1)))
    with pytest.raises(ValueError, match=r"'c2'.*\(2, 2\).*\(None, 3, 2, 2, 1\)"):
        ConvLSTM2D(2, 3, name="c2")(Input((3, 2, 2, 1)))
    with pytest.raises(ValueError, match="filters"):
        ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="activation"):
        ConvLSTM2D(2, 3, activation=lambda x: x)
    with pytest.raises(TypeError, match="Unrolling"):
        ConvLSTM2D(2, 3, unroll=True)
    with pytest.raises(ValueError, match="batch size"):
        ConvLSTM2D(2, 3, stateful=True)(Input((3, 5, 5, 1)))
