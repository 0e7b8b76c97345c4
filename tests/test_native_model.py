"""The native model runtime (seqnet/model.h): examples/cpp/predict_h5, built against the
installed package, loads .h5 files saved by seqnet and by tf-keras and must predict bit for
bit what seqnet's Python predict gives for the same file; corrupt files give a clear error and
a non-zero exit; a training step from C++ equals Python's train_on_batch to float32 rounding."""
import os
import shutil
import subprocess

import numpy as np
import pytest
from seqnet import layers as L
from seqnet.models import Model, Sequential, load_model
from test_cpp import JOBS, ROOT, _run, shared_build

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
THREADS = "2"


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """The predict_h5 app and the train_native test program, built against the installed prefix."""
    _, prefix = shared_build(tmp_path_factory)
    if not (prefix / "include" / "seqnet" / "model.h").is_file():
        pytest.skip("the native model runtime was not built: CMake found no HDF5 C library or no nlohmann_json 3 "
                    "(apt install libhdf5-dev nlohmann-json3-dev)")
    app = tmp_path_factory.mktemp("predict_h5_app")
    _run(["cmake", "-S", os.path.join(ROOT, "examples", "cpp", "predict_h5"), "-B", str(app),
          "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}"], 300)
    _run(["cmake", "--build", str(app), "-j", JOBS], 300)
    trainer = tmp_path_factory.mktemp("train_native")
    (trainer / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(train_native LANGUAGES CXX)\n"
        "set(CMAKE_CXX_STANDARD 17)\nfind_package(seqnet CONFIG REQUIRED)\n"
        "add_executable(train_native main.cpp)\ntarget_link_libraries(train_native PRIVATE seqnet::model)\n")
    (trainer / "main.cpp").write_text(TRAIN_MAIN)
    _run(["cmake", "-S", str(trainer), "-B", str(trainer / "build"), "-DCMAKE_BUILD_TYPE=Release",
          f"-DCMAKE_PREFIX_PATH={prefix}"], 300)
    _run(["cmake", "--build", str(trainer / "build"), "-j", JOBS], 300)
    return {"predict": str(app / "predict_h5"), "train": str(trainer / "build" / "train_native")}


def _env():
    # the default convolution algorithm ('auto': a fixed rule per shape) on both sides
    env = dict(os.environ, OMP_NUM_THREADS=THREADS)
    env.pop("SEQNET_CONV_ALGO", None)
    return env


def run_predict(native, path, xs, tmp_path, n_outputs, extra=()):
    """predict_h5 on `xs` (a list of arrays); returns the list of output arrays."""
    stem = tmp_path / "in"
    if len(xs) == 1:
        np.save(f"{stem}.npy", xs[0])
    else:
        for i, x in enumerate(xs):
            np.save(f"{stem}_{i}.npy", x)
    out = tmp_path / "out.npy"
    run = subprocess.run([native["predict"], str(path), f"{stem}.npy", str(out), *extra], check=False,
                         capture_output=True, text=True, timeout=300, env=_env())
    assert run.returncode == 0, run.stderr
    if n_outputs == 1:
        return [np.load(out)]
    return [np.load(tmp_path / f"out_{i}.npy") for i in range(n_outputs)]


def check_same(native, path, xs, tmp_path):
    """C++ predict of the file equals seqnet's Python predict of the same file, bit for bit."""
    model = load_model(str(path), compile=False)
    want = model.predict(xs if len(xs) > 1 else xs[0])
    want = want if isinstance(want, list) else [want]
    got = run_predict(native, path, xs, tmp_path, len(want))
    for w, g in zip(want, got):
        assert g.dtype == np.float32 and g.shape == w.shape
        assert np.array_equal(g, w), f"max abs diff {np.max(np.abs(g - w))}"
    return want


# ---- seqnet models -----------------------------------------------------------------------------
def seed_mlp():
    model = Sequential()
    model.add(L.Dense(64, activation="relu", input_dim=20))
    model.add(L.Dropout(0.5))
    model.add(L.Dense(64, activation="relu"))
    model.add(L.Dropout(0.5))
    model.add(L.Dense(10, activation="softmax"))
    return model, [("f", (20,))]


