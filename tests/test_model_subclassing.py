"""Subclassed models (``class M(Model)`` with ``call``): traced once into the graph engine.

Against the same functional model (identical bits), against tf-keras (fixtures written by
tests/fixtures/make_subclassing_fixtures.py over the classes of tests/subclassing_models.py),
and the tracking, lazy building, nesting, weights files and errors."""
import os

import numpy as np
import pytest

import seqnet
from seqnet import layers, optimizers
from seqnet.layers import Input
from seqnet.models import Model, Sequential
from subclassing_models import model_classes

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
CLASSES = model_classes(seqnet)
MLP, TwoInputs, ConvNet = CLASSES["mlp"], CLASSES["two_inputs"], CLASSES["conv_net"]
LOSSES = {"mlp": "categorical_crossentropy", "two_inputs": "mse", "conv_net": "categorical_crossentropy"}


@pytest.fixture(scope="module")
def fixture():
    return np.load(os.path.join(FIXTURES, "subclassing.npz"))


def _case(fx, case):
    xs = [fx[f"{case}_x{i}"] for i in range(2) if f"{case}_x{i}" in fx]
    n = sum(1 for k in fx if k.startswith(f"{case}_w"))
    return xs, fx[f"{case}_y"], [fx[f"{case}_w{j}"] for j in range(n)], [fx[f"{case}_after{j}"] for j in range(n)]


def _data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 8).astype(np.float32), np.eye(3, dtype=np.float32)[rng.randint(0, 3, n)]


class SeededMLP(Model):
    """The functional twin below uses the same layer configurations and dropout seed."""

    def __init__(self):
        super().__init__(name="seeded_mlp")
        self.hidden = layers.Dense(16, activation="relu")
        self.drop = layers.Dropout(0.5, seed=7)
        self.out = layers.Dense(3, activation="softmax")

    def call(self, inputs, training=None):
        return self.out(self.drop(self.hidden(inputs)))


def _functional_twin():
    inp = Input((8,))
    out = layers.Dense(3, activation="softmax")(layers.Dropout(0.5, seed=7)(layers.Dense(16, activation="relu")(inp)))
    return Model(inp, out)


# ---- one engine: the same bits as the functional model ----------------------------------
def test_matches_functional_model_bitwise():
    x, y = _data()
    sub, func = SeededMLP(), _functional_twin()
    for m in (sub, func):
        m.compile(optimizers.SGD(lr=0.1, momentum=0.9), "categorical_crossentropy", metrics=["accuracy"])
    sub.build((None, 8))
    sub.set_weights(func.get_weights())
    assert sub._chain is not None  # a plain chain: the fused fast path
    np.testing.assert_array_equal(sub.predict(x, batch_size=16), func.predict(x, batch_size=16))
    assert sub.evaluate(x, y, verbose=0) == func.evaluate(x, y, verbose=0)
    h_sub = sub.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    h_func = func.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert h_sub.history == h_func.history
    for a, b in zip(sub.get_weights(), func.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sub.train_on_batch(x, y) == func.train_on_batch(x, y)
    np.testing.assert_array_equal(sub.predict_on_batch(x), func.predict_on_batch(x))


# ---- tf-keras parity ---------------------------------------------------------------------
@pytest.mark.parametrize("case", ["mlp", "two_inputs", "conv_net"])
def test_tfkeras_predictions_and_training_steps(fixture, case):
    xs, y, weights, after = _case(fixture, case)
    inputs = xs if len(xs) > 1 else xs[0]
    model = CLASSES[case]()
    model.build([x.shape for x in xs] if len(xs) > 1 else xs[0].shape)
    model.set_weights(weights)  # tf-keras' get_weights order
    np.testing.assert_allclose(model.predict(inputs), fixture[f"{case}_pred"], rtol=1e-4, atol=1e-6)
    if case == "mlp":  # the training steps without dropout (different masks in each library)
        model = MLP(rate=0.0)
        model.build(xs[0].shape)
        model.set_weights(weights)
    model.compile(optimizers.SGD(lr=0.1), LOSSES[case])
    for _ in range(3):
        model.train_on_batch(inputs, y)
    for got, want in zip(model.get_weights(), after):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_reads_tfkeras_weights_file(fixture):
    xs, _, weights, _ = _case(fixture, "mlp")
    model = MLP()
    model.build((None, 8))
    model.load_weights(os.path.join(FIXTURES, "subclassing_mlp_tfkeras.h5"))
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(model.predict(xs[0]), fixture["mlp_pred"], rtol=1e-4, atol=1e-6)


# ---- tracking ------------------------------------------------------------------------------
def test_layers_tracked_in_assignment_order():
    model = ConvNet()
    expected = [model.blocks[0], model.head["flat"], model.head["out"], model.bn, model.pool]
    assert model.layers == expected  # the list where it was assigned, the dict by sorted key
    assert model.weights == [] and model.get_weights() == []
    model.compile("sgd", "categorical_crossentropy")
    model.fit(np.zeros((4, 8, 8, 2), np.float32), np.zeros((4, 3), np.float32), verbose=0)
    assert model.layers == expected
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 3, 2, 4), (4,), (36, 3), (3,), (4,), (4,), (4,), (4,)]
    assert [w.name for w in model.trainable_weights] == [w.name for layer in expected
                                                          for w in layer.trainable_weights]


