"""Saving and loading under stress: long name lists, thousands of layers, hostile sizes,
links, corrupt files (a small fuzzer), config field types, stale temporaries, the umask."""
import json
import os
import time
import warnings

import h5py
import numpy as np
import pytest

import seqnet.backend as K
from seqnet.layers import Dense
from seqnet.models import Sequential, load_model, model_from_config, model_from_json
from seqnet.saving import SavingError
from seqnet.saving import hdf5_format

DOCUMENTED = (ValueError, OSError)


@pytest.fixture(autouse=True)
def fresh_session():
    K.clear_session()
    yield
    K.clear_session()


def small_model():
    model = Sequential([Dense(3, input_shape=(2,), name="a"), Dense(2, name="b")])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 2), np.float32), np.ones((4, 2), np.float32), epochs=1, verbose=0)
    return model


# ---- 1. name lists over HDF5's 64 KiB attribute limit --------------------------------
def test_long_layer_name_lists_are_chunked_and_load(tmp_path):
    model = Sequential([Dense(1, input_shape=(1,), name="x" * 43000 + "0")]
                       + [Dense(1, name="x" * 43000 + str(i)) for i in range(1, 3)])
    path = tmp_path / "long.h5"
    model.save(path)
    with h5py.File(path, "r") as f:
        attrs = set(f["model_weights"].attrs)
        assert {"layer_names0", "layer_names1", "layer_names2"} <= attrs and "layer_names" not in attrs
    loaded = load_model(path)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_keras_style_chunked_attributes_load(tmp_path):
    model = small_model()
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path, "r+") as f:  # as keras 2.2.4's save_attributes_to_hdf5_group splits
        for group, key in ((f["model_weights"], "layer_names"), (f["model_weights/a"], "weight_names"),
                           (f["optimizer_weights"], "weight_names")):
            names = group.attrs[key]
            del group.attrs[key]
            for index, chunk in enumerate(np.array_split(names, 2)):
                group.attrs[f"{key}{index}"] = chunk
    loaded = load_model(path)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


# ---- 2. loading is linear in the layers ------------------------------------------------
def sequential_config(n):
    layers = [{"class_name": "Dense", "config": {"name": f"d{i}", "units": 2,
                                                  **({"batch_input_shape": [None, 2]} if i == 0 else {})}}
              for i in range(n)]
    return {"class_name": "Sequential", "config": {"name": "s", "layers": layers}}


def functional_config(n):
    layers = [{"name": "in", "class_name": "InputLayer",
               "config": {"name": "in", "batch_input_shape": [None, 2]}, "inbound_nodes": []}]
    previous = "in"
    for i in range(n):
        layers.append({"name": f"d{i}", "class_name": "Dense", "config": {"name": f"d{i}", "units": 2},
                       "inbound_nodes": [[[previous, 0, 0, {}]]]})
        previous = f"d{i}"
    return {"class_name": "Model", "config": {"name": "f", "layers": layers[::-1],
                                              "input_layers": [["in", 0, 0]], "output_layers": [[previous, 0, 0]]}}


def timed(config):
    start = time.perf_counter()
    model_from_config(config)
    return time.perf_counter() - start


@pytest.mark.parametrize("make", [sequential_config, functional_config])
def test_loading_time_is_linear_in_the_layers(make):
    small = min(timed(make(500)) for _ in range(2))
    large = timed(make(5000))
    assert large < 30 * small + 0.5, (small, large)  # 10x the layers: linear is ~10x, quadratic ~100x


def test_functional_nodes_are_tried_a_linear_number_of_times(monkeypatch):
    from seqnet.saving import model_config
    calls = []
    original = model_config._missing_source
    monkeypatch.setattr(model_config, "_missing_source", lambda node, layers: calls.append(1) or original(node, layers))
    model_from_config(functional_config(300))
    assert len(calls) <= 2 * 300 + 2