def vgg_like():
    model = Sequential()
    model.add(L.Conv2D(8, (3, 3), activation="relu", input_shape=(12, 12, 3)))
    model.add(L.Conv2D(8, (3, 3), activation="relu", padding="same"))
    model.add(L.MaxPooling2D(pool_size=(2, 2)))
    model.add(L.Dropout(0.25))
    model.add(L.Conv2D(16, (3, 3), strides=2, activation="relu", padding="same"))
    model.add(L.AveragePooling2D(pool_size=(2, 2), padding="same"))
    model.add(L.Flatten())
    model.add(L.Dense(32, activation="relu"))
    model.add(L.Dense(10, activation="softmax"))
    return model, [("f", (12, 12, 3))]


def conv1d():
    model = Sequential()
    model.add(L.Conv1D(8, 3, padding="causal", activation="tanh", input_shape=(20, 4)))
    model.add(L.Conv1D(8, 3, dilation_rate=2, padding="same", activation="swish"))
    model.add(L.MaxPooling1D(2))
    model.add(L.Conv1D(6, 1, activation="gelu"))
    model.add(L.GlobalAveragePooling1D())
    model.add(L.Dense(3, activation="sigmoid"))
    return model, [("f", (20, 4))]


def embedding_lstm():
    model = Sequential()
    model.add(L.Embedding(50, 8, input_length=10))
    model.add(L.LSTM(16))
    model.add(L.Dense(1, activation="sigmoid"))
    return model, [("i50", (10,))]


def gru_rnn():
    model = Sequential()
    model.add(L.GRU(8, return_sequences=True, go_backwards=True, input_shape=(7, 5)))
    model.add(L.GRU(6, reset_after=True, return_sequences=True, recurrent_activation="sigmoid"))
    model.add(L.SimpleRNN(5, activation="relu"))
    model.add(L.Dense(2))
    return model, [("f", (7, 5))]


def stacked_lstm():
    model = Sequential()
    model.add(L.LSTM(8, return_sequences=True, input_shape=(6, 4)))
    model.add(L.LSTM(8, return_sequences=True, go_backwards=True))
    model.add(L.LSTM(8))
    model.add(L.Dense(3, activation="softmax"))
    return model, [("f", (6, 4))]


def functional():
    a = L.Input((6,), name="a")
    b = L.Input((4,), name="b")
    shared = L.Dense(4, activation="tanh", name="shared")
    ha = shared(L.Dense(4, name="pa")(a))
    hb = shared(b)
    merged = L.Concatenate()([ha, hb])
    s = L.Add()([ha, hb])
    d = L.Subtract()([ha, hb])
    m = L.Multiply()([s, d])
    av = L.Average()([ha, hb, s])
    mx = L.Maximum()([ha, hb])
    mn = L.Minimum()([ha, hb])
    out1 = L.Dense(3, activation="softmax", name="out1")(merged)
    out2 = L.Dense(2, name="out2")(L.Concatenate()([m, av, mx, mn]))
    return Model([a, b], [out1, out2]), [("f", (6,)), ("f", (4,))]


def masked_recurrent():
    x = L.Input((9,), dtype="int32")
    e = L.Embedding(12, 4, mask_zero=True)(x)
    h = L.Bidirectional(L.LSTM(3, return_sequences=True))(e)
    h = L.TimeDistributed(L.Dense(2, activation="relu"))(h)
    h = L.GRU(4)(h)
    return Model(x, h), [("i12z", (9,))]


def masking_layer():
    model = Sequential()
    model.add(L.Masking(mask_value=0.0, input_shape=(8, 3)))
    model.add(L.SimpleRNN(4, return_sequences=True))
    model.add(L.Bidirectional(L.GRU(3), merge_mode="sum"))
    model.add(L.Dense(2))
    return model, [("fmask", (8, 3))]


def shapes_and_activations():
    x = L.Input((6, 5, 2))
    h = L.ZeroPadding2D(((1, 0), (2, 1)))(x)
    h = L.Conv2D(4, (2, 2), activation="elu")(h)
    h = L.Cropping2D(((1, 1), (0, 1)))(h)
    h = L.UpSampling2D((2, 1))(h)
    h = L.LeakyReLU(0.2)(h)
    h = L.PReLU(shared_axes=[1, 2])(h)
    h = L.GlobalMaxPooling2D()(h)
    h = L.RepeatVector(3)(h)
    h = L.Permute((2, 1))(h)
    h = L.Reshape((2, 6))(h)
    h = L.ThresholdedReLU(0.1)(h)
    h = L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.05)(h)
    h = L.Flatten()(h)
    h = L.Dense(5, activation="selu")(h)
    h = L.Softmax()(h)
    return Model(x, h), [("f", (6, 5, 2))]