def test_reassigned_and_deleted_attributes():
    model = MLP()
    first = model.hidden
    model.hidden = layers.Dense(5)  # a reassigned attribute moves to the end, as in tf-keras
    assert model.layers == [model.drop, model.out, model.hidden]
    assert first not in model.layers
    model.extra = [layers.Dense(2), (layers.Dense(3),)]
    assert model.layers[3:] == [model.extra[0], model.extra[1][0]]
    del model.extra
    assert len(model.layers) == 3


def test_layer_made_inside_call_still_trains():
    class Inline(Model):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(4)

        def call(self, x):
            return layers.Dense(2, name="made_in_call")(self.first(x))

    model = Inline()
    model.build((None, 3))
    assert [layer.name for layer in model.layers][-1] == "made_in_call"
    assert len(model.get_weights()) == 4


# ---- building lazily ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["fit", "evaluate", "predict", "train_on_batch", "test_on_batch",
                                 "predict_on_batch", "build", "build_full_shape", "call"])
def test_builds_on_first_use(how):
    x, y = _data(12)
    model = MLP()
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    assert not model.built
    if how == "fit":
        model.fit(x, y, epochs=1, verbose=0)
    elif how == "evaluate":
        assert len(model.evaluate(x, y, verbose=0)) == 2
    elif how == "predict":
        assert model.predict(x).shape == (12, 3)
    elif how == "train_on_batch":
        model.train_on_batch(x, y)
    elif how == "test_on_batch":
        model.test_on_batch(x, y)
    elif how == "predict_on_batch":
        assert model.predict_on_batch(x).shape == (12, 3)
    elif how == "build":
        model.build((None, 8))
    elif how == "build_full_shape":
        model.build((12, 8))
    else:
        out = model(Input((8,)))
        assert out.shape == (None, 3)
    assert model.built and model.inputs[0].shape == (None, 8) and model.output_names == ["output_1"]
    assert model.metrics_names == ["loss", "accuracy"]
    assert [w.shape for w in model.get_weights()] == [(8, 16), (16,), (16, 3), (3,)]
    model.fit(x, y, epochs=1, verbose=0)
    model.summary(print_fn=lambda line: None)
    assert model.count_params() == 8 * 16 + 16 + 16 * 3 + 3


def test_fit_on_a_generator_builds_from_its_first_batch():
    x, y = _data(16)

    def batches():
        while True:
            yield x[:8], y[:8]

    model = MLP()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit_generator(batches(), steps_per_epoch=2, epochs=2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"] and model.built


def test_several_inputs_list_and_dict():
    rng = np.random.RandomState(1)
    a, b, y = rng.rand(6, 5), rng.rand(6, 3), rng.rand(6, 2)
    model = TwoInputs()
    model.build([(None, 5), (None, 3)])
    assert model.predict([a, b]).shape == (6, 2)

    class ByName(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)
            self.merge = layers.Concatenate()

        def call(self, inputs):
            return self.dense(self.merge([inputs["a"], inputs["b"]]))

    named = ByName()
    named.compile("sgd", "mse")
    named.fit({"a": a, "b": b}, y, verbose=0)
    assert named.input_names == ["a", "b"]
    assert named.predict({"b": b, "a": a}).shape == (6, 2)


def test_several_outputs_compiled_before_build():
    class TwoHeads(Model):
        def __init__(self):
            super().__init__()
            self.trunk = layers.Dense(4, activation="relu")
            self.left = layers.Dense(2)
            self.right = layers.Dense(1, activation="sigmoid")

        def call(self, x):
            h = self.trunk(x)
            return [self.left(h), self.right(h)]

    rng = np.random.RandomState(2)
    x, y1, y2 = rng.rand(10, 3), rng.rand(10, 2), rng.randint(0, 2, (10, 1))
    model = TwoHeads()
    model.compile("sgd", ["mse", "binary_crossentropy"], metrics=["accuracy"])
    history = model.fit(x, [y1, y2], epochs=1, verbose=0)
    assert model.output_names == ["output_1", "output_2"]
    assert "output_1_loss" in history.history and "output_2_accuracy" in history.history
    assert [p.shape for p in model.predict(x)] == [(10, 2), (10, 1)]


def test_training_argument_is_none_when_traced():
    seen = []

    class Probe(MLP):
        def call(self, inputs, training=False):
            seen.append(training)
            return super().call(inputs, training=training)

    model = Probe()
    model.build((None, 8))
    model.predict(np.zeros((2, 8), np.float32))
    assert seen == [None]  # traced once; Dropout follows the learning phase at run time
    assert model._chain is not None  # training=None leaves the plain chain (and its fusions)


def test_summary_with_an_unused_layer():
    class Unused(Model):
        def __init__(self):
            super().__init__()
            self.used = layers.Dense(3)
            self.spare = layers.Dense(4)

        def call(self, x):
            return self.used(x)

    model = Unused()
    model.build((None, 5))
    lines = []
    model.summary(print_fn=lines.append)
    assert any("0 (unused)" in line for line in lines) and "Total params: 18" in lines
    assert model.layers == [model.used, model.spare]


# ---- nesting -------------------------------------------------------------------------------
def test_inside_sequential_and_functional():
    x, y = _data(20)
    sub = MLP(rate=0.0)
    seq = Sequential([layers.Dense(8, input_shape=(8,)), sub, layers.Dense(3, activation="softmax")])
    assert sub.built and seq.output_shape == (None, 3)
    seq.compile("sgd", "categorical_crossentropy")
    seq.fit(x, y, epochs=2, verbose=0)
    inp = Input((8,))
    func = Model(inp, seq.layers[2](sub(seq.layers[0](inp))))
    np.testing.assert_array_equal(func.predict(x), seq.predict(x))
    assert len(seq.get_weights()) == 2 + 4 + 2

    unbuilt = MLP()
    inp = Input((8,))
    outer = Model(inp, layers.Dense(2)(unbuilt(inp)))
    outer.compile("sgd", "mse")
    outer.fit(x, y[:, :2], verbose=0)
    assert unbuilt.built and len(outer.get_weights()) == 6


# ---- weights files -------------------------------------------------------------------------
def test_save_weights_round_trip(tmp_path):
    x, y = _data(10)
    model = ConvNet()
    model.compile("sgd", "categorical_crossentropy")
    images = np.random.RandomState(3).rand(10, 8, 8, 2).astype(np.float32)
    model.fit(images, y, verbose=0)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    again = ConvNet()
    with pytest.raises(ValueError, match="not been built"):
        again.load_weights(path)
    again.build((None, 8, 8, 2))
    again.load_weights(path)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(images), again.predict(images))


