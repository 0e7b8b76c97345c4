"""Save/load round trips seqnet -> tf-keras -> seqnet for nested and shared-layer models.

The fixtures come from tests/fixtures/make_roundtrip_fixtures.py (run by hand in two
stages): seqnet saved each model (roundtrip_<case>_seqnet.h5), tf-keras 2.21 loaded it,
checked its predictions against seqnet's and saved it again (roundtrip_<case>_tfkeras.h5).
Here, without TensorFlow, seqnet loads both files and must predict what the writer
predicted, with the original weights and the compile arguments intact.
"""
import json
import os

import numpy as np
import pytest

from seqnet.models import Model, Sequential, load_model
from seqnet.optimizers import SGD

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
CASES = ("nested_seq", "nested_func", "shared", "shared_model")
RTOL, ATOL = 1e-5, 1e-6
LOSSES = {"nested_seq": "categorical_crossentropy", "nested_func": "mean_squared_error",
          "shared": "binary_crossentropy", "shared_model": "mean_squared_error"}


@pytest.fixture(scope="module")
def inputs():
    return np.load(os.path.join(FIXTURES, "roundtrip_inputs.npz"))


@pytest.fixture(scope="module")
def tfkeras():
    return np.load(os.path.join(FIXTURES, "roundtrip_tfkeras.npz"))


def case_inputs(data, case):
    if f"{case}_x" in data:
        return data[f"{case}_x"]
    return [data[f"{case}_x0"], data[f"{case}_x1"]]


def case_weights(data, case):
    n = len([k for k in data.files if k.startswith(f"{case}_w")])
    return [data[f"{case}_w{i}"] for i in range(n)]


def path(case, writer):
    return os.path.join(FIXTURES, f"roundtrip_{case}_{writer}.h5")


def check_weights(model, want):
    got = model.get_weights()
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def check_structure(model, case):
    """The nesting and the sharing survived, not only the numbers."""
    if case == "nested_seq":
        assert isinstance(model, Sequential) and isinstance(model.layers[0], Sequential)
        assert len(model.layers[0].layers) == 2
    elif case == "nested_func":
        inner = [layer for layer in model.layers if isinstance(layer, Model)]
        assert len(inner) == 1 and len(inner[0].weights) == 2
    else:
        # one layer (or tower model) called on both inputs: two entries in its inbound_nodes
        calls = {entry["name"]: len(entry["inbound_nodes"]) for entry in model.get_config()["layers"]}
        reused = [layer for layer in model.layers if layer.weights and calls[layer.name] == 2]
        assert len(reused) == 1, calls
        assert len(model.inputs) == 2 and len(model.weights) == 4
        if case == "shared_model":
            assert isinstance(reused[0], Model) and len(reused[0].layers) == 2


def check_compiled(model, case):
    """The training_config came through: legacy SGD(lr=0.01) and the case's loss."""
    assert isinstance(model.optimizer, SGD)
    assert model.optimizer.get_config()["lr"] == pytest.approx(0.01)
    loss = model.loss if isinstance(model.loss, str) else getattr(model.loss, "__name__", model.loss)
    assert {"mse": "mean_squared_error"}.get(loss, loss) == LOSSES[case]


@pytest.mark.parametrize("case", CASES)
def test_seqnet_file_loads_in_seqnet(case, inputs):
    model = load_model(path(case, "seqnet"))
    check_structure(model, case)
    check_compiled(model, case)
    check_weights(model, case_weights(inputs, case))
    np.testing.assert_allclose(model.predict(case_inputs(inputs, case)), inputs[f"{case}_pred"],
                               rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES)
def test_tf_keras_resaved_file_loads_in_seqnet(case, inputs, tfkeras, tmp_path):
    import h5py

    with h5py.File(path(case, "tfkeras"), "r") as f:  # really tf-keras' file, not ours copied
        assert f.attrs["backend"] in ("tensorflow", b"tensorflow")
        assert json.loads(f.attrs["model_config"])["class_name"] in ("Sequential", "Functional")
    model = load_model(path(case, "tfkeras"))
    check_structure(model, case)
    check_compiled(model, case)
    check_weights(model, case_weights(inputs, case))
    x = case_inputs(inputs, case)
    pred = model.predict(x)
    np.testing.assert_allclose(pred, tfkeras[f"{case}_pred"], rtol=RTOL, atol=ATOL)
    # tf-keras agreed with seqnet when it wrote the file; closes the circle
    np.testing.assert_allclose(pred, inputs[f"{case}_pred"], rtol=RTOL, atol=ATOL)
    # and seqnet writes it back out unchanged
    again = str(tmp_path / "again.h5")
    model.save(again)
    reloaded = load_model(again)
    check_weights(reloaded, case_weights(inputs, case))
    np.testing.assert_array_equal(reloaded.predict(x), pred)


def test_fixtures_cover_every_case(inputs, tfkeras):
    for case in CASES:
        assert f"{case}_pred" in inputs.files and f"{case}_pred" in tfkeras.files
        assert len(case_weights(inputs, case)) in (4, 6)
        assert os.path.getsize(path(case, "seqnet")) < 100 * 1024
        assert os.path.getsize(path(case, "tfkeras")) < 100 * 1024
    assert json.loads(str(tfkeras["config"]))["tf_keras_version"].startswith("2.")
