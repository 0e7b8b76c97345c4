"""Saving and loading: Keras 2 configurations and JSON, HDF5 model and weights files,
optimizer state, interoperation with tf-keras (fixtures written by
tests/fixtures/make_keras_h5.py) and files that are corrupt or hostile."""
import json
import os
import shutil

import h5py
import numpy as np
import pytest

import seqnet
import seqnet.backend as K
from seqnet import optimizers
from seqnet.layers import Activation, Dense, Dropout, Flatten, InputLayer
from seqnet.models import Sequential, load_model, model_from_config, model_from_json

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RNG = np.random.default_rng(20240607)


@pytest.fixture(autouse=True)
def fresh_session():
    K.clear_session()
    np.random.seed(11)
    yield
    K.clear_session()


def mlp(dropout=0.0):
    layers = [Flatten(input_shape=(2, 3)), Dense(8, activation="relu")]
    if dropout:
        layers.append(Dropout(dropout))
    return Sequential(layers + [Dense(4), Activation("softmax")])


def data(rows=12):
    x = RNG.uniform(-1, 1, (rows, 2, 3)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[RNG.integers(0, 4, rows)]
    return x, y


def trained(optimizer, steps=3, metrics=("accuracy",)):
    model = mlp()
    model.compile(optimizer, "categorical_crossentropy", metrics=list(metrics))
    x, y = data()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model, x, y


# ---- configuration and JSON ------------------------------------------------------------
def test_get_config_is_keras_2_format_and_round_trips():
    model = mlp(dropout=0.5)
    config = model.get_config()
    assert config["name"] == model.name
    assert [layer["class_name"] for layer in config["layers"]] == ["Flatten", "Dense", "Dropout", "Dense",
                                                                    "Activation"]
    assert tuple(config["layers"][0]["config"]["batch_input_shape"]) == (None, 2, 3)
    clone = Sequential.from_config(config)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    x, _ = data()
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))


def test_to_json_and_model_from_json():
    model = mlp()
    text = model.to_json()
    parsed = json.loads(text)
    assert parsed["class_name"] == "Sequential"
    assert set(parsed) == {"class_name", "config", "keras_version", "backend"}
    clone = model_from_json(text)
    assert isinstance(clone, Sequential) and clone.input_shape == (None, 2, 3)
    assert clone.count_params() == model.count_params()
    assert model_from_config(parsed).to_json() == text


def test_config_of_a_model_built_from_data_keeps_its_input_shape():
    model = Sequential([Dense(3)])
    model.build((None, 5))
    clone = Sequential.from_config(model.get_config())
    assert clone.input_shape == (None, 5)


def test_tf_keras_config_with_input_layer_loads():
    with h5py.File(os.path.join(FIXTURES, "keras_sgd.h5"), "r") as f:
        config = json.loads(f.attrs["model_config"])
    assert config["config"]["layers"][0]["class_name"] == "InputLayer"
    model = model_from_config(config)
    assert model.input_shape == (None, 2, 4)
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense", "Activation"]


def test_custom_objects_supply_user_functions_and_layers():
    def scaled_tanh(x):
        return K.tanh(x) * 2.0

    class MyDense(Dense):
        pass

    model = Sequential([MyDense(3, activation=scaled_tanh, input_shape=(4,))])
    text = model.to_json()
    with pytest.raises(ValueError, match="MyDense"):
        model_from_json(text)
    clone = model_from_json(text, custom_objects={"MyDense": MyDense, "scaled_tanh": scaled_tanh})
    clone.set_weights(model.get_weights())
    x = RNG.uniform(-1, 1, (5, 4)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-6)


