"""BatchNormalization: the layer against a NumPy float64 reference on every axis (training
with batch statistics and Keras 2.2.4's moving-average update, inference with the moving
statistics), backward against finite differences of that reference, threads bit-identical,
bad arguments rejected, save/load round trips, and parity with tf-keras made to follow
Keras 2.2.4 (tests/fixtures/make_batchnorm_fixtures.py)."""
import json
import os

import numpy as np
import pytest

import seqnet
from seqnet import _engine as E
from seqnet.layers import BatchNormalization, Dense, Input
from seqnet.models import Model, Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

# (input shape, axis): channels_last 2-D to 5-D, channels_first, a middle axis.
SHAPES = [((7, 5), -1), ((4, 3, 6), -1), ((4, 3, 6), 1), ((3, 4, 5, 6), -1), ((3, 4, 5, 6), 1),
          ((3, 4, 5, 6), 2), ((2, 3, 4, 2, 5), 2), ((2, 3, 4, 2, 5), -1)]


# ---- NumPy float64 reference ----------------------------------------------------------------
def bshape(x, axis):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return shape


def ref_forward(x, gamma, beta, mean, var, axis, eps):
    x = x.astype(np.float64)
    b = bshape(x, axis)
    y = (x - np.reshape(mean, b)) / np.sqrt(np.reshape(var, b).astype(np.float64) + eps)
    if gamma is not None:
        y = y * np.reshape(gamma, b)
    if beta is not None:
        y = y + np.reshape(beta, b)
    return y


def ref_batch_stats(x, axis):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    x = x.astype(np.float64)
    return x.mean(axis=axes), x.var(axis=axes), x.size // x.shape[axis]


def ref_train(x, gamma, beta, axis, eps):
    mean, var, _ = ref_batch_stats(x, axis)
    return ref_forward(x, gamma, beta, mean, var, axis, eps)


def ref_moving(x, axis, eps, momentum, moving_mean, moving_var):
    """Keras 2.2.4: the moving variance takes var * n / (n - (1 + eps))."""
    mean, var, n = ref_batch_stats(x, axis)
    return (moving_mean * momentum + mean * (1 - momentum),
            moving_var * momentum + var * n / (n - (1.0 + eps)) * (1 - momentum))


def fd_grad(f, a, h=1e-6):
    """Central differences of the float64 function f at a copy of a."""
    a = a.astype(np.float64)
    g = np.zeros_like(a)
    for i in range(a.size):
        old = a.flat[i]
        a.flat[i] = old + h
        up = f(a)
        a.flat[i] = old - h
        down = f(a)
        a.flat[i] = old
        g.flat[i] = (up - down) / (2 * h)
    return g