def channels_first():
    model = Sequential()
    model.add(L.Conv2D(4, (3, 3), data_format="channels_first", activation="relu", input_shape=(2, 7, 7)))
    model.add(L.MaxPooling2D(data_format="channels_first"))
    model.add(L.Conv2D(3, (2, 2), data_format="channels_first"))
    model.add(L.Flatten(data_format="channels_first"))
    model.add(L.Dense(2))
    return model, [("f", (2, 7, 7))]


def batchnorm():
    model = Sequential()
    model.add(L.Conv2D(6, (3, 3), input_shape=(8, 8, 2)))
    model.add(L.BatchNormalization())
    model.add(L.Activation("relu"))
    model.add(L.Flatten())
    model.add(L.Dense(8))
    model.add(L.BatchNormalization(momentum=0.5))
    model.add(L.Activation("tanh"))
    model.add(L.Dense(3, activation="softmax"))
    return model, [("f", (8, 8, 2))]


def separable():
    model = Sequential()
    model.add(L.DepthwiseConv2D((3, 3), depth_multiplier=2, padding="same", activation="relu", input_shape=(9, 9, 3)))
    model.add(L.SeparableConv2D(5, (3, 3), strides=2, depth_multiplier=1, activation="tanh"))
    model.add(L.DepthwiseConv2D((2, 2), data_format="channels_first", activation="sigmoid"))
    model.add(L.Reshape((-1, 4)))
    model.add(L.SeparableConv1D(4, 2, depth_multiplier=3, padding="same"))
    model.add(L.GlobalMaxPooling1D())
    return model, [("f", (9, 9, 3))]


def transposed_and_stacked():
    x = L.Input((5, 4, 3))
    h = L.Conv2DTranspose(4, (3, 3), strides=2, padding="same", activation="relu")(x)
    h = L.Conv2DTranspose(2, (2, 3), output_padding=(0, 1), strides=(1, 2), data_format="channels_first")(h)
    h = L.Reshape((-1, 4))(h)
    cells = [L.LSTMCell(5), L.GRUCell(4), L.SimpleRNNCell(3)]
    seq = L.RNN(cells, return_sequences=True, go_backwards=True)(h)
    last = L.RNN(L.GRUCell(3, reset_after=True))(seq)
    return Model(x, last), [("f", (5, 4, 3))]


def volumes():
    x = L.Input((4, 5, 6, 2))
    h = L.Conv3D(3, (2, 3, 2), strides=(1, 2, 1), padding="same", activation="tanh")(x)
    h = L.Conv3D(4, 1, activation="softmax")(h)
    h = L.Conv3D(2, (2, 3, 2), padding="same", data_format="channels_first", activation="relu")(h)
    h = L.ZeroPadding3D(1)(h)
    h = L.MaxPooling3D(2, padding="same")(h)
    h = L.Cropping3D(((1, 0), (0, 1), (1, 1)))(h)
    h = L.UpSampling3D((1, 2, 1))(h)
    a = L.AveragePooling3D((1, 2, 2), strides=1, data_format="channels_first")(h)
    out = L.Concatenate()([L.GlobalMaxPooling3D()(a), L.GlobalAveragePooling3D(data_format="channels_first")(h)])
    return Model(x, L.Dense(3)(out)), [("f", (4, 5, 6, 2))]


def locally_connected():
    a = L.Input((6, 5, 3))
    b = L.Input((3, 7))
    ha = L.LocallyConnected2D(4, (2, 3), strides=(2, 1), activation="relu")(a)
    ha = L.LocallyConnected2D(2, 2, data_format="channels_first", activation="sigmoid")(ha)
    hb = L.LocallyConnected1D(3, 2, data_format="channels_first", use_bias=True)(b)
    hb = L.LocallyConnected1D(2, 3, strides=2, activation="tanh")(hb)
    out = L.Concatenate()([L.Flatten()(ha), L.Flatten()(hb)])
    return Model([a, b], L.Dense(2)(out)), [("f", (6, 5, 3)), ("f", (3, 7))]


def nested():
    inner = Sequential([L.Dense(5, activation="relu", input_shape=(4,)), L.BatchNormalization()], name="inner")
    a = L.Input((4,))
    b = L.Input((4,))
    out = L.Dense(1)(L.Concatenate()([inner(a), inner(b)]))
    return Model([a, b], out), [("f", (4,)), ("f", (4,))]


