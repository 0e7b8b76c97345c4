"""The one graph engine: shared layers, nested models, Keras-style custom layers, Lambda,
node getters; gradients against float64 NumPy references by finite differences, and
tf-keras fixtures (tests/fixtures/make_graph_fixtures.py)."""
import os

import numpy as np
import pytest

import seqnet as keras
import seqnet.backend as K
from seqnet.layers import Concatenate, Dense, Input, Lambda, Layer, concatenate
from seqnet.models import Model, Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def sgd_gradients(model, x, y):
    """The gradient of one training step: SGD(lr=1) without momentum moves by exactly -g."""
    before = [w.astype(np.float64) for w in model.get_weights()]
    model.train_on_batch(x, y)
    return [b - a for b, a in zip(before, model.get_weights())], before


def numeric_gradient(loss_of, weights, k, eps=1e-6):
    numeric = np.zeros_like(weights[k])
    for idx in np.ndindex(weights[k].shape):
        plus = [w.copy() for w in weights]
        minus = [w.copy() for w in weights]
        plus[k][idx] += eps
        minus[k][idx] -= eps
        numeric[idx] = (loss_of(plus) - loss_of(minus)) / (2 * eps)
    return numeric


# ---- shared layers -----------------------------------------------------------------------
def test_shared_layer_sums_gradients_of_both_calls():
    keras.utils.set_random_seed(4)
    a, b = Input((3,)), Input((3,))
    shared = Dense(4, activation="tanh", name="shared")
    out = Dense(1, name="head")(concatenate([shared(a), shared(b)]))
    model = Model([a, b], out)
    assert len(model.weights) == 4 and len(shared._inbound_nodes) == 2
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(0)
    xa, xb, y = rng.randn(6, 3), rng.randn(6, 3), rng.randn(6, 1)
    grads, weights = sgd_gradients(model, [xa, xb], y)

    def loss_of(ws):
        k, bias, hk, hb = ws
        h = np.concatenate([np.tanh(xa @ k + bias), np.tanh(xb @ k + bias)], axis=1)
        return np.mean((h @ hk + hb - y) ** 2)

    for k in range(4):
        np.testing.assert_allclose(grads[k], numeric_gradient(loss_of, weights, k), rtol=1e-3, atol=1e-5)


def test_shared_layer_getters():
    a, b = Input((3,)), Input((5,))
    shared = Dense(2)
    c = Input((3,))
    ya, yc = shared(a), shared(c)
    assert shared.get_output_at(0) is ya and shared.get_output_at(1) is yc
    assert shared.get_input_shape_at(1) == (None, 3) and shared.output_shape == (None, 2)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        shared.output
    with pytest.raises(ValueError, match="was built for inputs of shape"):
        shared(b)
    assert ya._keras_history[1:] == (0, 0) and yc._keras_history[1:] == (1, 0)


def test_layer_getters_on_sequential_and_functional():
    model = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    assert model.layers[0].output_shape == (None, 4) and model.layers[1].input_shape == (None, 4)
    assert model.output_names == [model.layers[-1].name] and model.input_names == ["dense_1_input"] or \
        model.input_names[0].endswith("_input")
    assert model.inputs[0].shape == (None, 3) and model.outputs[0].shape == (None, 2)
    assert K.int_shape(model.layers[0].output) == (None, 4)
    assert model.layers[0].input is model.inputs[0]


def test_weightless_layer_is_reused_on_other_shapes():
    act = keras.layers.Activation("relu")
    a, b = Input((3,)), Input((5,))
    model = Model([a, b], [act(a), act(b)])
    outs = model.predict([-np.ones((2, 3)), np.ones((2, 5))])
    assert outs[0].shape == (2, 3) and outs[1].shape == (2, 5) and outs[0].max() == 0


# ---- nested models ------------------------------------------------------------------------
def test_nested_models_train_with_exact_gradients():
    keras.utils.set_random_seed(5)
    inner = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(3, activation="tanh")])
    x = Input((3,))
    model = Model(x, Dense(1)(inner(x)))
    assert model.layers[1] is inner and len(model.trainable_weights) == 6
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(1)
    xs, y = rng.randn(5, 3), rng.randn(5, 1)
    grads, weights = sgd_gradients(model, xs, y)

    def loss_of(ws):
        k1, b1, k2, b2, k3, b3 = ws
        return np.mean((np.tanh(np.tanh(xs @ k1 + b1) @ k2 + b2) @ k3 + b3 - y) ** 2)

    for k in range(6):
        np.testing.assert_allclose(grads[k], numeric_gradient(loss_of, weights, k), rtol=1e-3, atol=1e-5)


