"""An Activation layer right after a linear Dense or convolution (and a ReLU after a
BatchNormalization, or after an Add merge) runs inside that layer's kernels, in plain chains and in
graphs where it is the only reader (engine/network.py, FUSE_ACTIVATIONS): the results must be the bits of running it as a
layer of its own, in training (weights after several steps) and in predict; and the profiler says
where it ran. Max pooling after a ReLU hands the gradient before the ReLU to the layer that applied
it (_graph_relu_gates): the same bits as the ReLU's own derivative."""
import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine as E
from seqnet.engine import network
from seqnet.layers import Activation, Conv1D, Conv2D, Dense, Flatten, MaxPooling2D


@pytest.fixture
def fusion_setting():
    saved = network.FUSE_ACTIVATIONS, network.FUSE_RELU_GATES, network.FUSE_POOL_GRADIENTS
    yield
    network.FUSE_ACTIVATIONS, network.FUSE_RELU_GATES, network.FUSE_POOL_GRADIENTS = saved


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
    # kernels drawn again (the same on both sides), biases, scales and moving statistics as built
    model.set_weights([np.random.default_rng(i).uniform(-0.5, 0.5, w.shape).astype(np.float32) if w.ndim > 1 else w
                       for i, w in enumerate(model.get_weights())])
    model.compile(loss=loss, optimizer=keras.optimizers.SGD(lr=0.05))
    for _ in range(3):
        model.train_on_batch(x, y)
    marks = model._activation_fusions(model._chain) if model._chain is not None else None
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


def _profiled(layers, shape, seed):
    """A training profile (one step, batch 4) of the Sequential model of `layers`, and the model."""
    from seqnet.profiler import profile_model
    model = keras.models.Sequential(layers)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    x = np.random.default_rng(seed).standard_normal((4,) + shape).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    return profile_model(model, x, y, batch_size=4, steps=1, warmup=0), model


def test_profile_names_where_a_fused_activation_ran(fusion_setting):
    network.FUSE_ACTIVATIONS = True
    p, model = _profiled([Conv2D(4, (3, 3), input_shape=(8, 8, 2)), Activation("relu"), Flatten(), Dense(3),
                          Activation("softmax")], (8, 8, 2), 4)
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


@pytest.mark.parametrize("channels_first", [False, True])
def test_relu_after_batch_normalization_runs_in_its_kernels(channels_first, fusion_setting):
    from seqnet.layers import BatchNormalization

    def build(_act, seed):
        np.random.seed(seed)
        fmt = "channels_first" if channels_first else "channels_last"
        shape = (3, 9, 9) if channels_first else (9, 9, 3)
        return keras.models.Sequential([
            Conv2D(6, (3, 3), data_format=fmt, input_shape=shape), BatchNormalization(axis=1 if channels_first else -1),
            Activation("relu"), Flatten(), Dense(8), BatchNormalization(), Activation("relu"),
            BatchNormalization(), Activation("tanh"),  # not fused: a BatchNormalization takes only relu
            Dense(3), Activation("softmax"),
        ])

    rng = np.random.default_rng(6)
    shape = (7, 3, 9, 9) if channels_first else (7, 9, 9, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 7)]
    marks, w1, p1 = train(build, None, True, x, y, "categorical_crossentropy")
    _, w0, p0 = train(build, None, False, x, y, "categorical_crossentropy")
    assert [i for i, m in enumerate(marks) if m is network._RUN_BEFORE] == [2, 6]
    for a, b in zip(w1, w0):  # moving statistics included
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