def data_for(specs, rng, n=70):
    xs = []
    for kind, shape in specs:
        if kind.startswith("i"):
            high = int(kind[1:].rstrip("z"))
            x = rng.integers(1 if not kind.endswith("z") else 0, high, size=(n,) + shape).astype(np.int32)
            if kind.endswith("z"):
                x[:, -3:] = 0  # padding at the end of every row, some rows padded earlier
                x[::3, 4:] = 0
            xs.append(x)
        else:
            x = rng.standard_normal((n,) + shape).astype(np.float32)
            if kind == "fmask":
                x[::2, -2:] = 0.0
            xs.append(x)
    return xs


def fit_a_little(model, xs, rng):
    """A few training steps so that BatchNormalization's moving statistics and the weights move."""
    outputs = model.outputs
    ys = [rng.random((len(xs[0]),) + tuple(t.shape[1:])).astype(np.float32) for t in outputs]
    model.compile("sgd", "mse")
    model.fit(xs if len(xs) > 1 else xs[0], ys if len(ys) > 1 else ys[0], epochs=2, batch_size=16, verbose=0)


MODELS = {"seed_mlp": seed_mlp, "vgg_like": vgg_like, "conv1d": conv1d, "embedding_lstm": embedding_lstm,
          "gru_rnn": gru_rnn, "stacked_lstm": stacked_lstm, "functional": functional,
          "masked_recurrent": masked_recurrent, "masking_layer": masking_layer,
          "shapes_and_activations": shapes_and_activations, "channels_first": channels_first,
          "batchnorm": batchnorm, "nested": nested, "separable": separable,
          "transposed_and_stacked": transposed_and_stacked, "volumes": volumes,
          "locally_connected": locally_connected}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_seqnet_model_predicts_bit_identically(native, name, tmp_path):
    rng = np.random.default_rng(abs(hash(name)) % 2 ** 32)
    model, specs = MODELS[name]()
    xs = data_for(specs, rng)
    if name in ("batchnorm", "nested", "seed_mlp"):
        fit_a_little(model, xs, rng)
    path = tmp_path / f"{name}.h5"
    model.save(str(path))
    want = check_same(native, path, xs, tmp_path)
    # the loaded file's predictions are the original model's
    direct = model.predict(xs if len(xs) > 1 else xs[0])
    direct = direct if isinstance(direct, list) else [direct]
    for d, w in zip(direct, want):
        np.testing.assert_array_equal(d, w)


def test_saturated_sigmoids_flush_as_in_python(native, tmp_path):
    """Sigmoids on unscaled inputs: some hidden outputs are subnormal in exact arithmetic. Both
    runtimes flush them to zero (seqnet/cpu.h, FlushScope) and agree bit for bit."""
    model = Sequential([L.Dense(64, activation="sigmoid", input_dim=20)])
    w, b = model.layers[0].get_weights()
    model.layers[0].set_weights([w * 80, b])
    x = np.random.default_rng(11).standard_normal((70, 20)).astype(np.float32)
    exact = (1 / (1 + np.exp(-(x.astype(np.float64) @ (w * 80).astype(np.float64) + b)))).astype(np.float32)
    assert np.sum((exact != 0) & (exact < np.finfo(np.float32).tiny)) > 20  # the subnormal range is reached
    path = tmp_path / "saturated.h5"
    model.save(str(path))
    (got,) = check_same(native, path, [x], tmp_path)
    assert (got[(exact != 0) & (exact < np.finfo(np.float32).tiny)] == 0).all()


def test_batch_size_and_threads_are_honoured(native, tmp_path):
    model, specs = vgg_like()
    xs = data_for(specs, np.random.default_rng(3), n=45)
    path = tmp_path / "m.h5"
    model.save(str(path))
    want = load_model(str(path), compile=False).predict(xs[0], batch_size=7)
    got = run_predict(native, path, xs, tmp_path, 1, extra=("--batch-size", "7", "--threads", "1"))
    assert np.array_equal(got[0], want)


def test_stateful_and_return_state(native, tmp_path):
    x = L.Input(batch_shape=(4, 5, 3))
    seq, h, c = L.LSTM(6, stateful=True, return_sequences=True, return_state=True)(x)
    out, state = L.GRU(2, stateful=True, return_state=True, go_backwards=True)(seq)
    model = Model(x, [out, h, c, state])
    path = tmp_path / "stateful.h5"
    model.save(str(path))
    xs = data_for([("f", (5, 3))], np.random.default_rng(5), n=12)
    want = load_model(str(path), compile=False).predict(xs[0], batch_size=4)  # states carried across batches
    got = run_predict(native, path, xs, tmp_path, 4, extra=("--batch-size", "4"))
    for w, g in zip(want, got):
        assert np.array_equal(g, w)


