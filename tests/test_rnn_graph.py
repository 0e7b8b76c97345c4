"""Recurrent layers in the graph engine against tf-keras fixtures (Keras 2.2.4 semantics;
tests/fixtures/make_graph_fixtures.py): masked steps from Embedding(mask_zero) and Masking,
masked losses and metrics, return_state, GRU(reset_after=True), temporal sample weights."""
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import GRU, LSTM, Dense, Embedding, Input, Masking, SimpleRNN
from seqnet.models import Model, Sequential

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MASKS = np.load(os.path.join(FIXTURES, "graph_masks.npz"))
STATES = np.load(os.path.join(FIXTURES, "graph_rnn_state.npz"))


def weights(data, case, prefix="w"):
    n = len([k for k in data.files if k.startswith(f"{case}_{prefix}") and k[len(case) + 1 + len(prefix):].isdigit()])
    return [data[f"{case}_{prefix}{i}"] for i in range(n)]


def rnn(kind, **kw):
    if kind == "lstm":
        return LSTM(5, **kw)
    if kind == "gru":
        return GRU(5, **kw)
    return SimpleRNN(5, **kw)


@pytest.mark.parametrize("kind", ["lstm", "gru", "simplernn"])
@pytest.mark.parametrize("sequences", [False, True])
def test_embedding_mask_zero_predictions_match_tf_keras(kind, sequences):
    case = f"emb_mask_{kind}" + ("_seq" if sequences else "")
    layers = [Embedding(10, 4, mask_zero=True, input_length=6), rnn(kind, return_sequences=sequences)]
    if not sequences:
        layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers)
    model.set_weights(weights(MASKS, case))
    np.testing.assert_allclose(model.predict(MASKS[f"{case}_x"]), MASKS[f"{case}_pred"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("sequences", [False, True])
def test_masked_go_backwards_matches_tf_keras(sequences):
    case = "masked_go_backwards" + ("_seq" if sequences else "")
    model = Sequential([Embedding(10, 4, mask_zero=True), LSTM(5, go_backwards=True, return_sequences=sequences)])
    model.set_weights(weights(MASKS, case))
    np.testing.assert_allclose(model.predict(MASKS[f"{case}_x"]), MASKS[f"{case}_pred"], rtol=1e-4, atol=1e-6)


def test_masked_lstm_training_matches_tf_keras():
    model = Sequential([Embedding(10, 4, mask_zero=True, input_length=6), LSTM(5), Dense(1, activation="sigmoid")])
    model.set_weights(weights(MASKS, "emb_mask_lstm"))
    model.compile(keras.optimizers.RMSprop(lr=0.01), "binary_crossentropy")
    for k in range(3):
        loss = model.train_on_batch(MASKS[f"emb_mask_lstm_x{k}"], MASKS[f"emb_mask_lstm_y{k}"])
        assert loss == pytest.approx(float(MASKS["emb_mask_lstm_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), weights(MASKS, "emb_mask_lstm", "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_masking_lstm_with_a_masked_loss_trains_as_tf_keras():
    model = Sequential([Masking(0.0, input_shape=(6, 3)), LSTM(5, return_sequences=True), Dense(2)])
    model.set_weights(weights(MASKS, "masking_lstm"))
    np.testing.assert_allclose(model.predict(MASKS["masking_lstm_x"]), MASKS["masking_lstm_pred"], rtol=1e-4,
                               atol=1e-6)
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    for k in range(3):
        loss = model.train_on_batch(MASKS[f"masking_lstm_x{k}"], MASKS[f"masking_lstm_y{k}"])
        assert loss == pytest.approx(float(MASKS["masking_lstm_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), weights(MASKS, "masking_lstm", "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_masked_metrics_as_keras_224():
    model = Sequential([Embedding(10, 4, mask_zero=True), LSTM(3, return_sequences=True),
                        Dense(3, activation="softmax")])
    model.set_weights(weights(MASKS, "masked_metrics"))
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x, y = MASKS["masked_metrics_x"], MASKS["masked_metrics_y"]
    np.testing.assert_allclose(model.predict(x), MASKS["masked_metrics_pred"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.test_on_batch(x, y), MASKS["masked_metrics_test_on_batch"], rtol=1e-4)
    np.testing.assert_allclose(model.test_on_batch(x[:4], y[:4]), MASKS["masked_metrics_batch_values"][0], rtol=1e-4)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), MASKS["masked_metrics_eval_keras224"],
                               rtol=1e-4)


def test_return_state_outputs_match_tf_keras():
    x = Input((6, 3))
    seq, h, c = LSTM(5, return_state=True, return_sequences=True)(x)
    model = Model(x, [seq, h, c])
    model.set_weights(weights(STATES, "return_state_lstm"))
    for got, k in zip(model.predict(STATES["return_state_lstm_x"]), range(3)):
        np.testing.assert_allclose(got, STATES[f"return_state_lstm_pred{k}"], rtol=1e-4, atol=1e-6)
    x = Input((6, 3))
    out, h = GRU(5, return_state=True)(x)
    model = Model(x, [out, h])
    model.set_weights(weights(STATES, "return_state_gru"))
    for got, k in zip(model.predict(STATES["return_state_gru_x"]), range(2)):
        np.testing.assert_allclose(got, STATES[f"return_state_gru_pred{k}"], rtol=1e-4, atol=1e-6)
    ids = Input((6,), dtype="int32")
    outs = LSTM(5, return_state=True, return_sequences=True)(Embedding(10, 4, mask_zero=True)(ids))
    model = Model(ids, outs)
    model.set_weights(weights(STATES, "return_state_masked"))
    for got, k in zip(model.predict(STATES["return_state_masked_x"]), range(3)):
        np.testing.assert_allclose(got, STATES[f"return_state_masked_pred{k}"], rtol=1e-4, atol=1e-6)


def test_return_state_feeds_a_decoder_and_trains():
    """The seq2seq pattern: the encoder's final states start the decoder."""
    keras.utils.set_random_seed(2)
    enc_in, dec_in = Input((5, 3)), Input((4, 3))
    _, h, c = LSTM(6, return_state=True)(enc_in)
    encoder_states = [h, c]
    summary = Dense(6, activation="tanh")(keras.layers.concatenate(encoder_states))
    decoded = LSTM(6)(dec_in)
    out = Dense(2, activation="softmax")(keras.layers.concatenate([decoded, summary]))
    model = Model([enc_in, dec_in], out)
    model.compile("adam", "categorical_crossentropy")
    rng = np.random.RandomState(0)
    xe, xd = rng.rand(16, 5, 3), rng.rand(16, 4, 3)
    y = keras.utils.to_categorical(rng.randint(2, size=16), 2)
    first = model.evaluate([xe, xd], y, verbose=0)
    model.fit([xe, xd], y, epochs=30, verbose=0)
    assert model.evaluate([xe, xd], y, verbose=0) < first


@pytest.mark.parametrize("sequences", [False, True])
def test_gru_reset_after_matches_tf_keras(sequences):
    case = "gru_reset_after" + ("_seq" if sequences else "")
    model = Sequential([Input((6, 3)), GRU(5, reset_after=True, return_sequences=sequences), Dense(1)])
    model.set_weights(weights(STATES, case))
    assert model.layers[0].bias.shape == (2, 15)
    np.testing.assert_allclose(model.predict(STATES[f"{case}_x"]), STATES[f"{case}_pred"], rtol=1e-4, atol=1e-6)
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    for k in range(3):
        loss = model.train_on_batch(STATES[f"{case}_x{k}"], STATES[f"{case}_y{k}"])
        assert loss == pytest.approx(float(STATES[f"{case}_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), weights(STATES, case, "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_temporal_sample_weights_train_as_keras_224():
    x = Input((5, 3))
    model = Model(x, Dense(2, activation="softmax")(LSTM(4, return_sequences=True)(x)))
    model.set_weights(weights(STATES, "temporal_sw"))
    model.compile(keras.optimizers.SGD(lr=0.1), "categorical_crossentropy", sample_weight_mode="temporal")
    for k in range(3):
        loss = model.train_on_batch(STATES[f"temporal_sw_x{k}"], STATES[f"temporal_sw_y{k}"],
                                    sample_weight=STATES[f"temporal_sw_sw{k}"])
        assert loss == pytest.approx(float(STATES["temporal_sw_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), weights(STATES, "temporal_sw", "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)
