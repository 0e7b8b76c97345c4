"""Saving and loading functional models: Keras 2's functional config and JSON, HDF5 model
files with per-output compile arguments and optimizer state, a tf-keras functional file
(tests/fixtures/make_keras_h5.py --functional) and hostile graph configurations."""
import copy
import json
import os

import h5py
import numpy as np
import pytest

import seqnet
import seqnet.backend as K
from seqnet import optimizers
from seqnet.layers import Concatenate, Dense, Dropout, Input, concatenate
from seqnet.models import Model, load_model, model_from_config, model_from_json
from seqnet.saving import SavingError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture(autouse=True)
def fresh_session():
    K.clear_session()
    np.random.seed(11)
    yield
    K.clear_session()


def two_by_two(dropout=0.0):
    """Two inputs, a Concatenate, two outputs (one fed by the merge, one by a hidden layer)."""
    a = Input(shape=(6,), name="a")
    b = Input(shape=(4,), name="b")
    hidden = Dense(8, activation="relu", name="hidden")(a)
    if dropout:
        hidden = Dropout(dropout, name="drop")(hidden)
    merged = concatenate([hidden, b], name="merged")
    cls = Dense(3, activation="softmax", name="cls")(merged)
    reg = Dense(2, name="reg")(hidden)
    return Model(inputs=[a, b], outputs=[cls, reg], name="two_by_two")


def data(rows=16, seed=0):
    rng = np.random.RandomState(seed)
    x = [rng.uniform(-1, 1, (rows, 6)).astype(np.float32), rng.uniform(-1, 1, (rows, 4)).astype(np.float32)]
    y = [np.eye(3, dtype=np.float32)[rng.randint(0, 3, rows)], rng.uniform(-1, 1, (rows, 2)).astype(np.float32)]
    return x, y


def assert_same_predictions(a, b, x):
    for p, q in zip(a.predict(x), b.predict(x)):
        np.testing.assert_array_equal(p, q)


# ---- configuration and JSON ------------------------------------------------------------
def test_get_config_is_keras_2_functional_format():
    model = two_by_two()
    config = model.get_config()
    assert set(config) == {"name", "layers", "input_layers", "output_layers"}
    assert config["name"] == "two_by_two"
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["cls", 0, 0], ["reg", 0, 0]]
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert [layer["name"] for layer in config["layers"]] == ["a", "b", "hidden", "merged", "cls", "reg"]
    assert by_name["a"]["class_name"] == "InputLayer" and by_name["a"]["inbound_nodes"] == []
    assert tuple(by_name["a"]["config"]["batch_input_shape"]) == (None, 6)
    assert set(by_name["a"]["config"]) == {"batch_input_shape", "dtype", "sparse", "name"}
    assert by_name["hidden"]["inbound_nodes"] == [[["a", 0, 0, {}]]]
    assert by_name["merged"]["class_name"] == "Concatenate"
    assert by_name["merged"]["inbound_nodes"] == [[["hidden", 0, 0, {}], ["b", 0, 0, {}]]]
    assert by_name["reg"]["inbound_nodes"] == [[["hidden", 0, 0, {}]]]
    assert all(layer["config"]["name"] == layer["name"] for layer in config["layers"])


def test_from_config_rebuilds_the_graph():
    model = two_by_two(dropout=0.25)
    config = model.get_config()
    clone = Model.from_config(config)
    assert clone.get_config() == config
    assert clone.input_names == ["a", "b"] and clone.output_names == ["cls", "reg"]
    assert clone.input_shape == [(None, 6), (None, 4)] and clone.output_shape == [(None, 3), (None, 2)]
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x, _ = data()
    assert_same_predictions(model, clone, x)


def test_from_config_takes_layers_in_any_order():
    model = two_by_two()
    config = model.get_config()
    shuffled = dict(config, layers=list(reversed(config["layers"])))
    clone = Model.from_config(shuffled)
    assert sorted(layer.name for layer in clone.layers) == sorted(layer.name for layer in model.layers)
    for layer in model.layers:
        clone.get_layer(layer.name).set_weights(layer.get_weights())
    x, _ = data()
    assert_same_predictions(model, clone, x)


def test_to_json_model_from_json_and_model_from_config():
    model = two_by_two()
    text = model.to_json()
    parsed = json.loads(text)
    assert parsed["class_name"] == "Model"
    assert set(parsed) == {"class_name", "config", "keras_version", "backend"}
    clone = model_from_json(text)
    assert isinstance(clone, Model) and clone.to_json() == text
    assert model_from_config(parsed).to_json() == text
    # tf-keras writes 'Functional'; a bare functional config is recognised by its input_layers
    assert model_from_config(dict(parsed, class_name="Functional")).to_json() == text
    assert model_from_config(parsed["config"]).to_json() == text
    rebuilt = seqnet.models.Model.from_config(parsed["config"]).get_config()
    assert json.loads(json.dumps(rebuilt)) == parsed["config"]
    with pytest.raises(ValueError, match="Sequential and functional"):
        model_from_config(dict(parsed, class_name="Subclassed"))


