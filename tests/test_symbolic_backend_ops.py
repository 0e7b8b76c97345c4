"""seqnet.backend ops and Python operators on symbolic tensors (Input, a layer's output) add a
BackendOp layer to the graph, as tf-keras' TFOpLambda: in functional models and in a subclassed
model's call. References: NumPy float64 for predictions, central finite differences of the same
NumPy function for the gradient of a training step, and the same model written with Lambda."""
import json

import numpy as np
import pytest

from seqnet import backend as K
from seqnet import layers as L
from seqnet import optimizers
from seqnet.backend import symbolic
from seqnet.engine.backend_op import BackendOp
from seqnet.models import Model, load_model, model_from_json

RNG = np.random.RandomState(0)
X = RNG.randn(5, 6).astype(np.float32)
Y = RNG.randn(5, 1).astype(np.float32)


def _functional():
    inp = L.Input((6,))
    h = L.Dense(8, name="h")(inp)
    z = K.tanh(h) * 2 - K.concatenate([h[:, :4], K.relu(h[:, 4:])])
    out = L.Dense(1, name="out")(z)
    return Model(inp, [out, K.sum(h, axis=1, keepdims=True)])


def _functional_reference(weights, x):
    w1, b1, w2, b2 = [w.astype(np.float64) for w in weights]
    h = x.astype(np.float64) @ w1 + b1
    z = np.tanh(h) * 2 - np.concatenate([h[:, :4], np.maximum(h[:, 4:], 0)], axis=1)
    return z @ w2 + b2, h.sum(axis=1, keepdims=True)


class Subclassed(Model):
    """The brief's call: relu of one branch, concatenated with another, mixed by operators."""

    def __init__(self):
        super().__init__()
        self.d1 = L.Dense(4)
        self.d2 = L.Dense(4)
        self.out = L.Dense(1)

    def call(self, inputs):
        x = K.relu(self.d1(inputs))
        y = K.concatenate([x, self.d2(inputs)])
        return self.out(K.concatenate([x, -x]) + 0.5 * y)


def _subclassed_reference(weights, x):
    w1, b1, w2, b2, w3, b3 = [w.astype(np.float64) for w in weights]
    x = x.astype(np.float64)
    a = np.maximum(x @ w1 + b1, 0)
    y = np.concatenate([a, x @ w2 + b2], axis=1)
    return (np.concatenate([a, -a], axis=1) + 0.5 * y) @ w3 + b3


def _sgd_step_gradients(model, x, y, lr=0.1):
    """(W_before - W_after) / lr for each weight after one SGD step on mse: the gradient."""
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    return [(b - a) / lr for b, a in zip(before, model.get_weights())], before