# ---- 3. one parameter and layer budget, from the config ---------------------------------
def one_layer(class_name, config, input_shape):
    return {"class_name": "Sequential", "config": {"layers": [
        {"class_name": class_name, "config": dict(config, name="big", batch_input_shape=input_shape)}]}}


@pytest.mark.parametrize("class_name,config,input_shape", [
    ("Dense", {"units": 2 ** 20}, [None, 2 ** 12]),
    ("Embedding", {"input_dim": 2 ** 20, "output_dim": 2 ** 12}, [None, 3]),
    ("Conv2D", {"filters": 2 ** 12, "kernel_size": [64, 64]}, [None, 100, 100, 512]),
    ("LSTM", {"units": 2 ** 15}, [None, 5, 4]),
    ("GRU", {"units": 4, "stateful": True}, [2 ** 31, 5, 4]),
    ("BatchNormalization", {}, [None, 2 ** 30]),
])
def test_a_file_asking_for_too_many_parameters_is_refused(class_name, config, input_shape):
    with pytest.raises(SavingError, match="big"):
        model_from_config(one_layer(class_name, config, input_shape))


def test_the_budget_is_for_the_whole_model(monkeypatch):
    from seqnet.saving import model_config
    monkeypatch.setattr(model_config, "MAX_PARAMETERS", 100)
    config = sequential_config(10)  # 6 parameters a layer, 60 in all: fits
    model_from_config(config)
    with pytest.raises(SavingError, match="d16"):
        model_from_config(sequential_config(20))


def test_too_many_layers_are_refused_before_any_is_made(monkeypatch):
    from seqnet.saving import model_config
    monkeypatch.setattr(model_config, "MAX_LAYERS", 50)
    with pytest.raises(SavingError, match="more than 50 layers"):
        model_from_config(sequential_config(51))


