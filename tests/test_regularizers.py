"""Regularizers and constraints on Dense: penalties in the loss, their gradients, and the
constraint applied after each update, against NumPy references."""
import numpy as np
import pytest

import seqnet as keras
from seqnet import constraints, regularizers
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.optimizers import SGD


def data(n=16, dim=4, classes=3):
    rng = np.random.RandomState(0)
    return rng.rand(n, dim).astype(np.float32), keras.utils.to_categorical(rng.randint(classes, size=n), classes)


def forward64(ws, x):
    h = np.tanh(x.astype(np.float64) @ ws[0] + ws[1])
    z = h @ ws[2] + ws[3]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return h, p / p.sum(axis=1, keepdims=True)


def test_weight_and_activity_penalties_and_their_gradients():
    x, y = data()
    model = Sequential([Dense(5, activation="tanh", input_dim=4, kernel_regularizer=regularizers.l1_l2(0.01, 0.02),
                              bias_regularizer="l2", activity_regularizer=regularizers.l1(0.003)),
                        Dense(3, activation="softmax", kernel_regularizer=regularizers.l2(0.05))])
    rng = np.random.RandomState(1)
    model.set_weights([w + rng.uniform(-0.3, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    w0 = [w.astype(np.float64) for w in model.get_weights()]

    def total(ws):
        h, p = forward64(ws, x)
        ce = np.mean(-np.sum(y * np.log(p), axis=1))
        return (ce + 0.01 * np.abs(ws[0]).sum() + 0.02 * np.square(ws[0]).sum() + 0.01 * np.square(ws[1]).sum()
                + 0.003 * np.abs(h).sum() + 0.05 * np.square(ws[2]).sum())

    model.compile(SGD(lr=1.0), "categorical_crossentropy")
    assert model.test_on_batch(x, y) == pytest.approx(total(w0), rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(total(w0), rel=1e-5)
    grads = [a - b for a, b in zip(w0, model.get_weights())]
    eps = 1e-6
    for k, w in enumerate(w0):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus, minus = [v.copy() for v in w0], [v.copy() for v in w0]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (total(plus) - total(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=2e-3, atol=3e-6)


@pytest.mark.parametrize("constraint, reference", [
    (constraints.max_norm(0.5), lambda w: w * np.minimum(1, 0.5 / (1e-7 + np.linalg.norm(w, axis=0)))),
    (constraints.non_neg(), lambda w: np.maximum(w, 0)),
    (constraints.unit_norm(), lambda w: w / (1e-7 + np.linalg.norm(w, axis=0))),
])
def test_constraints_apply_after_each_update(constraint, reference):
    x, y = data()
    model = Sequential([Dense(3, activation="softmax", input_dim=4, kernel_constraint=constraint)])
    model.compile(SGD(lr=0.5), "categorical_crossentropy")
    w0 = model.get_weights()
    model.train_on_batch(x, y)
    # the unconstrained update, computed by an identical model without the constraint
    free = Sequential([Dense(3, activation="softmax", input_dim=4)])
    free.set_weights(w0)
    free.compile(SGD(lr=0.5), "categorical_crossentropy")
    free.train_on_batch(x, y)
    np.testing.assert_allclose(model.get_weights()[0], reference(free.get_weights()[0].astype(np.float64)),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.get_weights()[1], free.get_weights()[1], rtol=1e-6)


def test_identifiers_configs_and_errors():
    dense = Dense(2, input_dim=3, kernel_regularizer="l1", kernel_constraint="max_norm")
    config = dense.get_config()
    assert config["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.0}}
    assert config["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}
    assert regularizers.get(config["kernel_regularizer"]).l1 == 0.01
    with pytest.raises(ValueError, match="regularizer"):
        Dense(2, kernel_regularizer="l3")
    with pytest.raises(ValueError, match="constraint"):
        Dense(2, kernel_constraint="positive")
    with pytest.raises(ValueError, match="l2"):
        regularizers.l2(-1.0)