def _finite_differences(loss, weights, eps=1e-6):
    grads = []
    for i, w in enumerate(weights):
        g = np.zeros(w.shape)
        for idx in np.ndindex(w.shape):
            plus = [v.astype(np.float64).copy() for v in weights]
            minus = [v.astype(np.float64).copy() for v in weights]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            g[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        grads.append(g)
    return grads


# ---- predictions and training ------------------------------------------------------------
def test_functional_model_predicts_as_numpy():
    model = _functional()
    out, total = model.predict(X)
    ref_out, ref_total = _functional_reference(model.get_weights(), X)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(total, ref_total, rtol=1e-5, atol=1e-5)
    assert model.output_shape == [(None, 1), (None, 1)]


def test_functional_training_step_matches_finite_differences():
    inp = L.Input((6,))
    h = L.Dense(8)(inp)
    z = K.tanh(h) * 2 - K.concatenate([h[:, :4], K.relu(h[:, 4:])])
    model = Model(inp, L.Dense(1)(z))
    model.compile(optimizers.SGD(lr=0.1), "mse")
    grads, before = _sgd_step_gradients(model, X, Y)

    def loss(weights):
        return np.mean((_functional_reference(weights, X)[0] - Y) ** 2)

    for g, ref in zip(grads, _finite_differences(loss, before)):
        np.testing.assert_allclose(g, ref, rtol=2e-3, atol=2e-4)


def test_functional_training_equals_the_same_model_written_with_lambda():
    def build(with_lambda):
        inp = L.Input((6,))
        h = L.Dense(8)(inp)
        if with_lambda:
            z = L.Lambda(lambda t: K.tanh(t) * 2 - K.concatenate([t[:, :4], K.relu(t[:, 4:])]))(h)
        else:
            z = K.tanh(h) * 2 - K.concatenate([h[:, :4], K.relu(h[:, 4:])])
        model = Model(inp, L.Dense(1)(z))
        model.compile(optimizers.SGD(lr=0.05), "mse")
        return model

    ops, lambdas = build(False), build(True)
    lambdas.set_weights(ops.get_weights())
    for _ in range(3):
        assert ops.train_on_batch(X, Y) == pytest.approx(lambdas.train_on_batch(X, Y), rel=1e-6)
    for a, b in zip(ops.get_weights(), lambdas.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_subclassed_model_predicts_and_trains_as_numpy():
    model = Subclassed()
    np.testing.assert_allclose(model.predict(X), _subclassed_reference(model.get_weights(), X),
                               rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in model.layers][:3] == ["Dense"] * 3
    assert any(layer.name.startswith("backend_relu_") for layer in model.layers)
    model.compile(optimizers.SGD(lr=0.1), "mse")
    grads, before = _sgd_step_gradients(model, X, Y)

    def loss(weights):
        return np.mean((_subclassed_reference(weights, X) - Y) ** 2)

    for g, ref in zip(grads, _finite_differences(loss, before)):
        np.testing.assert_allclose(g, ref, rtol=2e-3, atol=2e-4)


def test_operators_map_to_backend_ops():
    inp = L.Input((4,))
    c = np.linspace(0.5, 2.0, 4).astype(np.float32)
    m = RNG.randn(4, 3).astype(np.float32)
    x = inp
    outs = [x + 1, 1 + x, x - c, 2 - x, x * c, c * x, x / 2, 1 / (abs(x) + 1), (abs(x) + 1) ** 1.5,
            2 ** x, -x, x > 0, x >= 0.1, x < 0, x <= 0.1, x @ m, x[:, 1:3], x[:, ::-1], x[:, None, 2],
            x[..., :1]]
    model = Model(inp, outs)
    xs = RNG.randn(3, 4).astype(np.float32)
    a = xs.astype(np.float64)
    refs = [a + 1, 1 + a, a - c, 2 - a, a * c, c * a, a / 2, 1 / (np.abs(a) + 1), (np.abs(a) + 1) ** 1.5,
            2 ** a, -a, a > 0, a >= 0.1, a < 0, a <= 0.1, a @ m, a[:, 1:3], a[:, ::-1], a[:, None, 2],
            a[..., :1]]
    for got, ref, t in zip(model.predict(xs), refs, outs):
        assert got.shape == ref.shape and t.shape == (None,) + ref.shape[1:]
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # an ndarray on the left hands the operator to the tensor (no conversion of the tensor)
    assert isinstance(np.ones(4, np.float32) * inp, type(inp))
    # == and != stay identity tests (the graph compares tensors); x is never a layer's copy
    assert (inp == inp) is True and (inp != outs[0]) is True and (+inp) is inp


def test_output_shapes_keep_unknown_axes():
    inp = L.Input((None, 5))
    assert K.mean(inp, axis=1).shape == (None, 5)
    assert K.concatenate([inp, inp], axis=1).shape == (None, None, 5)
    assert K.permute_dimensions(inp, (0, 2, 1)).shape == (None, 5, None)
    assert K.sum(inp, axis=-1, keepdims=True).shape == (None, None, 1)
    assert (inp * 2).shape == (None, None, 5)
    model = Model(inp, [K.mean(inp, axis=1), K.concatenate([inp, inp], axis=1)])
    xs = RNG.randn(2, 7, 5).astype(np.float32)
    mean, cat = model.predict(xs)
    np.testing.assert_allclose(mean, xs.mean(axis=1), rtol=1e-5, atol=1e-6)
    assert cat.shape == (2, 14, 5)


def test_one_tensor_used_twice_is_one_input_and_constants_stay_constants():
    inp = L.Input((3,))
    square = K.multiply(inp, inp)
    layer = square.node.layer
    assert isinstance(layer, BackendOp) and len(square.node.input_tensors) == 1
    c = np.array([1.0, 2.0, 3.0], np.float32)
    model = Model(inp, [square, K.stack([inp, c * np.ones((1, 3), np.float32) + 0 * inp], axis=1)])
    xs = RNG.randn(2, 3).astype(np.float32)
    sq, st = model.predict(xs)
    np.testing.assert_allclose(sq, xs * xs, rtol=1e-6)
    np.testing.assert_allclose(st[:, 1], np.broadcast_to(c, (2, 3)))


def test_learning_phase_ops_follow_the_call():
    inp = L.Input((3,))
    out = K.in_train_phase(inp * 0.0, inp)  # zeros when training, x at inference
    model = Model(inp, out)
    xs = RNG.randn(4, 3).astype(np.float32)
    np.testing.assert_allclose(model.predict(xs), xs)
    model.compile("sgd", "mse")
    assert model.train_on_batch(xs, np.ones((4, 3), np.float32)) == pytest.approx(1.0)


def test_layer_names():
    inp = L.Input((3,))
    a, b = K.relu(inp), K.relu(inp)
    na, nb = a.node.layer.name, b.node.layer.name
    assert na.startswith("backend_relu_") and nb.startswith("backend_relu_") and na != nb
    assert (inp + 1).node.layer.name.startswith("backend_add_")
    assert inp[:, 0:1].node.layer.name.startswith("backend_getitem_")


def test_masks_are_not_passed_on():
    inp = L.Input((4,))
    emb = L.Embedding(5, 3, mask_zero=True)(inp)
    assert emb._keras_mask is not None
    out = emb * 2.0
    assert out._keras_mask is None


# ---- the array path is unchanged -----------------------------------------------------------
def test_every_wrapped_op_keeps_its_plain_function():
    assert len(symbolic.OPS) > 60
    for name, op in symbolic.OPS.items():
        if name == "getitem":
            continue
        wrapped = getattr(K, name)
        assert wrapped is not op and wrapped.__wrapped__ is op and wrapped.__doc__ == op.__doc__
    for name in ("int_shape", "ndim", "variable", "constant", "random_uniform", "zeros", "function"):
        assert name not in symbolic.OPS


def test_array_and_tape_paths_give_the_plain_results():
    a = RNG.randn(3, 4).astype(np.float32)
    b = RNG.randn(3, 4).astype(np.float32)
    for name, args, kwargs in [("add", (a, b), {}), ("relu", (a,), {"alpha": 0.1}),
                               ("sum", (a,), {"axis": 1, "keepdims": True}), ("concatenate", ([a, b],), {}),
                               ("softmax", (a,), {}), ("dot", (a, b.T), {}), ("clip", (a, -0.5, 0.5), {})]:
        got, ref = getattr(K, name)(*args, **kwargs), symbolic.OPS[name](*args, **kwargs)
        assert type(got) is type(ref)
        np.testing.assert_array_equal(got, ref)
    value, pullback = K.vjp(lambda t, p: K.sum(K.relu(p) * t, axis=-1), b, a)
    np.testing.assert_allclose(pullback(np.ones(3)), (a > 0) * b)


# ---- saving -------------------------------------------------------------------------------
def test_save_and_load_rebuild_the_ops(tmp_path):
    model = _functional()
    path = str(tmp_path / "ops.h5")
    model.save(path)
    loaded = load_model(path)
    for got, ref in zip(loaded.predict(X), model.predict(X)):
        np.testing.assert_array_equal(got, ref)
    rebuilt = model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(X)[0], model.predict(X)[0])
    configs = {layer["config"]["name"]: layer["config"] for layer in json.loads(model.to_json())["config"]["layers"]}
    getitem = next(c for n, c in configs.items() if n.startswith("backend_getitem_"))
    assert getitem["op"] == "getitem"


def test_an_argument_without_a_json_form_fails_naming_the_layer():
    inp = L.Input((3,))
    scale = K.variable(np.ones(3))
    model = Model(inp, inp * scale)
    name = model.layers[-1].name
    with pytest.raises(ValueError, match=rf"Layer '{name}' \(BackendOp: seqnet.backend.multiply .*Variable"):
        model.to_json()


def test_onnx_export_refuses_naming_the_layer(tmp_path):
    pytest.importorskip("onnx")
    import seqnet.onnx
    inp = L.Input((3,))
    model = Model(inp, K.relu(L.Dense(2)(inp)))
    with pytest.raises(ValueError, match=r"layer 'backend_relu_\d+' \(BackendOp\): it is seqnet.backend.relu"):
        seqnet.onnx.export(model, str(tmp_path / "m.onnx"))


# ---- NumPy on symbolic tensors is still an error ---------------------------------------------
def test_numpy_functions_on_symbolic_tensors_raise_a_clear_error():
    inp = L.Input((3,))
    with pytest.raises(TypeError, match="NumPy functions cannot compute on it. Use seqnet.backend ops"):
        np.tanh(inp)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(inp)


def test_subclassed_call_with_numpy_names_backend_ops():
    class WithNumpy(Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, inputs):
            return self.d(np.exp(inputs))

    with pytest.raises(TypeError, match=r"traced once on symbolic tensors.*seqnet.backend ops"):
        WithNumpy().predict(X)


# ---- tf-keras parity (tests/fixtures/make_symbolic_ops_fixtures.py) ---------------------------
def test_matches_tf_keras_tfoplambda_model():
    import os
    f = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "symbolic_ops.npz"))
    inp = L.Input((6,))
    h = L.Dense(8)(inp)
    z = K.tanh(h) * 2 - K.concatenate([h[:, :4], K.relu(h[:, 4:])])
    model = Model(inp, [L.Dense(1)(z), K.sum(h * h, axis=1, keepdims=True)])
    model.set_weights([f[f"w{i}"] for i in range(4)])
    pred = model.predict(f["x"])
    np.testing.assert_allclose(pred[0], f["pred0"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pred[1], f["pred1"], rtol=1e-4, atol=1e-5)
    model.compile(optimizers.SGD(lr=0.01), "mse")
    for _ in range(2):
        model.train_on_batch(f["x"], [f["y0"], f["y1"]])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, f[f"trained{i}"], rtol=1e-3, atol=1e-5)