# ---- 4. links in optimizer_weights -------------------------------------------------------
def test_an_external_optimizer_weights_link_is_refused(tmp_path):
    path = tmp_path / "m.h5"
    small_model().save(path)
    with h5py.File(path, "r+") as f:
        del f["optimizer_weights"]
        f["optimizer_weights"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/")
    with pytest.raises(SavingError, match="optimizer_weights.*ExternalLink"):
        load_model(path)


# ---- 5. corrupt files: only the documented errors, quickly ----------------------------------
def test_nan_weights_load_with_a_warning(tmp_path):
    path = tmp_path / "m.h5"
    small_model().save(path)
    with h5py.File(path, "r+") as f:
        f["model_weights/a/a/kernel:0"][0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="kernel:0.*NaN"):
        load_model(path)


def mutate_json(text, rng):
    config = json.loads(text)
    layers = config["config"]["layers"]
    layer = layers[rng.integers(len(layers))]["config"]
    key = list(layer)[rng.integers(len(layer))]
    kind = rng.integers(6)
    if kind == 0:
        layer[key] = [None, "x", 1.5, {}, [], True, -1][rng.integers(7)]
    elif kind == 1:
        layer[key] = int(10 ** int(rng.integers(5, 40)))
    elif kind == 2:
        del layer[key]
    elif kind == 3:
        nested = 1
        for _ in range(int(rng.integers(10, 3000))):
            nested = [nested]
        layer[key] = nested
    elif kind == 4:
        del config[["class_name", "config"][rng.integers(2)]]
    else:
        layers.append(layers[0])
    try:
        return json.dumps(config)
    except RecursionError:
        return "[" * 100000


def mutate_h5(f, rng):
    items = []
    f.visititems(lambda name, obj: items.append(name))
    target = items[rng.integers(len(items))]
    kind = rng.integers(5)
    if kind == 0:
        del f[target]
    elif kind == 1:
        f.move(target, target + "_renamed")
    elif kind == 2 and f[target].attrs:
        key = list(f[target].attrs)[rng.integers(len(f[target].attrs))]
        del f[target].attrs[key]
    elif kind == 3 and f[target].attrs:
        key = list(f[target].attrs)[rng.integers(len(f[target].attrs))]
        f[target].attrs[key] = [np.arange(3), "text", np.float64(1e300), np.array([b""])][rng.integers(4)]
    elif isinstance(f[target], h5py.Dataset):
        data = f[target][()]
        del f[target]
        f[target] = [np.zeros((7, 9)), np.array([b"x"]), np.full(np.shape(data), np.inf), np.int64(3)][rng.integers(4)]
    else:
        key = list(f.attrs)[rng.integers(len(f.attrs))]
        del f.attrs[key]


def test_fuzzed_files_raise_only_documented_errors(tmp_path):
    rng = np.random.default_rng(5)
    original = tmp_path / "m.h5"
    small_model().save(original)
    raw = original.read_bytes()
    start = time.perf_counter()
    for trial in range(300):
        path = tmp_path / f"mutant{trial}.h5"
        kind = trial % 3
        if kind == 0:
            data = bytearray(raw)
            for _ in range(int(rng.integers(1, 20))):
                data[rng.integers(len(data))] = rng.integers(256)
            path.write_bytes(bytes(data))
        else:
            path.write_bytes(raw)
            with h5py.File(path, "r+") as f:
                if kind == 1:
                    f.attrs["model_config"] = mutate_json(f.attrs["model_config"], rng)
                else:
                    mutate_h5(f, rng)
        began = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                load_model(path)
            except DOCUMENTED as err:
                assert str(path) in str(err), (trial, err)
        assert time.perf_counter() - began < 2, trial
        path.unlink()
    assert time.perf_counter() - start < 20


# ---- 6. config field types and positional names ---------------------------------------------
@pytest.mark.parametrize("field,value", [("trainable", "yes"), ("name", 7), ("units", "4"), ("units", True),
                                         ("batch_input_shape", [None, "2"]), ("use_bias", 1)])
def test_config_field_types_are_checked(field, value):
    config = sequential_config(2)
    config["config"]["layers"][0]["config"][field] = value
    with pytest.raises(SavingError, match=repr(field)):
        model_from_config(config)


def test_unnamed_layers_get_names_from_their_position():
    config = sequential_config(3)
    config["config"]["layers"][1]["config"]["name"] = ""
    del config["config"]["layers"][2]["config"]["name"]
    first = [layer.name for layer in model_from_config(config).layers]
    for _ in range(3):
        Dense(2)  # what the process made before must not matter
    second = [layer.name for layer in model_from_json(json.dumps(config)).layers]
    assert first == second == ["d0", "dense_2", "dense_3"]


# ---- 7. stale temporaries -------------------------------------------------------------------
def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_save_removes_stale_temporaries_of_dead_processes(tmp_path):
    path = tmp_path / "m.h5"
    stale = tmp_path / f".m.h5.seqnet-tmp-{dead_pid()}-abcd"
    alive = tmp_path / f".m.h5.seqnet-tmp-{os.getppid()}-abcd"
    other = tmp_path / f".n.h5.seqnet-tmp-{dead_pid()}-abcd"
    for p in (stale, alive, other):
        p.write_bytes(b"partial")
    small_model().save(path)
    assert not stale.exists() and alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "m.h5"])


# ---- 8. the umask is never changed ------------------------------------------------------------
def test_saving_never_changes_the_umask(tmp_path, monkeypatch):
    current = os.umask(0o022)
    os.umask(current)
    real = os.umask

    def guarded(mask):
        if mask != current:
            pytest.fail(f"os.umask({mask:#o}) called while saving")
        return real(mask)

    monkeypatch.setattr(os, "umask", guarded)
    path = tmp_path / "m.h5"
    small_model().save(path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~current
    os.chmod(path, 0o600)
    small_model().save(path)
    assert path.stat().st_mode & 0o777 == 0o600