# ---- whole-model HDF5 files ----------------------------------------------------------------
def test_save_writes_keras_2_layout(tmp_path):
    model, _, _ = trained(optimizers.Adam(lr=0.01))
    path = tmp_path / "model.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        assert {"keras_version", "backend", "model_config", "training_config"} <= set(f.attrs)
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"]["class_name"] == "Adam"
        assert training["loss"] == "categorical_crossentropy" and training["metrics"] == ["accuracy"]
        group = f["model_weights"]
        assert [n.decode() for n in group.attrs["layer_names"]] == [layer.name for layer in model.layers]
        assert [n.decode() for n in group["dense_1"].attrs["weight_names"]] == ["dense_1/kernel:0", "dense_1/bias:0"]
        np.testing.assert_array_equal(group["dense_1/dense_1/kernel:0"][()], model.layers[1].get_weights()[0])
        names = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
        assert names[0] == "Adam/iter:0" and names[1:3] == ["Adam/dense_1/kernel/m:0", "Adam/dense_1/bias/m:0"]
        assert len(names) == 1 + 2 * 4 and f["optimizer_weights/Adam/iter:0"][()] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["model.h5"]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(lr=0.05),
    "sgd_nesterov_decay": lambda: optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.1),
    "rmsprop_centered": lambda: optimizers.RMSprop(lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(initial_accumulator_value=0.1),
    "adadelta": lambda: optimizers.Adadelta(),
    "adam_amsgrad": lambda: optimizers.Adam(lr=0.01, amsgrad=True, clipnorm=1.0),
    "adamax": lambda: optimizers.Adamax(),
    "nadam": lambda: optimizers.Nadam(),
}


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_training_continues_identically_after_save_and_load(tmp_path, case):
    model, x, y = trained(OPTIMIZERS[case]())
    model.save(tmp_path / "m.h5")
    loaded = load_model(tmp_path / "m.h5")
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.metrics_names == model.metrics_names
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for _ in range(3):
        np.testing.assert_array_equal(loaded.train_on_batch(x, y), model.train_on_batch(x, y))
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_without_the_optimizer_state_training_differs(tmp_path):
    """The continuation test above can fail: a fresh Adam takes other steps."""
    model, x, y = trained(optimizers.Adam(lr=0.01))
    model.save(tmp_path / "m.h5", include_optimizer=False)
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    loaded = load_model(tmp_path / "m.h5")
    with pytest.raises(RuntimeError):
        loaded.train_on_batch(x, y)
    loaded.compile(optimizers.Adam(lr=0.01), "categorical_crossentropy")
    loaded.train_on_batch(x, y)
    model.train_on_batch(x, y)
    assert not np.allclose(loaded.get_weights()[0], model.get_weights()[0], rtol=1e-6, atol=0)


def test_untrained_and_uncompiled_models_save(tmp_path):
    model = mlp()
    model.compile("sgd", "mse")
    model.save(tmp_path / "compiled.h5")
    with h5py.File(tmp_path / "compiled.h5", "r") as f:
        assert "optimizer_weights" not in f
    loaded = load_model(tmp_path / "compiled.h5")
    assert isinstance(loaded.optimizer, optimizers.SGD) and loaded.metrics_names == ["loss"]
    plain = mlp()
    plain.save(tmp_path / "plain.h5")
    assert load_model(tmp_path / "plain.h5").optimizer is None
    assert load_model(tmp_path / "compiled.h5", compile=False).optimizer is None


def test_overwrite_false_refuses_and_keeps_the_file(tmp_path):
    model = mlp()
    path = tmp_path / "m.h5"
    path.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    assert path.read_bytes() == b"keep me"


def test_a_failing_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    model = mlp()
    path = tmp_path / "m.h5"
    model.save(path)
    before = path.read_bytes()
    from seqnet.saving import hdf5_format

    def broken(group, model):
        group.create_dataset("half", data=np.zeros(3))
        raise RuntimeError("disk full")

    monkeypatch.setattr(hdf5_format, "_write_weights", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


# ---- weights-only files ------------------------------------------------------------------------
def test_save_weights_layout_and_round_trip(tmp_path):
    model = mlp(dropout=0.3)
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert "model_config" not in f.attrs
        assert [n.decode() for n in f.attrs["layer_names"]] == [layer.name for layer in model.layers]
        assert f["dense_2"].attrs["weight_names"].tolist() == [b"dense_2/kernel:0", b"dense_2/bias:0"]
        assert len(f["dropout_1"].attrs["weight_names"]) == 0
    other = mlp(dropout=0.3)
    other.load_weights(path)
    for ours, theirs in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match="model_config"):
        load_model(path)


