"""The element-wise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum) on inputs
of different shapes that broadcast, as Keras 2.2.4's _Merge: output shapes, forward and
gradients against a float64 NumPy reference (and central finite differences for one model),
tf-keras fixtures (tests/fixtures/make_merge_broadcast_fixtures.py), masks, configs, saving,
the ONNX export and the native runtime's refusal; shapes that do not broadcast are clear errors."""
import functools
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

import seqnet as keras
from seqnet import layers as L
from seqnet.layers import Dense, Embedding, GlobalAveragePooling1D, Input
from seqnet.models import Model, load_model, model_from_json
from test_graph_engine import sgd_gradients
from test_wrappers import finite_difference

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
FIX = np.load(os.path.join(FIXTURES, "merge_broadcast.npz"))
CONFIG = json.loads(str(FIX["config"]))
CASES = sorted(k for k, v in CONFIG.items() if isinstance(v, dict))

CLASSES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]
# input shapes with the batch axis (4): same rank with axes of 1, lower ranks, three inputs
SHAPES = [((4, 3, 4), (4, 1, 4)), ((4, 2, 3, 4), (4, 4)), ((4, 5, 1), (4, 5, 6)),
          ((4, 3, 4), (4, 1, 4), (4, 4)), ((4, 2, 1, 3), (4, 4, 1)), ((4, 1, 3), (4, 2, 1, 3), (4, 2, 1, 1))]
FOLDS = {"Add": np.add, "Subtract": np.subtract, "Multiply": np.multiply, "Average": np.add,
         "Maximum": np.maximum, "Minimum": np.minimum}


def widen(xs):
    """Keras' call: each input expanded at axis 1 (K.expand_dims(x, 1)) up to the highest rank."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


def merge_np(cls, xs):
    y = functools.reduce(FOLDS[cls], [x.astype(np.float64) for x in widen(xs)])
    return y / len(xs) if cls == "Average" else y


def merge_grads_np(cls, xs, dy):
    """d sum(merge(xs) * dy) / d xs in float64: each input's local gradient at the output's
    shape, summed over the axes the input was broadcast along; Maximum/Minimum give it to the
    first input holding the extreme (tf.maximum's x >= y, left to right)."""
    wide = [x.astype(np.float64) for x in widen(xs)]
    y, dy = merge_np(cls, xs), dy.astype(np.float64)
    if cls in ("Maximum", "Minimum"):
        first = np.argmax(np.stack([np.broadcast_to(w, y.shape) == y for w in wide]), axis=0)
    grads = []
    for i, w in enumerate(wide):
        if cls == "Multiply":
            local = dy * functools.reduce(np.multiply, [v for j, v in enumerate(wide) if j != i], 1.0)
        elif cls in ("Maximum", "Minimum"):
            local = dy * (first == i)
        else:
            local = {"Add": dy, "Average": dy / len(xs), "Subtract": dy if i == 0 else -dy}[cls]
        local = np.broadcast_to(local, y.shape)
        axes = tuple(k for k in range(y.ndim) if w.shape[k] == 1 and y.shape[k] != 1)
        grads.append(local.sum(axis=axes, keepdims=True).reshape(xs[i].shape))
    return grads


def data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- shapes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,shapes,want", [
    ("Add", [(3, 4), (1, 4)], (None, 3, 4)),
    ("Multiply", [(2, 3, 4), (4,)], (None, 2, 3, 4)),
    ("Subtract", [(5, 1), (5, 6)], (None, 5, 6)),
    ("Maximum", [(3, 4), (1, 4), (4,)], (None, 3, 4)),
    ("Minimum", [(2, 1, 3), (4, 1)], (None, 2, 4, 3)),
    ("Average", [(4, 1), (1, 3)], (None, 4, 3)),
    ("Add", [(None, 4), (1, 4)], (None, None, 4)),   # an unknown size stays unknown (Keras)
    ("Add", [(None, 4), (3, 4)], (None, None, 4)),
    ("Add", [(3, 4), (3, 4)], (None, 3, 4)),
])
def test_output_shape_follows_keras(cls, shapes, want):
    ins = [Input(s) for s in shapes]
    assert getattr(L, cls)()(ins).shape == want
    assert getattr(L, cls.lower())(ins).shape == want
    assert getattr(L, cls)().compute_output_shape([(None,) + s for s in shapes]) == want


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("shapes", [[(3, 4), (2, 4)], [(2, 3, 4), (3,)], [(5, 6), (6, 5)]])
def test_shapes_that_do_not_broadcast_are_a_clear_error(cls, shapes):
    with pytest.raises(ValueError, match=r"(?s)'bad'.*could not be broadcast together with shapes.*"
                                         + str(tuple(shapes[0])).replace("(", r"\(").replace(")", r"\)")):
        getattr(L, cls)(name="bad")([Input(s) for s in shapes])


