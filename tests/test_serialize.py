"""serialize / deserialize / get of losses, metrics, activations, initializers,
regularizers and constraints (Keras 2.2.4 behaviour, custom objects and the
custom-object scope), and the cross-entropies' ValueError when the target does not fit
the output."""
import re

import numpy as np
import pytest

import seqnet.backend as K
from seqnet import activations, constraints, initializers, losses, metrics, regularizers
from seqnet.backend import vjp
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.utils import custom_object_scope, get_custom_objects


def my_loss(y_true, y_pred):
    return K.mean(K.abs(y_pred - y_true), axis=-1) * 2.0


def my_activation(x):
    return x * 3.0


class MyInit(initializers.Initializer):
    def __init__(self, value=0.5):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype=np.float32)

    def get_config(self):
        return {"value": self.value}


class MyRegularizer(regularizers.L1L2):
    pass


class MyConstraint(constraints.NonNeg):
    pass


# ---------------------------------------------------------------------------
# losses and metrics

@pytest.mark.parametrize("name", ["mse", "MSE", "mean_squared_error", "categorical_crossentropy", "kld",
                                  "cosine_proximity", "logcosh"])
def test_loss_names_round_trip(name):
    fn = losses.get(name)
    assert callable(fn) and fn is getattr(losses, name)
    assert losses.deserialize(losses.serialize(fn)) is fn
    assert metrics.get(name) is fn  # every loss is a metric too, as in Keras


def test_loss_get_follows_keras_224():
    assert losses.get(None) is None
    assert losses.get(my_loss) is my_loss
    assert losses.serialize(my_loss) == "my_loss"
    with pytest.raises(ValueError, match="^Unknown loss function: my_loss"):
        losses.get("my_loss")
    with pytest.raises(ValueError, match="Could not interpret"):
        losses.get(3)
    assert losses.deserialize("my_loss", custom_objects={"my_loss": my_loss}) is my_loss
    with custom_object_scope({"my_loss": my_loss}):
        assert losses.get("my_loss") is my_loss
    assert "my_loss" not in get_custom_objects()


def test_metric_get_serialize_deserialize():
    assert metrics.get("categorical_accuracy") is metrics.categorical_accuracy
    assert metrics.deserialize(metrics.serialize(metrics.top_k_categorical_accuracy)) is \
        metrics.top_k_categorical_accuracy
    assert metrics.get(my_loss) is my_loss
    with pytest.raises(ValueError, match="^Unknown metric function: accuracy"):
        metrics.get("accuracy")  # compile resolves 'accuracy' itself
    with pytest.raises(ValueError, match="Unknown metric function: my_loss"):
        metrics.get("my_loss")
    assert metrics.deserialize("my_loss", custom_objects={"my_loss": my_loss}) is my_loss
    with custom_object_scope({"my_loss": my_loss}):
        assert metrics.get("my_loss") is my_loss


def test_custom_object_scope_reaches_compile():
    x = np.random.RandomState(0).rand(8, 3).astype(np.float32)
    y = x[:, :2] * 2
    model = Sequential([Dense(2, input_dim=3)])
    with custom_object_scope({"my_loss": my_loss}):
        model.compile("sgd", loss="my_loss", metrics=["my_loss"])
        history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert history.history["my_loss"][0] == pytest.approx(history.history["loss"][0], rel=1e-5)


# ---------------------------------------------------------------------------
# activations, initializers, regularizers, constraints honour the scope

def test_activations_honour_custom_objects():
    assert activations.get("relu") is activations.relu
    with pytest.raises(ValueError, match="Unknown activation function: 'my_activation'"):
        activations.get("my_activation")
    with custom_object_scope({"my_activation": my_activation}):
        assert activations.get("my_activation") is my_activation
        assert activations.deserialize({"class_name": "my_activation", "config": {}}) is my_activation
    assert activations.deserialize("my_activation", custom_objects={"my_activation": my_activation}) \
        is my_activation