def test_load_weights_by_name(tmp_path):
    source = Sequential([Dense(5, input_shape=(3,), name="a"), Dense(2, name="b")])
    source.save_weights(tmp_path / "w.h5")
    target = Sequential([Dense(5, input_shape=(3,), name="a"), Dense(7, name="c"), Dense(2, name="b2")])
    before = target.get_weights()
    target.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(target.get_layer("a").get_weights()[0], source.get_layer("a").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("c").get_weights()[0], before[2])
    with pytest.raises(ValueError, match="2 layers with weights into a model with 3"):
        target.load_weights(tmp_path / "w.h5")
    wrong = Sequential([Dense(5, input_shape=(3,), name="a"), Dense(3, name="b")])
    with pytest.raises(ValueError, match=r"'b'.*\(5, 3\).*\(5, 2\)"):
        wrong.load_weights(tmp_path / "w.h5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping"):
        wrong.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(wrong.get_layer("a").get_weights()[0], source.get_layer("a").get_weights()[0])


# ---- tf-keras interoperation (fixtures from tests/fixtures/make_keras_h5.py) ----------------------
@pytest.mark.parametrize("case,optimizer,metrics", [("sgd", optimizers.SGD, ["loss", "accuracy"]),
                                                     ("adam", optimizers.Adam, ["loss", "accuracy", "mae"])])
def test_loads_tf_keras_models_and_continues_their_training(case, optimizer, metrics):
    ref = np.load(os.path.join(FIXTURES, "keras_h5.npz"))
    model = load_model(os.path.join(FIXTURES, f"keras_{case}.h5"))
    x, y = ref[f"x_{case}"], ref[f"y_{case}"]
    assert type(model.optimizer) is optimizer and model.metrics_names == metrics
    assert int(K.get_value(model.optimizer.iterations)) == 3
    np.testing.assert_allclose(model.predict(x), ref[f"predict_{case}"], rtol=1e-5, atol=1e-7)
    losses = [np.atleast_1d(model.train_on_batch(x, y))[0] for _ in range(len(ref[f"more_losses_{case}"]))]
    np.testing.assert_allclose(losses, ref[f"more_losses_{case}"], rtol=1e-5)
    np.testing.assert_allclose(model.predict(x), ref[f"more_predict_{case}"], rtol=1e-4, atol=1e-6)


def test_sgd_fixture_has_momentum_state():
    model = load_model(os.path.join(FIXTURES, "keras_sgd.h5"))
    assert model.optimizer.momentum == pytest.approx(0.9) and model.optimizer.nesterov
    assert np.abs(model.optimizer.moments).max() > 0


def test_loads_tf_keras_weights_file():
    ref = np.load(os.path.join(FIXTURES, "keras_h5.npz"))
    model = Sequential([Dense(10, activation="relu", input_shape=(5,)), Dropout(0.5),
                        Dense(3, activation="softmax")])
    model.load_weights(os.path.join(FIXTURES, "keras_weights.h5"))
    np.testing.assert_allclose(model.predict(ref["x_weights"]), ref["predict_weights"], rtol=1e-5, atol=1e-7)


def test_tf_keras_new_optimizer_config_is_understood():
    from seqnet.saving.training_config import optimizer_from_config
    config = {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": False,
        "is_legacy_optimizer": False, "learning_rate": 0.005, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False}}
    optimizer = optimizer_from_config(config)
    assert isinstance(optimizer, optimizers.Adam) and optimizer.get_config()["lr"] == pytest.approx(0.005)
    config["config"]["weight_decay"] = 0.004
    with pytest.raises(ValueError, match="weight_decay"):
        optimizer_from_config(config)
    nadam = optimizer_from_config({"class_name": "Nadam", "config": {"learning_rate": 0.002, "decay": 0.01}})
    assert nadam.schedule_decay == pytest.approx(0.01) and "decay" not in nadam.get_config()