def test_batchnorm_relu_kernels_against_numpy():
    """The engine's fused ReLU in batch normalization, forward and backward, against float64."""
    from seqnet import _engine
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 5, 4)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 1.5, 4).astype(np.float32), rng.uniform(-0.5, 0.5, 4).astype(np.float32)
    y = np.empty_like(x)
    mean, inv = np.empty(4, np.float32), np.empty(4, np.float32)
    ws = np.empty(_engine.batchnorm_workspace_size(x.shape, 2), np.float32)
    _engine.batchnorm_forward_training(x, gamma, beta, y, mean, inv, None, None, ws, 2, 1e-3, 0.99, relu=True)
    x64 = x.astype(np.float64)
    m, v = x64.mean(axis=(0, 1)), x64.var(axis=(0, 1))
    z = (x64 - m) / np.sqrt(v + 1e-3) * gamma + beta
    np.testing.assert_allclose(y, np.maximum(z, 0), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    dx, dg, db = np.empty_like(x), np.empty(4, np.float32), np.empty(4, np.float32)
    _engine.batchnorm_backward(x, dy, gamma, mean, inv, dx, dg, db, ws, 2, True, relu_y=y)
    dz = np.where(z > 0, dy, 0.0)
    n = x.shape[0] * x.shape[1]
    xhat = (x64 - m) / np.sqrt(v + 1e-3)
    want_dx = gamma / np.sqrt(v + 1e-3) * (dz - dz.sum(axis=(0, 1)) / n - xhat * (dz * xhat).sum(axis=(0, 1)) / n)
    np.testing.assert_allclose(db, dz.sum(axis=(0, 1)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dg, (dz * xhat).sum(axis=(0, 1)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="batchnorm_backward: relu_y"):
        _engine.batchnorm_backward(x, dy, gamma, mean, inv, dx, dg, db, ws, 2, True, relu_y=np.empty((6, 5, 3), np.float32))


def residual_model(_act, seed):
    from seqnet.layers import Add, BatchNormalization, GlobalAveragePooling2D, Input
    np.random.seed(seed)
    inp = Input((8, 8, 3))
    h = Conv2D(6, (3, 3), padding="same")(inp)
    h = BatchNormalization()(h)
    h = Activation("relu")(h)                      # fused into the BatchNormalization
    b = Conv2D(6, (3, 3), padding="same")(h)
    b = Activation("tanh")(b)                      # fused into the convolution
    s = Conv2D(6, (1, 1))(h)
    t = Activation("relu")(s)                      # s is read twice (here and by Add): not fused
    merged = Add()([b, t, s])
    out = Activation("elu")(merged)                # fused into the Add: act(b + t + s) in one pass
    out = GlobalAveragePooling2D()(out)
    out = Dense(3)(out)
    out = Activation("softmax")(out)               # the model's output: left alone
    return keras.models.Model(inp, out)


def test_functional_models_fuse_where_one_layer_reads_the_output(fusion_setting):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((5, 8, 8, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]
    marks, w1, p1 = train(residual_model, None, True, x, y, "categorical_crossentropy")
    _, w0, p0 = train(residual_model, None, False, x, y, "categorical_crossentropy")
    assert marks is None  # not a plain chain
    network.FUSE_ACTIVATIONS = True
    model = residual_model(None, 0)
    acts = model._step_fusions()
    fused = [s.layer.name for s, a in zip(model._steps, acts) if a is network._RUN_BEFORE]
    producers = [type(s.layer).__name__ for s, a in zip(model._steps, acts) if a not in (None, network._RUN_BEFORE)]
    assert len(fused) == 3 and sorted(producers) == ["Add", "BatchNormalization", "Conv2D"]
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


def add_block_model(act, seed):
    """A residual block: conv - Add with its input - Activation(act), the Keras ResNet pattern."""
    from seqnet.layers import Add, GlobalAveragePooling2D, Input
    np.random.seed(seed)
    inp = Input((6, 6, 4))
    b = Conv2D(4, (3, 3), padding="same")(inp)
    merged = Add()([inp, b])
    out = Activation(act)(merged)
    out = GlobalAveragePooling2D()(out)
    return keras.models.Model(inp, Dense(3)(out))


# The Add applies the Activation after it in one pass; the gradient through it is the
# Activation layer's, copied to each input: the same bits either way, for activations whose
# gradient needs their input (swish, gelu: the Add keeps the sum) and those that do not.
@pytest.mark.parametrize("act", ["relu", "tanh", "swish", "gelu"])
def test_add_applies_the_activation_after_it(act, fusion_setting):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 6, 6, 4)).astype(np.float32)
    y = rng.standard_normal((5, 3)).astype(np.float32)
    _, w1, p1 = train(add_block_model, act, True, x, y, "mse")
    _, w0, p0 = train(add_block_model, act, False, x, y, "mse")
    network.FUSE_ACTIVATIONS = True
    model = add_block_model(act, 0)
    producers = [type(s.layer).__name__ for s, a in zip(model._steps, model._step_fusions())
                 if a not in (None, network._RUN_BEFORE)]
    assert producers == ["Add"]
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


# An input the engine cannot read in place (a strided view) takes the two-pass way: same bits.
def test_fused_add_of_a_strided_input():
    from seqnet.layers import Add
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 10), dtype=np.float32)
    b = rng.standard_normal((4, 5), dtype=np.float32)
    layer = Add()
    layer.build([(4, 5), (4, 5)])
    network._with_activation(layer, E.Activation.swish, layer.forward, [a[:, ::2], b], True)
    y = layer._fused[2].copy()
    expected = np.empty_like(b)
    E.activation_forward(E.Activation.swish, a[:, ::2] + b, expected)
    assert y.tobytes() == expected.tobytes()