# ---- helpers ---------------------------------------------------------------------------------
def make_layer(shape, axis, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    layer = BatchNormalization(axis=axis, **kwargs)
    layer.build((None,) + shape[1:])
    weights = []
    for w in layer.weights:
        name = w.name.split("/")[-1]
        if name.startswith("gamma"):
            weights.append(rng.uniform(0.5, 1.5, w.shape))
        elif name.startswith("moving_variance"):
            weights.append(rng.uniform(0.5, 2.0, w.shape))
        else:
            weights.append(rng.uniform(-0.5, 0.5, w.shape))
    layer.set_weights([w.astype(np.float32) for w in weights])
    return layer


def data(shape, seed=1, scale=1.5, shift=0.7):
    return (np.random.default_rng(seed).standard_normal(shape) * scale + shift).astype(np.float32)


def values(layer):
    g = layer.gamma.value.astype(np.float64) if layer.gamma is not None else None
    b = layer.beta.value.astype(np.float64) if layer.beta is not None else None
    return g, b


# ---- forward ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", SHAPES)
@pytest.mark.parametrize("center,scale", [(True, True), (False, True), (True, False), (False, False)])
def test_training_forward_and_moving_update(isa, shape, axis, center, scale):
    layer = make_layer(shape, axis, center=center, scale=scale, momentum=0.8, epsilon=0.01)
    x = data(shape)
    gamma, beta = values(layer)
    mm, mv = layer.moving_mean.value.astype(np.float64), layer.moving_variance.value.astype(np.float64)
    y = layer.forward(x, True)
    np.testing.assert_allclose(y, ref_train(x, gamma, beta, axis, 0.01), rtol=1e-5, atol=2e-6)
    want_mm, want_mv = ref_moving(x, axis, 0.01, 0.8, mm, mv)
    np.testing.assert_allclose(layer.moving_mean.value, want_mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.value, want_mv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,axis", SHAPES)
def test_inference_forward_uses_moving_statistics(isa, shape, axis):
    layer = make_layer(shape, axis, epsilon=0.003)
    x = data(shape)
    before = layer.get_weights()
    gamma, beta = values(layer)
    y = layer.forward(x, False)
    want = ref_forward(x, gamma, beta, layer.moving_mean.value, layer.moving_variance.value, axis, 0.003)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=2e-6)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_large_mean_small_spread_keeps_precision(isa):
    # Shifted sums: a channel at 1000 with spread 0.01 still normalises to unit variance.
    shape = (64, 9)
    layer = make_layer(shape, -1, center=False, scale=False, epsilon=1e-8)
    x = data(shape, scale=0.01, shift=1000.0)
    y = layer.forward(x, True)
    np.testing.assert_allclose(y, ref_train(x, None, None, -1, 1e-8), rtol=1e-4, atol=1e-4)


def test_defaults_follow_keras_224():
    layer = BatchNormalization()
    assert (layer.axis, layer.momentum, layer.epsilon, layer.center, layer.scale) == (-1, 0.99, 1e-3, True, True)
    layer.build((None, 4))
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma:0", "beta:0", "moving_mean:0",
                                                             "moving_variance:0"]
    assert [w.name.split("/")[-1] for w in layer.trainable_weights] == ["gamma:0", "beta:0"]
    assert [w.name.split("/")[-1] for w in layer.non_trainable_weights] == ["moving_mean:0", "moving_variance:0"]
    gamma, beta, mm, mv = layer.get_weights()
    assert (gamma == 1).all() and (beta == 0).all() and (mm == 0).all() and (mv == 1).all()
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 4)
    assert layer.supports_masking
    only = BatchNormalization(center=False)
    only.build((None, 3))
    assert [w.name.split("/")[-1] for w in only.weights] == ["gamma:0", "moving_mean:0", "moving_variance:0"]


# ---- backward ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((6, 4), -1), ((3, 2, 5), 1), ((2, 3, 2, 3), 1), ((2, 2, 3, 3), -1),
                                        ((2, 2, 3, 2, 2), 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("center,scale", [(True, True), (False, False)])
def test_backward_matches_finite_differences(isa, shape, axis, training, center, scale):
    layer = make_layer(shape, axis, center=center, scale=scale, epsilon=0.01)
    x = data(shape)
    g = np.random.default_rng(5).standard_normal(shape)
    gamma, beta = values(layer)
    mm, mv = layer.moving_mean.value.astype(np.float64), layer.moving_variance.value.astype(np.float64)

    def loss(xv, gv=gamma, bv=beta):
        if training:
            return float((ref_train(xv, gv, bv, axis, 0.01) * g).sum())
        return float((ref_forward(xv, gv, bv, mm, mv, axis, 0.01) * g).sum())

    layer.forward(x, training)
    dx = layer.backward(g.astype(np.float32), True)
    np.testing.assert_allclose(dx, fd_grad(loss, x), rtol=1e-3, atol=1e-4)
    if scale:
        np.testing.assert_allclose(layer.gamma.grad, fd_grad(lambda v: loss(x, v, beta), gamma), rtol=1e-3,
                                   atol=1e-4)
    if center:
        np.testing.assert_allclose(layer.beta.grad, fd_grad(lambda v: loss(x, gamma, v), beta), rtol=1e-3,
                                   atol=1e-4)


def test_backward_without_dx_and_into_a_read_only_dy():
    shape = (5, 3)
    layer = make_layer(shape, -1)
    x = data(shape)
    g = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    layer.forward(x, True)
    assert layer.backward(g.copy(), False) is None
    dgamma = layer.gamma.grad.copy()
    ro = g.copy()
    ro.flags.writeable = False
    layer.forward(x, True)
    dx = layer.backward(ro, True)
    assert dx is not ro and np.array_equal(ro, g)
    np.testing.assert_allclose(layer.gamma.grad, dgamma, rtol=1e-6)
    layer.forward(x, True)
    inplace = g.copy()
    np.testing.assert_allclose(layer.backward(inplace, True), dx, rtol=1e-6, atol=1e-7)


# ---- threads and instruction sets ---------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((2048, 24), -1), ((8, 24, 20, 20), 1), ((2, 3, 9000), 1),
                                        ((40, 30, 30, 3), -1), ((200, 4, 300), 1)])