def test_model_called_twice_shares_weights_and_sums_gradients():
    keras.utils.set_random_seed(6)
    ia = Input((2,))
    tower = Model(ia, Dense(3, activation="tanh")(ia))
    a, b = Input((2,)), Input((2,))
    out = Dense(1)(concatenate([tower(a), tower(b)]))
    model = Model([a, b], out)
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(2)
    xa, xb, y = rng.randn(4, 2), rng.randn(4, 2), rng.randn(4, 1)
    grads, weights = sgd_gradients(model, [xa, xb], y)

    def loss_of(ws):
        k, bias, hk, hb = ws
        h = np.concatenate([np.tanh(xa @ k + bias), np.tanh(xb @ k + bias)], axis=1)
        return np.mean((h @ hk + hb - y) ** 2)

    for k in range(4):
        np.testing.assert_allclose(grads[k], numeric_gradient(loss_of, weights, k), rtol=1e-3, atol=1e-5)


def test_sequential_of_a_model_and_save_round_trip(tmp_path):
    keras.utils.set_random_seed(7)
    base = Sequential([Dense(5, activation="relu", input_shape=(4,)), Dense(3)])
    model = Sequential([base, Dense(2, activation="softmax")])
    model.compile("rmsprop", "categorical_crossentropy")
    x = np.random.RandomState(0).rand(8, 4)
    y = keras.utils.to_categorical(np.arange(8) % 2, 2)
    model.fit(x, y, epochs=2, verbose=0)
    want = model.predict(x)
    path = str(tmp_path / "nested.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), want)
    assert isinstance(loaded.layers[0], Sequential) and len(loaded.weights) == 6


def test_model_trainable_false_freezes_all_its_weights():
    keras.utils.set_random_seed(8)
    base = Sequential([Dense(4, input_shape=(3,)), Dense(4)])
    model = Sequential([base, Dense(1)])
    base.trainable = False
    assert base.trainable_weights == [] and len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 4
    model.compile("sgd", "mse")
    frozen = [w.copy() for w in base.get_weights()]
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    for a, b in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(a, b)
    base.trainable = True
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))


def test_tf_keras_nested_and_shared_files_load_and_predict():
    data = np.load(os.path.join(FIXTURES, "graph_shared.npz"))
    shared = load_model(os.path.join(FIXTURES, "graph_shared.h5"), compile=False)
    np.testing.assert_allclose(shared.predict([data["shared_siamese_xa"], data["shared_siamese_xb"]]),
                               data["shared_siamese_after_pred"], rtol=1e-4, atol=1e-6)
    for case in ("nested_seq", "nested_func"):
        model = load_model(os.path.join(FIXTURES, f"graph_{case}.h5"), compile=False)
        np.testing.assert_allclose(model.predict(data[f"{case}_x"]), data[f"{case}_pred"], rtol=1e-4, atol=1e-6)


def test_siamese_training_matches_tf_keras():
    data = np.load(os.path.join(FIXTURES, "graph_shared.npz"))
    a, b = Input((4,)), Input((4,))
    shared = Dense(3, activation="tanh")
    model = Model([a, b], Dense(1, activation="sigmoid")(concatenate([shared(a), shared(b)])))
    n = len([k for k in data.files if k.startswith("shared_siamese_w")])
    model.set_weights([data[f"shared_siamese_w{i}"] for i in range(n)])
    np.testing.assert_allclose(model.predict([data["shared_siamese_xa"], data["shared_siamese_xb"]]),
                               data["shared_siamese_pred"], rtol=1e-4, atol=1e-6)
    model.compile(keras.optimizers.SGD(lr=0.1), "binary_crossentropy")
    for k in range(3):
        loss = model.train_on_batch([data[f"shared_siamese_xa{k}"], data[f"shared_siamese_xb{k}"]],
                                    data[f"shared_siamese_y{k}"])
        assert loss == pytest.approx(float(data["shared_siamese_loss"][k]), rel=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"shared_siamese_after_w{i}"], rtol=1e-3, atol=1e-5)


