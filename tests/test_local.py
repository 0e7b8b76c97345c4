"""LocallyConnected1D/2D: the layers against a NumPy float64 transcription of Keras 2.2.4's
local_conv (slice, flatten, one product per position; channels_first bias added by Keras'
reshape), backward against finite differences of it, threads bit-identical on both parallel
paths, every instruction set, bad arguments rejected, configs, saving, and parity with tf-keras
through fixtures written by tests/fixtures/make_conv3d_local_fixtures.py."""
import numpy as np
import pytest

import seqnet as keras
from numeric_helpers import rng
from seqnet import _engine as E
from seqnet.layers import Dense, Flatten, LocallyConnected1D, LocallyConnected2D
from seqnet.models import Sequential
from test_conv3d_pool3d import (check_backward_from_the_preactivation, check_predict_matches_tf_keras,
                                check_training_matches_tf_keras, f32, fd_grad, one_step_per_thread_count, run_layer,
                                softmax)

KERAS_224_LC2D_CONFIG_KEYS = {
    "name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding", "data_format", "activation",
    "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "activity_regularizer", "kernel_constraint", "bias_constraint"}


# ---- the float64 reference: Keras' local_conv, written out ------------------------------------
def ref_local(x, kernel, bias, kernel_size, strides, data_format):
    """x (n, *spatial, c) or (n, c, *spatial); kernel (positions, patch, f); bias spatial_out + (f,)."""
    x, kernel = x.astype(np.float64), kernel.astype(np.float64)
    first = data_format == "channels_first"
    spatial = x.shape[2:] if first else x.shape[1:-1]
    out = tuple((length - k) // s + 1 for length, k, s in zip(spatial, kernel_size, strides))
    y = np.zeros((x.shape[0],) + out + (kernel.shape[2],))
    for p, pos in enumerate(np.ndindex(*out)):
        window = tuple(slice(i * s, i * s + k) for i, k, s in zip(pos, kernel_size, strides))
        patch = x[(slice(None), slice(None)) + window] if first else x[(slice(None),) + window]
        y[(slice(None),) + pos] = patch.reshape(x.shape[0], -1) @ kernel[p]
    if first:
        y = np.moveaxis(y, -1, 1)
        if bias is not None:  # Keras: reshape(bias, (1, f) + spatial_out), not a transpose
            y = y + bias.astype(np.float64).reshape((1, kernel.shape[2]) + out)
    elif bias is not None:
        y = y + bias.astype(np.float64)
    return y


def make(rank, *args, **kwargs):
    return (LocallyConnected1D if rank == 1 else LocallyConnected2D)(*args, **kwargs)


# ---- forward ------------------------------------------------------------------------
CASES = [  # rank, input shape (channels_last, no batch), filters, kernel_size, strides
    (1, (9, 3), 4, (3,), (1,)),
    (1, (11, 2), 3, (2,), (3,)),
    (1, (5, 4), 2, (5,), (1,)),
    (2, (6, 7, 3), 4, (3, 3), (1, 1)),
    (2, (7, 6, 2), 3, (2, 3), (2, 1)),
    (2, (5, 8, 1), 2, (1, 1), (1, 3)),
    (2, (4, 4, 2), 5, (4, 4), (1, 1)),
]


def as_format(x, data_format):
    return np.moveaxis(x, -1, 1) if data_format == "channels_first" else x


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CASES)
def test_forward_matches_keras_local_conv(case, data_format):
    rank, shape, f, k, s = case
    x = as_format(rng(1).standard_normal((3,) + shape), data_format)
    layer = make(rank, f, k, strides=s, data_format=data_format, bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    out = tuple((length - kk) // ss + 1 for length, kk, ss in zip(shape[:-1], k, s))
    assert kernel.shape == (int(np.prod(out)), int(np.prod(k)) * shape[-1], f) and bias.shape == out + (f,)
    ref = ref_local(x, kernel, bias, k, s, data_format)
    assert y.shape == ref.shape == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2])
def test_forward_and_backward_under_each_isa(rank, data_format, isa):
    shape, k, s = ((10, 3), (3,), (2,)) if rank == 1 else ((6, 7, 3), (3, 2), (1, 2))
    r = rng(2)
    x = as_format(r.standard_normal((4,) + shape), data_format)
    layer = make(rank, 5, k, strides=s, data_format=data_format, activation="relu", bias_initializer="ones")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    z = ref_local(x, kernel, bias, k, s, data_format)
    np.testing.assert_allclose(y, np.maximum(z, 0), rtol=1e-5, atol=1e-5)
    g = r.standard_normal(y.shape)
    dx = layer.backward(f32(g))
    kernel64, x64 = kernel.astype(np.float64), f32(x).astype(np.float64)

    def loss():
        return float((np.maximum(ref_local(x64, kernel64, bias, k, s, data_format), 0) * g).sum())
    np.testing.assert_allclose(layer.kernel.grad, fd_grad(loss, kernel64), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dx, fd_grad(loss, x64), rtol=1e-3, atol=1e-4)


ACTIVATIONS = {
    "sigmoid": lambda t: 1 / (1 + np.exp(-t)), "swish": lambda t: t / (1 + np.exp(-t)),
    "softmax": softmax,
}



@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank", [1, 2])
def test_activations(rank, data_format, activation):
    shape, k = ((8, 3), (3,)) if rank == 1 else ((5, 6, 2), (2, 3))
    x = as_format(rng(3).standard_normal((2,) + shape), data_format)
    layer = make(rank, 4, k, data_format=data_format, activation=activation, bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    z = ref_local(x, *layer.get_weights(), k, (1,) * rank, data_format)
    np.testing.assert_allclose(y, ACTIVATIONS[activation](z), rtol=1e-4, atol=1e-5)  # Keras: over the last axis
    if activation in ("softmax", "sigmoid"):
        assert layer.output_activation == activation
        np.testing.assert_allclose(layer.logits, z, rtol=1e-4, atol=1e-5)


def test_user_activation_runs_on_the_tape():
    x = rng(4).standard_normal((2, 5, 5, 2))
    layer = LocallyConnected2D(3, 2, activation=lambda t: t * t)
    y = run_layer(layer, x)
    z = ref_local(x, *layer.get_weights(), (2, 2), (1, 1), "channels_last")
    np.testing.assert_allclose(y, z * z, rtol=1e-4, atol=1e-5)
    dx = layer.backward(f32(np.ones_like(y)))
    assert dx.shape == x.shape and np.abs(dx).sum() > 0


# ---- backward: finite differences of the float64 reference -----------------------------
BACKWARD_CASES = [  # rank, input shape (channels_last, no batch), filters, kernel_size, strides
    (1, (7, 2), 3, (3,), (2,)),
    (1, (6, 3), 2, (2,), (1,)),
    (2, (5, 4, 2), 2, (2, 2), (1, 1)),
    (2, (6, 5, 2), 3, (3, 2), (2, 2)),
]


FD_ACTIVATIONS = {None: lambda t: t, "tanh": np.tanh, "swish": lambda t: t / (1 + np.exp(-t))}


@pytest.mark.parametrize("activation", list(FD_ACTIVATIONS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", BACKWARD_CASES)
def test_backward_matches_finite_differences(case, data_format, activation):
    rank, shape, f, k, s = case
    r = rng(5)
    x = as_format(r.standard_normal((2,) + shape), data_format)
    layer = make(rank, f, k, strides=s, data_format=data_format, activation=activation,
                 bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    g = r.standard_normal(y.shape)
    kernel, bias = [w.astype(np.float64) for w in layer.get_weights()]
    act = FD_ACTIVATIONS[activation]

    def loss():
        return float((act(ref_local(x, kernel, bias, k, s, data_format)) * g).sum())

    dx = layer.backward(f32(g), need_dx=True)
    np.testing.assert_allclose(dx, fd_grad(loss, x), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, fd_grad(loss, kernel), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, fd_grad(loss, bias), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_backward_from_the_preactivation_skips_the_activation(data_format):
    x = f32(as_format(rng(12).standard_normal((3, 6, 5, 2)), data_format))
    check_backward_from_the_preactivation(
        LocallyConnected2D(4, 2, activation="softmax", data_format=data_format, bias_initializer="ones"),
        LocallyConnected2D(4, 2, data_format=data_format), x)


def test_backward_without_dx_or_bias():
    x = rng(6).standard_normal((3, 6, 6, 2))
    layer = LocallyConnected2D(3, 3, use_bias=False)
    y = run_layer(layer, x)
    assert len(layer.get_weights()) == 1
    assert layer.backward(f32(np.ones_like(y)), need_dx=False) is None
    # dL/dkernel[p] = patch_pᵀ 1: every filter column is the sum of the patches over the batch
    expected = np.stack([x[:, i:i + 3, j:j + 3].reshape(3, -1).sum(0) for i in range(4) for j in range(4)])
    np.testing.assert_allclose(layer.kernel.grad, np.repeat(expected[:, :, None], 3, axis=2), rtol=1e-5, atol=1e-5)


# ---- threads: positions split over threads, or positions in turn with threaded GEMMs ----------
@pytest.mark.parametrize("shape,k,s", [((20, 18, 6), (3, 3), (1, 1)),   # many positions: split over threads
                                       ((9, 12), (9,), (1,))])         # one position: the GEMMs use the threads
def test_one_and_two_threads_bit_identical(shape, k, s):
    x = f32(rng(7).standard_normal((64,) + shape))
    layer, _, y, *_ = one_step_per_thread_count(
        lambda: make(len(k), 16, k, strides=s, activation="tanh", bias_initializer="glorot_uniform"), x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(y, np.tanh(ref_local(x, kernel, bias, k, s, "channels_last")), rtol=1e-4, atol=1e-5)


# ---- arguments, configs, saving ------------------------------------------------------------
@pytest.mark.parametrize("build,what", [
    (lambda: LocallyConnected2D(4, 3, padding="same"), "padding must be 'valid'"),
    (lambda: LocallyConnected1D(4, 3, padding="causal"), "padding must be 'valid'"),
    (lambda: LocallyConnected2D(0, 3), "filters"),
    (lambda: LocallyConnected2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: LocallyConnected1D(4, 3, strides=0), "strides"),
    (lambda: LocallyConnected2D(4, 3, data_format="nchw"), "data_format"),
    (lambda: LocallyConnected2D(4, 3, implementation=2), "implementation"),
])
def test_bad_arguments_name_the_layer_and_argument(build, what):
    with pytest.raises(ValueError, match=what) as err:
        build()
    assert "LocallyConnected" in str(err.value)


def test_bad_input_shapes_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Layer 'lc'.*fully defined.*\(None, None, 5, 2\)"):
        LocallyConnected2D(3, 2, name="lc").build((None, None, 5, 2))
    with pytest.raises(ValueError, match=r"Layer 'lc'.*fully defined.*\(None, 4, None\)"):
        LocallyConnected1D(3, 2, name="lc").build((None, 4, None))
    with pytest.raises(ValueError, match=r"'lc'.*kernel_size \(5,\).*\(None, 4, 2\)"):
        Sequential([LocallyConnected1D(3, 5, name="lc", input_shape=(4, 2))])
    with pytest.raises(ValueError, match=r"Layer 'lc'.*rank 4.*\(None, 5, 2\)"):
        LocallyConnected2D(3, 2, name="lc").build((None, 5, 2))
    layer = LocallyConnected2D(3, 2, name="lc")
    layer.build((None, 5, 6, 2))
    with pytest.raises(ValueError, match=r"Layer 'lc'.*built for inputs of shape \(None, 5, 6, 2\).*\(2, 6, 6, 2\)"):
        layer.forward(np.zeros((2, 6, 6, 2), np.float32), True)
    with pytest.raises(ValueError, match=r"Layer 'lc'.*built for inputs of shape \(None, 5, 6, 2\).*\(2, 5, 6, 3\)"):
        layer.forward(np.zeros((2, 5, 6, 3), np.float32), True)


def test_binding_checks_shapes():
    x = np.zeros((2, 5, 6, 3), np.float32)
    w = np.zeros((4 * 4, 2 * 3 * 3, 4), np.float32)
    y = np.zeros((2, 4, 4, 4), np.float32)
    col = np.zeros((2, 16, 18), np.float32)
    args = ((2, 3), (1, 1), False, E.Activation.linear)
    E.local_forward(x, w, None, None, y, col, *args)
    with pytest.raises(ValueError, match=r"kernel must have shape \(16, 18, 4\) for x \(2, 5, 6, 3\), kernel_size "
                                         r"\(2, 3\) and strides \(1, 1\), got \(16, 17, 4\)"):
        E.local_forward(x, np.zeros((16, 17, 4), np.float32), None, None, y, col, *args)
    with pytest.raises(ValueError, match=r"y must have shape \(2, 4, 4, 4\)"):
        E.local_forward(x, w, None, None, np.zeros((2, 4, 4, 3), np.float32), col, *args)
    with pytest.raises(ValueError, match=r"col: expected shape \(2, 16, 18\), got \(16, 2, 18\)"):
        E.local_forward(x, w, None, None, y, np.zeros((16, 2, 18), np.float32), *args)
    with pytest.raises(ValueError, match=r"bias: expected shape \(16, 4\), got \(4, 4, 4\)"):
        E.local_forward(x, w, np.zeros((4, 4, 4), np.float32), None, y, col, *args)
    with pytest.raises(ValueError, match="kernel_size .* is larger than the input"):
        E.local_forward(x, w, None, None, y, col, (6, 3), *args[1:])
    with pytest.raises(ValueError, match="x: expected a C-contiguous float32 array, got float64"):
        E.local_forward(x.astype(np.float64), w, None, None, y, col, *args)
    with pytest.raises(ValueError, match=r"x: expected a C-contiguous float32 array, got float32 \(non-contiguous\)"):
        E.local_forward(np.zeros((2, 3, 6, 5), np.float32).transpose(0, 3, 2, 1), w, None, None, y, col, *args)
    with pytest.raises(ValueError, match="needs the pre-activation z"):
        E.local_backward(x, w, None, y, y.copy(), None, np.zeros_like(w), None, col, *args[:3], E.Activation.gelu,
                         False)
    with pytest.raises(ValueError, match=r"dx: expected shape \(2, 5, 6, 3\)"):
        E.local_backward(x, w, None, y, y.copy(), np.zeros((2, 3, 5, 6), np.float32), np.zeros_like(w), None, col,
                         *args, False)


def test_config_matches_keras_and_round_trips():
    layer = LocallyConnected2D(8, (3, 2), strides=2, activation="relu", name="lc")
    config = layer.get_config()
    assert set(config) == KERAS_224_LC2D_CONFIG_KEYS
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 2) and config["padding"] == "valid"
    assert LocallyConnected2D.from_config(config).get_config() == config
    one = LocallyConnected1D(4, 3, data_format="channels_first")
    assert set(one.get_config()) == KERAS_224_LC2D_CONFIG_KEYS  # Keras 2.2.4 omits data_format here; see the class doc
    tf_keras_config = dict(one.get_config(), implementation=1)  # what tf-keras writes
    assert LocallyConnected1D.from_config(tf_keras_config).get_config() == one.get_config()
    assert keras.layers.local.LocallyConnected2D is LocallyConnected2D
    assert LocallyConnected1D(2, 2).name.startswith("locally_connected1d_")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_model_saves_and_loads(tmp_path, data_format):
    shape = (8, 7, 2) if data_format == "channels_last" else (2, 8, 7)
    model = Sequential([LocallyConnected2D(3, 3, strides=(2, 1), activation="relu", data_format=data_format,
                                           input_shape=shape),
                        Flatten(), Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    r = rng(10)
    model.set_weights([r.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    x = f32(r.standard_normal((4,) + shape))
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].data_format == data_format
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_training_reduces_the_loss():
    r = rng(11)
    x = f32(r.standard_normal((64, 10, 3)))
    y = (x[:, :5, 0].sum(axis=1, keepdims=True) > 0).astype(np.float32)
    model = Sequential([LocallyConnected1D(4, 3, activation="tanh", input_shape=(10, 3)),
                        LocallyConnected1D(2, 2, strides=2), Flatten(), Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(lr=0.2, momentum=0.9), "binary_crossentropy")
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


# ---- parity with tf-keras ---------------------------------------------------------------
@pytest.mark.parametrize("case", ["lc1d_last", "lc1d_first", "lc2d_last", "lc2d_first"])
def test_predict_and_training_match_tf_keras(case):
    check_predict_matches_tf_keras(case)
    check_training_matches_tf_keras(case)