TF_KERAS_FILES = ["keras_adam.h5", "keras_sgd.h5", "keras_functional.h5", "batchnorm_tfkeras.h5",
                  "roundtrip_nested_func_tfkeras.h5", "roundtrip_nested_seq_tfkeras.h5",
                  "roundtrip_shared_model_tfkeras.h5", "roundtrip_shared_tfkeras.h5", "wrappers_bi_td.h5",
                  "graph_nested_func.h5", "graph_nested_seq.h5", "graph_shared.h5", "layers_basic_core.h5",
                  "roundtrip_nested_seq_seqnet.h5", "roundtrip_shared_model_seqnet.h5", "conv_extra_tfkeras.h5",
                  "rnn_cells_stacked_tfkeras.h5", "rnn_cells_stacked_seqnet.h5", "conv3d_local_model.h5"]


@pytest.mark.parametrize("name", TF_KERAS_FILES)
def test_fixture_file_predicts_bit_identically(native, name, tmp_path):
    path = os.path.join(FIXTURES, name)
    model = load_model(path, compile=False)
    rng = np.random.default_rng(7)
    xs = []
    for t, layer_name in zip(model.inputs, model.input_names):
        shape = (50,) + tuple(t.shape[1:])
        if name == "wrappers_bi_td.h5":
            x = rng.integers(0, 10, size=shape).astype(np.int32)
            x[:, -2:] = 0
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        xs.append(x)
    check_same(native, path, xs, tmp_path)


def test_info_lists_inputs_outputs_and_layers(native):
    run = subprocess.run([native["predict"], os.path.join(FIXTURES, "keras_functional.h5"), "--info"],
                         check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    model = load_model(os.path.join(FIXTURES, "keras_functional.h5"), compile=False)
    lines = run.stdout.splitlines()
    assert [ln.split()[1] for ln in lines if ln.startswith("input")] == model.input_names
    assert [ln.split()[1] for ln in lines if ln.startswith("output")] == model.output_names
    params = {ln.split()[1]: int(ln.split()[3]) for ln in lines if ln.startswith("layer")}
    for layer in model.layers:
        if layer.weights:
            assert params[layer.name] == layer.count_params()


# ---- errors --------------------------------------------------------------------------------------
def _fails(native, args, *fragments):
    run = subprocess.run([native["predict"], *map(str, args)], check=False, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    for f in fragments:
        assert f in run.stderr, run.stderr
    assert "error" in run.stderr
    return run.stderr


def test_unsupported_layer_is_named_at_load_time(native, tmp_path):
    model = Sequential([L.Dense(3, input_shape=(4,)), L.Lambda(lambda t: t * 2.0, name="doubler")])
    path = tmp_path / "lambda.h5"
    model.save(str(path))
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], "doubler", "Lambda")
    assert not (tmp_path / "y.npy").exists()


def test_conv3d_transpose_is_refused_naming_the_layer(native, tmp_path):
    model = Sequential([L.Conv3DTranspose(2, 3, strides=2, input_shape=(2, 2, 2, 1), name="deconv")])
    path = tmp_path / "deconv3d.h5"
    model.save(str(path))
    np.save(tmp_path / "x.npy", np.zeros((1, 2, 2, 2, 1), np.float32))
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], "deconv", "Conv3DTranspose", "seqnet.onnx")


def test_backend_op_layer_is_refused_naming_the_layer(native, tmp_path):
    """A backend op on a symbolic tensor (K.tanh(x)) becomes a BackendOp layer: not in the runtime."""
    from seqnet import backend as K
    x = L.Input((4,))
    model = Model(x, K.tanh(L.Dense(3, name="proj")(x)))
    op_name = model.layers[-1].name
    assert type(model.layers[-1]).__name__ == "BackendOp" and op_name.startswith("backend_tanh")
    path = tmp_path / "backend_op.h5"
    model.save(str(path))
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], op_name, "BackendOp")
    assert not (tmp_path / "y.npy").exists()