def test_bit_identical_for_any_thread_count(isa, restore_threads, shape, axis):
    x = data(shape)
    g = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    results = []
    for threads in (1, 2, 3):
        E.set_num_threads(threads)
        layer = make_layer(shape, axis)
        y = layer.forward(x, True).copy()
        dx = layer.backward(g.copy(), True).copy()
        results.append([y, dx, layer.gamma.grad.copy(), layer.beta.grad.copy()] + layer.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    gamma, beta = values(make_layer(shape, axis))
    np.testing.assert_allclose(results[0][0], ref_train(x, gamma, beta, axis, 1e-3), rtol=1e-4, atol=1e-5)


def test_instruction_sets_agree(restore_isa):
    shape, axis = (16, 6, 7, 5), 1
    x = data(shape)
    g = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    outs = {}
    for name in ["generic", "avx2", "avx512"]:
        if E.set_isa(name) != name:
            continue
        layer = make_layer(shape, axis)
        y = layer.forward(x, True).copy()
        outs[name] = (y, layer.backward(g.copy(), True).copy(), layer.gamma.grad.copy())
    base = outs.pop("generic")
    for name, got in outs.items():
        for a, b in zip(got, base):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


# ---- trainable=False (Keras 2.2.4) -------------------------------------------------------------
def test_frozen_layer_uses_batch_statistics_without_updating():
    shape = (8, 4)
    layer = make_layer(shape, -1)
    layer.trainable = False
    before = layer.get_weights()
    x = data(shape)
    gamma, beta = values(layer)
    y = layer.forward(x, True)
    np.testing.assert_allclose(y, ref_train(x, gamma, beta, -1, 1e-3), rtol=1e-5, atol=2e-6)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    model = Sequential([Dense(4, input_shape=(3,)), layer])
    model.compile("sgd", "mse")
    model.train_on_batch(data((8, 3)), x)
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_call_with_training_false_trains_through_moving_statistics():
    inp = Input((3,))
    bn = BatchNormalization(momentum=0.5)
    out = bn(Dense(3)(inp), training=False)
    model = Model(inp, out)
    model.compile(seqnet.optimizers.SGD(lr=0.1), "mse")
    mm, mv = bn.moving_mean.value.copy(), bn.moving_variance.value.copy()
    beta = bn.beta.value.copy()
    model.train_on_batch(data((6, 3)), data((6, 3), seed=9))
    np.testing.assert_array_equal(bn.moving_mean.value, mm)
    np.testing.assert_array_equal(bn.moving_variance.value, mv)
    assert not np.array_equal(bn.beta.value, beta)


# ---- arguments --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,words", [
    (dict(momentum=1.5), ["momentum", "1.5"]), (dict(momentum=-0.1), ["momentum"]),
    (dict(momentum="x"), ["momentum"]), (dict(epsilon=-1e-3), ["epsilon"]), (dict(axis=1.5), ["axis"]),
    (dict(axis=[1, 2]), ["axis"]), (dict(axis=True), ["axis"]),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as err:
        BatchNormalization(name="bn_bad", **kwargs)
    for word in words + ["bn_bad"]:
        assert word in str(err.value)


@pytest.mark.parametrize("axis,shape", [(3, (None, 4, 5)), (-4, (None, 4, 5)), (0, (None, 4)), (-2, (None, 4))])
def test_axis_out_of_range_or_batch_axis(axis, shape):
    with pytest.raises(ValueError) as err:
        BatchNormalization(axis=axis, name="bn_axis").build(shape)
    assert "bn_axis" in str(err.value) and f"axis={axis}" in str(err.value)
    with pytest.raises(ValueError, match="bn_axis2"):
        Sequential([BatchNormalization(axis=axis, name="bn_axis2", input_shape=shape[1:])])


def test_undefined_channel_dimension():
    with pytest.raises(ValueError, match="defined dimension"):
        BatchNormalization(axis=1).build((None, None, 3))


def test_binding_checks_shapes():
    x = data((4, 3))
    y, c = np.empty_like(x), np.empty(3, np.float32)
    ws = np.empty(E.batchnorm_workspace_size(x.shape, 1), np.float32)
    with pytest.raises(ValueError, match="gamma.*\\(3,\\).*\\(4,\\)"):
        E.batchnorm_forward_training(x, np.ones(4, np.float32), None, y, c, c.copy(), None, None, ws, 1, 1e-3, 0.9)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        E.batchnorm_forward_training(x, None, None, y, c, c.copy(), None, None, ws, 2, 1e-3, 0.9)
    with pytest.raises(ValueError, match="workspace"):
        E.batchnorm_forward_training(x, None, None, y, c, c.copy(), None, None, ws[:2], 1, 1e-3, 0.9)
    with pytest.raises(ValueError, match="both"):
        E.batchnorm_forward_training(x, None, None, y, c, c.copy(), c.copy(), None, ws, 1, 1e-3, 0.9)
    with pytest.raises(ValueError, match="momentum"):
        E.batchnorm_forward_training(x, None, None, y, c, c.copy(), None, None, ws, 1, 1e-3, 1.5)
    with pytest.raises(ValueError, match="float32"):
        E.batchnorm_forward_inference(x.astype(np.float64), None, None, c, c, y, None, None, ws, 1, 1e-3)
    with pytest.raises(ValueError, match="dx"):
        E.batchnorm_backward(x, x, None, c, c, np.empty((3, 4), np.float32), None, None, ws, 1, True)


# ---- configuration and saving -------------------------------------------------------------------
def test_config_round_trip_and_keras_keys():
    layer = BatchNormalization(axis=1, momentum=0.9, epsilon=0.01, center=False, gamma_regularizer="l2",
                               gamma_constraint="non_neg", moving_variance_initializer="zeros", name="bn_cfg")
    config = layer.get_config()
    assert list(config)[-13:] == ["axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                                  "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                                  "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"]
    again = BatchNormalization.from_config(config)
    assert again.get_config() == config


def test_tf_keras_config_extras():
    config = {"name": "bn_tf", "trainable": True, "dtype": "float32", "axis": [2], "momentum": 0.99,
              "epsilon": 0.001, "center": True, "scale": True, "renorm": False, "virtual_batch_size": None}
    layer = BatchNormalization.from_config(config)
    assert layer.axis == 2
    with pytest.raises(ValueError, match="renorm"):
        BatchNormalization.from_config(dict(config, renorm=True))


def test_save_load_round_trip(tmp_path):
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(momentum=0.5, gamma_regularizer="l2"),
                        Dense(2, activation="softmax")])
    model.compile(seqnet.optimizers.SGD(lr=0.1), "categorical_crossentropy")
    x = data((10, 3))
    y = np.eye(2, dtype=np.float32)[np.arange(10) % 2]
    model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    path = str(tmp_path / "bn.h5")
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    # training continues identically from the saved state
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_loads_a_tf_keras_h5():
    ref = np.load(os.path.join(FIXTURES, "batchnorm_tfkeras.npz"))
    model = load_model(os.path.join(FIXTURES, "batchnorm_tfkeras.h5"))
    bns = [layer for layer in model.layers if isinstance(layer, BatchNormalization)]
    assert [layer.axis for layer in bns] == [3, 1] and bns[1].center is False
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w_{i}"])
    np.testing.assert_allclose(model.predict(ref["x"]), ref["predict"], rtol=1e-4, atol=1e-6)


