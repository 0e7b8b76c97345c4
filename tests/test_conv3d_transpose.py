"""Conv3DTranspose (Deconvolution3D): the layer against a NumPy float64 reference (the transposed
convolution as the scatter-add of each input voxel times the kernel, and its adjoint for the
gradients), backward against finite differences of the layer itself, threads bit-identical and
every instruction set agreeing, bad arguments rejected, saving and loading, ONNX export, and
parity with tf-keras through fixtures written by
tests/fixtures/make_conv3d_transpose_fixtures.py (including a model file tf-keras saved)."""
import json
import os

import numpy as np
import pytest

import seqnet as keras
from numeric_helpers import rng
from seqnet.layers import (Activation, Conv3DTranspose, Convolution3DTranspose, Deconv3D, Deconvolution3D, Flatten,
                           Input)
from seqnet.models import Model, Sequential, load_model, model_from_json
from seqnet.optimizers import SGD
from test_conv3d_pool3d import f32, one_step_per_thread_count, run_layer, to_first

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


# ---- NumPy reference (float64, channels_last) ------------------------------------------------
def ref_geometry(spatial, kernel, strides, padding, output_padding):
    """Per axis (output length, padding before), written from tf-keras' deconv_output_length and
    TensorFlow's 'same' rule (the convolution out -> in pads (in-1)*s + k - out, the odd one after)."""
    geometry = []
    for a, length in enumerate(spatial):
        k, s = kernel[a], strides[a]
        if output_padding is None:
            out = length * s + max(k - s, 0) if padding == "valid" else length * s
        else:
            out = (length - 1) * s + k - 2 * (k // 2 if padding == "same" else 0) + output_padding[a]
        before = 0 if padding == "valid" else max((length - 1) * s + k - out, 0) // 2
        geometry.append((out, before))
    return geometry


def full_slices(length_in, stride, tap):
    """Where input positions 0..length_in-1 land for kernel tap `tap`, in the uncropped output."""
    return slice(tap, tap + (length_in - 1) * stride + 1, stride)


def ref_transpose(x, kernel, bias, strides, padding, output_padding):
    """y (n, D, H, W, f) = sum over input voxels i and taps t of x[i] @ kernel[t].T placed at
    i * strides - pad + t; kernel (kd, kh, kw, f, cin)."""
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    geometry = ref_geometry(x.shape[1:4], kernel.shape[:3], strides, padding, output_padding)
    full = [max((x.shape[1 + a] - 1) * strides[a] + kernel.shape[a], before + out)
            for a, (out, before) in enumerate(geometry)]
    y = np.zeros((x.shape[0],) + tuple(full) + (kernel.shape[3],))
    for t in np.ndindex(*kernel.shape[:3]):
        where = (slice(None),) + tuple(full_slices(x.shape[1 + a], strides[a], t[a]) for a in range(3))
        y[where] += x @ kernel[t].T
    y = y[(slice(None),) + tuple(slice(before, before + out) for out, before in geometry)]
    return y if bias is None else y + np.asarray(bias, np.float64)


def ref_transpose_grads(x, kernel, dz, strides, padding, output_padding):
    """dx, dkernel, dbias of sum(dz * ref_transpose(x, kernel, bias)): the adjoint of the scatter."""
    x, kernel, dz = (np.asarray(a, np.float64) for a in (x, kernel, dz))
    geometry = ref_geometry(x.shape[1:4], kernel.shape[:3], strides, padding, output_padding)
    full = [max((x.shape[1 + a] - 1) * strides[a] + kernel.shape[a], before + out)
            for a, (out, before) in enumerate(geometry)]
    dfull = np.zeros((x.shape[0],) + tuple(full) + (kernel.shape[3],))
    dfull[(slice(None),) + tuple(slice(before, before + out) for out, before in geometry)] = dz
    dx, dk = np.zeros_like(x), np.zeros_like(kernel)
    for t in np.ndindex(*kernel.shape[:3]):
        g = dfull[(slice(None),) + tuple(full_slices(x.shape[1 + a], strides[a], t[a]) for a in range(3))]
        dx += g @ kernel[t]
        dk[t] = np.einsum("ndhwf,ndhwc->fc", g, x)
    return dx, dk, dz.sum(axis=(0, 1, 2, 3))


ACTIVATIONS = {None: (lambda z: z, lambda z, y: np.ones_like(z)),
               "tanh": (np.tanh, lambda z, y: 1 - y * y),
               "relu": (lambda z: np.maximum(z, 0), lambda z, y: (z > 0).astype(np.float64))}

CASES = [  # (batch, (d, h, w), cin, filters, kernel, strides, padding, output_padding, use_bias, activation)
    (2, (2, 3, 2), 3, 4, (2, 3, 2), (1, 1, 1), "valid", None, True, None),
    (3, (3, 2, 3), 2, 3, (3, 3, 3), (2, 2, 2), "same", None, True, "tanh"),
    (2, (2, 3, 2), 3, 2, (3, 2, 2), (2, 1, 3), "valid", (1, 0, 2), False, None),
    (2, (2, 2, 3), 2, 3, (3, 3, 2), (2, 2, 2), "same", (1, 1, 1), True, "relu"),
    (1, (3, 2, 2), 4, 2, (1, 1, 1), (1, 1, 1), "valid", None, True, "tanh"),  # pointwise: one GEMM
    (2, (3, 3, 2), 2, 3, (1, 2, 2), (1, 2, 1), "same", None, True, None),  # kd = 1: no depth fold
    (2, (2, 2, 2), 3, 2, (2, 1, 1), (3, 1, 1), "valid", (2, 0, 0), True, None),  # depth fold, 1x1 planes
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", CASES)
def test_forward_and_gradients_against_float64_reference(case, data_format):
    n, spatial, cin, f, k, s, p, op, use_bias, act = case
    first = data_format == "channels_first"
    x = rng(1).standard_normal((n,) + spatial + (cin,))
    layer = Conv3DTranspose(f, k, strides=s, padding=p, output_padding=op, data_format=data_format,
                            use_bias=use_bias, activation=act, bias_initializer="glorot_uniform")
    xin = to_first(x) if first else x
    y = run_layer(layer, xin)
    weights = layer.get_weights()
    kernel, bias = weights[0], (weights[1] if use_bias else None)
    assert kernel.shape == k + (f, cin) and len(weights) == (2 if use_bias else 1)
    fn, dfn = ACTIVATIONS[act]
    z = ref_transpose(x, kernel, bias, s, p, op)
    ref = fn(z)
    assert y.shape == (to_first(ref) if first else ref).shape == layer.compute_output_shape(xin.shape)
    np.testing.assert_allclose(y, to_first(ref) if first else ref, rtol=1e-5, atol=1e-5)

    g = rng(2).standard_normal(ref.shape)
    dx = layer.backward(f32(to_first(g) if first else g))
    dz = g * dfn(z, ref)
    dx_ref, dk_ref, db_ref = ref_transpose_grads(x, kernel, dz, s, p, op)
    np.testing.assert_allclose(dx, to_first(dx_ref) if first else dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, dk_ref, rtol=1e-4, atol=1e-4)
    if use_bias:
        np.testing.assert_allclose(layer.bias.grad, db_ref, rtol=1e-4, atol=1e-4)


def test_reference_gradients_and_layer_backward_agree_with_finite_differences():
    """The float64 reference's analytic gradients against its own central differences, and the
    layer's backward against central differences of its forward (linear, so exact up to float32
    rounding with a step of 1)."""
    x = rng(3).standard_normal((2, 2, 2, 3, 2))
    layer = Conv3DTranspose(2, (3, 3, 2), strides=(2, 1, 2), padding="same", output_padding=(1, 0, 1),
                            bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    g = rng(4).standard_normal(y.shape)
    dx_ref, dk_ref, _ = ref_transpose_grads(x, kernel, g, (2, 1, 2), "same", (1, 0, 1))

    def ref_loss(xv, kv):
        return float((ref_transpose(xv, kv, bias, (2, 1, 2), "same", (1, 0, 1)) * g).sum())

    kernel64, eps = kernel.astype(np.float64), 1e-6
    for idx in [(0, 0, 0, 0, 0), (1, 1, 1, 2, 1), (0, 1, 0, 1, 1)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        assert abs((ref_loss(xp, kernel64) - ref_loss(xm, kernel64)) / (2 * eps) - dx_ref[idx]) < 1e-6
    for idx in [(0, 0, 0, 0, 0), (2, 1, 1, 1, 1), (1, 0, 1, 0, 1)]:
        kp, km = kernel64.copy(), kernel64.copy()
        kp[idx] += eps
        km[idx] -= eps
        assert abs((ref_loss(x, kp) - ref_loss(x, km)) / (2 * eps) - dk_ref[idx]) < 1e-6

    dx = layer.backward(f32(g))
    dk = layer.kernel.grad.copy()

    def layer_loss(xv):
        return float((layer.forward(f32(xv), training=False).astype(np.float64) * g).sum())

    for idx in [(0, 0, 0, 0, 0), (1, 1, 1, 2, 1), (0, 1, 0, 1, 1)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += 1.0
        xm[idx] -= 1.0
        assert abs((layer_loss(xp) - layer_loss(xm)) / 2 - dx[idx]) < 1e-3
    for idx in [(0, 0, 0, 0, 0), (2, 1, 1, 1, 1)]:
        saved = layer.kernel.value.copy()
        layer.kernel.value[idx] += 1.0
        up = layer_loss(x)
        layer.kernel.value[idx] -= 2.0
        down = layer_loss(x)
        layer.kernel.value[...] = saved
        assert abs((up - down) / 2 - dk[idx]) < 1e-3


def test_output_sizes_follow_deconv_output_length():
    # (input, kernel, stride, padding, output_padding) -> tf-keras' output length along depth
    for (n, k, s, p, op), want in [((4, 3, 2, "same", None), 8), ((4, 3, 2, "valid", None), 9),
                                   ((4, 2, 3, "valid", None), 12), ((4, 3, 2, "same", 1), 8),
                                   ((4, 3, 2, "valid", 1), 10), ((5, 4, 2, "same", 1), 9),
                                   ((3, 1, 3, "valid", 2), 9)]:
        layer = Conv3DTranspose(1, (k, 1, 1), strides=(s, 1, 1), padding=p,
                                output_padding=None if op is None else (op, 0, 0))
        assert layer.compute_output_shape((None, n, 2, 3, 1)) == (None, want, 2, 3, 1)
    layer = Conv3DTranspose(5, 2, strides=2, data_format="channels_first")
    assert layer.compute_output_shape((None, 3, 4, None, 6)) == (None, 5, 8, None, 12)


def test_under_each_isa(isa):
    x = rng(5).standard_normal((2, 3, 3, 2, 4))
    layer = Conv3DTranspose(3, 3, strides=(2, 1, 2), padding="same", activation="tanh",
                            bias_initializer="glorot_uniform")
    y = run_layer(layer, x)
    kernel, bias = layer.get_weights()
    z = ref_transpose(x, kernel, bias, (2, 1, 2), "same", None)
    np.testing.assert_allclose(y, np.tanh(z), rtol=1e-5, atol=1e-5)
    g = rng(6).standard_normal(y.shape)
    dx = layer.backward(f32(g))
    dx_ref, dk_ref, db_ref = ref_transpose_grads(x, kernel, g * (1 - np.tanh(z) ** 2), (2, 1, 2), "same", None)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, dk_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, db_ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("make", [lambda: Conv3DTranspose(16, 3, strides=2, padding="same", activation="relu"),
                                  lambda: Conv3DTranspose(32, (1, 3, 3), strides=(1, 2, 2), use_bias=False)])
def test_threads_bit_identical(make):
    """Large enough that the unfold, the fold, col2im and the GEMMs split over threads."""
    layer, g, y, dx, *grads = one_step_per_thread_count(make, f32(rng(7).standard_normal((2, 4, 6, 6, 8))))
    assert y.size > 1 << 15 and np.abs(dx).max() > 0 and all(np.abs(w).max() > 0 for w in grads)


# ---- arguments -----------------------------------------------------------------------------
@pytest.mark.parametrize("make,word", [
    (lambda: Conv3DTranspose(0, 3), "filters"),
    (lambda: Conv3DTranspose(2, -1), "kernel_size"),
    (lambda: Conv3DTranspose(2, (3, 3)), "kernel_size"),
    (lambda: Conv3DTranspose(2, 3, strides=(2, 2)), "strides"),
    (lambda: Conv3DTranspose(2, 3, padding="causal"), "padding"),
    (lambda: Conv3DTranspose(2, 3, output_padding=1), "output_padding"),
    (lambda: Conv3DTranspose(2, 3, strides=(2, 1, 2), output_padding=(1, 1, 1)), "output_padding"),
    (lambda: Conv3DTranspose(2, 3, strides=2, output_padding=(1, 1)), "output_padding"),
    (lambda: Conv3DTranspose(2, 3, strides=2, output_padding=-1), "output_padding"),
    (lambda: Conv3DTranspose(2, 3, dilation_rate=2), "dilation_rate"),
    (lambda: Conv3DTranspose(2, 3, dilation_rate=(1, 2, 1)), "dilation_rate"),
    (lambda: Conv3DTranspose(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: Conv3DTranspose(2, 3, data_format="channels_middle"), "data_format"),
])
def test_bad_arguments_name_the_argument(make, word):
    with pytest.raises(ValueError, match=word):
        make()


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="5|rank|dimensions"):
        Conv3DTranspose(2, 3).build((None, 4, 4, 3))
    with pytest.raises(ValueError, match="channel"):
        Conv3DTranspose(2, 3).build((None, 4, 4, 3, None))
    # An even kernel with 'same' and output_padding 0: no convolution maps 7 back to 4.
    with pytest.raises(ValueError, match="output"):
        Conv3DTranspose(2, 4, strides=2, padding="same", output_padding=0).build((None, 4, 4, 4, 1))
    layer = Conv3DTranspose(2, 3)
    layer.build((None, 2, 2, 2, 3))
    with pytest.raises(ValueError, match="3|channels"):
        layer.forward(f32(np.zeros((1, 2, 2, 2, 4))), training=False)


def test_config_aliases_and_names():
    layer = Conv3DTranspose(4, (3, 2, 1), strides=(2, 2, 1), padding="same", output_padding=(1, 1, 0),
                            data_format="channels_first", activation="relu", name="up")
    config = layer.get_config()
    assert config["output_padding"] == (1, 1, 0) and config["kernel_size"] == (3, 2, 1)
    assert "dilation_rate" not in config  # as Keras 2.2.4 and tf-keras
    again = Conv3DTranspose.from_config(config)
    assert again.get_config() == config
    assert Conv3DTranspose(2, 3).get_config()["output_padding"] is None
    assert Deconvolution3D is Deconv3D is Convolution3DTranspose is Conv3DTranspose
    assert keras.layers.convolutional.Conv3DTranspose is Conv3DTranspose
    assert Conv3DTranspose(2, 3).name.startswith("conv3d_transpose")


# ---- models: fusion, saving, ONNX ----------------------------------------------------------
def small_model(fused_activation):
    inp = Input((2, 3, 2, 3))
    if fused_activation:
        h = Activation("elu")(Conv3DTranspose(4, 3, strides=(2, 1, 2), padding="same", name="up")(inp))
    else:
        h = Conv3DTranspose(4, 3, strides=(2, 1, 2), padding="same", activation="elu", name="up")(inp)
    h = Conv3DTranspose(2, (2, 1, 2), output_padding=(0, 0, 1), strides=(1, 1, 2), name="up2")(h)
    out = keras.layers.Dense(3, activation="softmax", name="cls")(Flatten()(h))
    return Model(inp, out)


def test_activation_after_it_fuses_to_the_same_bits():
    x = f32(rng(9).standard_normal((3, 2, 3, 2, 3)))
    y = np.eye(3, dtype=np.float32)[[0, 2, 1]]
    results = []
    for fused in (False, True):
        np.random.seed(5)
        model = small_model(fused)
        model.compile(SGD(lr=0.1, momentum=0.9), "categorical_crossentropy")
        model.train_on_batch(x, y)
        results.append([model.predict(x)] + model.get_weights())
    for a, b in zip(*results):
        assert a.tobytes() == b.tobytes()


def test_save_and_load_h5_and_json(tmp_path):
    x = f32(rng(10).standard_normal((3, 2, 3, 2, 3)))
    model = small_model(False)
    model.compile(SGD(lr=0.05), "categorical_crossentropy")
    model.train_on_batch(x, np.eye(3, dtype=np.float32)[[1, 0, 2]])
    path = str(tmp_path / "deconv3d.h5")
    model.save(path)
    loaded = load_model(path)
    assert type(loaded.get_layer("up")) is Conv3DTranspose
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    again = model_from_json(model.to_json())
    assert again.get_layer("up2").output_padding == (0, 0, 1)
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    seq = Sequential([Deconvolution3D(2, 2, strides=2, input_shape=(2, 2, 2, 1))])
    assert json.loads(seq.to_json())["config"]["layers"][-1]["class_name"] == "Conv3DTranspose"


def test_onnx_export_matches_predict(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import seqnet.onnx
    inp = Input((2, 3, 2, 3))
    a = Conv3DTranspose(3, 3, strides=2, padding="same", output_padding=1, activation="tanh")(inp)
    b = Conv3DTranspose(2, (2, 3, 1), strides=(1, 2, 3), data_format="channels_first")(
        keras.layers.Permute((4, 1, 2, 3))(inp))
    model = Model(inp, [a, b])
    np.random.seed(2)
    model.set_weights([w + rng(11).uniform(-0.3, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    x = f32(rng(12).standard_normal((2, 2, 3, 2, 3)))
    path = tmp_path / "m.onnx"
    seqnet.onnx.export(model, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})
    for g, w in zip(got, model.predict(x)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


# ---- parity with tf-keras ------------------------------------------------------------------
def fixture_data():
    data = np.load(os.path.join(FIXTURES, "conv3d_transpose.npz"))
    return data, json.loads(str(data["config"]))


def fixture_model(data, config, case):
    spec = config[case]
    model = Sequential([getattr(keras.layers, s["class"])(**s["kwargs"]) for s in spec["layers"]])
    model.set_weights([data[f"{case}_w0_{i}"] for i in range(spec["n_weights"])])
    return model


PARITY_CASES = ["valid", "same_outpad"]


@pytest.mark.parametrize("case", PARITY_CASES)
def test_predict_and_training_match_tf_keras(case):
    data, config = fixture_data()
    model = fixture_model(data, config, case)
    np.testing.assert_allclose(model.predict(data[f"{case}_x"]), data[f"{case}_predict"], rtol=1e-4, atol=1e-6)
    spec = config[case]
    model.compile(optimizer=SGD(**spec["optimizer"]), loss=spec["loss"])
    losses = [float(np.ravel(model.train_on_batch(data[f"{case}_x"], data[f"{case}_y"]))[0])
              for _ in range(spec["steps"])]
    np.testing.assert_allclose(losses, data[f"{case}_losses"], rtol=1e-3)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, data[f"{case}_w_final_{i}"], rtol=1e-3, atol=1e-5)


def test_loads_a_tf_keras_h5_and_keeps_training_alike():
    data, _ = fixture_data()
    model = load_model(os.path.join(FIXTURES, "conv3d_transpose_tfkeras.h5"))
    assert type(model.get_layer("up")) is Conv3DTranspose and model.get_layer("up").output_padding == (1, 1, 1)
    np.testing.assert_allclose(model.predict(data["h5_x"]), data["h5_predict"], rtol=1e-4, atol=1e-6)
    losses = [float(np.ravel(model.train_on_batch(data["h5_x"], data["h5_y"]))[0]) for _ in range(2)]
    np.testing.assert_allclose(losses, data["h5_more_losses"], rtol=1e-3)