# ---- optimizer state ------------------------------------------------------------------------
def test_optimizer_weights_in_keras_legacy_order():
    model, _, _ = trained(optimizers.Adam(lr=0.01, amsgrad=True))
    state = model.optimizer.get_weights()
    sizes = [w.value.size for w in model.trainable_weights]
    assert len(state) == 1 + 3 * len(sizes) and int(state[0]) == 3
    assert [a.size for a in state[1:]] == sizes * 3
    np.testing.assert_array_equal(np.concatenate(state[1:1 + len(sizes)]), model.optimizer.m)
    fresh = optimizers.Adam(lr=0.01, amsgrad=True)
    assert fresh.get_weights() == []
    segments = model._store.segments
    with pytest.raises(ValueError, match="expected 13 arrays"):
        fresh.set_weights(state[:-1], segments)
    assert fresh.get_weights() == [] and int(K.get_value(fresh.iterations)) == 0
    bad = list(state)
    bad[2] = np.zeros(3)
    with pytest.raises(ValueError, match="slot 'm' of weight 1"):
        fresh.set_weights(bad, segments)
    fresh.set_weights(state, segments)
    for ours, theirs in zip(fresh.get_weights(), state):
        np.testing.assert_array_equal(ours, theirs)


def test_mismatched_optimizer_state_warns_and_starts_fresh(tmp_path):
    model, x, _ = trained(optimizers.Adam())
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        names = f["optimizer_weights"].attrs["weight_names"]
        f["optimizer_weights"].attrs["weight_names"] = names[:-1]
    with pytest.warns(UserWarning, match="optimizer state"):
        loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert int(K.get_value(loaded.optimizer.iterations)) == 0


# ---- corrupt and hostile files ------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    model, x, y = trained(optimizers.SGD(lr=0.1, momentum=0.5))
    path = tmp_path / "m.h5"
    model.save(path)
    return model, path


