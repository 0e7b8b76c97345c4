"""What a differential sweep of the non-recurrent layers against tf-keras turned up, kept:
parity with tf-keras on option combinations the other fixtures leave out (predict and one
SGD step; tests/fixtures/make_sweep_layers_fixtures.py), Conv3D with 'same' padding and
strides larger than the kernel against a float64 NumPy reference (there TensorFlow's own
CPU conv3d is wrong, so no fixture), and Concatenate's refusal of an axis it would have
wrapped around."""
import json
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Concatenate, Conv3D, Dense, Input
from seqnet.models import Model, Sequential
from test_conv3d_pool3d import f32, ref_conv3d, ref_conv3d_grads, run_layer, to_first

SWEEP = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "sweep_layers.npz"))
CONFIG = json.loads(str(SWEEP["config"]))


def build(case):
    entry = CONFIG[case]
    if "layers" in entry:
        model = Sequential([keras.layers.InputLayer(input_shape=tuple(entry["inputs"][0]))])
        for name, kwargs in entry["layers"]:
            model.add(getattr(keras.layers, name)(**kwargs))
        return model
    inputs = [Input(shape=tuple(s)) for s in entry["inputs"]]
    xs = [Dense(entry["pre"])(i) for i in inputs] if entry["pre"] else inputs
    name, kwargs = entry["merge"]
    out = getattr(keras.layers, name)(**kwargs)(xs)
    if entry["post"]:
        out = Dense(entry["post"])(out)
    return Model(inputs, out)


def unpack(model, flat):
    out, start = [], 0
    for w in model.get_weights():
        out.append(flat[start:start + w.size].reshape(w.shape))
        start += w.size
    assert start == flat.size
    return out


def inputs_of(case):
    xs = [SWEEP[f"{case}_x{i}"] for i in range(len(CONFIG[case]["inputs"]))]
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("case", sorted(CONFIG))
def test_predict_matches_tf_keras(case):
    model = build(case)
    model.set_weights(unpack(model, SWEEP[f"{case}_w"]))
    np.testing.assert_allclose(model.predict(inputs_of(case), verbose=0), SWEEP[f"{case}_pred"],
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("case", sorted(CONFIG))
def test_one_sgd_step_matches_tf_keras(case):
    model = build(case)
    model.set_weights(unpack(model, SWEEP[f"{case}_w"]))
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    loss = model.train_on_batch(inputs_of(case), SWEEP[f"{case}_y"])
    np.testing.assert_allclose(float(np.ravel(loss)[0]), float(SWEEP[f"{case}_loss"]), rtol=1e-4)
    for got, want in zip(model.get_weights(), unpack(model, SWEEP[f"{case}_after_w"])):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# ---- Conv3D, 'same', strides > kernel: TensorFlow 2.x's CPU conv3d gets these wrong (a 1x1x1 kernel
# with strides (3, 1, 1) on a depth of 9 reads the wrong planes), so the reference is NumPy's.
STRIDE_OVER_KERNEL = [  # (input d, h, w, c), filters, kernel, strides
    ((9, 4, 5, 3), 2, (1, 1, 1), (3, 1, 1)),
    ((9, 8, 9, 3), 2, (1, 1, 4), (3, 1, 1)),
    ((8, 6, 7, 2), 2, (2, 1, 2), (3, 3, 2)),
    ((5, 6, 7, 2), 3, (1, 1, 1), (1, 1, 3)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape,filters,kernel,strides", STRIDE_OVER_KERNEL)
def test_conv3d_same_with_strides_over_the_kernel_matches_numpy(shape, filters, kernel, strides, data_format):
    r = np.random.default_rng(5)
    x = r.standard_normal((2,) + shape)
    first = data_format == "channels_first"
    layer = Conv3D(filters, kernel, strides=strides, padding="same", data_format=data_format,
                   bias_initializer="glorot_uniform")
    y = run_layer(layer, to_first(x) if first else x)
    w, b = layer.get_weights()
    ref = ref_conv3d(x, w, b, strides, "same", (1, 1, 1))
    np.testing.assert_allclose(y, to_first(ref) if first else ref, rtol=1e-5, atol=1e-5)
    g = r.standard_normal(ref.shape)
    dx = layer.backward(f32(to_first(g) if first else g))
    dx_ref, dw_ref = ref_conv3d_grads(x, w, g, strides, "same", (1, 1, 1))
    np.testing.assert_allclose(dx, to_first(dx_ref) if first else dx_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.kernel.grad, dw_ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=(0, 1, 2, 3)), rtol=1e-4, atol=1e-4)


# ---- Concatenate's axis: one past the rank used to wrap around (axis=5 on rank-3 inputs joined the
# last axis, axis=-4 too) and axis=0 got a message about mismatched shapes.
@pytest.mark.parametrize("axis", [0, 3, 5, -3, -4, 1.0, "1", True, None])
def test_concatenate_refuses_an_axis_that_names_no_feature_axis(axis):
    with pytest.raises(ValueError, match=r"'cat' \(Concatenate\): axis must be an integer naming a non-batch axis "
                                         r"of inputs of rank 3 \(1\.\.2 or -2\.\.-1\), got axis="):
        Concatenate(axis=axis, name="cat")([Input((2, 3)), Input((2, 3))])


@pytest.mark.parametrize("axis,expected", [(1, (None, 4, 3)), (-2, (None, 4, 3)), (2, (None, 2, 6)),
                                           (-1, (None, 2, 6)), (np.int64(1), (None, 4, 3))])
def test_concatenate_accepts_every_feature_axis(axis, expected):
    a, b = Input((2, 3)), Input((2, 3))
    model = Model([a, b], Concatenate(axis=axis)([a, b]))
    assert model.output_shape == expected
    xa, xb = np.arange(12, dtype=np.float32).reshape(2, 2, 3), -np.ones((2, 2, 3), np.float32)
    np.testing.assert_array_equal(model.predict([xa, xb], verbose=0), np.concatenate([xa, xb], axis=int(axis)))