def test_add_activation_forward_checks_its_arguments():
    A = E.Activation
    a, b = np.ones((2, 3), np.float32), np.ones((2, 3), np.float32)
    y = np.empty((2, 3), np.float32)
    E.add_activation_forward(A.relu, [a, b, a], None, y)
    np.testing.assert_array_equal(y, 3.0)
    with pytest.raises(ValueError, match="act must be elementwise, got softmax"):
        E.add_activation_forward(A.softmax, [a, b], None, y)
    with pytest.raises(ValueError, match=r"xs must hold at least 2 arrays, got 1"):
        E.add_activation_forward(A.relu, [a], None, y)
    with pytest.raises(ValueError, match=r"xs\[1\]: expected shape \(2, 3\), got \(3, 2\)"):
        E.add_activation_forward(A.relu, [a, np.ones((3, 2), np.float32)], None, y)
    with pytest.raises(ValueError, match=r"z: expected shape \(2, 3\), got \(6,\)"):
        E.add_activation_forward(A.relu, [a, b], np.empty(6, np.float32), y)


def test_profile_of_a_functional_model_names_the_fused_layers(fusion_setting):
    from seqnet.profiler import profile_model
    network.FUSE_ACTIVATIONS = True
    model = residual_model(None, 0)
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 8, 8, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    p = profile_model(model, x, y, batch_size=4, steps=1, warmup=0)
    fused = {r.name: r.fused_into for r in p.layer_rows if r.fused_into}
    names = [layer.name for layer in model.layers]
    bn = next(n for n in names if n.startswith("batch_normalization"))
    add = next(n for n in names if n.startswith("add"))
    # the BN, the branch's conv, the Add
    assert sorted(fused.values()) == sorted([bn, names[names.index(bn) + 2], add])


def other_convs_model(_act, seed):
    from seqnet.layers import Conv2DTranspose, Conv3D, DepthwiseConv2D, Reshape, SeparableConv1D, SeparableConv2D
    np.random.seed(seed)
    return keras.models.Sequential([
        DepthwiseConv2D((3, 3), depth_multiplier=2, input_shape=(9, 9, 3)), Activation("relu"),
        SeparableConv2D(5, (3, 3), padding="same"), Activation("tanh"),
        Conv2DTranspose(4, (3, 3), strides=(2, 2)), Activation("elu"),
        Reshape((15, 15, 4, 1)), Conv3D(2, (3, 3, 2)), Activation("sigmoid"),
        Reshape((13 * 13, 3 * 2)), SeparableConv1D(3, 3), Activation("relu"),
        Flatten(), Dense(3), Activation("softmax"),
    ])


def test_the_other_convolutions_fuse_alike(fusion_setting):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((3, 9, 9, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2]]
    marks, w1, p1 = train(other_convs_model, None, True, x, y, "categorical_crossentropy")
    _, w0, p0 = train(other_convs_model, None, False, x, y, "categorical_crossentropy")
    assert sum(m is network._RUN_BEFORE for m in marks) == 5
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


# ---- max pooling after a ReLU: the pooling returns the gradient before the ReLU -------------------
def _gate_models():
    from seqnet.layers import (AveragePooling2D, BatchNormalization, Conv3D, Input, MaxPooling1D, MaxPooling3D,
                               SeparableConv2D)
    S = keras.models.Sequential
    return {
        # (builder, input shape, how many max poolings gate)
        "conv2d_relu": (lambda: S([Conv2D(8, (3, 3), activation="relu", input_shape=(10, 10, 3)), MaxPooling2D(),
                                   Flatten(), Dense(4, activation="softmax")]), (10, 10, 3), 1),
        "activation_layer_overlapping_same": (lambda: S([
            Conv2D(8, (3, 3), input_shape=(10, 10, 3)), Activation("relu"),
            MaxPooling2D(pool_size=3, strides=1, padding="same"),  # overlapping windows: the scatter path
            Conv2D(4, (3, 3), activation="relu"), MaxPooling2D(pool_size=(2, 3), padding="same"),
            Flatten(), Dense(4, activation="softmax")]), (10, 10, 3), 2),
        "conv1d_dense": (lambda: S([
            Conv1D(6, 3, activation="relu", input_shape=(14, 5)), MaxPooling1D(3),
            Dense(5, activation="relu"), MaxPooling1D(2), Flatten(), Dense(4, activation="softmax")]), (14, 5), 2),
        "batchnorm_relu": (lambda: S([
            Conv2D(6, (3, 3), input_shape=(9, 9, 3)), BatchNormalization(), Activation("relu"), MaxPooling2D(),
            Flatten(), Dense(4, activation="softmax")]), (9, 9, 3), 1),
        "separable_channels_first": (lambda: S([
            SeparableConv2D(6, (3, 3), activation="relu", data_format="channels_first", input_shape=(3, 9, 9)),
            MaxPooling2D(data_format="channels_first"), Conv2D(5, (2, 2), activation="relu",
                                                               data_format="channels_first"),
            MaxPooling2D(data_format="channels_first"), Flatten(), Dense(4, activation="softmax")]), (3, 9, 9), 2),
        # not gated: tanh; average pooling; 3-D pooling (its backward has no gate)
        "not_gated": (lambda: S([
            Conv2D(6, (3, 3), activation="tanh", input_shape=(10, 10, 3)), MaxPooling2D(),
            Conv2D(6, (2, 2), activation="relu"), AveragePooling2D(), Flatten(), Dense(4, activation="softmax")]),
            (10, 10, 3), 0),
        "conv3d": (lambda: S([Conv3D(3, 2, activation="relu", input_shape=(5, 5, 5, 2)), MaxPooling3D(), Flatten(),
                              Dense(4, activation="softmax")]), (5, 5, 5, 2), 0),
        "functional": (lambda: _functional_gate_model(Input), (10, 10, 3), 1),
    }