def test_unknown_sizes_that_differ_in_the_data_are_a_clear_error():
    a, b = Input((None, 4)), Input((3, 4))
    model = Model([a, b], L.Add(name="plus")([a, b]))
    with pytest.raises(ValueError, match=r"'plus'.*\(2, 5, 4\), \(2, 3, 4\).*could not be broadcast"):
        model.predict([np.zeros((2, 5, 4), np.float32), np.zeros((2, 3, 4), np.float32)])
    got = model.predict([np.ones((2, 1, 4), np.float32), np.ones((2, 3, 4), np.float32)])
    np.testing.assert_array_equal(got, np.full((2, 3, 4), 2, np.float32))


def test_subtract_still_takes_exactly_two_inputs():
    with pytest.raises(ValueError, match="exactly 2"):
        L.Subtract()([Input((3, 4)), Input((1, 4)), Input((4,))])


# ---- forward and gradients -----------------------------------------------------------------------
@pytest.mark.parametrize("cls, shapes", [(cls, shapes) for cls in CLASSES for shapes in SHAPES
                                         if cls != "Subtract" or len(shapes) == 2])  # Subtract takes two
def test_forward_and_gradients_match_numpy(cls, shapes):
    layer = getattr(L, cls)()
    layer([Input(s[1:]) for s in shapes])
    xs = [data(s, seed) for seed, s in enumerate(shapes)]
    y = layer.forward(xs, True)
    want = merge_np(cls, xs)
    assert y.shape == want.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)
    dy = data(y.shape, 9)
    dxs = layer.backward(dy, True)
    for i, (got, want, x) in enumerate(zip(dxs, merge_grads_np(cls, xs, dy), xs)):
        assert got.shape == x.shape and got.dtype == np.float32, (i, got.shape, x.shape)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # each gradient in its own buffer (a consumer may overwrite the one it gets)
    for i in range(len(dxs)):
        for j in range(i):
            assert not np.shares_memory(dxs[i], dxs[j])


@pytest.mark.parametrize("cls,order", [("Maximum", "big_first"), ("Maximum", "small_first"),
                                       ("Minimum", "big_first"), ("Minimum", "small_first")])
def test_ties_send_the_gradient_to_the_first_input(cls, order):
    """As in the same-shape case (and tf.maximum's x >= y): on equal values the first input of
    the list gets the gradient, a broadcast one summed over its broadcast axis."""
    big, small = np.zeros((2, 3, 4), np.float32), np.zeros((2, 1, 4), np.float32)
    xs = [big, small] if order == "big_first" else [small, big]
    layer = getattr(L, cls)()
    layer([Input(x.shape[1:]) for x in xs])
    layer.forward(xs, True)
    dy = data((2, 3, 4), 3)
    dxs = layer.backward(dy, True)
    want_first = dy if order == "big_first" else dy.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dxs[0], want_first, rtol=1e-6)
    np.testing.assert_array_equal(dxs[1], np.zeros_like(xs[1]))
    same = getattr(L, cls)()
    same([Input((3, 4)), Input((3, 4))])
    same.forward([big, big.copy()], True)
    first, second = same.backward(dy, True)
    np.testing.assert_array_equal(first, dy)
    np.testing.assert_array_equal(second, np.zeros_like(dy))


def test_same_shape_inputs_take_the_direct_path():
    a, b = data((4, 3, 4), 1), data((4, 3, 4), 2)
    layer = L.Multiply()
    layer([Input((3, 4)), Input((3, 4))])
    y = layer.forward([a, b], True)
    assert layer._operands is layer._xs  # not widened
    np.testing.assert_array_equal(y, a * b)
    layer.forward([a, data((4, 1, 4), 3)], True)
    assert layer._operands is not layer._xs


