"""seqnet.onnx.export: each model is exported, checked with onnx.checker, run with ONNX Runtime
(CPU) and compared with model.predict; the export's errors name the layer."""
import os
import subprocess
import sys

import numpy as np
import pytest

import seqnet
import seqnet.onnx
from seqnet import layers as L
from seqnet.models import Model, Sequential

onnx = pytest.importorskip("onnx", reason="the ONNX export tests need `onnx` (pip install onnx)")
ort = pytest.importorskip("onnxruntime", reason="the ONNX export tests need `onnxruntime` (pip install onnxruntime)")

RTOL, ATOL = 1e-5, 1e-6


def randomize(model, seed=0, scale=1.0):
    """Random weights everywhere (biases too): kernels with variance scale / fan-in (outputs of
    order 1, so float32 rounding stays small), positive moving variances."""
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        shape = tuple(w.shape)
        if "moving_variance" in w.name:
            values.append(rng.uniform(0.5, 1.5, shape))
        elif "gamma" in w.name:
            values.append(1.0 + 0.2 * rng.standard_normal(shape))
        elif len(shape) >= 2:
            values.append(rng.standard_normal(shape) * np.sqrt(scale / np.prod(shape[:-1])))
        else:
            values.append(0.2 * rng.standard_normal(shape))
    model.set_weights([v.astype(np.float32) for v in values])
    return model


def run_onnx(model, xs, tmp_path, opset=None):
    """Exports, checks and runs `model` on the arrays `xs`; the session and its outputs."""
    path = tmp_path / "model.onnx"
    proto = seqnet.onnx.export(model, path, opset=opset)
    onnx.checker.check_model(onnx.load(str(path)))
    assert proto.opset_import[0].version == (opset or 17)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {}
    for info, x in zip(sess.get_inputs(), xs):
        feeds[info.name] = x.astype({"tensor(int64)": np.int64, "tensor(int32)": np.int32}.get(info.type, np.float32))
    return sess, sess.run(None, feeds)


def check(model, xs, tmp_path, opset=None, rtol=RTOL, atol=ATOL):
    """The ONNX Runtime outputs equal model.predict's."""
    xs = xs if isinstance(xs, list) else [xs]
    sess, got = run_onnx(model, xs, tmp_path, opset)
    want = model.predict(xs if len(xs) > 1 else xs[0], batch_size=64)
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return sess