def test_bad_input_shape_and_missing_files(native, tmp_path):
    model, _ = seed_mlp()
    path = tmp_path / "mlp.h5"
    model.save(str(path))
    np.save(tmp_path / "x.npy", np.zeros((2, 19), np.float32))
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], "expects shape", "(None, 20)", "(2, 19)")
    _fails(native, [path, tmp_path / "nope.npy", tmp_path / "y.npy"], "nope.npy")
    _fails(native, [tmp_path / "nope.h5", tmp_path / "x.npy", tmp_path / "y.npy"], "nope.h5")
    np.save(tmp_path / "s.npy", np.zeros((2, 20), "<U3"))
    _fails(native, [path, tmp_path / "s.npy", tmp_path / "y.npy"], "unsupported dtype")


def _corrupt(tmp_path, edit, name="bad.h5"):
    import h5py
    model, _ = seed_mlp()
    path = tmp_path / name
    model.save(str(path))
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _replace(f, path, data):
    del f[path]
    f[path] = data


@pytest.mark.parametrize("case,fragments", [
    ("wrong_weight_shape", ["dense_", "(20, 64)", "(21, 64)"]),
    ("huge_units", ["(20, 1099511627776)", "(20, 64)"]),
    ("missing_model_config", ["model_config"]),
    ("json_garbage", ["not valid JSON"]),
    ("wrong_json_types", ["units", "must be an integer"]),
    ("missing_weight", ["weight", "missing"]),
    ("string_weights", ["does not hold numbers"]),
    ("missing_weight_names", ["weight_names"]),
    ("external_link", ["not stored in the file"]),
    ("deep_json", ["nested too deeply"]),
    ("deep_models", ["nested more than 32 deep"]),
])
def test_corrupt_files_give_clear_errors(native, tmp_path, case, fragments):
    import json as _json

    import h5py

    def edit(f):
        cfg = _json.loads(f.attrs["model_config"])
        dense = next(layer for layer in cfg["config"]["layers"] if layer["class_name"] == "Dense")
        group = f["model_weights"][dense["config"]["name"]]
        kernel = next(n for n in group.attrs["weight_names"] if n.endswith(b"kernel:0")).decode()
        if case == "wrong_weight_shape":
            _replace(group, kernel, np.zeros((21, 64), np.float32))
        elif case == "huge_units":
            dense["config"]["units"] = 2 ** 40
            f.attrs["model_config"] = _json.dumps(cfg)
        elif case == "missing_model_config":
            del f.attrs["model_config"]
        elif case == "json_garbage":
            f.attrs["model_config"] = "{\"class_name\": \"Sequential\", \"config\": {[[["
        elif case == "wrong_json_types":
            dense["config"]["units"] = "sixty-four"
            f.attrs["model_config"] = _json.dumps(cfg)
        elif case == "missing_weight":
            del group[kernel]
        elif case == "string_weights":
            _replace(group, kernel, np.array([b"x"] * 4))
        elif case == "missing_weight_names":
            del group.attrs["weight_names"]
        elif case == "external_link":
            del group[kernel]
            group[kernel] = h5py.ExternalLink("/etc/passwd", "/x")
        elif case == "deep_json":  # copying or walking it recursively would exhaust the stack
            depth = 20000
            f.attrs["model_config"] = ('{"class_name": "Sequential", "config": {"layers": ['
                                       + '{"class_name": "TimeDistributed", "config": {"layer": ' * depth
                                       + '{"class_name": "Dense", "config": {"units": 2}}' + "}}" * depth + "]}}")
        elif case == "deep_models":
            layer = dense
            for i in range(40):
                layer = {"class_name": "Sequential", "config": {"name": f"s{i}", "layers": [layer]}}
            cfg["config"]["layers"] = [layer]
            f.attrs["model_config"] = _json.dumps(cfg)

    path = _corrupt(tmp_path, edit)
    np.save(tmp_path / "x.npy", np.zeros((2, 20), np.float32))
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], *fragments)