def test_gradients_of_a_broadcasting_model_match_finite_differences():
    keras.utils.set_random_seed(3)
    a, b, c = Input((2, 3, 4)), Input((4,)), Input((1, 4))
    ha, hb, hc = Dense(4, name="da")(a), Dense(4, activation="tanh", name="db")(b), Dense(4, name="dc")(c)
    # Add then Activation: the network runs the activation inside the Add (the fused path)
    h = L.Activation("tanh")(L.Add()([L.Multiply()([ha, hb]), hc]))
    model = Model([a, b, c], L.Maximum()([h, L.Dense(4, name="dm")(c)]))
    model.compile(keras.optimizers.SGD(lr=1.0), "mse")
    xa, xb, xc = data((3, 2, 3, 4), 1), data((3, 4), 2), data((3, 1, 4), 3)
    y = data((3, 2, 3, 4), 4)
    grads, weights = sgd_gradients(model, [xa, xb, xc], y)

    def loss():
        ka, ba, kb, bb, kc, bc, km, bm = weights
        hb = np.tanh(xb @ kb + bb)[:, None, None, :]
        h = np.tanh((xa @ ka + ba) * hb + (xc @ kc + bc)[:, None])
        return np.mean((np.maximum(h, (xc @ km + bm)[:, None]) - y) ** 2)

    assert [w.shape for w in weights] == [(4, 4), (4,)] * 4
    for got, want in zip(grads, finite_difference(loss, weights)):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# ---- tf-keras parity -------------------------------------------------------------------------------
def fixture_model(case):
    spec, embed = CONFIG[case], CONFIG["embed"]
    ins, branches = [], []
    for i, (kind, shape) in enumerate(spec["inputs"]):
        if kind == "embed":
            x = Input(tuple(shape), dtype="int32")
            branches.append(Embedding(CONFIG["vocab"], embed, mask_zero=True)(x))
        else:
            x = Input(tuple(shape))
            branches.append(Dense(shape[-1])(x))
        ins.append(x)
    y = getattr(L, spec["merge"])()(branches)
    for cls, kwargs in spec["after"]:
        y = getattr(L, cls)(**kwargs)(y)
    model = Model(ins, y)
    assert model.output_shape[1:] == tuple(spec["output_shape"])
    return model


def packed(model, flat):
    out, at = [], 0
    for w in model.get_weights():
        out.append(flat[at:at + w.size].reshape(w.shape))
        at += w.size
    assert at == flat.size
    return out


def test_the_fixture_covers_every_merge_and_a_mask():
    assert {CONFIG[c]["merge"] for c in CASES} == set(CLASSES)
    assert any(kind == "embed" for c in CASES for kind, _ in CONFIG[c]["inputs"])


@pytest.mark.parametrize("case", CASES)
def test_matches_tf_keras_predict_and_training(case):
    model = fixture_model(case)
    model.set_weights(packed(model, FIX[f"{case}_w"]))
    n = len(CONFIG[case]["inputs"])
    xs = [FIX[f"{case}_x{i}"] for i in range(n)]
    np.testing.assert_allclose(model.predict([x[0] for x in xs]), FIX[f"{case}_pred"], rtol=1e-4, atol=1e-6)
    model.compile(keras.optimizers.SGD(lr=CONFIG["lr"]), "mse")
    for k in range(CONFIG["steps"]):
        loss = model.train_on_batch([x[k] for x in xs], FIX[f"{case}_y"][k])
        assert loss == pytest.approx(float(FIX[f"{case}_loss"][k]), rel=1e-3)
    for got, want in zip(model.get_weights(), packed(model, FIX[f"{case}_after_w"])):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


# ---- masks -----------------------------------------------------------------------------------------
def test_masks_broadcast_as_their_inputs():
    layer = L.Add()
    big, small, flat = np.zeros((2, 5, 4), np.float32), np.zeros((2, 1, 4), np.float32), np.zeros((2, 4), np.float32)
    m_big = np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]], bool)
    m_small, m_flat = np.array([[True], [False]]), np.array([True, False])
    # one mask, of the input that sets the output's shape: passed on as it is (Keras 2)
    np.testing.assert_array_equal(layer.compute_mask([big, small], [m_big, None]), m_big)
    # masks of broadcast inputs broadcast to the output's mask shape, as their inputs
    np.testing.assert_array_equal(layer.compute_mask([big, small], [m_big, m_small]), m_big & m_small)
    np.testing.assert_array_equal(layer.compute_mask([small, big], [m_small, None]), np.repeat(m_small, 5, 1))
    np.testing.assert_array_equal(layer.compute_mask([flat, big], [m_flat, m_big]), m_big & m_flat[:, None])
    # inputs of one shape: the AND of the masks, as before
    np.testing.assert_array_equal(layer.compute_mask([big, big], [m_big, ~m_big]), np.zeros((2, 5), bool))
    assert layer.compute_mask([big, small], [None, None]) is None


def test_symbolic_mask_has_the_output_shape():
    ids, v = Input((5,), dtype="int32"), Input((4,))
    e = Embedding(10, 4, mask_zero=True)(ids)
    out = L.Multiply()([Dense(4)(v), e])
    assert out.shape == (None, 5, 4) and out._keras_mask.shape == (None, 5)