def data(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- the seed models ------------------------------------------------------------------------------
def test_seed_mlp(tmp_path):
    model = Sequential([L.Dense(64, activation="relu", input_dim=20), L.Dropout(0.5),
                        L.Dense(64, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    randomize(model)
    sess = check(model, data(9, 20), tmp_path)
    assert [i.name for i in sess.get_inputs()] == model.input_names
    assert [o.name for o in sess.get_outputs()] == model.output_names
    # the batch axis is dynamic
    assert sess.get_inputs()[0].shape[0] == "batch"
    one = sess.run(None, {model.input_names[0]: data(1, 20, seed=5)})[0]
    np.testing.assert_allclose(one, model.predict(data(1, 20, seed=5)), rtol=RTOL, atol=ATOL)


def test_seed_vgg_convnet(tmp_path):
    model = Sequential([
        L.Conv2D(32, (3, 3), activation="relu", input_shape=(20, 20, 3)), L.Conv2D(32, (3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Conv2D(64, (3, 3), activation="relu"), L.Conv2D(64, (3, 3), activation="relu"),
        L.MaxPooling2D(pool_size=(2, 2)), L.Dropout(0.25),
        L.Flatten(), L.Dense(256, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    randomize(model)
    check(model, data(4, 20, 20, 3), tmp_path)


def test_seed_conv1d(tmp_path):
    model = Sequential([
        L.Conv1D(16, 3, activation="relu", input_shape=(24, 8)), L.Conv1D(16, 3, activation="relu"),
        L.MaxPooling1D(3), L.Conv1D(32, 3, activation="relu"), L.Conv1D(32, 3, activation="relu"),
        L.GlobalAveragePooling1D(), L.Dropout(0.5), L.Dense(1, activation="sigmoid")])
    randomize(model)
    check(model, data(5, 24, 8), tmp_path)


def test_seed_embedding_lstm(tmp_path):
    model = Sequential([L.Embedding(50, 16, input_length=7), L.LSTM(12), L.Dropout(0.5),
                        L.Dense(1, activation="sigmoid")])
    randomize(model)
    x = np.random.default_rng(3).integers(0, 50, (6, 7))
    sess = check(model, x.astype(np.float32), tmp_path)
    assert sess.get_inputs()[0].type == "tensor(int64)"


def test_int32_input_feeds_embedding(tmp_path):
    inp = L.Input(shape=(5,), dtype="int32")
    model = Model(inp, L.Dense(3)(L.Flatten()(L.Embedding(20, 4)(inp))))
    randomize(model)
    sess = check(model, np.random.default_rng(0).integers(0, 20, (4, 5)).astype(np.float32), tmp_path)
    assert sess.get_inputs()[0].type == "tensor(int32)"


# ---- recurrent layers -----------------------------------------------------------------------------------
def test_stacked_lstms(tmp_path):
    model = Sequential([L.LSTM(10, return_sequences=True, input_shape=(6, 5)), L.LSTM(10, return_sequences=True),
                        L.LSTM(8), L.Dense(4, activation="softmax")])
    randomize(model)
    check(model, data(5, 6, 5), tmp_path)


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gru(tmp_path, reset_after, return_sequences):
    model = Sequential([L.GRU(7, reset_after=reset_after, return_sequences=return_sequences, input_shape=(5, 4))])
    randomize(model)
    check(model, data(3, 5, 4), tmp_path)


@pytest.mark.parametrize("layer", [
    lambda: L.SimpleRNN(6, return_sequences=True),
    lambda: L.SimpleRNN(6, activation="relu", go_backwards=True),
    lambda: L.LSTM(6, go_backwards=True, return_sequences=True),
    lambda: L.LSTM(6, activation="linear", recurrent_activation="sigmoid", use_bias=False),
    lambda: L.GRU(6, activation="softsign", recurrent_activation="tanh", go_backwards=True),
], ids=["simple_rnn", "simple_rnn_relu_backwards", "lstm_backwards_sequences", "lstm_linear_sigmoid",
        "gru_softsign_backwards"])
def test_recurrent_options(tmp_path, layer):
    model = Sequential([L.InputLayer(input_shape=(6, 3)), layer()])
    randomize(model)
    check(model, data(4, 6, 3), tmp_path)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_rnn_over_cells(tmp_path, return_sequences):
    inp = L.Input(shape=(5, 3))
    stacked = L.RNN([L.LSTMCell(4), L.GRUCell(3, reset_after=True), L.SimpleRNNCell(2)], return_state=True,
                    go_backwards=True, return_sequences=return_sequences)(inp)
    single = L.RNN(L.GRUCell(3), return_sequences=return_sequences)(inp)
    both = L.Bidirectional(L.RNN(L.LSTMCell(2), return_sequences=return_sequences))(inp)
    model = Model(inp, stacked + [single, both])
    randomize(model)
    check(model, data(3, 5, 3), tmp_path)


def test_rnn_initial_state(tmp_path):
    inp, h, c, h2 = L.Input(shape=(5, 3)), L.Input(shape=(4,)), L.Input(shape=(4,)), L.Input(shape=(2,))
    y = L.RNN(L.LSTMCell(4), return_sequences=True)(inp, initial_state=[h, c])
    z = L.RNN([L.LSTMCell(4), L.GRUCell(2)], return_state=True, go_backwards=True)(inp, initial_state=[h2, h, c])
    model = Model([inp, h, c, h2], [y] + z)
    randomize(model)
    check(model, [data(3, 5, 3), data(3, 4, seed=2), data(3, 4, seed=3), data(3, 2, seed=4)], tmp_path)


def test_variable_length_sequences(tmp_path):
    model = Sequential([L.LSTM(5, return_sequences=True, input_shape=(None, 3)), L.GRU(4)])
    randomize(model)
    path = tmp_path / "m.onnx"
    seqnet.onnx.export(model, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for steps in (2, 9):
        x = data(3, steps, 3, seed=steps)
        np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], model.predict(x),
                                   rtol=RTOL, atol=ATOL)


def test_return_state(tmp_path):
    inp = L.Input(shape=(5, 3))
    seq, h, c = L.LSTM(4, return_sequences=True, return_state=True)(inp)
    out, gh = L.GRU(3, return_state=True, reset_after=True)(seq)
    model = Model(inp, [seq, h, c, out, gh])
    randomize(model)
    check(model, data(2, 5, 3), tmp_path)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional(tmp_path, merge_mode):
    inp = L.Input(shape=(6, 4))
    y = L.Bidirectional(L.LSTM(5, return_sequences=True), merge_mode=merge_mode)(inp)
    outs = y if isinstance(y, list) else [y]
    model = Model(inp, outs + [L.Bidirectional(L.GRU(3), merge_mode="concat")(inp)])
    randomize(model)
    check(model, data(3, 6, 4), tmp_path)


def test_bidirectional_return_state(tmp_path):
    inp = L.Input(shape=(5, 3))
    outs = L.Bidirectional(L.SimpleRNN(4, return_state=True), merge_mode="sum")(inp)
    model = Model(inp, outs)
    randomize(model)
    check(model, data(2, 5, 3), tmp_path)


def test_time_distributed(tmp_path):
    model = Sequential([L.TimeDistributed(L.Dense(6, activation="tanh"), input_shape=(4, 5)),
                        L.TimeDistributed(L.Dropout(0.5)), L.LSTM(3, return_sequences=True),
                        L.TimeDistributed(L.Dense(2, activation="softmax"))])
    randomize(model)
    check(model, data(3, 4, 5), tmp_path)


def test_time_distributed_conv_and_unknown_steps(tmp_path):
    inner = Sequential([L.Conv2D(3, 3, activation="relu", input_shape=(6, 6, 2)), L.Flatten()])
    inp = L.Input(shape=(None, 6, 6, 2))
    model = Model(inp, L.TimeDistributed(L.Dense(2))(L.TimeDistributed(inner)(inp)))
    randomize(model)
    check(model, data(2, 3, 6, 6, 2), tmp_path)


# ---- functional graphs -----------------------------------------------------------------------------------
def test_functional_multi_input_multi_output_with_merges(tmp_path):
    a, b = L.Input(shape=(8,), name="a"), L.Input(shape=(8,), name="b")
    da, db = L.Dense(8, activation="tanh")(a), L.Dense(8, activation="tanh")(b)
    merged = [L.Add()([da, db, a]), L.Subtract()([da, db]), L.Multiply()([da, db, b]), L.Average()([da, db]),
              L.Maximum()([da, db, a]), L.Minimum()([da, db])]
    cat = L.Concatenate()(merged)
    dot = L.Dot(axes=1)([da, db])
    cos = L.Dot(axes=1, normalize=True)([a, b])
    out1 = L.Dense(3, activation="softmax", name="probs")(cat)
    out2 = L.Concatenate(name="scores")([dot, cos])
    model = Model([a, b], [out1, out2, L.Dense(1, name="value")(da)])
    randomize(model)
    sess = check(model, [data(5, 8), data(5, 8, seed=2)], tmp_path)
    assert [i.name for i in sess.get_inputs()] == ["a", "b"]
    assert [o.name for o in sess.get_outputs()] == ["probs", "scores", "value"]


@pytest.mark.parametrize("axes,shapes", [((2, 2), ((4, 3), (5, 3))), ((1, 1), ((4, 3), (4, 5))),
                                         (2, ((4, 3), (5, 3))), ((2, 1), ((4, 3), (3, 5))),
                                         ((1, 2), ((3, 6), (2, 3)))])
def test_dot_axes(tmp_path, axes, shapes):
    a, b = L.Input(shape=shapes[0]), L.Input(shape=shapes[1])
    model = Model([a, b], L.Dot(axes=axes)([a, b]))
    check(model, [data(2, *shapes[0]), data(2, *shapes[1], seed=4)], tmp_path)


def test_concatenate_other_axis_and_shape_layers(tmp_path):
    inp = L.Input(shape=(4, 6))
    p = L.Permute((2, 1))(inp)                       # (6, 4)
    r = L.Reshape((3, -1))(L.Flatten()(inp))        # (3, 8)
    rv = L.RepeatVector(3)(L.Dense(8)(L.Flatten()(p)))  # (3, 8)
    model = Model(inp, [L.Concatenate(axis=1)([r, rv]), p])
    randomize(model)
    check(model, data(3, 4, 6), tmp_path)


def test_nested_and_shared(tmp_path):
    encoder = Sequential([L.Dense(6, activation="relu", input_shape=(5,)), L.Dense(4)], name="encoder")
    a, b = L.Input(shape=(5,)), L.Input(shape=(5,))
    shared = L.Dense(3, activation="tanh", name="shared")
    ea, eb = encoder(a), encoder(b)  # a nested model called twice
    model = Model([a, b], [shared(ea), shared(eb), L.Subtract()([ea, eb])])
    outer = Sequential([L.InputLayer(input_shape=(5,)), Sequential([L.Dense(5, input_shape=(5,))]),
                        L.Activation("sigmoid")])
    i = L.Input(shape=(5,))
    two = Model(i, [L.Dense(2)(i), L.Dense(3)(i)], name="two_outputs")  # a nested model with two outputs
    j = L.Input(shape=(5,))
    p, q = two(j)
    multi = Model(j, [L.Concatenate()([p, q]), L.Dense(1)(q)])
    randomize(multi)
    randomize(model)
    randomize(outer)
    check(model, [data(4, 5), data(4, 5, seed=7)], tmp_path)
    proto = seqnet.onnx.export(model, tmp_path / "shared.onnx")
    # the shared weights are stored once
    assert len(proto.graph.initializer) == len({i.name for i in proto.graph.initializer})
    assert sum(int(np.prod(i.dims)) for i in proto.graph.initializer if i.data_type == onnx.TensorProto.FLOAT) \
        <= model.count_params() + 4
    check(outer, data(3, 5), tmp_path)
    check(multi, data(3, 5), tmp_path)


def test_batch_normalization_after_training(tmp_path):
    model = Sequential([L.Conv2D(4, 3, input_shape=(8, 8, 2)), L.BatchNormalization(), L.Activation("relu"),
                        L.Flatten(), L.Dense(6), L.BatchNormalization(momentum=0.5), L.Dense(2, activation="softmax")])
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((16, 8, 8, 2)) * 2 + 1).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 16)]
    model.compile("sgd", "categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean.value, 0) and not np.allclose(bn.moving_variance.value, 1)
    check(model, x[:5], tmp_path)


def test_batch_normalization_axis_and_options(tmp_path):
    model = Sequential([L.BatchNormalization(axis=1, center=False, input_shape=(3, 4)),
                        L.BatchNormalization(scale=False)])
    randomize(model)
    check(model, data(4, 3, 4), tmp_path)


# ---- activations ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "hard_sigmoid", "elu", "selu", "softplus", "softsign",
                                  "linear", "exponential", "softmax", "swish", "gelu"])
def test_dense_activations(tmp_path, name):
    model = Sequential([L.Dense(7, activation=name, input_shape=(3, 5)), L.Activation(name)])
    randomize(model)
    check(model, data(4, 3, 5) * 2, tmp_path)


@pytest.mark.parametrize("layer", [
    lambda: L.LeakyReLU(0.2), lambda: L.PReLU(shared_axes=[1]), lambda: L.ELU(0.7), lambda: L.ThresholdedReLU(0.3),
    lambda: L.Softmax(), lambda: L.Softmax(axis=1), lambda: L.Softmax(axis=(1, 2)), lambda: L.ReLU(),
    lambda: L.ReLU(max_value=0.8), lambda: L.ReLU(negative_slope=0.1), lambda: L.ReLU(threshold=0.3),
    lambda: L.ReLU(max_value=1.0, negative_slope=0.2, threshold=-0.5),
], ids=["leaky", "prelu", "elu", "thresholded", "softmax", "softmax_axis1", "softmax_axes", "relu", "relu_cap",
        "relu_slope", "relu_threshold", "relu_all"])
def test_advanced_activations(tmp_path, layer):
    model = Sequential([L.InputLayer(input_shape=(4, 5)), layer()])
    randomize(model)
    check(model, data(3, 4, 5) * 2, tmp_path)


def test_noise_layers_are_identity(tmp_path):
    model = Sequential([L.GaussianNoise(0.3, input_shape=(4, 6)), L.GaussianDropout(0.3), L.AlphaDropout(0.3),
                        L.SpatialDropout1D(0.3), L.ActivityRegularization(l1=0.1), L.Dense(2)])
    randomize(model)
    check(model, data(3, 4, 6), tmp_path)


def test_masking_without_a_mask_reader(tmp_path):
    model = Sequential([L.Masking(0.0, input_shape=(5, 3)), L.Dense(4)])
    randomize(model)
    x = data(3, 5, 3)
    x[:, 1] = 0.0
    x[0, 3] = 0.0
    check(model, x, tmp_path)


# ---- convolution, pooling and spatial layers --------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{"padding": "same"}, {"padding": "causal", "dilation_rate": 2},
                                    {"padding": "same", "strides": 2}, {"padding": "valid", "strides": 2},
                                    {"padding": "same", "dilation_rate": 3}])
def test_conv1d_geometry(tmp_path, kwargs):
    model = Sequential([L.Conv1D(4, 3, input_shape=(11, 3), **kwargs)])
    randomize(model)
    check(model, data(2, 11, 3), tmp_path)


def test_conv1d_unknown_length_same_padding(tmp_path):
    model = Sequential([L.Conv1D(4, 4, padding="same", dilation_rate=2, input_shape=(None, 3)),
                        L.MaxPooling1D(2, padding="same"), L.Conv1D(3, 3, strides=2, padding="same"),
                        L.Conv1D(2, 3, padding="causal"),
                        L.AveragePooling1D(3, strides=2, padding="same"), L.GlobalMaxPooling1D()])
    randomize(model)
    path = tmp_path / "m.onnx"
    seqnet.onnx.export(model, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for steps in (7, 12):
        x = data(2, steps, 3, seed=steps)
        np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], model.predict(x),
                                   rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kwargs", [{"padding": "same"}, {"padding": "same", "strides": (2, 3)},
                                    {"padding": "valid", "strides": 2, "kernel_size": (2, 3)},
                                    {"padding": "same", "dilation_rate": (2, 1)}])