def test_single_input_single_output_round_trip():
    x_in = Input(shape=(5,), name="x")
    out = Dense(2, activation="softmax", name="out")(Dense(4, activation="tanh", name="h")(x_in))
    model = Model(x_in, out)
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    x = np.random.RandomState(1).uniform(-1, 1, (7, 5)).astype(np.float32)
    assert isinstance(clone.predict(x), np.ndarray)
    np.testing.assert_array_equal(clone.predict(x), model.predict(x))


def test_custom_objects_in_functional_configs():
    def scaled_tanh(x):
        return K.tanh(x) * 2.0

    class MyDense(Dense):
        pass

    a = Input(shape=(4,), name="a")
    model = Model(a, MyDense(3, activation=scaled_tanh, name="mine")(a))
    text = model.to_json()
    with pytest.raises(ValueError, match="MyDense"):
        model_from_json(text)
    clone = model_from_json(text, custom_objects={"MyDense": MyDense, "scaled_tanh": scaled_tanh})
    assert type(clone.get_layer("mine")) is MyDense
    clone.set_weights(model.get_weights())
    x = np.random.RandomState(2).uniform(-1, 1, (5, 4)).astype(np.float32)
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-6)


# ---- whole-model HDF5 files ----------------------------------------------------------------
COMPILE_CASES = {
    "lists": dict(loss=["categorical_crossentropy", "mse"], loss_weights=[1.0, 0.5], metrics=["mae"]),
    "dicts": dict(loss={"cls": "categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 0.3, "reg": 2.0},
                  metrics={"cls": ["accuracy"], "reg": "mae"}, weighted_metrics={"reg": ["mse"]}),
    "single": dict(loss="mse", metrics=["accuracy"]),
}
OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(lr=0.01),
    "sgd_nesterov": lambda: optimizers.SGD(lr=0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(lr=0.01),
    "nadam": lambda: optimizers.Nadam(),
    "adagrad": lambda: optimizers.Adagrad(),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("case", sorted(COMPILE_CASES))
def test_save_load_predicts_and_trains_identically(tmp_path, case, optimizer):
    model = two_by_two()
    model.compile(OPTIMIZERS[optimizer](), **COMPILE_CASES[case])
    x, y = data()
    for _ in range(3):
        model.train_on_batch(x, y)
    path = tmp_path / "functional.h5"
    model.save(path)
    clone = load_model(path)
    assert isinstance(clone, Model) and type(clone.optimizer) is type(model.optimizer)
    assert clone.metrics_names == model.metrics_names
    assert int(K.get_value(clone.optimizer.iterations)) == 3
    assert_same_predictions(model, clone, x)
    ours = [model.train_on_batch(x, y) for _ in range(3)]
    theirs = [clone.train_on_batch(x, y) for _ in range(3)]
    assert ours == theirs  # bit-identical, metrics included
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.evaluate(x, y, verbose=0) == clone.evaluate(x, y, verbose=0)


def test_save_writes_keras_2_layout(tmp_path):
    model = two_by_two()
    model.compile("adam", loss={"cls": "categorical_crossentropy", "reg": "mse"}, loss_weights=[1.0, 0.5],
                  metrics={"cls": ["accuracy"]})
    x, y = data()
    model.train_on_batch(x, y)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Model" and config["config"] == json.loads(json.dumps(model.get_config()))
        training = json.loads(f.attrs["training_config"])
        assert training["loss"] == {"cls": "categorical_crossentropy", "reg": "mse"}
        assert training["loss_weights"] == [1.0, 0.5]
        assert training["metrics"] == {"cls": ["accuracy"]}
        names = [n.decode() for n in f["model_weights"].attrs["layer_names"]]
        assert names == ["a", "b", "hidden", "merged", "cls", "reg"]
        assert list(f["model_weights/hidden/hidden"]) == ["bias:0", "kernel:0"]
        assert len(f["optimizer_weights"].attrs["weight_names"]) == 1 + 2 * len(model.trainable_weights)


def test_without_the_optimizer_state_and_uncompiled(tmp_path):
    model = two_by_two()
    model.save(tmp_path / "raw.h5")
    clone = load_model(tmp_path / "raw.h5")
    assert clone.optimizer is None
    x, y = data()
    assert_same_predictions(model, clone, x)
    model.compile("sgd", ["categorical_crossentropy", "mse"])
    model.train_on_batch(x, y)
    model.save(tmp_path / "no_opt.h5", include_optimizer=False)
    clone = load_model(tmp_path / "no_opt.h5")
    assert clone.optimizer is None
    assert_same_predictions(model, clone, x)


def test_save_weights_and_load_weights_by_name(tmp_path):
    model = two_by_two()
    model.save_weights(tmp_path / "w.h5")
    other = two_by_two()
    other.load_weights(tmp_path / "w.h5")
    x, _ = data()
    assert_same_predictions(model, other, x)


# ---- tf-keras interoperation (tests/fixtures/make_keras_h5.py --functional) ------------------
def test_loads_tf_keras_functional_model_and_continues_its_training():
    ref = np.load(os.path.join(FIXTURES, "keras_functional.npz"))
    model = load_model(os.path.join(FIXTURES, "keras_functional.h5"))
    x, y = [ref["xa"], ref["xb"]], [ref["y_cls"], ref["y_reg"]]
    assert model.name == "two_by_two"
    assert model.input_names == ["a", "b"] and model.output_names == ["cls", "reg"]
    assert type(model.optimizer) is optimizers.Adam
    assert int(K.get_value(model.optimizer.iterations)) == 3
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    for ours, theirs in zip(model.predict(x), [ref["predict_cls"], ref["predict_reg"]]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)
    losses = [model.train_on_batch(x, y)[0] for _ in range(len(ref["more_losses"]))]
    np.testing.assert_allclose(losses, ref["more_losses"], rtol=1e-5)
    for ours, theirs in zip(model.predict(x), [ref["more_predict_cls"], ref["more_predict_reg"]]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_tf_keras_metric_lists_per_output_become_a_dict():
    from seqnet.saving.training_config import compile_from_config
    model = two_by_two()
    wrapper = {"class_name": "MeanMetricWrapper", "config": {"name": "reg_mae", "fn": "mean_absolute_error"}}
    compile_from_config(model, {"optimizer_config": {"class_name": "SGD", "config": {}},
                                "loss": ["categorical_crossentropy", "mse"],
                                "metrics": [["accuracy"], [wrapper]], "loss_weights": None})
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    for bad in ({"nope": "mse"}, ["mse", "mse", "mse"]):
        with pytest.raises(ValueError, match="training_config"):
            compile_from_config(two_by_two(), {"optimizer_config": {"class_name": "SGD", "config": {}},
                                               "loss": bad})


# ---- hostile configurations ------------------------------------------------------------------
def _layer(config, name):
    return next(layer for layer in config["layers"] if layer["name"] == name)


def _inbound(name, value):
    def change(config):
        _layer(config, name)["inbound_nodes"] = value
    return change


def _set(key, value):
    def change(config):
        config[key] = value
    return change


def _rename(config):
    _layer(config, "cls")["config"]["name"] = "other"


def _duplicate(config):
    config["layers"].append(copy.deepcopy(_layer(config, "reg")))


def _huge_dense(config):
    _layer(config, "cls")["config"]["units"] = 2 ** 40


def _lambda(config):
    _layer(config, "cls").update(class_name="Lambda", config={"name": "cls", "function": "os.system('x')"})


def _input_with_inbound(config):
    _layer(config, "a")["inbound_nodes"] = [[["b", 0, 0, {}]]]


def _not_an_input(config):
    config["input_layers"] = [["hidden", 0, 0], ["b", 0, 0]]


def _merge_one(config):
    _layer(config, "merged")["inbound_nodes"] = [[["hidden", 0, 0, {}]]]


HOSTILE = {
    "unknown inbound layer": (_inbound("cls", [[["ghost", 0, 0, {}]]]), "unknown layer 'ghost'"),
    "cycle": (lambda c: (_inbound("hidden", [[["reg", 0, 0, {}]]])(c)), "cycle"),
    "two-layer cycle": (lambda c: (_inbound("hidden", [[["merged", 0, 0, {}]]])(c)), "cycle"),
    "self loop": (_inbound("reg", [[["reg", 0, 0, {}]]]), "cycle"),
    "node index 1": (_inbound("cls", [[["merged", 1, 0, {}]]]), "nodes that do not exist"),
    "negative node index": (_inbound("cls", [[["merged", -1, 0, {}]]]), "indices must be integers in"),
    "huge node index": (_inbound("cls", [[["merged", 10 ** 30, 0, {}]]]), "indices must be integers in"),
    "tensor index 2": (_inbound("cls", [[["merged", 0, 2, {}]]]), "asks for output 2"),
    "string index": (_inbound("cls", [[["merged", "0", 0, {}]]]), "integers"),
    "bool index": (_inbound("cls", [[["merged", False, 0, {}]]]), "integers"),
    "float index": (_inbound("cls", [[["merged", 0.0, 0, {}]]]), "integers"),
    "shared layer (two nodes)": (_inbound("reg", [[["hidden", 0, 0, {}]], [["hidden", 0, 0, {}]]]), None),
    "no inbound node": (_inbound("reg", []), "has no inbound node"),
    "inbound not a list": (_inbound("reg", "hidden"), "must be a list"),
    "empty node": (_inbound("reg", [[]]), "non-empty"),
    "short entry": (_inbound("reg", [[["hidden", 0]]]), "bad inbound entry"),
    "entry not a list": (_inbound("reg", [[{"hidden": 0}]]), "bad inbound entry"),
    "call kwargs": (_inbound("reg", [[["hidden", 0, 0, {"foo": True}]]]), "call arguments"),
    "unknown output layer": (_set("output_layers", [["ghost", 0, 0]]), "unknown layer 'ghost'"),
    "output node index": (_set("output_layers", [["cls", 1, 0]]), "does not exist"),
    "no outputs": (_set("output_layers", []), "output_layers"),
    "outputs not a list": (_set("output_layers", "cls"), "output_layers"),
    "missing input_layers": (lambda c: c.pop("input_layers"), "input_layers"),
    "input is not an InputLayer": (_not_an_input, "not an InputLayer"),
    "InputLayer with inbound nodes": (_input_with_inbound, "cannot have inbound"),
    "layers not a list": (_set("layers", {"a": 1}), "'layers' must be"),
    "no layers": (_set("layers", []), "'layers' must be"),
    "name not a string": (_set("name", 5), "'name'"),
    "entry and config names differ": (_rename, "config names it"),
    "duplicate layer": (_duplicate, "used twice"),
    "huge kernel": (_huge_dense, "too large"),
    "Lambda layer": (_lambda, "Lambda"),
    "merge of one tensor": (_merge_one, "cannot call layer 'merged'"),
    "wrong input shape for merge": (_inbound("merged", [[["hidden", 0, 0, {}], ["a", 0, 0, {}],
                                                          ["b", 0, 0, {}]]]), None),
    "disconnected input": (_set("input_layers", [["a", 0, 0]]), "cannot build the model"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_configs_raise_valueerror(case):
    change, message = HOSTILE[case]
    config = copy.deepcopy(two_by_two().get_config())
    change(config)
    if message is None:  # a valid graph after all: it must build or refuse cleanly
        try:
            Model.from_config(config)
        except ValueError:
            pass
        return
    with pytest.raises(SavingError, match=message):
        Model.from_config(config)
    with pytest.raises(ValueError, match=message):
        model_from_json(json.dumps({"class_name": "Functional", "config": config}))


def test_hostile_config_in_a_model_file_raises_valueerror(tmp_path):
    model = two_by_two()
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        _layer(config["config"], "hidden")["inbound_nodes"] = [[["cls", 0, 0, {}]]]
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ValueError, match="cycle"):
        load_model(path)


def test_deep_chain_config_needs_no_recursion():
    x = Input(shape=(2,), name="x")
    t = x
    for i in range(400):
        t = Dense(2, name=f"d{i}")(t)
    model = Model(x, t)
    clone = model_from_json(model.to_json())
    assert len(clone.layers) == 401


def test_concatenate_layer_config_round_trips():
    a, b = Input(shape=(2, 3), name="a"), Input(shape=(2, 5), name="b")
    out = Concatenate(axis=-1, name="cat")([a, b])
    model = Model([a, b], Dense(1, name="d")(out))
    clone = model_from_json(model.to_json())
    assert clone.get_layer("cat").axis == -1 and clone.output_shape == (None, 2, 1)


def test_numpy_loss_weights_and_resaving_a_loaded_model(tmp_path):
    model = two_by_two()
    model.compile("adam", ["categorical_crossentropy", "mse"], loss_weights=[np.float32(0.5), np.float64(2.0)])
    x, y = data()
    model.train_on_batch(x, y)
    model.save(tmp_path / "first.h5")
    loaded = load_model(tmp_path / "first.h5")
    assert loaded.loss_weights == [0.5, 2.0]
    loaded.save(tmp_path / "second.h5")
    again = load_model(tmp_path / "second.h5")
    assert loaded.train_on_batch(x, y) == again.train_on_batch(x, y)