def test_truncated_and_non_hdf5_files(native, tmp_path):
    model, _ = seed_mlp()
    path = tmp_path / "m.h5"
    model.save(str(path))
    data = path.read_bytes()
    np.save(tmp_path / "x.npy", np.zeros((2, 20), np.float32))
    for cut in (len(data) // 2, len(data) - 100, 600):
        bad = tmp_path / f"cut{cut}.h5"
        bad.write_bytes(data[:cut])
        _fails(native, [bad, tmp_path / "x.npy", tmp_path / "y.npy"], str(bad))
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    _fails(native, [text, tmp_path / "x.npy", tmp_path / "y.npy"], "not an HDF5 file")
    npy = tmp_path / "short.npy"
    npy.write_bytes((tmp_path / "x.npy").read_bytes()[:-12])
    _fails(native, [path, npy, tmp_path / "y.npy"], "truncated")


def test_bad_embedding_index_is_an_error(native, tmp_path):
    model, _ = embedding_lstm()
    path = tmp_path / "e.h5"
    model.save(str(path))
    x = np.ones((3, 10), np.int32)
    x[1, 4] = 50
    np.save(tmp_path / "x.npy", x)
    _fails(native, [path, tmp_path / "x.npy", tmp_path / "y.npy"], "index 50", "[0, 50)")


# ---- training from C++ -----------------------------------------------------------------------------
TRAIN_MAIN = r"""
// train_native MODEL.h5 X.npy Y.npy OUT.h5 LOSS OPTIMIZER STEPS [lr momentum nesterov decay amsgrad]
#include <cstdio>
#include <cstdlib>
#include <string>
#include "seqnet/model.h"
#include "seqnet/npy.h"
int main(int argc, char** argv) {
    try {
        seqnet::Model m = seqnet::Model::load(argv[1]);
        seqnet::Tensor x = seqnet::read_npy(argv[2]), y = seqnet::read_npy(argv[3]);
        seqnet::Optimizer opt;
        opt.name = argv[6];
        if (argc > 8) opt.lr = std::atof(argv[8]);
        if (argc > 9) opt.momentum = std::atof(argv[9]);
        if (argc > 10) opt.nesterov = std::atoi(argv[10]) != 0;
        if (argc > 11) opt.decay = std::atof(argv[11]);
        if (argc > 12) opt.amsgrad = std::atoi(argv[12]) != 0;
        m.compile(opt, argv[5]);
        for (int s = 0; s < std::atoi(argv[7]); ++s) std::printf("loss %.9g\n", m.train_on_batch(x, y));
        m.save_weights(argv[4]);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "train_native: error: %s\n", e.what());
        return 1;
    }
}
"""

TRAIN_CASES = [
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "decay": 0.01}, "categorical_crossentropy", "mlp"),
    ("rmsprop", {}, "mse", "mlp"),
    ("adagrad", {}, "mae", "mlp"),
    ("adadelta", {}, "binary_crossentropy", "mlp_sigmoid"),
    ("adam", {"amsgrad": True, "decay": 0.001}, "sparse_categorical_crossentropy", "mlp"),
    ("adamax", {}, "categorical_crossentropy", "convnet"),
    ("nadam", {}, "mse", "convnet"),
    ("adam", {}, "binary_crossentropy", "recurrent"),
    ("rmsprop", {"momentum": 0.5}, "categorical_crossentropy", "recurrent_seq"),
    ("sgd", {"momentum": 0.9}, "mse", "batchnorm"),
]


def _train_model(kind):
    if kind == "recurrent":
        return Sequential([L.Embedding(20, 6, input_length=7), L.LSTM(5, return_sequences=True, go_backwards=True),
                           L.GRU(4, reset_after=True), L.Dense(3, activation="sigmoid")]), (7,)
    if kind == "recurrent_seq":
        return Sequential([L.SimpleRNN(6, return_sequences=True, input_shape=(7, 4)), L.GRU(4),
                           L.Dense(3, activation="softmax")]), (7, 4)
    if kind == "batchnorm":
        return Sequential([L.Conv2D(4, (3, 3), input_shape=(6, 6, 2)), L.BatchNormalization(momentum=0.8),
                           L.Activation("relu"), L.Flatten(), L.Dense(6), L.BatchNormalization(center=False),
                           L.Dense(3)]), (6, 6, 2)
    if kind == "convnet":
        return Sequential([L.Conv2D(4, (3, 3), activation="relu", input_shape=(6, 6, 2)), L.MaxPooling2D(),
                           L.Flatten(), L.Dense(8, activation="tanh"),
                           L.Dense(3), L.Activation("softmax")]), (6, 6, 2)
    last = "sigmoid" if kind == "mlp_sigmoid" else "softmax"
    return Sequential([L.Dense(16, activation="relu", input_dim=5), L.Dense(8, activation="gelu"),
                       L.Dense(3, activation=last)]), (5,)