# ---- errors --------------------------------------------------------------------------------
class NumpyInCall(Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(np.tanh(x))


class ArithmeticInCall(NumpyInCall):
    def call(self, x):
        return self.dense(x) * 2.0


def test_call_with_numpy_on_symbolic_tensors_fails_at_build():
    model = NumpyInCall()
    with pytest.raises(TypeError, match=r"traced once on symbolic tensors.*seqnet.backend ops.*NumPy functions "
                                        r"cannot compute on it"):
        model.build((None, 3))
    assert not model.built and len(model.dense._inbound_nodes) == 0
    with pytest.raises(TypeError, match="traced once"):
        model.predict(np.zeros((2, 3), np.float32))


def test_arithmetic_in_call_adds_a_backend_op_layer():
    # Python operators on symbolic tensors are backend ops (tests/test_symbolic_backend_ops.py)
    model = ArithmeticInCall()
    x = np.random.RandomState(0).rand(4, 3).astype(np.float32)
    out = model.predict(x)
    kernel, bias = model.dense.get_weights()
    np.testing.assert_allclose(out, 2.0 * (x.astype(np.float64) @ kernel + bias), rtol=1e-5, atol=1e-6)


def test_lambda_and_shape_queries_in_call_work():
    from seqnet import backend as K

    class WithLambda(NumpyInCall):
        def __init__(self):
            super().__init__()
            self.tanh = layers.Lambda(lambda t: K.tanh(t) * 2.0)

        def call(self, x):
            assert K.int_shape(x) == (None, 3) and K.ndim(x) == 2  # shape queries work on symbolic tensors
            return self.dense(self.tanh(x))

    model = WithLambda()
    x = np.random.RandomState(4).rand(3, 3).astype(np.float32)
    model.build((None, 3))
    w, b = model.dense.get_weights()
    np.testing.assert_allclose(model.predict(x), np.tanh(x) * 2.0 @ w + b, rtol=1e-5)


def test_unbuilt_model_errors():
    model = MLP()
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model.summary()
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    assert model.weights == [] and model.trainable_weights == []


@pytest.mark.parametrize("what", ["save", "get_config", "to_json"])
def test_serialization_is_refused(tmp_path, what):
    model = MLP()
    model.build((None, 8))
    call = {"save": lambda: model.save(str(tmp_path / "m.h5")), "get_config": model.get_config,
            "to_json": model.to_json}[what]
    with pytest.raises(NotImplementedError, match="save_weights"):
        call()
    assert not os.path.exists(tmp_path / "m.h5")


def test_forgetting_super_init_and_plain_model():
    class Forgot(Model):
        def __init__(self):
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(RuntimeError, match="super"):
        Forgot()
    with pytest.raises(ValueError, match="give `inputs` and `outputs`"):
        Model()
    with pytest.raises(TypeError, match="unexpected keyword"):
        MLP(bogus=1)
    with pytest.raises(ValueError, match="float32"):
        MLP(dtype="float64")


def test_functional_subclass_is_untouched():
    class Functional(Model):
        def __init__(self):
            inp = Input((3,))
            super().__init__(inp, layers.Dense(2)(inp), name="functional_subclass")

    model = Functional()
    assert model._subclassed is None and model.get_config()["name"] == "functional_subclass"