def test_functional_round_trip_with_shared_layer_and_nested_model(tmp_path):
    keras.utils.set_random_seed(9)
    ia = Input((3,))
    tower = Model(ia, Dense(2, activation="tanh")(ia), name="tower")
    a, b = Input((3,)), Input((3,))
    shared = Dense(3, name="shared")
    merged = Concatenate()([tower(shared(a)), tower(shared(b))])
    model = Model([a, b], Dense(1)(merged))
    config = model.get_config()
    tower_entry = next(e for e in config["layers"] if e["name"] == "tower")
    assert [node[0][1] for node in tower_entry["inbound_nodes"]] == [0, 1]
    assert tower_entry["inbound_nodes"][0][0][0] == "shared"
    x = [np.random.rand(5, 3), np.random.rand(5, 3)]
    path = str(tmp_path / "graph.h5")
    model.compile("sgd", "mse")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    rebuilt = Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))


# ---- Keras-style custom layers ---------------------------------------------------------------
class Antirectifier(Layer):
    """The Keras 2 example layer (examples/antirectifier.py)."""

    def call(self, x):
        x -= K.mean(x, axis=1, keepdims=True)
        x = K.l2_normalize(x, axis=1)
        return K.concatenate([K.relu(x), K.relu(-x)], axis=1)

    def compute_output_shape(self, s):
        return (s[0], s[1] * 2)