def _functional_gate_model(Input):
    from seqnet.layers import Add
    inp = Input((10, 10, 3))
    a = Conv2D(6, (3, 3), activation="relu", padding="same")(inp)
    pa = MaxPooling2D()(a)                                  # gated: a is read by this pooling alone
    b = Conv2D(6, (3, 3), activation="relu", padding="same")(inp)
    pb = MaxPooling2D()(b)                                  # not gated: b is read twice
    c = MaxPooling2D()(Conv2D(6, (1, 1))(b))
    out = Flatten()(Add()([pa, pb, c]))
    return keras.models.Model(inp, Dense(4, activation="softmax")(out))


def _train_fresh(build, fuse, x, y):
    """build() with the fusions on or off, kernels drawn as in train(), after three SGD steps; and
    the steps' losses."""
    network.FUSE_ACTIVATIONS = fuse
    np.random.seed(0)
    model = build()
    model.set_weights([np.random.default_rng(i).uniform(-0.5, 0.5, w.shape).astype(np.float32)
                       if w.ndim > 1 else w for i, w in enumerate(model.get_weights())])
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(lr=0.1))
    return model, [model.train_on_batch(x, y) for _ in range(3)]


@pytest.mark.parametrize("case", ["conv2d_relu", "activation_layer_overlapping_same", "conv1d_dense",
                                  "batchnorm_relu", "separable_channels_first", "not_gated", "conv3d", "functional"])
def test_max_pooling_after_a_relu_hands_back_the_gradient_before_it(case, fusion_setting):
    build, shape, gated = _gate_models()[case]
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6,) + shape).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    runs = []
    for fuse in (True, False):
        model, _ = _train_fresh(build, fuse, x, y)
        runs.append((model._relu_gates(), model.get_weights()))
    (gates, w1), (off, w0) = runs
    assert sum(g is network._GATES for g in gates) == gated
    assert sum(g is network._TAKES_PREACTIVATION for g in gates) == gated
    assert all(g is None for g in off)
    for a, b in zip(w1, w0):  # weights and moving statistics after three steps: the same bits
        assert a.tobytes() == b.tobytes()


