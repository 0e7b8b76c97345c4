"""Dot and dot() (Keras 2.2.4's merge.Dot: K.batch_dot over the given axes, optionally after
K.l2_normalize): tf-keras fixtures for predict and training
(tests/fixtures/make_wrapper_fixtures.py), gradients against central finite differences of
a float64 NumPy reference, shapes, masks, configs and bad arguments."""
import json
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Dense, Dot, Embedding, Flatten, Input, dot
from seqnet.models import Model, model_from_json
from test_wrappers import finite_difference

DOT = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "wrappers_dot.npz"))

# What each fixture case is (shapes, axes, normalize, the Dense units before the Dot), as
# the fixture script wrote it.
CASES = {case: entry["params"] for case, entry in json.loads(str(DOT["config"])).items() if case.startswith("dot_")}


def dot_np(a, b, axes, normalize):
    """Keras' batch_dot (after l2_normalize) in float64: contract a's axis with b's, per sample."""
    a1, a2 = (axes, axes) if isinstance(axes, int) else axes
    a1, a2 = a1 % a.ndim, a2 % b.ndim
    if normalize:
        a = a / np.sqrt(np.maximum(np.sum(a * a, a1, keepdims=True), 1e-12))
        b = b / np.sqrt(np.maximum(np.sum(b * b, a2, keepdims=True), 1e-12))
    out = np.stack([np.tensordot(a[i], b[i], (a1 - 1, a2 - 1)) for i in range(a.shape[0])])
    return out.reshape(a.shape[0], 1) if out.ndim == 1 else out


def weights(case, prefix="w"):
    n = len([k for k in DOT.files if k.startswith(f"{case}_{prefix}") and k[len(case) + 1 + len(prefix):].isdigit()])
    assert n > 0
    return [DOT[f"{case}_{prefix}{i}"] for i in range(n)]


def test_the_fixture_covers_the_keras_axes_forms():
    assert {json.dumps(p["axes"]) for p in CASES.values()} >= {"1", "2", "[1, 2]"}
    assert any(p["normalize"] for p in CASES.values()) and len(CASES) == 6


@pytest.mark.parametrize("case", sorted(CASES))
def test_dot_matches_tf_keras_predict_and_training(case):
    p = CASES[case]
    a, b = Input(tuple(p["shape_a"])), Input(tuple(p["shape_b"]))
    units = p["units"]
    model = Model([a, b], Dot(axes=p["axes"], normalize=p["normalize"])([Dense(units[0])(a), Dense(units[1])(b)]))
    model.set_weights(weights(case))
    got = model.predict([DOT[f"{case}_xa"], DOT[f"{case}_xb"]])
    np.testing.assert_allclose(got, DOT[f"{case}_pred"], rtol=1e-4, atol=1e-6)
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    for k in range(3):
        loss = model.train_on_batch([DOT[f"{case}_xa{k}"], DOT[f"{case}_xb{k}"]], DOT[f"{case}_y{k}"])
        assert loss == pytest.approx(float(DOT[f"{case}_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), weights(case, "after_w")):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("sa,sb,axes,normalize,out", [
    ((3, 4), (3, 4), 1, False, (3, 1)),
    ((3, 4), (3, 4), -1, True, (3, 1)),
    ((3, 2, 4), (3, 5, 4), 2, False, (3, 2, 5)),
    ((3, 4, 2), (3, 5, 4), (1, 2), True, (3, 2, 5)),
    ((3, 4, 2), (3, 4, 5), (1, 1), False, (3, 2, 5)),
    ((3, 4), (3, 2, 4), (1, -1), True, (3, 2)),
    ((3, 2, 4), (3, 4), (2, 1), False, (3, 2)),
    ((2, 2, 3, 4), (2, 4, 3), (3, 1), False, (2, 2, 3, 3)),
], ids=["2d", "2d_norm", "3d_axis2", "3d_12_norm", "3d_11", "mixed_norm", "mixed", "4d"])
def test_forward_and_gradients_match_a_float64_reference(sa, sb, axes, normalize, out):
    rng = np.random.RandomState(0)
    a, b = rng.uniform(-1, 1, sa), rng.uniform(-1, 1, sb)
    layer = Dot(axes=axes, normalize=normalize)
    layer.build([(None,) + sa[1:], (None,) + sb[1:]])
    assert layer.compute_output_shape([(None,) + sa[1:], (None,) + sb[1:]]) == (None,) + out[1:]
    y = layer.forward([a.astype(np.float32), b.astype(np.float32)], False)
    np.testing.assert_allclose(y, dot_np(a, b, axes, normalize), rtol=1e-5, atol=1e-6)
    assert y.shape == out
    dy = rng.randn(*out)
    want = finite_difference(lambda: np.sum(dot_np(a, b, axes, normalize) * dy), [a, b])
    da, db = layer.backward(dy.astype(np.float32), True)
    np.testing.assert_allclose(da, want[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(db, want[1], rtol=1e-4, atol=1e-5)
    assert da.flags.c_contiguous and db.flags.c_contiguous


def test_normalize_of_a_zero_vector_uses_the_epsilon_as_keras():
    layer = Dot(axes=1, normalize=True)
    layer.build([(None, 3), (None, 3)])
    a = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], np.float32)
    b = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]], np.float32)
    np.testing.assert_allclose(layer.forward([a, b], False), [[0.0], [1.0 / 3.0]], atol=1e-7)
    da, _ = layer.backward(np.ones((2, 1), np.float32), True)
    # below eps the normalization is x / sqrt(1e-12): a constant scale of 1e6
    np.testing.assert_allclose(da[0], [1e6, 0.0, 0.0], rtol=1e-5)
    assert np.all(np.isfinite(da))