def test_missing_truncated_and_garbage_files_raise_oserror(tmp_path, saved):
    _, path = saved
    with pytest.raises(OSError, match="No file"):
        load_model(tmp_path / "absent.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(OSError, match="truncated.h5"):
        load_model(truncated)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(OSError, match="not a readable HDF5 file"):
        load_model(garbage)
    with pytest.raises(OSError):
        mlp().load_weights(truncated)


def edit(path, change):
    with h5py.File(path, "r+") as f:
        change(f)


def set_layers(layers):
    def change(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"] = layers(config["config"]["layers"])
        f.attrs["model_config"] = json.dumps(config)
    return change


@pytest.mark.parametrize("change,message", [
    (lambda f: f.attrs.__delitem__("model_config"), "model_config"),
    (lambda f: f.attrs.__setitem__("model_config", "{not json"), "not valid JSON"),
    (lambda f: f.attrs.__setitem__("model_config", "[1, 2]"), "model config must be a dict"),
    (lambda f: f.attrs.__setitem__("model_config", np.arange(3)), "must be a string"),
    (lambda f: f.attrs.__setitem__("model_config", '{"class_name": "MyModel", "config": {}}'),
     "Sequential and functional"),
    (lambda f: f.attrs.__setitem__("model_config", '{"class_name": "Model", "config": {}}'),
     "functional config: 'layers' must be"),
    (set_layers(lambda layers: layers + [{"class_name": "Conv9D", "config": {}}]), "Unknown layer: 'Conv9D'"),
    (set_layers(lambda layers: layers + ["Dense"]), "layer 4 of the config"),
    (set_layers(lambda layers: [dict(layers[0], config=dict(layers[0]["config"], evil=1))] + layers[1:]),
     "unexpected keyword"),
    (set_layers(lambda layers: [layers[0], dict(layers[1], config=dict(layers[1]["config"], units="x"))]
                + layers[2:]), "units"),
    (set_layers(lambda layers: [layers[0], dict(layers[1], config=dict(layers[1]["config"], units=10 ** 12))]
                + layers[2:]), "too large"),
    (set_layers(lambda layers: [layers[0], dict(layers[1], config=dict(layers[1]["config"], units=9))]
                + layers[2:]), r"shape \(6, 9\) in the model, but \(6, 8\) in the file"),
    (lambda f: f.__delitem__("model_weights"), "model_weights"),
    (lambda f: f["model_weights"].attrs.__delitem__("layer_names"), "'layer_names' is missing"),
    (lambda f: f["model_weights/dense_1"].attrs.__delitem__("weight_names"), "'weight_names' is missing"),
    (lambda f: f["model_weights"].attrs.__setitem__("layer_names", np.array([b"../x"])), "invalid layer name"),
    (lambda f: f["model_weights"].attrs.__setitem__("layer_names", np.array([b"nope"])), "has no group"),
    (lambda f: f["model_weights/dense_1/dense_1"].__delitem__("bias:0"), "missing"),
    (lambda f: (f["model_weights/dense_1/dense_1"].__delitem__("bias:0"),
                f["model_weights/dense_1/dense_1"].__setitem__("bias:0", np.array([b"abc"] * 8))), "dtype"),
    (lambda f: (f["model_weights/dense_1/dense_1"].__delitem__("bias:0"),
                f["model_weights/dense_1/dense_1"].__setitem__("bias:0", h5py.ExternalLink("/etc/passwd", "/x"))),
     "ExternalLink"),
    (lambda f: f.attrs.__setitem__("training_config", '{"loss": "no_such_loss", "optimizer_config": '
                                   '{"class_name": "SGD", "config": {}}}'), "no_such_loss"),
    (lambda f: f.attrs.__setitem__("training_config", '{"loss": "mse", "optimizer_config": '
                                   '{"class_name": "SGD", "config": {"evil": 1}}}'), "evil"),
    (lambda f: f.attrs.__setitem__("training_config", '{"loss": "mse", "optimizer_config": '
                                   '{"class_name": "os.system", "config": {}}}'), "os.system"),
])
def test_corrupt_or_hostile_model_files_raise_valueerror(saved, change, message):
    _, path = saved
    edit(path, change)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_a_lambda_layer_is_refused_and_its_code_never_runs(tmp_path, saved):
    _, path = saved
    marker = tmp_path / "pwned"
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    lam = {"class_name": "Lambda", "config": {"name": "lambda_1", "function": [payload, None, None],
                                              "function_type": "lambda", "module": "builtins"}}
    edit(path, set_layers(lambda layers: layers + [lam]))
    with pytest.raises(ValueError, match="Lambda"):
        load_model(path)
    with pytest.raises(ValueError, match="Lambda"):
        model_from_json(json.dumps({"class_name": "Sequential", "config": {"layers": [lam]}}))
    assert not marker.exists()


def test_a_weight_shape_mismatch_leaves_the_model_unchanged(tmp_path):
    source = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    source.save_weights(tmp_path / "w.h5")
    target = Sequential([Dense(4, input_shape=(3,)), Dense(5)])
    before = target.get_weights()
    with pytest.raises(ValueError, match=r"dense_4.*\(4, 5\) in the model, but \(4, 2\) in the file"):
        target.load_weights(tmp_path / "w.h5")
    for ours, theirs in zip(target.get_weights(), before):  # the first layer, which matched, is untouched too
        np.testing.assert_array_equal(ours, theirs)


def test_external_dataset_storage_is_refused(tmp_path):
    source = Sequential([Dense(2, input_shape=(2,), name="d")])
    path = tmp_path / "w.h5"
    source.save_weights(path)
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.arange(4, dtype=np.float32).tobytes())
    with h5py.File(path, "r+") as f:
        del f["d/d/kernel:0"]
        f["d/d"].create_dataset("kernel:0", shape=(2, 2), dtype="f4", external=[(str(raw), 0, 16)])
    with pytest.raises(ValueError, match="outside the file"):
        Sequential([Dense(2, input_shape=(2,), name="d")]).load_weights(path)


def test_reads_file_objects_and_chunked_name_lists(tmp_path, saved):
    model, path = saved
    copy = tmp_path / "copy.h5"
    shutil.copy(path, copy)
    with h5py.File(copy, "r+") as f:  # Keras splits long name lists into layer_names0, layer_names1, ...
        names = f["model_weights"].attrs["layer_names"]
        del f["model_weights"].attrs["layer_names"]
        f["model_weights"].attrs["layer_names0"] = names[:2]
        f["model_weights"].attrs["layer_names1"] = names[2:]
    with h5py.File(copy, "r") as f:
        loaded = load_model(f)
    x, _ = data()
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_package_level_names():
    assert seqnet.models.load_model is load_model
    assert isinstance(InputLayer(input_shape=(3,)), InputLayer)