def test_antirectifier_trains_as_tf_keras():
    data = np.load(os.path.join(FIXTURES, "graph_custom.npz"))
    model = Sequential([Dense(16, input_shape=(784,)), Antirectifier(), Dense(10, activation="softmax")])
    n = len([k for k in data.files if k.startswith("antirectifier_w")])
    model.set_weights([data[f"antirectifier_w{i}"] for i in range(n)])
    np.testing.assert_allclose(model.predict(data["antirectifier_x"]), data["antirectifier_pred"], rtol=1e-4,
                               atol=1e-6)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(lr=0.001))
    for k in range(5):
        loss = model.train_on_batch(data[f"antirectifier_x{k}"], data[f"antirectifier_y{k}"])
        assert loss == pytest.approx(float(data["antirectifier_loss"][k]), rel=1e-3)
        for i, w in enumerate(model.get_weights()):
            np.testing.assert_allclose(w, data[f"antirectifier_after{k + 1}_w{i}"], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(model.predict(data["antirectifier_x"]), data["antirectifier_pred_end"],
                               rtol=1e-3, atol=1e-5)


class ScaledTanh(Layer):
    """A custom layer with weights: y = tanh(x @ kernel) * scale."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="glorot_uniform", trainable=True)
        self.scale = self.add_weight(name="scale", shape=(self.units,), initializer="ones")
        super().build(input_shape)

    def call(self, x):
        return K.tanh(K.dot(x, self.kernel)) * self.scale

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


def test_inferred_output_shape_keeps_unknown_axes_unknown():
    """A dry run stands in a size for an unknown axis; an output axis that follows it (a
    concatenation doubling it) stays unknown, one that does not (a sum over it) is known."""
    class Doubled(Layer):
        def call(self, x):
            return K.concatenate([x, x], axis=1)

    class Summed(Layer):
        def call(self, x):
            return K.sum(x, axis=1)

    free, fixed = Input((None, 5)), Input((3, 5))
    assert Doubled()(free).shape == (None, None, 5) and Summed()(free).shape == (None, 5)
    assert Doubled()(fixed).shape == (None, 6, 5) and Summed()(fixed).shape == (None, 5)
    model = Model(free, Doubled()(free))
    np.testing.assert_array_equal(model.predict(np.ones((2, 7, 5), np.float32)), np.ones((2, 14, 5)))


def test_custom_layer_with_weights_gradients_and_save_load(tmp_path):
    keras.utils.set_random_seed(10)
    model = Sequential([ScaledTanh(3, input_shape=(4,)), Dense(1)])
    assert model.layers[0].output_shape == (None, 3)  # inferred by a dry run of call()
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(3)
    x, y = rng.randn(6, 4), rng.randn(6, 1)
    grads, weights = sgd_gradients(model, x, y)

    def loss_of(ws):
        k, s, hk, hb = ws
        return np.mean(((np.tanh(x @ k) * s) @ hk + hb - y) ** 2)

    for k in range(4):
        np.testing.assert_allclose(grads[k], numeric_gradient(loss_of, weights, k), rtol=1e-3, atol=1e-5)
    path = str(tmp_path / "custom.h5")
    model.save(path)
    with pytest.raises(ValueError, match="ScaledTanh"):
        load_model(path)
    loaded = load_model(path, custom_objects={"ScaledTanh": ScaledTanh})
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


class TrainingAware(Layer):
    def call(self, x, training=None):
        return K.in_train_phase(x * 2.0, x, training=training)


def test_custom_layer_sees_the_training_phase():
    model = Sequential([TrainingAware(input_shape=(2,))])
    model.compile("sgd", "mse")
    x = np.ones((3, 2), np.float32)
    np.testing.assert_array_equal(model.predict(x), x)
    loss = model.test_on_batch(x, np.zeros((3, 2)))
    assert loss == pytest.approx(1.0)
    assert model.train_on_batch(x, np.zeros((3, 2))) == pytest.approx(4.0)


# ---- Lambda --------------------------------------------------------------------------------
def double_minus_mean(x):
    return 2.0 * x - K.mean(x, axis=-1, keepdims=True)


def test_lambda_trains_and_loads_only_with_custom_objects(tmp_path):
    keras.utils.set_random_seed(11)
    model = Sequential([Dense(3, input_shape=(2,)), Lambda(double_minus_mean), Lambda(lambda t: K.square(t)),
                        Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(lr=1.0), loss="mse")
    rng = np.random.RandomState(4)
    x, y = rng.randn(5, 2), rng.randn(5, 1)
    grads, weights = sgd_gradients(model, x, y)

    def loss_of(ws):
        k, b, hk, hb = ws
        h = x @ k + b
        h = 2 * h - h.mean(axis=-1, keepdims=True)
        return np.mean(((h ** 2) @ hk + hb - y) ** 2)

    for k in range(4):
        np.testing.assert_allclose(grads[k], numeric_gradient(loss_of, weights, k), rtol=1e-3, atol=1e-5)
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    lambda_name = model.layers[2].name
    with pytest.raises(ValueError, match="never runs code"):
        load_model(path)
    loaded = load_model(path, custom_objects={"double_minus_mean": double_minus_mean,
                                              lambda_name: lambda t: K.square(t)})
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_lambda_output_shape_forms():
    x = Input((4, 3))
    assert Lambda(lambda t: K.sum(t, axis=1), output_shape=(3,))(x).shape == (None, 3)
    assert Lambda(lambda t: t[:, :2], output_shape=lambda s: (s[0], 2, s[2]))(x).shape == (None, 2, 3)
    assert Lambda(lambda t: K.batch_flatten(t))(x).shape == (None, 12)


# ---- K.function and symbolic tensors --------------------------------------------------------
def test_k_function_reads_an_intermediate_layer_as_in_the_keras_faq():
    keras.utils.set_random_seed(12)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), keras.layers.Dropout(0.5), Dense(2)])
    x = np.random.RandomState(5).rand(6, 3).astype(np.float32)
    kernel, bias = model.layers[0].get_weights()
    hidden = np.maximum(x @ kernel + bias, 0)
    get_hidden = K.function([model.layers[0].input], [model.layers[0].output])
    np.testing.assert_allclose(get_hidden([x])[0], hidden, rtol=1e-6)
    with_phase = K.function([model.input, K.learning_phase()], [model.layers[1].output])
    np.testing.assert_array_equal(with_phase([x, 0])[0], get_hidden([x])[0])  # test phase: no dropout
    dropped = with_phase([x, 1])[0]
    assert np.all((dropped == 0) | np.isclose(dropped, 2 * hidden))
    both = K.function([model.input], [model.layers[0].output, model.output])([x])
    np.testing.assert_array_equal(both[1], model.predict(x))
    with pytest.raises(ValueError, match="does not fit"):
        get_hidden([np.ones((2, 5))])


def test_symbolic_tensors_answer_the_backend_shape_functions():
    x = Input((4, 3), dtype="int32")
    y = Dense(2)(K.placeholder(shape=(None, 5)))
    assert K.int_shape(x) == (None, 4, 3) and K.ndim(x) == 3 and K.dtype(x) == "int32"
    assert K.int_shape(y) == (None, 2) and K.is_keras_tensor(y) and not K.is_keras_tensor(np.ones(2))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(y)


def test_an_unbuilt_sequential_called_on_a_tensor_builds_itself():
    inner = Sequential([Dense(3), Dense(2)])
    x = Input((5,))
    model = Model(x, inner(x))
    assert inner.built and inner.layers[0].input_shape == (None, 5) and model.count_params() == 18 + 8
    out = model.predict(np.ones((2, 5)))
    np.testing.assert_array_equal(out, inner.predict(np.ones((2, 5))))


def test_input_shape_on_a_later_sequential_layer_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="ignored"):
        model = Sequential([Dense(3, input_dim=4), Dense(2, input_dim=99)])
    assert model.output_shape == (None, 2)


def test_keras_22_import_paths():
    import seqnet.engine as engine
    from seqnet.engine.topology import Layer as TopologyLayer
    from seqnet.utils.generic_utils import CustomObjectScope, has_arg  # noqa: F401
    assert keras.Input is Input and engine.Input is Input and engine.Layer is Layer is TopologyLayer
    assert engine.Model is Model and keras.models.Model is Model and issubclass(Sequential, Model)
    assert keras.layers.core.Lambda is Lambda and keras.layers.merge.Concatenate is Concatenate


def test_call_time_training_flag_and_shared_dropout_draws_two_masks():
    x = Input((200,))
    drop = keras.layers.Dropout(0.5)
    always = Model(x, keras.layers.Dropout(0.5)(x, training=True))
    ones = np.ones((2, 200), np.float32)
    out = always.predict(ones)  # training=True at the call: dropout also in predict
    assert set(np.unique(out)) == {0.0, 2.0}
    a, b = Input((200,)), Input((200,))
    model = Model([a, b], [drop(a), drop(b)])
    model.compile("sgd", "mse")
    outs = model._run([ones, ones], True)
    assert not np.array_equal(outs[0], outs[1])  # each call of the shared layer has its own mask
    config = always.get_config()
    assert config["layers"][1]["inbound_nodes"][0][0][3] == {"training": True}
    assert set(np.unique(Model.from_config(config).predict(ones))) == {0.0, 2.0}


class TakesAnyKeyword(Layer):
    def call(self, x, **kwargs):
        return x * kwargs.get("scale", 1.0)


def test_a_call_with_var_keywords_accepts_any_call_argument():
    x = Input((2,))
    model = Model(x, TakesAnyKeyword()(x, scale=3.0))
    np.testing.assert_array_equal(model.predict(np.ones((1, 2))), [[3.0, 3.0]])


# Two compiled models sharing a layer, trained in turn (the GAN pattern: a discriminator
# trained alone and inside the combined model). Each model's parameter store re-points the
# shared weights at its own buffers; a model whose store no longer holds them rebuilds it
# from the current values, so every step moves the one set of weights the layers read.
def test_models_sharing_a_layer_train_in_turn_on_the_same_weights():
    from seqnet import layers as L, models, optimizers
    rng = np.random.RandomState(0)
    shared = L.Dense(1, input_shape=(3,), kernel_initializer="ones", bias_initializer="zeros")
    a = models.Sequential([shared])
    a.compile(optimizers.SGD(lr=0.1), "mse")
    inp = L.Input((3,))
    b = models.Model(inp, shared(inp))
    b.compile(optimizers.SGD(lr=0.05), "mse")
    w, bias = np.ones((3, 1)), np.zeros(1)  # the float64 reference
    for step in range(6):
        model, lr = (a, 0.1) if step % 2 == 0 else (b, 0.05)
        x = rng.rand(8, 3).astype(np.float32)
        y = rng.rand(8, 1).astype(np.float32)
        model.train_on_batch(x, y)
        d = 2.0 * (x.astype(np.float64) @ w + bias - y) / len(x)  # d mse / d prediction
        w, bias = w - lr * x.T @ d, bias - lr * d.sum(axis=0)
        got_w, got_b = shared.get_weights()
        np.testing.assert_allclose(got_w, w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_b, bias, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a.predict(x), b.predict(x), rtol=0, atol=0)