# ---- parity with tf-keras (as Keras 2.2.4) -------------------------------------------------------
CASES = ["dense", "dense_options", "seq_last", "seq_axis1", "conv_last", "image_first", "volume_axis2", "no_scale",
         "no_center", "neither", "frozen"]


def fixture_model(case):
    data_ = np.load(os.path.join(FIXTURES, f"batchnorm_{case}.npz"))
    config = json.loads(str(data_["config"]))
    model = Sequential([getattr(seqnet.layers, spec["class"])(**spec["kwargs"]) for spec in config["layers"]])
    model.set_weights([data_[f"w0_{i}"] for i in range(config["n_weights"])])
    return model, data_, config


@pytest.mark.parametrize("case", CASES)
def test_matches_tf_keras(case):
    model, ref, config = fixture_model(case)
    x, y = ref["x"], ref["y"]
    np.testing.assert_allclose(model.predict(x), ref["predict0"], rtol=1e-4, atol=1e-5)
    model.compile(seqnet.optimizers.SGD(lr=config["optimizer"]["lr"]), config["loss"])
    batch = config["batch"]
    losses = [float(model.train_on_batch(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]))
              for i in range(config["steps"])]
    np.testing.assert_allclose(losses, ref["losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, ref[f"w_final_{i}"], rtol=1e-3, atol=1e-5, err_msg=f"weight {i}")
    np.testing.assert_allclose(model.predict(x), ref["predict1"], rtol=1e-3, atol=1e-5)


# ---- folding into the preceding layer at inference ----------------------------------------------
def run_folded(model, x):
    """What an inference plan with folding would run: BN folded into its predecessor."""
    runners = []
    for layer in model.layers:
        folded = layer.fold_into(runners[-1]) if isinstance(layer, BatchNormalization) and runners else None
        if folded is not None:
            runners[-1] = folded
        else:
            runners.append(layer)
    for runner in runners:
        x = runner.forward(x, False)
    return x, len(runners)


@pytest.mark.parametrize("first", [
    lambda: seqnet.layers.Dense(5, input_shape=(4,)),
    lambda: seqnet.layers.Dense(5, use_bias=False, input_shape=(3, 4)),
    lambda: seqnet.layers.Conv2D(4, (3, 3), padding="same", input_shape=(6, 6, 2)),
    lambda: seqnet.layers.Conv2D(4, (3, 3), data_format="channels_first", use_bias=False, input_shape=(2, 6, 6)),
    lambda: seqnet.layers.Conv1D(4, 3, input_shape=(7, 2)),
])
def test_fold_into_preceding_layer(first):
    layer = first()
    axis = 1 if getattr(layer, "data_format", None) == "channels_first" else -1
    model = Sequential([layer, BatchNormalization(axis=axis, epsilon=0.01), seqnet.layers.Activation("relu")])
    rng = np.random.default_rng(0)
    bn = model.layers[1]
    bn.set_weights([rng.uniform(0.5, 1.5, 4 if not isinstance(layer, seqnet.layers.Dense) else 5).astype(np.float32)
                    if i != 1 else rng.uniform(-1, 1, w.shape).astype(np.float32)
                    for i, w in enumerate(bn.get_weights())])
    bn.moving_mean.value[...] = rng.uniform(-1, 1, bn.moving_mean.value.shape)
    x = data((5,) + model.layers[0].input_shape_seen[1:])
    before = model.get_weights()
    got, n = run_folded(model, x)
    assert n == 2
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-5)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_fold_into_refuses_what_does_not_fold():
    bn = BatchNormalization()
    dense_relu = Sequential([seqnet.layers.Dense(3, activation="relu", input_shape=(4,)), bn])
    assert bn.fold_into(dense_relu.layers[0]) is None  # BN after the activation
    bn1 = BatchNormalization(axis=1)
    seq = Sequential([seqnet.layers.Dense(3, input_shape=(3, 4)), bn1])
    assert bn1.fold_into(seq.layers[0]) is None  # not the channel axis
    bn2 = BatchNormalization()
    flat = Sequential([seqnet.layers.Flatten(input_shape=(2, 2)), bn2])
    assert bn2.fold_into(flat.layers[0]) is None


def test_mask_passes_through_and_shared_layer_trains():
    from seqnet.layers import LSTM, Masking
    model = Sequential([Masking(0.0, input_shape=(4, 3)), BatchNormalization(), LSTM(2)])
    x = data((5, 4, 3))
    x[:, 2:] = 0.0
    assert model.layers[1].compute_mask(x, np.ones((5, 4), bool)).all()
    model.compile("sgd", "mse")
    model.train_on_batch(x, data((5, 2)))
    assert np.isfinite(model.predict(x)).all()
    a, b = Input((3,)), Input((3,))
    bn = BatchNormalization(momentum=0.5)
    out = seqnet.layers.add([bn(a), bn(b)])
    shared = Model([a, b], out)
    shared.compile(seqnet.optimizers.SGD(lr=0.1), "mse")
    before = bn.get_weights()
    shared.train_on_batch([data((6, 3)), data((6, 3), seed=2)], data((6, 3), seed=3))
    after = bn.get_weights()
    assert all(np.isfinite(w).all() and not np.array_equal(w, w0) for w, w0 in zip(after, before))


def test_predict_folds_batch_normalization_into_the_layer_before():
    import seqnet as keras
    from seqnet.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten
    from seqnet.models import Sequential
    keras.utils.set_random_seed(3)
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), BatchNormalization(), Activation("relu"), Flatten(),
                        Dense(5, use_bias=False), BatchNormalization(), Dense(2)])
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).rand(8, 6, 6, 2).astype(np.float32)
    model.fit(x, np.random.rand(8, 2), epochs=2, verbose=0)  # moving statistics move away from 0/1
    chain = model._inference_chain()
    assert chain is not None and len(chain) == len(model.layers) - 2
    unfolded = model._run([x], False)[0].copy()
    np.testing.assert_allclose(model.predict(x), unfolded, rtol=1e-5, atol=1e-6)