def test_masked_broadcast_model_matches_numpy():
    """Embedding(mask_zero) output plus a per-sample vector, then masked average pooling."""
    ids, v = Input((5,), dtype="int32"), Input((4,))
    model = Model([ids, v], GlobalAveragePooling1D()(L.Add()([Embedding(10, 4, mask_zero=True)(ids), v])))
    x_ids = np.array([[3, 0, 2, 0, 0], [1, 4, 5, 6, 0]], np.int32)
    x_v = data((2, 4), 1)
    table = model.get_weights()[0].astype(np.float64)
    summed = table[x_ids] + x_v[:, None, :]
    keep = (x_ids != 0)[:, :, None]
    want = (summed * keep).sum(1) / keep.sum(1)
    np.testing.assert_allclose(model.predict([x_ids, x_v]), want, rtol=1e-5, atol=1e-6)


# ---- configs, saving -------------------------------------------------------------------------------
def broadcasting_model():
    keras.utils.set_random_seed(5)
    a, b, c = Input((3, 4), name="a"), Input((1, 4), name="b"), Input((4,), name="c")
    da, db, dc = Dense(4)(a), Dense(4)(b), Dense(4)(c)
    outs = [L.Add()([da, db]), L.Subtract()([dc, da]), L.Multiply()([da, db, dc]), L.Average()([db, dc]),
            L.Maximum()([da, dc]), L.Minimum()([db, da, dc]), L.add([da, dc])]
    return Model([a, b, c], outs), [data((2, 3, 4), 1), data((2, 1, 4), 2), data((2, 4), 3)]


@pytest.mark.parametrize("cls", CLASSES)
def test_config_round_trip(cls):
    layer = getattr(L, cls)(name="m")
    layer([Input((3, 4)), Input((4,))])
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert clone([Input((3, 4)), Input((4,))]).shape == (None, 3, 4)


def test_save_load_and_json_round_trip(tmp_path):
    model, xs = broadcasting_model()
    want = model.predict(xs)
    assert [w.shape for w in want] == [(2, 3, 4)] * 3 + [(2, 1, 4), (2, 3, 4), (2, 3, 4), (2, 3, 4)]
    path = str(tmp_path / "merge.h5")
    model.save(path)
    for got, w in zip(load_model(path).predict(xs), want):
        np.testing.assert_array_equal(got, w)
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    for got, w in zip(clone.predict(xs), want):
        np.testing.assert_array_equal(got, w)


# ---- ONNX, native runtime --------------------------------------------------------------------------
def test_onnx_export_expands_lower_rank_inputs(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import seqnet.onnx
    model, xs = broadcasting_model()
    path = tmp_path / "merge.onnx"
    seqnet.onnx.export(model, path)
    onnx.checker.check_model(onnx.load(str(path)))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    got = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), xs)})
    for g, w in zip(got, model.predict(xs)):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def predict_h5(tmp_path_factory):
    """examples/cpp/predict_h5 built against the session's installed prefix (tests/test_cpp.py)."""
    from test_cpp import JOBS, ROOT, _run, shared_build
    _, prefix = shared_build(tmp_path_factory)
    if not (prefix / "include" / "seqnet" / "model.h").is_file():
        pytest.skip("the native model runtime was not built (no HDF5 C library or nlohmann_json 3)")
    app = tmp_path_factory.mktemp("merge_predict_h5")
    _run(["cmake", "-S", os.path.join(ROOT, "examples", "cpp", "predict_h5"), "-B", str(app),
          "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"], 300)
    _run(["cmake", "--build", str(app), "-j", JOBS], 300)
    return str(app / "predict_h5")


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")
def test_native_runtime_refuses_a_broadcasting_merge_at_load_time(predict_h5, tmp_path):
    a, b = Input((3, 4)), Input((4,))
    model = Model([a, b], L.Multiply(name="scale")([Dense(4)(a), b]))
    path = tmp_path / "merge.h5"
    model.save(str(path))
    np.save(tmp_path / "in_0.npy", np.zeros((2, 3, 4), np.float32))
    np.save(tmp_path / "in_1.npy", np.zeros((2, 4), np.float32))
    run = subprocess.run([predict_h5, str(path), str(tmp_path / "in.npy"), str(tmp_path / "out.npy")],
                         check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "scale" in run.stderr and "Multiply" in run.stderr and "same shape" in run.stderr, run.stderr
    assert not (tmp_path / "out.npy").exists()