def test_dot_helper_config_round_trip_and_masks():
    ids, b = Input((4,)), Input((3,))
    emb = Flatten()(Dense(3)(Embedding(10, 3, mask_zero=False)(ids)))
    merged = dot([Dense(3)(emb), b], axes=(1, 1), normalize=True, name="cosine")
    layer = merged.node.layer
    assert isinstance(layer, Dot) and layer.name == "cosine" and merged.shape == (None, 1)
    config = layer.get_config()
    assert set(config) == {"name", "trainable", "dtype", "axes", "normalize"}
    assert config["axes"] == [1, 1] and config["normalize"] is True
    assert Dot.from_config(json.loads(json.dumps(config))).get_config() == config
    model = Model([ids, b], merged)
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    xs = [np.random.RandomState(1).randint(0, 10, (5, 4)), np.random.RandomState(2).randn(5, 3).astype(np.float32)]
    np.testing.assert_allclose(clone.predict(xs), model.predict(xs), rtol=1e-6)
    # masked inputs: Dot accepts them and its output has no mask (Keras 2.2.4)
    seq = Embedding(10, 4, mask_zero=True)(Input((5,)))
    assert Dot(axes=2)([seq, seq])._keras_mask is None


def test_bad_arguments_raise_errors_naming_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'d1'.*axes=3 is out of range.*\(None, 4\) and \(None, 4\)"):
        Dot(axes=3, name="d1")([Input((4,)), Input((4,))])
    with pytest.raises(ValueError, match=r"'d2'.*out of range.*non-batch"):
        Dot(axes=0, name="d2")([Input((4,)), Input((4,))])
    with pytest.raises(ValueError, match=r"'d3'.*dimension incompatibility 4 != 5.*\(None, 3, 4\), \(None, 5\)"):
        Dot(axes=(2, 1), name="d3")([Input((3, 4)), Input((5,))])
    with pytest.raises(ValueError, match="list of exactly 2 inputs"):
        Dot(axes=1)([Input((4,)), Input((4,)), Input((4,))])
    with pytest.raises(TypeError, match="should be a list or an int"):
        Dot(axes="last")
    with pytest.raises(ValueError, match="two elements"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match='should be "int"'):
        Dot(axes=(1, 1.5))