def test_gated_max_pool_backward_against_numpy():
    """The engine's gate: the gradient of relu-then-pool with respect to the ReLU's input."""
    from seqnet import _engine
    rng = np.random.default_rng(9)
    z = rng.standard_normal((2, 6, 6, 5)).astype(np.float32)
    z[0, :2, :2, :] = -1.0  # a window with nothing above zero: its argmax passes no gradient
    r = np.maximum(z, 0)
    for pool, strides in (((2, 2), (2, 2)), ((3, 3), (1, 1))):
        oh = (6 - pool[0]) // strides[0] + 1
        y = np.empty((2, oh, oh, 5), np.float32)
        argmax = np.empty(y.shape, np.int32)
        _engine.max_pool_forward(r, y, argmax, pool, strides, (0, 0))
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dx = np.empty_like(z)
        _engine.max_pool_backward(dy, argmax, dx, pool, strides, (0, 0), gate=y)
        want = np.zeros(z.shape, np.float64)
        for n in range(2):
            for i in range(oh):
                for j in range(oh):
                    for ch in range(5):
                        p = argmax[n, i, j, ch]
                        if y[n, i, j, ch] > 0:
                            want[n, p // 6, p % 6, ch] += dy[n, i, j, ch]
        np.testing.assert_allclose(dx, want, rtol=1e-6, atol=1e-7)
        assert np.all(dx[0, :2, :2, :] == 0)
        # without the gate, then the ReLU's derivative: the same bits
        plain = np.empty_like(z)
        _engine.max_pool_backward(dy, argmax, plain, pool, strides, (0, 0))
        assert np.where(r <= 0, np.float32(0), plain).tobytes() == dx.tobytes()
    with pytest.raises(ValueError, match="max_pool_backward: gate"):
        _engine.max_pool_backward(dy, argmax, dx, pool, strides, (0, 0), gate=np.zeros((2, 3, 3, 5), np.float32))


def test_the_gate_has_its_own_switch(fusion_setting):
    network.FUSE_ACTIVATIONS, network.FUSE_RELU_GATES = True, False
    model = keras.models.Sequential([Conv2D(4, (3, 3), input_shape=(8, 8, 2)), Activation("relu"), MaxPooling2D(),
                                     Flatten(), Dense(3)])
    assert all(g is None for g in model._relu_gates())
    assert model._activation_fusions(model._chain)[1] is network._RUN_BEFORE
    network.FUSE_RELU_GATES = True
    assert [g is network._GATES for g in model._relu_gates()] == [False, False, True, False, False]


# ---- in training, the Conv2D before such a MaxPooling2D() writes the pooling's output -------------
@pytest.mark.parametrize("algo", ["im2col", "direct", "winograd2", "winograd4", "winograd6"])
@pytest.mark.parametrize("act", [True, False])  # ReLU for the convolution, else a linear one (pooled as is)
def test_conv_forward_pools_as_max_pool_forward(algo, act, isa):
    """conv_forward's pool_y / pool_argmax: the bits of max_pool_forward over its output, with every
    algorithm (Winograd pools its output tiles without writing y), odd sizes, NaN, 1 and 2 threads,
    on every instruction set."""
    from seqnet import _engine as E
    rng = np.random.default_rng(11)
    saved_algo, saved_threads = E.conv_algo(), E.get_num_threads()
    code = E.Activation.relu if act else E.Activation.linear
    try:
        E.set_conv_algo(algo)
        for n, h, w, c, f, pad in [(2, 10, 10, 3, 8, 0), (3, 13, 11, 5, 17, 0), (2, 9, 9, 16, 32, 1),
                                   (1, 15, 15, 32, 20, 1), (2, 7, 8, 4, 16, 0)]:
            x = rng.standard_normal((n, h, w, c)).astype(np.float32)
            x[0, 2, 3, 0] = np.nan
            k = (rng.standard_normal((3, 3, c, f)) * 0.3).astype(np.float32)
            b = rng.standard_normal(f).astype(np.float32)
            oh, ow = (h, w) if pad else (h - 2, w - 2)
            y = np.empty((n, oh, ow, f), np.float32)
            col = np.empty((oh * ow, 9 * c), np.float32)
            E.conv_forward(x, k, b, None, y, col, (1, 1), (1, 1), (pad, pad), code)
            want, want_a = np.empty((n, oh // 2, ow // 2, f), np.float32), np.empty((n, oh // 2, ow // 2, f), np.int32)
            E.max_pool_forward(y, want, want_a, (2, 2), (2, 2), (0, 0))
            assert np.isnan(want).any()
            for threads in (1, 2):
                E.set_num_threads(threads)
                got, got_a = np.full_like(want, 7.0), np.full_like(want_a, -5)
                E.conv_forward(x, k, b, None, np.empty_like(y), col, (1, 1), (1, 1), (pad, pad), code,
                               pool_y=got, pool_argmax=got_a)
                assert got.tobytes() == want.tobytes() and got_a.tobytes() == want_a.tobytes()
            E.set_num_threads(saved_threads)
        with pytest.raises(ValueError, match=r"conv_forward: pool_y must have shape \(n, oh // 2, ow // 2, filters\)"):
            E.conv_forward(x, k, b, None, y, col, (1, 1), (1, 1), (pad, pad), code, pool_y=np.empty((1, 2, 2, f), np.float32),
                           pool_argmax=np.empty((1, 2, 2, f), np.int32))
        with pytest.raises(ValueError, match="pass pool_y and pool_argmax together"):
            E.conv_forward(x, k, b, None, y, col, (1, 1), (1, 1), (pad, pad), code, pool_y=want)
        with pytest.raises(ValueError, match="pool_argmax: expected a C-contiguous int32 array"):
            E.conv_forward(x, k, b, None, y, col, (1, 1), (1, 1), (pad, pad), code, pool_y=want,
                           pool_argmax=want.copy())
    finally:
        E.set_conv_algo(saved_algo)
        E.set_num_threads(saved_threads)


@pytest.mark.parametrize("algo", ["winograd2", "winograd4", "winograd6", "im2col"])
def test_convolutions_writing_their_pooling_train_to_the_same_bits(algo, fusion_setting, monkeypatch):
    from seqnet import _engine
    from seqnet.layers import Dropout

    def build():
        return keras.models.Sequential([
            Conv2D(16, (3, 3), activation="relu", input_shape=(15, 15, 8)),   # 13 x 13: pooling drops a row
            MaxPooling2D(), Dropout(0.25),
            Conv2D(16, (3, 3), padding="same"), Activation("relu"), MaxPooling2D(),
            Flatten(), Dense(4, activation="softmax")])

    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 15, 15, 8)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 5)]
    saved = _engine.conv_algo()
    runs = []
    from seqnet.layers.pooling.base_pooling import Pooling
    filled = []
    fill_from = Pooling.fill_from
    monkeypatch.setattr(Pooling, "fill_from", lambda self, x4: filled.append(1) or fill_from(self, x4))
    try:
        _engine.set_conv_algo(algo)
        for fuse in (True, False):
            model, losses = _train_fresh(build, fuse, x, y)
            before = len(filled)
            runs.append((model._pool_fusions(), losses, model.get_weights(), model.predict(x)))
            assert len(filled) - before == (2 if fuse else 0)  # predict pools in the convolutions too
    finally:
        _engine.set_conv_algo(saved)
    (pools, l1, w1, p1), (off, l0, w0, p0) = runs
    assert [type(p).__name__ for p in pools if p is not None] == ["MaxPooling2D", "MaxPooling2D"]
    assert all(p is None for p in off)
    assert np.array_equal(l1, l0)
    for a, b in zip(w1, w0):
        assert a.tobytes() == b.tobytes()
    assert p1.tobytes() == p0.tobytes()


