"""The functional API: Input, layer calls, merge layers and Model(inputs, outputs)."""
import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Add, Concatenate, Dense, Input, add, concatenate
from seqnet.models import Model, Sequential


def _relu(z):
    return np.maximum(z, 0)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _w(layer):
    return [w.astype(np.float64) for w in layer.get_weights()]


def two_input_model():
    a = Input(shape=(6,), name="input_1")
    b = Input(shape=(4,), name="input_2")
    h = Dense(5, activation="relu", name="da")(a)
    c = concatenate([h, b])
    out = Dense(3, activation="softmax", name="output")(c)
    return Model(inputs=[a, b], outputs=out), a, b, c, out


def test_symbolic_tensors_and_layers():
    model, a, b, c, out = two_input_model()
    assert a.shape == (None, 6) and c.shape == (None, 9) and out.shape == (None, 3)
    assert out._keras_history[0].name == "output"
    assert [layer.name for layer in model.layers][:2] == ["input_1", "input_2"]
    assert type(model.layers[0]).__name__ == "InputLayer"
    assert model.get_layer("output") is out.node.layer
    assert model.count_params() == 6 * 5 + 5 + 9 * 3 + 3
    assert model.input_shape == [(None, 6), (None, 4)] and model.output_shape == (None, 3)
    assert isinstance(Sequential(), Model) and isinstance(model, keras.Model)


def test_sequential_accepts_input_tensor():
    model = Sequential([Input(shape=(20,)), Dense(3)])
    assert model.input_shape == (None, 20) and model.output_shape == (None, 3)


def test_two_input_concatenate_forward_matches_numpy():
    model, *_ = two_input_model()
    rng = np.random.RandomState(0)
    x1, x2 = rng.randn(7, 6), rng.randn(7, 4)
    wa, ba = _w(model.get_layer("da"))
    wo, bo = _w(model.get_layer("output"))
    expected = _softmax(np.concatenate([_relu(x1 @ wa + ba), x2], axis=1) @ wo + bo)
    np.testing.assert_allclose(model.predict([x1, x2]), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict({"input_2": x2, "input_1": x1}), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch([x1, x2]), expected, rtol=1e-5, atol=1e-6)


def residual_model():
    x = Input(shape=(4,))
    h = Dense(4, activation="tanh", name="inner")(x)
    s = add([x, h])  # x fans out to the Dense and the Add
    t = Dense(4, activation="tanh", name="mid")(s)
    r = Add()([s, t])  # s fans out too
    out = Dense(2, name="head")(r)
    return Model(x, out)


def test_residual_add_gradient_matches_finite_differences():
    keras.utils.set_random_seed(1)
    model = residual_model()
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(2)
    x, y = rng.randn(5, 4), rng.randn(5, 2)
    weights = [w.astype(np.float64) for w in model.get_weights()]

    def loss_of(ws):
        wi, bi, wm, bm, wh, bh = ws
        s = x + np.tanh(x @ wi + bi)
        r = s + np.tanh(s @ wm + bm)
        return np.mean((r @ wh + bh - y) ** 2)

    # SGD(lr=1) without momentum: the update is exactly -gradient.
    model.train_on_batch(x, y)
    grads = [w0 - w1 for w0, w1 in zip(weights, model.get_weights())]
    eps = 1e-6
    for k in (0, 2, 4):  # the kernels of inner, mid, head
        numeric = np.zeros_like(weights[k])
        for idx in np.ndindex(weights[k].shape):
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=1e-3, atol=1e-5)


def two_output_model():
    x = Input(shape=(5,), name="features")
    h = Dense(6, activation="relu", name="hidden")(x)
    cls = Dense(3, activation="softmax", name="cls")(h)
    reg = Dense(1, name="reg")(h)
    return Model(x, [cls, reg])


def test_two_outputs_weighted_losses_and_names():
    keras.utils.set_random_seed(3)
    model = two_output_model()
    model.compile("sgd", loss={"cls": "categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.3},
                  metrics={"cls": ["accuracy"]})
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    rng = np.random.RandomState(4)
    x = rng.randn(8, 5)
    y_cls = keras.utils.to_categorical(rng.randint(0, 3, 8), 3)
    y_reg = rng.randn(8, 1)
    wh, bh = _w(model.get_layer("hidden"))
    wc, bc = _w(model.get_layer("cls"))
    wr, br = _w(model.get_layer("reg"))
    h = _relu(x @ wh + bh)
    p = np.clip(_softmax(h @ wc + bc), 1e-7, 1 - 1e-7)
    ce = np.mean(-np.sum(y_cls * np.log(p), axis=1))
    mse = np.mean((h @ wr + br - y_reg) ** 2)
    acc = np.mean(p.argmax(1) == y_cls.argmax(1))
    values = model.test_on_batch(x, {"cls": y_cls, "reg": y_reg})
    np.testing.assert_allclose(values, [ce + 0.3 * mse, ce, mse, acc], rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(x, [y_cls, y_reg], verbose=0), values, rtol=1e-5)
    history = model.fit(x, [y_cls, y_reg], epochs=2, batch_size=4, verbose=0, validation_data=(x, [y_cls, y_reg]))
    assert set(history.history) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "val_loss", "val_cls_loss",
                                    "val_reg_loss", "val_cls_accuracy"}
    preds = model.predict(x)
    assert [p.shape for p in preds] == [(8, 3), (8, 1)]


