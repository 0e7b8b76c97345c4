"""An Activation layer right after a linear Dense, Conv1D or Conv2D of a plain chain runs inside
that layer's kernels (engine/network.py, FUSE_ACTIVATIONS): the results must be the bits of
running it as a layer of its own, in training (weights after several steps) and in predict."""
import numpy as np
import pytest

import seqnet as keras
from seqnet.engine import network
from seqnet.layers import Activation, Conv1D, Conv2D, Dense, Flatten, MaxPooling2D


@pytest.fixture
def fusion_setting():
    saved = network.FUSE_ACTIVATIONS
    yield
    network.FUSE_ACTIVATIONS = saved


def conv_model(act, seed):
    np.random.seed(seed)
    return keras.models.Sequential([
        Conv2D(8, (3, 3), input_shape=(10, 10, 3)), Activation(act),
        Conv2D(8, (3, 3), padding="same"), Activation("relu"),
        MaxPooling2D(), Flatten(),
        Dense(16), Activation(act),
        Dense(4), Activation("softmax"),
    ])


def conv1d_model(act, seed):
    np.random.seed(seed)
    return keras.models.Sequential([
        Conv1D(6, 3, input_shape=(12, 5)), Activation(act), Flatten(), Dense(3), Activation(act),
    ])


def train(build, act, fuse, x, y, loss):
    network.FUSE_ACTIVATIONS = fuse
    model = build(act, 0)
    model.set_weights([np.random.default_rng(i).uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       for i, w in enumerate(model.get_weights())])
    model.compile(loss=loss, optimizer=keras.optimizers.SGD(lr=0.05))
    for _ in range(3):
        model.train_on_batch(x, y)
    marks = model._activation_fusions(model._chain)
    return marks, model.get_weights(), model.predict(x, batch_size=len(x))


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "elu", "selu", "softplus", "swish"])
def test_fused_activations_give_the_bits_of_activation_layers(act, fusion_setting):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 10, 10, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    marks, w1, p1 = train(conv_model, act, True, x, y, "categorical_crossentropy")
    unmarked, w0, p0 = train(conv_model, act, False, x, y, "categorical_crossentropy")
    # the fusion took place: three pairs (the output's softmax stays a layer of its own)
    assert sum(m is network._RUN_BEFORE for m in marks) == 3
    assert all(m is None for m in unmarked)
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


def test_conv1d_and_an_activation_as_output(fusion_setting):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 12, 5)).astype(np.float32)
    y = rng.standard_normal((5, 3)).astype(np.float32)
    marks, w1, p1 = train(conv1d_model, "tanh", True, x, y, "mse")
    _, w0, p0 = train(conv1d_model, "tanh", False, x, y, "mse")
    assert marks[1] is network._RUN_BEFORE and marks[-1] is None  # the last Activation runs as a layer
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


def test_not_fused_after_a_nonlinear_or_channels_first_layer(fusion_setting):
    network.FUSE_ACTIVATIONS = True
    model = keras.models.Sequential([
        Dense(4, activation="relu", input_shape=(3,)), Activation("tanh"),  # Dense not linear
        Dense(4), Activation("linear"),  # nothing to fuse
        Dense(2),
    ])
    assert all(m is None for m in model._activation_fusions(model._chain))
    first = keras.models.Sequential([
        Conv2D(2, (3, 3), data_format="channels_first", input_shape=(3, 6, 6)), Activation("relu"), Flatten(),
        Dense(2),
    ])
    assert all(m is None for m in first._activation_fusions(first._chain))
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y = first.predict(x)
    network.FUSE_ACTIVATIONS = False
    assert first.predict(x).tobytes() == y.tobytes()


def test_profile_names_where_a_fused_activation_ran(fusion_setting):
    from seqnet.profiler import profile_model
    network.FUSE_ACTIVATIONS = True
    model = keras.models.Sequential([Conv2D(4, (3, 3), input_shape=(8, 8, 2)), Activation("relu"), Flatten(),
                                     Dense(3), Activation("softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 8, 8, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    p = profile_model(model, x, y, batch_size=4, steps=1, warmup=0)
    act = p.row(model.layers[1].name)
    assert act.fused_into == model.layers[0].name and act.forward_ms == 0.0
    # its FLOPs still count, from its shape: one per output element forward
    assert act.forward_flops == 6 * 6 * 4
    assert p.row(model.layers[-1].name).fused_into is None
    assert "Run inside the layer before them" in str(p)


def test_predict_fuses_after_a_folded_batch_normalization(fusion_setting):
    from seqnet.layers import BatchNormalization
    model = keras.models.Sequential([Conv2D(4, (3, 3), input_shape=(8, 8, 3)), BatchNormalization(),
                                     Activation("relu"), Flatten(), Dense(3)])
    model.compile(loss="mse", optimizer="sgd")
    x = np.random.default_rng(5).standard_normal((5, 8, 8, 3)).astype(np.float32)
    model.train_on_batch(x, np.zeros((5, 3), np.float32))  # moving statistics away from 0 / 1
    network.FUSE_ACTIVATIONS = True
    chain = model._inference_chain()  # the convolution with the normalization folded in
    assert [type(r).__name__ for r in chain][:2] == ["Conv2D", "Activation"]
    assert model._activation_fusions(chain)[1] is network._RUN_BEFORE
    fused = model.predict(x)
    network.FUSE_ACTIVATIONS = False
    assert model.predict(x).tobytes() == fused.tobytes()