def test_profile_names_the_convolution_that_writes_a_pooling(fusion_setting):
    from seqnet.profiler import profile_model
    p, model = _profiled([Conv2D(4, (3, 3), activation="relu", input_shape=(10, 10, 2)), MaxPooling2D(), Flatten(),
                          Dense(3, activation="softmax")], (10, 10, 2), 13)
    pool = p.row(model.layers[1].name)
    assert pool.forward_in == model.layers[0].name and pool.forward_gflops is None and pool.fused_into is None
    assert pool.backward_flops is not None and pool.backward_ms > 0
    assert "Forward run inside the layer before them" in str(p)
    network.FUSE_RELU_GATES = False
    x = np.random.default_rng(13).standard_normal((4, 10, 10, 2)).astype(np.float32)
    p = profile_model(model, x, np.eye(3, dtype=np.float32)[[0, 1, 2, 0]], batch_size=4, steps=1, warmup=0)
    assert p.row(model.layers[1].name).forward_in is None and "Forward run inside" not in str(p)


# ---- in training, the pooling's gradient goes back to that Conv2D as it is ------------------------
@pytest.mark.parametrize("algo", ["im2col", "direct", "winograd2", "winograd4", "winograd6"])
def test_conv_backward_reads_the_pooled_gradient_as_its_scatter(algo, isa):
    """conv_backward's pool_dy / pool_argmax / pool_gate: the bits of max_pool_backward (with and
    without the ReLU gate) followed by conv_backward, for dkernel, dbias and dx, with every algorithm
    (Winograd reads the pooled arrays tile by tile and leaves dy unwritten; the others scatter into
    dy first), odd sizes (the pooling drops a row or column), channel counts short of a vector, a NaN
    and -0 in the gradient, 1 and 2 threads, on every instruction set."""
    rng = np.random.default_rng(21)
    saved_algo, saved_threads = E.conv_algo(), E.get_num_threads()
    relu, one = E.Activation.relu, (1, 1)
    try:
        E.set_conv_algo(algo)
        for n, h, w, c, f, pad in [(2, 10, 10, 3, 8, 0), (3, 13, 11, 5, 19, 1), (2, 9, 9, 16, 32, 1),
                                   (1, 15, 15, 32, 20, 0), (2, 8, 7, 17, 3, 0)]:
            x = rng.standard_normal((n, h, w, c)).astype(np.float32)
            k = (rng.standard_normal((3, 3, c, f)) * 0.3).astype(np.float32)
            b = rng.standard_normal(f).astype(np.float32) * 0.1
            oh, ow = (h, w) if pad else (h - 2, w - 2)
            y = np.empty((n, oh, ow, f), np.float32)
            col = np.empty((n * oh * ow, 9 * c), np.float32)
            partials = np.empty(E.conv_dw_partials_size(n, oh, ow, 3, 3, c, f), np.float32)
            E.conv_forward(x, k, b, None, y, col, one, one, (pad, pad), relu)
            py, pa = np.empty((n, oh // 2, ow // 2, f), np.float32), np.empty((n, oh // 2, ow // 2, f), np.int32)
            E.max_pool_forward(y, py, pa, (2, 2), (2, 2), (0, 0))
            pdy = rng.standard_normal(py.shape).astype(np.float32)
            pdy[rng.random(py.shape) < 0.1] = -0.0
            pdy[tuple(np.argwhere(py > 0)[0])] = np.nan  # where the gate passes it
            for gate in (py, None):
                dz = np.empty_like(y)
                E.max_pool_backward(pdy, pa, dz, (2, 2), (2, 2), (0, 0), gate=gate)
                want = [np.empty_like(x), np.empty_like(k), np.empty_like(b)]
                E.conv_backward(x, k, None, y, dz, want[0], want[1], want[2], col, partials, one, one, (pad, pad),
                                relu, True)
                assert np.isnan(want[1]).any()
                for threads, with_dx in ((1, True), (2, True), (2, False)):
                    E.set_num_threads(threads)
                    got = [np.full_like(x, 3.0) if with_dx else None, np.full_like(k, 3.0), np.full_like(b, 3.0)]
                    place = np.full_like(y, 5.0)
                    E.conv_backward(x, k, None, y, place, got[0], got[1], got[2], col, partials, one, one,
                                    (pad, pad), relu, True, pool_dy=pdy, pool_argmax=pa, pool_gate=gate)
                    for g, wnt in zip(got, want):
                        assert g is None or g.tobytes() == wnt.tobytes()
                    if algo.startswith("winograd"):
                        assert (place == 5.0).all()  # never formed
                    else:
                        assert place.tobytes() == dz.tobytes()
                E.set_num_threads(saved_threads)
        dk, db = np.empty_like(k), np.empty_like(b)
        args = (x, k, None, y, dz, None, dk, db, col, partials, one, one, (pad, pad), relu)
        with pytest.raises(ValueError, match=r"conv_backward: pool_dy must have shape \(n, oh // 2, ow // 2, filters\)"):
            E.conv_backward(*args, True, pool_dy=np.empty((1, 2, 2, f), np.float32),
                            pool_argmax=np.empty((1, 2, 2, f), np.int32))
        with pytest.raises(ValueError, match="pass pool_dy and pool_argmax together"):
            E.conv_backward(*args, True, pool_dy=pdy)
        with pytest.raises(ValueError, match="pool_gate needs pool_dy and pool_argmax"):
            E.conv_backward(*args, True, pool_gate=py)
        with pytest.raises(ValueError, match="pool_argmax: expected a C-contiguous int32 array"):
            E.conv_backward(*args, True, pool_dy=pdy, pool_argmax=pdy.copy())
        with pytest.raises(ValueError, match="pass dy_is_preactivation=True"):
            E.conv_backward(*args, False, pool_dy=pdy, pool_argmax=pa)
        with pytest.raises(ValueError, match="pool_gate"):
            E.conv_backward(*args, True, pool_dy=pdy, pool_argmax=pa, pool_gate=py[:, :1].copy())
    finally:
        E.set_conv_algo(saved_algo)
        E.set_num_threads(saved_threads)


def test_pool_gradients_have_their_own_switch(fusion_setting, monkeypatch):
    """With FUSE_POOL_GRADIENTS the gated MaxPooling2D() hands the Conv2D that filled it a
    PooledGradient (in chains and in graphs), which the convolution passes to the engine as it is
    (above a size, forced here); without, the scatter as before: the same bits after three steps
    either way. Below that size the convolution scatters it itself."""
    from seqnet.layers.convolutional import base_conv
    from seqnet.layers.convolutional.conv_utils import PooledGradient

    taken = []
    backward = base_conv.Conv.backward

    def spy(self, dy, *args, **kwargs):
        taken.append(isinstance(dy, PooledGradient))
        return backward(self, dy, *args, **kwargs)

    monkeypatch.setattr(base_conv.Conv, "backward", spy)
    # these layers' gradients are small enough to be scattered (_POOLED_GRADIENT_MIN_BYTES): read
    # the pooled arrays anyway, as a large layer does
    monkeypatch.setattr(base_conv, "_POOLED_GRADIENT_MIN_BYTES", 0)
    reads = []
    conv_backward = E.conv_backward

    def engine_spy(*args, **kwargs):
        reads.append("pool_dy" in kwargs)
        return conv_backward(*args, **kwargs)

    monkeypatch.setattr(base_conv._engine, "conv_backward", engine_spy)

    def chain():
        return keras.models.Sequential([
            Conv2D(8, (3, 3), activation="relu", input_shape=(11, 12, 3)),   # 9 x 10: a row dropped
            MaxPooling2D(), Conv2D(19, (3, 3), padding="same"), Activation("relu"), MaxPooling2D(),
            Flatten(), Dense(4, activation="softmax")])

    def graph():
        inp = keras.layers.Input((11, 12, 3))
        a = MaxPooling2D()(Conv2D(8, (3, 3), activation="relu")(inp))
        b = Conv2D(6, (1, 1))(inp)  # another reader of the input: not a plain chain
        out = Dense(4, activation="softmax")(keras.layers.concatenate([Flatten()(a), Flatten()(b)]))
        return keras.models.Model(inp, out)

    rng = np.random.default_rng(22)
    x = rng.standard_normal((6, 11, 12, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 6)]
    for build, pooled_convs in ((chain, 2), (graph, 1)):
        runs = []
        for on in (True, False):
            network.FUSE_POOL_GRADIENTS = on
            del taken[:], reads[:]
            model, losses = _train_fresh(build, True, x, y)
            assert sum(taken) == sum(reads) == (3 * pooled_convs if on else 0)
            runs.append((losses, model.get_weights()))
        (l1, w1), (l0, w0) = runs
        assert np.array_equal(l1, l0)
        for a, b in zip(w1, w0):
            assert a.tobytes() == b.tobytes()


def test_a_small_pooled_gradient_is_scattered_by_the_convolution(fusion_setting, monkeypatch):
    from seqnet.layers.convolutional import base_conv
    reads = []
    conv_backward = E.conv_backward
    monkeypatch.setattr(base_conv._engine, "conv_backward",
                        lambda *a, **k: reads.append("pool_dy" in k) or conv_backward(*a, **k))
    model = keras.models.Sequential([Conv2D(4, (3, 3), activation="relu", input_shape=(10, 10, 2)), MaxPooling2D(),
                                     Flatten(), Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(lr=0.1), "categorical_crossentropy")
    x = np.random.default_rng(23).standard_normal((4, 10, 10, 2)).astype(np.float32)
    model.train_on_batch(x, np.eye(3, dtype=np.float32)[[0, 1, 2, 0]])
    assert reads == [False] and base_conv._POOLED_GRADIENT_MIN_BYTES == E.cache_sizes()["l3"] // 4


def test_tune_reads_the_pooled_gradient_once_it_has_chosen():
    """Under Tune, the first call measures (the scatter formed once, in dy); later calls read the
    pooled arrays when the passes chose Winograd: the bits of the scatter followed by the same
    algorithms either way."""
    rng = np.random.default_rng(24)
    saved = E.conv_algo()
    relu, one = E.Activation.relu, (1, 1)
    n, h, w, c, f = 4, 26, 26, 32, 32  # 4.4e7 multiply-adds: measured
    x = rng.standard_normal((n, h, w, c)).astype(np.float32)
    k = (rng.standard_normal((3, 3, c, f)) * 0.2).astype(np.float32)
    y = np.empty((n, h - 2, w - 2, f), np.float32)
    col = np.empty((n * (h - 2) * (w - 2), 9 * c), np.float32)
    partials = np.empty(E.conv_dw_partials_size(n, h - 2, w - 2, 3, 3, c, f), np.float32)
    try:
        E.set_conv_algo("tune")
        E.clear_conv_algo_choices()
        E.conv_forward(x, k, None, None, y, col, one, one, (0, 0), relu)
        py, pa = np.empty((n, 12, 12, f), np.float32), np.empty((n, 12, 12, f), np.int32)
        E.max_pool_forward(y, py, pa, (2, 2), (2, 2), (0, 0))
        pdy = rng.standard_normal(py.shape).astype(np.float32)
        dz = np.empty_like(y)
        E.max_pool_backward(pdy, pa, dz, (2, 2), (2, 2), (0, 0), gate=py)
        runs = []
        for _ in range(2):  # the first measures, the second runs the choice
            got = [np.empty_like(x), np.empty_like(k), np.empty(f, np.float32)]
            place = np.full_like(y, 5.0)
            E.conv_backward(x, k, None, y, place, *got, col, partials, one, one, (0, 0), relu, True, pool_dy=pdy,
                            pool_argmax=pa, pool_gate=py)
            runs.append((got, place))
        chosen = {ch["pass"]: ch["algo"] for ch in E.conv_algo_choices()}
        assert runs[0][1].tobytes() == dz.tobytes()  # measured on the scatter
        winograd = chosen["kernel_grad"].startswith("winograd") and chosen["input_grad"].startswith("winograd")
        assert (runs[1][1] == 5.0).all() if winograd else runs[1][1].tobytes() == dz.tobytes()
        for a, b in zip(runs[0][0], runs[1][0]):
            assert a.tobytes() == b.tobytes()
    finally:
        E.set_conv_algo(saved)
        E.clear_conv_algo_choices()
