"""Checks shared by the tests of the basic layers (test_layers_core_more.py,
test_layers_noise.py, test_layers_advanced_activations.py, test_layers_reshaping.py):
the tf-keras fixtures of tests/fixtures/make_layer_fixtures_basic.py (predict, training
steps, tf-keras-saved .h5 files), central finite differences against float64 NumPy
references, and config / save / load round trips."""
import json
import os

import numpy as np

from seqnet import layers as seqnet_layers
from seqnet import optimizers
from seqnet.models import Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
_DATA = {}


def data():
    if not _DATA:
        npz = np.load(os.path.join(FIXTURES, "layers_basic.npz"))
        _DATA.update({k: npz[k] for k in npz.files})
        _DATA["config"] = json.loads(str(npz["config"]))
    return _DATA


def predict_cases(classes):
    """Names of the predict fixtures whose (first) layer is one of `classes`."""
    config = data()["config"]
    return sorted(c for c, spec in config.items() if isinstance(spec, dict) and not c.startswith("train_")
                  and spec["layers"][0][0] in classes)


def train_cases(classes):
    config = data()["config"]
    return sorted(c for c, spec in config.items() if c.startswith("train_")
                  and any(cls in classes for cls, _ in spec["layers"]))


def build(spec):
    """The Sequential model of a fixture's layer list (the first layer gets input_shape)."""
    built = []
    for i, (cls, kwargs) in enumerate(spec["layers"]):
        kwargs = dict(kwargs)
        if i == 0:
            kwargs["input_shape"] = tuple(spec["input_shape"])
        built.append(getattr(seqnet_layers, cls)(**kwargs))
    return Sequential(built)


def set_packed_weights(model, flat):
    """Weights stored raveled and concatenated (the fixture's layout) into the model."""
    ws, at = [], 0
    for w in model.get_weights():
        ws.append(flat[at:at + w.size].reshape(w.shape))
        at += w.size
    assert at == flat.size, (at, flat.size)
    model.set_weights(ws)


def check_predict_fixture(case, rtol=1e-4, atol=1e-5):
    d = data()
    model = build(d["config"][case])
    if f"{case}_w" in d:
        set_packed_weights(model, d[f"{case}_w"])
    pred = model.predict(d[f"{case}_x"], batch_size=3)
    np.testing.assert_allclose(pred, d[f"{case}_pred"], rtol=rtol, atol=atol)
    return model


def check_train_fixture(case, rtol=1e-3, atol=1e-5):
    d = data()
    spec = d["config"][case]
    model = build(spec)
    set_packed_weights(model, d[f"{case}_w"])
    model.compile(optimizers.SGD(lr=spec["optimizer"]["lr"]), spec["loss"])
    losses = [float(model.train_on_batch(x, y)) for x, y in zip(d[f"{case}_x"], d[f"{case}_y"])]
    np.testing.assert_allclose(losses, d[f"{case}_loss"], rtol=rtol, atol=atol)
    after = np.concatenate([w.ravel() for w in model.get_weights()])
    np.testing.assert_allclose(after, d[f"{case}_after_w"], rtol=rtol, atol=atol)


def check_tf_keras_h5(topic, rtol=1e-4, atol=1e-5):
    """Loads the tf-keras-saved model of `topic` and predicts what tf-keras predicted."""
    d = data()
    model = load_model(os.path.join(FIXTURES, f"layers_basic_{topic}.h5"))
    n_in = len([k for k in d if k.startswith(f"h5_{topic}_x")])
    n_out = len([k for k in d if k.startswith(f"h5_{topic}_pred")])
    preds = model.predict([d[f"h5_{topic}_x{i}"] for i in range(n_in)])
    preds = preds if isinstance(preds, list) else [preds]
    assert len(preds) == n_out
    for j, p in enumerate(preds):
        np.testing.assert_allclose(p, d[f"h5_{topic}_pred{j}"], rtol=rtol, atol=atol, err_msg=f"output {j}")
    return model


def check_round_trip(layer, input_shape, tmp_path, x=None, seed=0):
    """from_config(get_config()) rebuilds the same layer, and a model holding it predicts
    the same after seqnet's save / load (weights included)."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    json.dumps(config)  # the config must be JSON-serializable as it is
    first = {k: v for k, v in config.items() if k not in ("name", "batch_input_shape")}
    model = Sequential([type(layer).from_config(dict(first, input_shape=tuple(input_shape)))])
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.value[...] = rng.uniform(-0.5, 0.5, w.value.shape)
    if x is None:
        x = rng.standard_normal((3,) + tuple(input_shape)).astype(np.float32)
    path = os.path.join(str(tmp_path), "model.h5")
    model.save(path)
    loaded = load_model(path)
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    return loaded


def numeric_gradient(fn, x, dy, eps=1e-6):
    """d sum(fn(x) * dy) / dx by central differences, float64."""
    x = x.astype(np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (np.sum(fn(plus) * dy) - np.sum(fn(minus) * dy)) / (2 * eps)
    return grad


def check_gradient(layer, x, reference, training=True, rtol=1e-4, atol=1e-5, seed=0):
    """The layer's forward against the float64 `reference` and its backward against
    central finite differences of the reference. Returns (y, dx, dy)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not layer.built:
        layer._build_for((None,) + x.shape[1:])
    y = layer.forward(x, training)
    want = reference(x.astype(np.float64))
    np.testing.assert_allclose(y, want, rtol=rtol, atol=atol)
    y = y.copy()
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    dx = layer.backward(dy.astype(np.float32), True)
    np.testing.assert_allclose(dx, numeric_gradient(reference, x, dy), rtol=rtol, atol=atol)
    return y, dx, dy