def test_conv2d_geometry(tmp_path, kwargs):
    kwargs.setdefault("kernel_size", 3)
    model = Sequential([L.Conv2D(4, input_shape=(9, 10, 3), activation="elu", **kwargs)])
    randomize(model)
    check(model, data(2, 9, 10, 3), tmp_path)


def test_fully_convolutional_unknown_size(tmp_path):
    model = Sequential([L.Conv2D(4, 3, strides=2, padding="same", activation="relu", input_shape=(None, None, 3)),
                        L.Conv2D(4, 3, padding="same", dilation_rate=2), L.MaxPooling2D(3, strides=2, padding="same"),
                        L.AveragePooling2D(2, padding="same"), L.GlobalAveragePooling2D()])
    randomize(model)
    path = tmp_path / "m.onnx"
    seqnet.onnx.export(model, path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for size in ((9, 8), (6, 11)):
        x = data(2, *size, 3, seed=size[0])
        np.testing.assert_allclose(sess.run(None, {sess.get_inputs()[0].name: x})[0], model.predict(x),
                                   rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("pool", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("kwargs", [{"pool_size": 3, "padding": "same"},
                                    {"pool_size": (2, 3), "strides": (1, 2)},
                                    {"pool_size": 2, "strides": 3, "padding": "same"}])
def test_pooling2d(tmp_path, pool, kwargs):
    model = Sequential([pool(input_shape=(7, 8, 3), **kwargs)])
    check(model, data(2, 7, 8, 3), tmp_path)


def test_channels_first(tmp_path):
    model = Sequential([
        L.Conv2D(4, 3, padding="same", data_format="channels_first", activation="softmax", input_shape=(3, 7, 6)),
        L.MaxPooling2D(2, data_format="channels_first"), L.ZeroPadding2D(1, data_format="channels_first"),
        L.UpSampling2D(2, data_format="channels_first"), L.Cropping2D(((1, 0), (2, 1)), data_format="channels_first"),
        L.BatchNormalization(axis=1), L.Flatten(data_format="channels_first"), L.Dense(3)])
    randomize(model)
    check(model, data(2, 3, 7, 6), tmp_path)
    seq = Sequential([L.Conv1D(4, 3, padding="same", data_format="channels_first", input_shape=(3, 9)),
                      L.MaxPooling1D(2, data_format="channels_first"),
                      L.AveragePooling1D(2, padding="same", data_format="channels_first"),
                      L.GlobalMaxPooling1D(data_format="channels_first")])
    randomize(seq)
    check(seq, data(2, 3, 9), tmp_path)
    img = L.Input(shape=(2, 5, 4))
    outs = [L.Conv2DTranspose(3, 3, strides=2, padding="same", data_format="channels_first")(img),
            L.DepthwiseConv2D(3, depth_multiplier=2, data_format="channels_first")(img),
            L.SeparableConv2D(3, 2, data_format="channels_first", activation="relu")(img),
            L.UpSampling2D(2, interpolation="bilinear", data_format="channels_first")(img)]
    model = randomize(Model(img, outs))
    check(model, data(2, 2, 5, 4), tmp_path)


def test_global_pooling(tmp_path):
    inp = L.Input(shape=(5, 6, 3))
    outs = [L.GlobalMaxPooling2D()(inp), L.GlobalAveragePooling2D()(inp),
            L.GlobalAveragePooling2D(data_format="channels_first")(inp),
            L.GlobalMaxPooling2D(keepdims=True)(inp)]
    check(Model(inp, outs), data(3, 5, 6, 3), tmp_path)


def test_padding_cropping_upsampling(tmp_path):
    inp = L.Input(shape=(6, 5, 2))
    x = L.ZeroPadding2D(((1, 2), (0, 3)))(inp)
    x = L.Cropping2D(((2, 1), (1, 0)))(x)
    y = L.UpSampling2D((2, 3))(x)
    z = L.UpSampling2D(2, interpolation="bilinear")(x)
    seq = L.Input(shape=(4, 3))
    s = L.UpSampling1D(3)(L.Cropping1D((1, 0))(L.ZeroPadding1D((2, 1))(seq)))
    check(Model([inp, seq], [y, z, s]), [data(2, 6, 5, 2), data(2, 4, 3, seed=3)], tmp_path)


def test_three_dimensional_layers(tmp_path):
    model = Sequential([L.Conv3D(3, 2, padding="same", input_shape=(4, 5, 6, 2)), L.MaxPooling3D(2, padding="same"),
                        L.ZeroPadding3D(1), L.UpSampling3D((1, 2, 1)), L.Cropping3D(((0, 1), (1, 1), (1, 0))),
                        L.AveragePooling3D((2, 1, 2)), L.GlobalAveragePooling3D()])
    randomize(model)
    check(model, data(2, 4, 5, 6, 2), tmp_path)


def test_depthwise_separable_transpose(tmp_path):
    inp = L.Input(shape=(8, 9, 3))
    d = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu")(inp)
    s = L.SeparableConv2D(5, 3, strides=2, depth_multiplier=2)(inp)
    t1 = L.Conv2DTranspose(4, 3, strides=2, padding="same")(inp)
    t2 = L.Conv2DTranspose(2, (3, 2), strides=(2, 1), padding="valid", activation="tanh")(inp)
    t3 = L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1)(inp)
    seq = L.Input(shape=(10, 4))
    s1 = L.SeparableConv1D(3, 3, padding="same", dilation_rate=2)(seq)
    model = Model([inp, seq], [d, s, t1, t2, t3, s1])
    randomize(model)
    check(model, [data(2, 8, 9, 3), data(2, 10, 4, seed=5)], tmp_path)


# ---- opsets ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("opset", [13, 17, 18, 21])
def test_opsets(tmp_path, opset):
    """Ops whose signatures changed between opsets (reductions, Resize, Pad, Clip, Slice, Squeeze)."""
    seq = L.Input(shape=(6, 4))
    x = L.Conv1D(3, 2)(seq)
    img = L.Input(shape=(4, 5, 2))
    y = L.ZeroPadding2D(1)(L.Cropping2D(((1, 0), (0, 1)))(img))
    ids = L.Input(shape=(6,))
    outs = [L.GlobalAveragePooling1D()(x), L.GlobalMaxPooling1D()(x), L.Softmax(axis=(1, 2))(x),
            L.LSTM(3)(seq), L.Bidirectional(L.GRU(2, return_sequences=True))(seq),
            L.Dot(axes=2, normalize=True)([seq, seq]), L.ReLU(max_value=0.5)(seq), L.Masking(0.5)(seq),
            L.UpSampling2D(2)(y), L.UpSampling2D(2, interpolation="bilinear")(y), L.PReLU()(y),
            L.BatchNormalization()(y), L.RepeatVector(2)(L.Flatten()(y)),
            L.LSTM(2)(L.Embedding(9, 3)(ids))]
    model = Model([seq, img, ids], outs)
    randomize(model)
    indices = np.random.default_rng(2).integers(0, 9, (2, 6)).astype(np.float32)
    check(model, [data(2, 6, 4), data(2, 4, 5, 2, seed=3), indices], tmp_path, opset=opset)


def test_large_weights_go_to_external_data(tmp_path, monkeypatch):
    monkeypatch.setattr(seqnet.onnx, "EXTERNAL_DATA_BYTES", 0)
    model = randomize(Sequential([L.Dense(300, input_shape=(4,)), L.Dense(2)]))
    check(model, data(3, 4), tmp_path)
    assert (tmp_path / "model.onnx.data").exists()


# ---- what cannot be exported --------------------------------------------------------------------------------
def test_unsupported_layer_is_named(tmp_path):
    model = Sequential([L.Dense(3, input_shape=(4,)), L.Lambda(lambda t: t * 2, name="doubler")])
    with pytest.raises(ValueError, match=r"'doubler' \(Lambda\).*no ONNX conversion"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_custom_layer_subclass_is_refused(tmp_path):
    class MyDense(L.Dense):
        pass
    model = Sequential([MyDense(3, input_shape=(4,), name="mine")])
    with pytest.raises(ValueError, match=r"'mine' \(MyDense\)"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_custom_activation_is_refused(tmp_path):
    def twice(x):
        return x * 2
    model = Sequential([L.Dense(3, activation=twice, input_shape=(4,), name="d")])
    with pytest.raises(ValueError, match=r"'d' \(Dense\).*'twice'"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


@pytest.mark.parametrize("first", [lambda: L.Embedding(10, 4, mask_zero=True, input_length=5),
                                   lambda: L.Masking(input_shape=(5, 4))])
def test_mask_read_by_a_recurrent_layer_is_refused(tmp_path, first):
    model = Sequential([first(), L.Dense(4), L.LSTM(3, name="reader")])
    with pytest.raises(ValueError, match=r"'reader' \(LSTM\).*mask"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_mask_into_a_nested_model_is_refused(tmp_path):
    inner = Sequential([L.GlobalAveragePooling1D(input_shape=(5, 4))], name="inner")
    model = Sequential([L.Embedding(10, 4, mask_zero=True, input_length=5), inner])
    with pytest.raises(ValueError, match=r"'inner'.*mask"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_stateful_and_training_calls_are_refused(tmp_path):
    model = Sequential([L.LSTM(3, stateful=True, batch_input_shape=(2, 4, 3), name="s")])
    with pytest.raises(ValueError, match=r"'s' \(LSTM\).*stateful"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")
    inp = L.Input(shape=(4,))
    model = Model(inp, L.Dropout(0.5, name="mc")(inp, training=True))
    with pytest.raises(ValueError, match=r"'mc' \(Dropout\).*training=True"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")
    model = Sequential([L.Conv1D(2, 3, strides=2, dilation_rate=2, padding="same", input_shape=(None, 3),
                                 name="c")])
    with pytest.raises(ValueError, match=r"'c' \(Conv1D\).*known spatial sizes"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_bad_arguments(tmp_path):
    model = Sequential([L.Dense(3, input_shape=(4,))])
    seqnet.onnx.export(model, tmp_path / "m.onnx", opset=np.int64(15))
    for opset in (12, 22, "17", 17.0, True):
        with pytest.raises(ValueError, match="opset"):
            seqnet.onnx.export(model, tmp_path / "m.onnx", opset=opset)
    with pytest.raises(TypeError, match="path"):
        seqnet.onnx.export(model, 3)
    with pytest.raises(TypeError, match="model"):
        seqnet.onnx.export(L.Dense(3), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="not built"):
        seqnet.onnx.export(Sequential([L.Dense(3)]), tmp_path / "m.onnx")


def test_missing_onnx_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    model = Sequential([L.Dense(3, input_shape=(4,))])
    with pytest.raises(ImportError, match=r"seqnet\[onnx\]"):
        seqnet.onnx.export(model, tmp_path / "m.onnx")


def test_importing_seqnet_does_not_import_onnx():
    code = "import sys, seqnet, seqnet.onnx; assert 'onnx' not in sys.modules and 'onnxruntime' not in sys.modules"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(seqnet.__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
