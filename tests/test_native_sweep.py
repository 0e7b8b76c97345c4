"""Regressions found by a differential sweep of the native runtime (examples/cpp/predict_h5)
against seqnet's Python predict over random models: each case is a model the sweep found to
predict differently in C++, checked bit for bit against Python and against NumPy."""
import numpy as np
from seqnet import layers as L
from seqnet.models import Model
from test_native_model import check_same, native  # noqa: F401  (the module's fixture, built once)

# Subnormal float32 values of both signs, a normal one and zeros.
SUBNORMALS = np.array([1e-39, -1e-39, 2e-39, 1.0, -3e-39, 5e-40], np.float32)


def test_numpy_side_layers_keep_subnormals(native, tmp_path):
    """Merges and advanced activations compute with NumPy in Python, on the calling thread and
    outside the engine's FlushScope, so a subnormal sum stays subnormal; the runtime flushed
    them to zero (it ran every layer under its FlushScope)."""
    x = L.Input((6,))
    outputs = [L.Add()([x, x]), L.Average()([x, x]), L.Subtract()([x, L.Multiply()([x, x])]),
               L.LeakyReLU(0.5)(x), L.ReLU()(x), L.PReLU()(x), L.ELU(0.5)(x)]
    path = tmp_path / "subnormal_merges.h5"
    Model(x, outputs).save(str(path))
    xs = np.stack([SUBNORMALS, SUBNORMALS[::-1]])
    want = check_same(native, path, [xs], tmp_path)
    # the independent reference: NumPy's float32 arithmetic, subnormals kept
    np.testing.assert_array_equal(want[0], xs + xs)
    np.testing.assert_array_equal(want[3], np.where(xs > 0, xs, xs * np.float32(0.5)))
    assert np.count_nonzero(want[0][np.abs(want[0]) < np.finfo(np.float32).tiny]) >= 4


def test_masking_does_not_mask_a_subnormal_step(native, tmp_path):
    """Masking compares with NumPy (`x != mask_value`): a step of 1e-40 is not 0.0 there, so
    it is kept. The runtime compared under DAZ, took the step for 0.0 and masked it, so the RNN
    after it skipped that step (max difference 0.55 on a SimpleRNN's output)."""
    x = L.Input((5, 1))
    h = L.Masking(0.0)(x)
    seq = L.SimpleRNN(2, return_sequences=True, go_backwards=True)(h)
    path = tmp_path / "masking_subnormal.h5"
    Model(x, [seq, h]).save(str(path))
    xs = np.array([[1e-40, 1e-40, 1.0, 2.0, 0.0], [1.0, 2.0, 1e-40, 0.0, 0.0]], np.float32)[..., None]
    seq_out, masked = check_same(native, path, [xs], tmp_path)
    np.testing.assert_array_equal(masked, xs)  # the subnormal steps pass through Masking unchanged
    # a kept step moves the state: the outputs of the two subnormal steps differ from the step before
    assert not np.array_equal(seq_out[0, 3], seq_out[0, 4])


def _branches_after_a_shared_layer():
    """A shared Dense whose second call waits for a layer listed after it, then two branches:
    rebuilding the config called the short branch's Dense before the long branch's GRU."""
    a = L.Input((4,), name="a")
    shared = L.Dense(3, name="shared")
    h1 = shared(a)
    h2 = shared(L.Dense(4, name="pre")(a))
    c = L.Add(name="add")([h1, h2])
    g = L.GRU(2, name="gru")(L.Reshape((3, 1), name="seq")(c))
    return Model(a, [L.Dense(2, name="long_out")(g), L.Dense(5, name="short_out")(c)])


def test_rebuilt_functional_model_keeps_the_layer_order(native, tmp_path):
    """load_model matches the saved weights to the rebuilt model's layers in order (Keras'
    rule), so the rebuilt model must list its layers as the saved one: it listed 'short_out'
    before 'gru' and loading failed (a Dense given the GRU's weights); with layers of equal
    shapes it would have loaded them swapped."""
    from seqnet.models import load_model, model_from_json
    model = _branches_after_a_shared_layer()
    names = [layer.name for layer in model.layers]
    assert [layer.name for layer in model_from_json(model.to_json()).layers] == names
    path = tmp_path / "branches.h5"
    model.save(str(path))
    assert [layer.name for layer in load_model(str(path), compile=False).layers] == names
    xs = np.random.default_rng(3).standard_normal((7, 4)).astype(np.float32)
    want = check_same(native, path, [xs], tmp_path)
    for direct, loaded in zip(model.predict(xs), want):
        np.testing.assert_array_equal(direct, loaded)
