"""seqnet.profiler.profile_model: per-layer times and FLOPs of a training step, and the
bench/profile_model.py command line. FLOPs are checked against hand formulas; times
against the step time they were measured in."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine
from seqnet import backend as K
from seqnet.layers import (GRU, LSTM, RNN, Activation, Add, AveragePooling1D, BatchNormalization, Bidirectional,
                           Concatenate, Conv1D, Conv2D, Conv2DTranspose, ConvLSTM2D, Dense, DepthwiseConv2D, Dropout,
                           Embedding, Flatten, GlobalAveragePooling2D, GRUCell, Input, Lambda, Layer,
                           LocallyConnected1D, LSTMCell, MaxPooling2D, SeparableConv2D, SimpleRNN, TimeDistributed,
                           UpSampling2D)
from seqnet.models import Model, Sequential
from seqnet.optimizers import SGD, Adam
from seqnet.profiler import ModelProfile, fma_peak, layer_flops, profile_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "profile_model.py")


def one_hot(n, classes, seed=0):
    return np.eye(classes, dtype=np.float32)[np.random.RandomState(seed).randint(classes, size=n)]


def rand(*shape, seed=0):
    return np.random.RandomState(seed).random_sample(shape).astype(np.float32)


def flops(profile, name):
    row = profile.row(name)
    return row.forward_flops, row.backward_flops


# ---- FLOPs against hand formulas -------------------------------------------------------------
def test_dense_and_conv_flops_match_the_direct_formulas():
    model = Sequential([Conv2D(8, (3, 3), strides=2, padding="same", input_shape=(12, 12, 3), name="c1"),
                        Conv2D(4, (3, 2), name="c2"), Flatten(name="f"), Dense(5, name="d")])
    model.compile("sgd", "mse")
    p = profile_model(model, rand(6, 12, 12, 3), rand(6, 5), batch_size=6, steps=1, warmup=0)
    c1 = 2 * 3 * 3 * 3 * 8 * 6 * 6  # 2*kh*kw*c*f*oh*ow; 'same' with stride 2: 6x6
    assert flops(p, "c1") == (c1, c1)  # the first layer computes no input gradient
    c2 = 2 * 3 * 2 * 8 * 4 * 4 * 5  # valid: (6-3+1) x (6-2+1)
    assert flops(p, "c2") == (c2, 2 * c2)
    d = 2 * (4 * 5 * 4) * 5
    assert flops(p, "d") == (d, 2 * d)
    assert flops(p, "f") == (0, 0)


def test_conv1d_and_dense_on_sequences():
    model = Sequential([Conv1D(6, 5, input_shape=(20, 4), name="c"), Dense(3, name="d")])
    model.compile("sgd", "mse")
    p = profile_model(model, rand(4, 20, 4), rand(4, 16, 3), batch_size=4, steps=1, warmup=0)
    assert flops(p, "c") == (2 * 5 * 4 * 6 * 16,) * 2
    assert flops(p, "d") == (2 * 6 * 3 * 16, 2 * 2 * 6 * 3 * 16)  # one product per timestep


def test_recurrent_flops_are_the_gate_products():
    t, n_in = 5, 3
    model = Sequential([LSTM(7, return_sequences=True, input_shape=(t, n_in), name="lstm"),
                        GRU(6, return_sequences=True, name="gru"), SimpleRNN(4, name="rnn"), Dense(2, name="d")])
    model.compile("sgd", "mse")
    p = profile_model(model, rand(8, t, n_in), rand(8, 2), batch_size=8, steps=1, warmup=0)
    # forward 2*T*(in + u)*gates*u; backward dW (input), dU and dh (recurrent), dx if needed
    for name, n, u, gates, first in (("lstm", n_in, 7, 4, True), ("gru", 7, 6, 3, False), ("rnn", 6, 4, 1, False)):
        k, r = 2 * t * n * gates * u, 2 * t * u * gates * u
        assert flops(p, name) == (k + r, k + 2 * r + (0 if first else k)), name


def test_pooling_normalisation_activation_and_embedding_flops():
    model = Sequential([Conv2D(4, 1, input_shape=(8, 8, 2), name="c"), BatchNormalization(name="bn"),
                        Activation("relu", name="a"), MaxPooling2D(2, name="mp"), Dropout(0.5, name="do"),
                        GlobalAveragePooling2D(name="gap"), Dense(3, name="d")])
    model.compile("sgd", "mse")
    p = profile_model(model, rand(4, 8, 8, 2), rand(4, 3), batch_size=4, steps=1, warmup=0)
    e = 8 * 8 * 4
    assert flops(p, "bn") == (6 * e, 8 * e)
    assert flops(p, "a") == (e, e)
    assert flops(p, "mp") == (2 * 2 * (e // 4), e // 4)  # a window per output; route one gradient each
    assert flops(p, "do") == (e // 4, e // 4)
    assert flops(p, "gap") == (e // 4, e // 4)
    inference = profile_model(model, rand(4, 8, 8, 2), batch_size=4, steps=1, warmup=0, training=False)
    assert inference.row("bn").forward_flops == 2 * e
    assert inference.row("do").forward_flops == 0
    assert inference.row("bn").backward_flops is None

    emb = Sequential([Embedding(50, 6, input_length=7, name="e"), AveragePooling1D(3, name="ap"),
                      Flatten(), Dense(1, name="d")])
    emb.compile("sgd", "mse")
    ids = np.random.RandomState(0).randint(50, size=(5, 7))
    p = profile_model(emb, ids, rand(5, 1), batch_size=5, steps=1, warmup=0)
    assert flops(p, "e") == (0, 7 * 6)  # a gather; the gradient is a scatter-add
    assert flops(p, "ap") == (3 * 2 * 6, 3 * 2 * 6)


def test_depthwise_separable_transpose_and_conv_lstm_flops():
    model = Sequential([ConvLSTM2D(3, (3, 3), padding="same", input_shape=(4, 6, 6, 2), name="clstm"),
                        DepthwiseConv2D(3, depth_multiplier=2, name="dw"),
                        SeparableConv2D(5, 3, padding="same", name="sep"),
                        Conv2DTranspose(4, 3, strides=2, name="tr"), UpSampling2D(name="up"),
                        GlobalAveragePooling2D(name="gap"), Dense(2, name="d")])
    model.compile("sgd", "mse")
    p = profile_model(model, rand(3, 4, 6, 6, 2), rand(3, 2), batch_size=3, steps=1, warmup=0)
    k, u = 2 * 4 * 36 * (3 * 3 * 2 * 12), 2 * 4 * 36 * (3 * 3 * 3 * 12)  # 4 steps, 6x6 positions
    assert flops(p, "clstm") == (k + u, k + 2 * u)
    dw = 2 * 3 * 3 * 3 * 2 * 4 * 4  # 6x6 -> 4x4, 3 channels x 2
    assert flops(p, "dw") == (dw, 2 * dw)
    depthwise, pointwise = 2 * 3 * 3 * 6 * 16, 2 * 6 * 5 * 16
    assert flops(p, "sep") == (depthwise + pointwise, 2 * depthwise + 2 * pointwise)
    tr = 2 * 3 * 3 * 5 * 4 * 16  # per input position: 4x4 inputs, 5 channels in
    assert flops(p, "tr") == (tr, 2 * tr)
    assert p.row("tr").output_shape == "(None, 9, 9, 4)"
    assert flops(p, "up") == (0, 18 * 18 * 4)


def test_rnn_over_stacked_cells_local_and_merge_flops():
    x = Input((6, 3))
    h = RNN([LSTMCell(5), GRUCell(4)], return_sequences=True, name="rnn")(x)
    loc = LocallyConnected1D(4, 3, name="loc")(h)
    out = Add(name="add")([loc, loc, Dense(4, name="d")(loc)])
    model = Model(x, out)
    model.compile("sgd", "mse")
    p = profile_model(model, rand(4, 6, 3), rand(4, 4, 4), batch_size=4, steps=1, warmup=0)
    k1, k2, u = 2 * 6 * 3 * 20, 2 * 6 * 5 * 12, 2 * 6 * (5 * 20 + 4 * 12)
    # the second cell's input gradient is always needed; the first's is dx of the model input
    assert flops(p, "rnn") == (k1 + k2 + u, k1 + k2 + 2 * u + k2)
    local = 2 * 4 * (3 * 4) * 4  # 4 output positions, a 3x4 patch, 4 filters
    assert flops(p, "loc") == (local, 2 * local)
    assert flops(p, "add") == (2 * 16, 0)


def test_layer_flops_of_wrappers_and_unknown_layers():
    td = TimeDistributed(Dense(4))
    td.build((None, 5, 3))
    assert layer_flops(td, [(5, 3)], [(5, 4)]) == (5 * 2 * 3 * 4, 5 * 2 * 2 * 3 * 4)
    bi = Bidirectional(LSTM(2))
    bi.build((None, 6, 3))
    one = (2 * 6 * (3 + 2) * 8, 2 * 6 * (3 + 2 * 2) * 8)  # need_dx=False: no dx product
    assert layer_flops(bi, [(6, 3)], [(4,)], need_dx=False) == (2 * one[0], 2 * one[1])
    assert layer_flops(Lambda(lambda x: x), [(3,)], [(3,)]) == (None, None)


# ---- times ------------------------------------------------------------------------------------
def conv_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = Sequential([Conv2D(16, 3, activation="relu", input_shape=(16, 16, 8)), MaxPooling2D(),
                        Dropout(0.25), Flatten(), Dense(32, activation="relu"), Dense(10, activation="softmax")])
    model.compile(SGD(lr=0.01, momentum=0.9), "categorical_crossentropy", metrics=["accuracy"])
    return model


def test_layer_times_add_up_to_the_measured_step():
    model = conv_model()
    p = profile_model(model, rand(64, 16, 16, 8), one_hot(64, 10), batch_size=32, steps=5, warmup=1)
    assert isinstance(p, ModelProfile) and len(p.step_times_ms) == 5
    assert p.step_ms == pytest.approx(np.mean(p.step_times_ms))
    timed = [r for r in p.rows if r.kind != "other"]
    inside = sum(r.forward_ms + r.backward_ms for r in timed)
    # Each call is timed inside the step that contains it: together at most the step, and the
    # engine calls are most of a step of this size (Python between them is a small rest).
    assert inside <= p.step_ms * (1 + 1e-9)
    assert inside >= 0.5 * p.step_ms
    assert sum(r.share for r in p.rows) == pytest.approx(1.0)
    assert [r.kind for r in p.rows[-4:]] == ["loss", "metrics", "optimizer", "other"]
    for r in p.layer_rows:
        assert r.forward_ms > 0 and r.backward_ms > 0, r.name
    conv = p.layer_rows[0]
    assert conv.forward_gflops == pytest.approx(conv.forward_flops * 32 / (conv.forward_ms * 1e-3) / 1e9)
    optimizer = p.row("(optimizer)")
    assert optimizer.backward_ms > 0 and optimizer.output_shape == f"{model.count_params():,} params"


def test_rows_for_every_layer_of_a_sequential_model():
    model = conv_model()
    p = profile_model(model, rand(8, 16, 16, 8), one_hot(8, 10), batch_size=8, steps=1, warmup=0)
    assert [r.name for r in p.layer_rows] == [layer.name for layer in model.layers]
    assert [r.class_name for r in p.layer_rows] == [type(layer).__name__ for layer in model.layers]
    assert p.layer_rows[0].output_shape == "(None, 14, 14, 16)"


class Scaled(Layer):
    """A Keras-style layer called with an extra keyword argument (the plan runs it on the tape)."""

    def call(self, x, factor=1.0):
        return x * factor

    def compute_output_shape(self, input_shape):
        return input_shape


def test_rows_of_a_functional_model_with_shared_nested_and_custom_layers():
    keras.utils.set_random_seed(0)
    inner = Sequential([Dense(5, activation="relu", input_shape=(6,), name="inner_a"), Dense(4, name="inner_b")],
                       name="inner")
    a, b = Input((6,), name="a"), Input((6,), name="b")
    shared = Dense(6, activation="tanh", name="shared")
    merged = Concatenate(name="cat")([inner(shared(a)), shared(b)])
    out = Dense(2, activation="softmax", name="out")(Scaled(name="scaled")(merged, factor=2.0))
    model = Model([a, b], out)
    model.compile("adam", "categorical_crossentropy")
    p = profile_model(model, [rand(16, 6), rand(16, 6, seed=1)], one_hot(16, 2), batch_size=8, steps=2, warmup=1)
    names = [r.name for r in p.layer_rows]
    assert names == ["shared", "inner/inner_a", "inner/inner_b", "cat", "scaled", "out"]
    assert p.row("shared").calls == 2
    assert p.row("shared").forward_flops == 2 * (2 * 6 * 6)
    # both calls read model inputs: weight gradients only, no input gradient
    assert p.row("shared").backward_flops == 2 * (2 * 6 * 6)
    assert p.row("inner/inner_b").backward_flops == 2 * (2 * 5 * 4)
    assert p.row("inner/inner_a").forward_flops == 2 * 6 * 5
    assert p.row("scaled").forward_flops is None and p.row("scaled").forward_ms > 0
    assert p.row("scaled").backward_ms > 0


# ---- the model is left as it was ------------------------------------------------------------------
def bn_model():
    keras.utils.set_random_seed(3)
    model = Sequential([Dense(16, input_shape=(10,)), BatchNormalization(), Activation("relu"), Dropout(0.5),
                        Dense(3, activation="softmax")])
    model.compile(Adam(lr=0.01), "categorical_crossentropy", metrics=["acc"])
    return model


@pytest.mark.parametrize("trained_before", [False, True])
def test_profiling_leaves_weights_optimizer_and_dropout_streams_untouched(trained_before):
    x, y = rand(32, 10), one_hot(32, 3)
    profiled, twin = bn_model(), bn_model()
    if trained_before:
        for m in (profiled, twin):
            m.train_on_batch(x, y)
    before = [w.copy() for w in profiled.get_weights()]
    opt_before = profiled.optimizer.get_weights()
    profile_model(profiled, x, y, batch_size=16, steps=3, warmup=2)
    for w, w0 in zip(profiled.get_weights(), before):
        np.testing.assert_array_equal(w, w0)
    after = profiled.optimizer.get_weights()
    assert len(after) == len(opt_before)
    for s, s0 in zip(after, opt_before):
        np.testing.assert_array_equal(s, s0)
    # Training now goes on exactly as in a twin that was never profiled (same dropout masks).
    for _ in range(2):
        assert profiled.train_on_batch(x, y) == twin.train_on_batch(x, y)
    for w, w2 in zip(profiled.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(w, w2)
    assert K.get_value(profiled.optimizer.iterations) == K.get_value(twin.optimizer.iterations)


def test_profiling_leaves_no_hook_and_restores_after_an_error():
    keras.utils.set_random_seed(0)
    model = Sequential([LSTM(4, stateful=True, batch_input_shape=(4, 3, 2)), Dense(1)])
    model.compile("sgd", "mse")
    x, y = rand(4, 3, 2), rand(4, 1)
    model.train_on_batch(x, y)
    states = [s.copy() for s in model.layers[0].states]
    weights = model.get_weights()
    profile_model(model, x, y, batch_size=4, steps=2, warmup=1)
    for s, s0 in zip(model.layers[0].states, states):
        np.testing.assert_array_equal(s, s0)
    with pytest.raises(ValueError, match="stateful"):  # batch 2 on a layer stateful with batch 4
        profile_model(model, rand(8, 3, 2), rand(8, 1), batch_size=2, steps=1, warmup=1)
    for w, w0 in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(w, w0)
    for layer in model.layers:
        assert "forward" not in vars(layer) and "backward" not in vars(layer)
    assert "_losses" not in vars(model) and "_values_of" not in vars(model)
    assert "apply_gradients_flat" not in vars(model.optimizer)


def test_inference_profile_needs_no_compile():
    keras.utils.set_random_seed(0)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,), name="h"), Dense(2, name="o")])
    p = profile_model(model, rand(10, 4), batch_size=4, steps=3, warmup=0, training=False)
    assert [r.name for r in p.rows] == ["h", "o", "(other)"]
    assert all(r.backward_ms == 0 and r.backward_flops is None for r in p.rows)
    assert p.row("h").forward_flops == 2 * 4 * 8
    assert p.batch_size == 4 and p.training is False


# ---- arguments and printing -------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors():
    model = conv_model()
    x, y = rand(4, 16, 16, 8), one_hot(4, 10)
    with pytest.raises(TypeError, match="seqnet Model"):
        profile_model("model.h5", x, y)
    for kwargs, message in (({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
                            ({"steps": 2.5}, "steps must be an integer >= 1"),
                            ({"warmup": -1}, "warmup must be an integer >= 0"),
                            ({"training": "yes"}, "training must be True or False")):
        with pytest.raises(ValueError, match=message):
            profile_model(model, x, y, **kwargs)
    with pytest.raises(ValueError, match="y .*needed"):
        profile_model(model, x)
    with pytest.raises(ValueError, match="input"):
        profile_model(model, rand(4, 8, 8, 8), y)
    uncompiled = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(RuntimeError, match="compiled"):
        profile_model(uncompiled, rand(4, 3), rand(4, 2))
    p = profile_model(model, x, y, steps=1, warmup=0)
    with pytest.raises(ValueError, match="line_length"):
        p.summary(line_length=99)


def test_summary_prints_every_row():
    model = conv_model()
    p = profile_model(model, rand(8, 16, 16, 8), one_hot(8, 10), batch_size=8, steps=2, warmup=0)
    default = []
    p.summary(print_fn=default.append)
    assert str(p) == "\n".join(default)
    lines = []
    p.summary(line_length=140, print_fn=lines.append)
    for layer in model.layers:
        assert any(line.startswith(f"{layer.name} ({type(layer).__name__})") for line in lines)
    for name in ("(loss)", "(metrics)", "(optimizer) (SGD)", "(other)", "Total"):
        assert any(line.startswith(name) for line in lines), name
    narrow = []
    p.summary(line_length=100, print_fn=narrow.append)
    table = narrow[1:narrow.index("=" * 100, 4) + 2]  # the rules, the header, the rows and the total
    assert len(table) == len(p.rows) + 5 and all(len(line) <= 100 for line in table)


# ---- the FMA peak -------------------------------------------------------------------------------
def test_fma_peak_bounds_what_the_gemm_reaches(isa, restore_threads):
    """_engine.fma_peak counts the FLOPs of its loop right: no kernel can run faster, so a
    one-thread sgemm, timed between two peak measurements, stays below the higher of them (a
    peak that counted half the lanes or chains would fall below the GEMM's rate)."""
    _engine.set_num_threads(1)
    a, b = rand(256, 256), rand(256, 256, seed=1)
    c = np.empty((256, 256), np.float32)
    before = _engine.fma_peak(1)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(4):
            _engine.sgemm(a, b, c, False, False)
        best = max(best, 4 * 2 * 256 ** 3 / (time.perf_counter() - t) / 1e9)
    peak = max(before, _engine.fma_peak(1))
    np.testing.assert_allclose(c, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-4)
    assert 0 < best <= 1.25 * peak, (best, peak)
    assert np.isfinite(_engine.fma_peak()) and _engine.fma_peak(seconds=0.005) > 0
    assert fma_peak(1, 0.005) > 0  # the public name (seqnet.profiler.fma_peak)


def test_fma_peak_rejects_bad_arguments():
    for threads, error in ((0, ValueError), (-1, ValueError), (5000, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="fma_peak: threads"):
            _engine.fma_peak(threads)
    for seconds in (0.0, -1.0, 11.0, float("nan")):
        with pytest.raises(ValueError, match="fma_peak: seconds must be in"):
            _engine.fma_peak(1, seconds)


def test_profile_gives_each_layer_its_share_of_the_measured_peak():
    model = conv_model()
    x, y = rand(8, 16, 16, 8), one_hot(8, 10)
    p = profile_model(model, x, y, batch_size=8, steps=2, warmup=1)
    assert p.peak_gflops > 0 and p.peak_threads == _engine.get_num_threads()
    lines = []
    p.summary(print_fn=lines.append)
    header = next(line for line in lines if line.startswith("Layer (type)"))
    assert header.endswith("fwd %peak bwd %peak")
    for r in p.layer_rows:
        if r.forward_gflops is None or r.backward_gflops is None:
            continue
        share = p.peak_share(r.forward_gflops)
        assert share == pytest.approx(r.forward_gflops / p.peak_gflops)
        line = next(line for line in lines if line.startswith(f"{r.name} ("))
        assert line.split()[-2:] == [f"{100 * share:.0f}%", f"{100 * r.backward_gflops / p.peak_gflops:.0f}%"]
    assert any(line.startswith("FMA peak measured around the steps: ") for line in lines)
    assert lines[1] == "_" * 140 and len(header) <= 140  # the default width makes room for them
    narrow = []
    p.summary(line_length=120, print_fn=narrow.append)  # no room: the columns before them only
    assert "%peak" not in "\n".join(narrow) and all(len(line) <= 120 for line in narrow[1:6])
    q = profile_model(model, x, y, batch_size=8, steps=1, warmup=0, peak=False)
    assert q.peak_gflops is None and q.peak_share(100.0) is None and "%peak" not in str(q)
    with pytest.raises(ValueError, match="peak must be True or False"):
        profile_model(model, x, y, steps=1, warmup=0, peak="yes")


# ---- the command line --------------------------------------------------------------------------
def run_script(*args):
    """bench/profile_model.py in a fresh interpreter, with the seqnet this one imports."""
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300)


def test_command_line_profiles_a_saved_model(tmp_path):
    keras.utils.set_random_seed(0)
    ids = Input((None,), name="ids")
    h = LSTM(8, name="lstm")(Embedding(30, 4, name="emb")(ids))
    model = Model(ids, Dense(3, activation="softmax", name="out")(h))
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["acc"])
    path = str(tmp_path / "m.h5")
    model.save(path)
    missing = run_script(path, "--steps", "1")
    assert missing.returncode != 0 and "--input-shape" in missing.stderr
    done = run_script(path, "--input-shape", "6", "--batch-size", "4", "--steps", "2", "--warmup", "1",
                      "--json", str(tmp_path / "p.json"))
    assert done.returncode == 0, done.stderr
    for name in ("emb (Embedding)", "lstm (LSTM)", "out (Dense)", "(optimizer) (RMSprop)", "batch 4"):
        assert name in done.stdout
    with open(tmp_path / "p.json") as f:
        saved = json.load(f)
    lstm = [r for r in saved["rows"] if r["name"] == "lstm"][0]
    assert lstm["forward_flops"] == 2 * 6 * (4 + 8) * 4 * 8
    assert saved["peak_gflops"] > 0 and "fwd %peak" in done.stdout
    inference = run_script(path, "--input-shape", "6", "--steps", "1", "--inference", "--no-peak")
    assert inference.returncode == 0, inference.stderr
    assert "forward pass (inference)" in inference.stdout and "(optimizer)" not in inference.stdout
    assert "%peak" not in inference.stdout and "FMA peak" not in inference.stdout