def test_initializers_honour_custom_objects():
    assert isinstance(initializers.get("glorot_uniform"), initializers.VarianceScaling)
    config = initializers.serialize(MyInit(0.25))
    assert config == {"class_name": "MyInit", "config": {"value": 0.25}}
    with pytest.raises(ValueError, match="Unknown initializer: MyInit"):
        initializers.get(config)
    with custom_object_scope({"MyInit": MyInit}):
        assert initializers.get(config).value == 0.25
        assert initializers.get("MyInit").value == 0.5
    assert initializers.deserialize(config, custom_objects={"MyInit": MyInit}).value == 0.25
    assert initializers.deserialize(initializers.serialize(initializers.RandomUniform(-2, 2))).maxval == 2


def test_regularizers_and_constraints_honour_custom_objects():
    assert regularizers.get("l2").l2 == pytest.approx(0.01)
    assert regularizers.deserialize({"class_name": "l1", "config": {"l": 0.5}}).l1 == 0.5
    with custom_object_scope({"MyRegularizer": MyRegularizer, "MyConstraint": MyConstraint}):
        assert type(regularizers.get({"class_name": "MyRegularizer", "config": {"l1": 0.1}})) is MyRegularizer
        assert type(regularizers.get("MyRegularizer")) is MyRegularizer
        assert type(constraints.get("MyConstraint")) is MyConstraint
    with pytest.raises(ValueError, match="Unknown regularizer: MyRegularizer"):
        regularizers.get("MyRegularizer")
    with pytest.raises(ValueError, match="Unknown constraint: MyConstraint"):
        constraints.get({"class_name": "MyConstraint", "config": {}})
    assert type(constraints.deserialize({"class_name": "MyConstraint", "config": {}},
                                        custom_objects={"MyConstraint": MyConstraint})) is MyConstraint
    assert constraints.serialize(constraints.MaxNorm(3)) == {"class_name": "MaxNorm",
                                                             "config": {"max_value": 3, "axis": 0}}


# ---------------------------------------------------------------------------
# A cross-entropy whose target does not fit the output is a ValueError naming it

def probabilities(rows=8, classes=3, seed=0):
    p = np.random.RandomState(seed).rand(rows, classes) + 0.1
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name,y_true,y_pred", [
    ("categorical_crossentropy", np.arange(8).reshape(8, 1) % 3, probabilities()),
    ("categorical_crossentropy", np.arange(8) % 3, probabilities()),
    ("binary_crossentropy", np.ones((8, 1)), probabilities()),
    ("binary_crossentropy", np.ones((8, 3)), probabilities()[:, :1]),
    ("sparse_categorical_crossentropy", np.eye(3)[np.arange(8) % 3], probabilities()),
])
def test_crossentropy_with_a_target_that_does_not_fit_is_a_value_error(name, y_true, y_pred):
    shapes = [rf"\({', '.join(map(str, s))},?\)" for s in (y_true.shape, y_pred.shape)]
    for fn in (losses.get(name), metrics.get(name)):
        with pytest.raises(ValueError, match=name) as info:
            fn(y_true, y_pred)
        message = str(info.value)
        assert all(re.search(s, message) for s in shapes), message
        with pytest.raises(ValueError, match=name):
            vjp(fn, y_true, y_pred)  # on the tape too (a user loss)


def test_crossentropy_with_fitting_targets_still_works():
    p = probabilities()
    labels = np.arange(8) % 3
    one_hot = np.eye(3)[labels]
    expected = -np.log(p[np.arange(8), labels])
    np.testing.assert_allclose(losses.categorical_crossentropy(one_hot, p), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels[:, None], p), expected, rtol=1e-6)
    bce = losses.binary_crossentropy(one_hot, p)
    reference = -np.mean(one_hot * np.log(p + 1e-7) + (1 - one_hot) * np.log(1 - p + 1e-7), axis=-1)
    np.testing.assert_allclose(bce, reference, rtol=1e-6)
    np.testing.assert_allclose(K.binary_crossentropy(1.0, p[:, 0]), -np.log(p[:, 0] + 1e-7), rtol=1e-6)


def test_crossentropy_metric_with_integer_targets_in_fit_is_a_value_error():
    x = np.random.RandomState(0).rand(8, 4).astype(np.float32)
    y = (np.arange(8) % 3).reshape(8, 1)
    model = Sequential([Dense(3, activation="softmax", input_dim=4)])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["categorical_crossentropy"])
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(8,.*\(8, 3\)"):
        model.fit(x, y, epochs=1, verbose=0)