@pytest.mark.parametrize("opt,kwargs,loss,kind", TRAIN_CASES)
def test_training_steps_match_python(native, tmp_path, opt, kwargs, loss, kind):
    from seqnet import optimizers
    rng = np.random.default_rng(11)
    model, shape = _train_model(kind)
    x = rng.standard_normal((24,) + shape).astype(np.float32)
    if kind == "recurrent":
        x = rng.integers(0, 20, size=(24,) + shape).astype(np.int32)
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, 3, size=(24,)).astype(np.float32)
    elif loss in ("categorical_crossentropy",):
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=24)]
    else:
        y = rng.random((24, 3)).astype(np.float32)
    path = tmp_path / "m.h5"
    model.save(str(path))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    python = load_model(str(path), compile=False)
    cls = {"sgd": optimizers.SGD, "rmsprop": optimizers.RMSprop, "adagrad": optimizers.Adagrad,
           "adadelta": optimizers.Adadelta, "adam": optimizers.Adam, "adamax": optimizers.Adamax,
           "nadam": optimizers.Nadam}[opt]
    python.compile(cls(**kwargs), loss)
    want = [float(python.train_on_batch(x, y)) for _ in range(3)]
    args = [str(kwargs.get("lr", -1)), str(kwargs.get("momentum", 0)), str(int(kwargs.get("nesterov", False))),
            str(kwargs.get("decay", 0)), str(int(kwargs.get("amsgrad", False)))]
    run = subprocess.run([native["train"], str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"),
                          str(tmp_path / "w.h5"), loss, opt, "3", *args], check=False, capture_output=True, text=True,
                         timeout=120, env=_env())
    assert run.returncode == 0, run.stderr
    got = [float(line.split()[1]) for line in run.stdout.splitlines()]
    np.testing.assert_allclose(got, want, rtol=2e-6)
    trained = load_model(str(path), compile=False)
    trained.load_weights(str(tmp_path / "w.h5"))
    for a, b in zip(trained.get_weights(), python.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _train_one_step(native, tmp_path, model):
    """The train_native program on `model` for one SGD step on ones (mse); the finished process."""
    path = tmp_path / "m.h5"
    model.save(str(path))
    shape = (2,) + tuple(model.input_shape[1:])
    np.save(tmp_path / "x.npy", np.ones(shape, np.float32))
    np.save(tmp_path / "y.npy", np.ones((2,) + tuple(model.output_shape[1:]), np.float32))
    return subprocess.run([native["train"], str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"),
                           str(tmp_path / "w.h5"), "mse", "sgd", "1"], check=False, capture_output=True, text=True,
                          timeout=60, env=_env())


def test_training_rejects_what_it_cannot_train(native, tmp_path):
    model = Sequential([L.LSTM(3, dropout=0.2, input_shape=(4, 2), name="lstm_with_dropout"), L.Dense(1)])
    run = _train_one_step(native, tmp_path, model)
    assert run.returncode != 0 and "lstm_with_dropout" in run.stderr and "cannot be trained from C++" in run.stderr


# The layers the runtime passes through in training act there in Python (noise, channel
# dropout, an activity penalty in the loss, a Dropout's shared draws), and it applies no weight
# regularizer or constraint: a model with either is refused by name rather than trained without
# them; inactive noise layers (a zero rate, standard deviation or penalty) train as the identity
# they are.
@pytest.mark.parametrize("layer, trains", [
    (lambda: L.GaussianNoise(0.1, name="the_layer"), False),
    (lambda: L.GaussianDropout(0.2, name="the_layer"), False),
    (lambda: L.AlphaDropout(0.1, name="the_layer"), False),
    (lambda: L.SpatialDropout1D(0.2, name="the_layer"), False),
    (lambda: L.ActivityRegularization(l1=0.01, name="the_layer"), False),
    (lambda: L.Dropout(0.3, noise_shape=(None, 1, 2), name="the_layer"), False),
    (lambda: L.Dense(2, kernel_regularizer="l2", name="the_layer"), False),
    (lambda: L.Dense(2, bias_constraint="non_neg", name="the_layer"), False),
    (lambda: L.BatchNormalization(gamma_constraint="max_norm", name="the_layer"), False),
    (lambda: L.SpatialDropout1D(0.0, name="the_layer"), True),
    (lambda: L.ActivityRegularization(name="the_layer"), True),
    (lambda: L.Dense(2, name="the_layer"), True),
])
def test_training_refuses_what_it_would_not_apply(native, tmp_path, layer, trains):
    run = _train_one_step(native, tmp_path, Sequential([L.Dense(2, input_shape=(4, 3)), layer(), L.Flatten(), L.Dense(1)]))
    if trains:
        assert run.returncode == 0, run.stderr
    else:
        assert run.returncode != 0 and "'the_layer'" in run.stderr and "cannot be trained from C++" in run.stderr