def test_fit_generator_with_dicts():
    """The seed's example: a generator yielding ({'input_1': x1, 'input_2': x2}, {'output': y})."""
    keras.utils.set_random_seed(5)
    model, *_ = two_input_model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.RandomState(6)
    x1, x2 = rng.randn(64, 6), rng.randn(64, 4)
    y = keras.utils.to_categorical((x1[:, 0] + x2[:, 0] > 0).astype(int), 3)

    def generate_arrays():
        while True:
            for start in range(0, 64, 16):
                yield ({"input_1": x1[start:start + 16], "input_2": x2[start:start + 16]},
                       {"output": y[start:start + 16]})

    before = model.evaluate([x1, x2], y, verbose=0)[0]
    history = model.fit_generator(generate_arrays(), steps_per_epoch=4, epochs=5, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert model.evaluate_generator(generate_arrays(), steps=4)[0] < before
    assert model.predict_generator(generate_arrays(), steps=4).shape == (64, 3)


def test_input_errors_name_the_input():
    model, *_ = two_input_model()
    model.compile("sgd", "categorical_crossentropy")
    x1, x2, y = np.zeros((4, 6)), np.zeros((4, 4)), np.zeros((4, 3))
    with pytest.raises(ValueError, match="input_2"):
        model.fit({"input_1": x1}, y, verbose=0)
    with pytest.raises(ValueError, match="input_2"):
        model.predict([x1, np.zeros((4, 5))])
    with pytest.raises(ValueError, match="2 array"):
        model.predict([x1])
    with pytest.raises(ValueError, match="output"):
        model.train_on_batch([x1, x2], np.zeros((4, 2)))
    with pytest.raises(ValueError, match="Graph disconnected"):
        Model(Input(shape=(3,)), Dense(2)(Input(shape=(3,))))


def test_single_output_matches_sequential():
    keras.utils.set_random_seed(7)
    seq = Sequential([Dense(8, activation="relu", input_dim=5), Dense(3, activation="softmax")])
    x = Input(shape=(5,))
    out = Dense(3, activation="softmax")(Dense(8, activation="relu")(x))
    fun = Model(x, out)
    fun.set_weights(seq.get_weights())
    for m in (seq, fun):
        m.compile(keras.optimizers.SGD(lr=0.1, momentum=0.9), "categorical_crossentropy", metrics=["accuracy"])
    assert fun.metrics_names == seq.metrics_names == ["loss", "accuracy"]
    rng = np.random.RandomState(8)
    xs = rng.randn(16, 5).astype(np.float32)
    ys = keras.utils.to_categorical(rng.randint(0, 3, 16), 3)
    for _ in range(3):
        assert fun.train_on_batch(xs, ys) == seq.train_on_batch(xs, ys)
    for a, b in zip(fun.get_weights(), seq.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fun.predict(xs), seq.predict(xs))


def test_merge_layers_forward_and_shapes():
    a, b = Input(shape=(3,)), Input(shape=(3,))
    outs = [keras.layers.Subtract()([a, b]), keras.layers.Multiply()([a, b]), keras.layers.Average()([a, b]),
            keras.layers.Maximum()([a, b]), keras.layers.Minimum()([a, b]), Concatenate(axis=1)([a, b])]
    model = Model([a, b], outs)
    rng = np.random.RandomState(9)
    x1, x2 = rng.randn(4, 3), rng.randn(4, 3)
    expected = [x1 - x2, x1 * x2, (x1 + x2) / 2, np.maximum(x1, x2), np.minimum(x1, x2), np.hstack([x1, x2])]
    for got, want in zip(model.predict([x1, x2]), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        add([a, Input(shape=(4,))])


def test_sample_weights_per_output_and_weights_file(tmp_path):
    keras.utils.set_random_seed(10)
    model = two_output_model()
    model.compile("sgd", loss=["categorical_crossentropy", "mse"])
    rng = np.random.RandomState(11)
    x, y_reg = rng.randn(8, 5), rng.randn(8, 1)
    y_cls = keras.utils.to_categorical(rng.randint(0, 3, 8), 3)
    w = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=np.float32)
    full = model.test_on_batch(x[::2], [y_cls[::2], y_reg[::2]])
    weighted = model.test_on_batch(x, [y_cls, y_reg], sample_weight={"cls": w, "reg": w})
    np.testing.assert_allclose(weighted, full, rtol=1e-5)
    model.fit(x, [y_cls, y_reg], sample_weight=[w, None], epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    other = two_output_model()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
