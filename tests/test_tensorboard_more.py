"""TensorBoard callback beyond scalars: weight, gradient and activation histograms, weight
images, the model graph and projector embeddings, read back with the `tensorboard` package
(its event accumulator, its graphs and projector plugins) and compared with NumPy float64
references computed from the weights at each epoch."""
import contextlib
import glob
import importlib
import json
import struct
import sys
import warnings
import zlib

import numpy as np
import pytest

import seqnet as keras
from seqnet import regularizers
from seqnet.callbacks.tensorboard import to_uint8, weight_images
from seqnet.callbacks.tensorboard_events import encode_png, histogram_fields
from seqnet.layers import BatchNormalization, Conv2D, Dense, Dropout, Embedding, Flatten, Input


def tb(module):
    """A tensorboard module (imported with its own deprecation warnings silenced)."""
    pytest.importorskip("tensorboard", reason="the tensorboard package reads the written files back")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


@contextlib.contextmanager
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def accumulator(log_dir):
    ea = tb("tensorboard.backend.event_processing.event_accumulator")
    acc = ea.EventAccumulator(str(log_dir), size_guidance={ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0,
                                                          ea.SCALARS: 0})
    with quiet():
        acc.Reload()
    return acc


def tf_bucket_limits():
    """TensorFlow's default histogram bucket limits (histogram.cc), written out again."""
    limits, v = [], 1e-12
    while v < 1e20:
        limits.append(v)
        v *= 1.1
    positive = limits + [sys.float_info.max]
    return [-x for x in positive[::-1]] + [0.0] + positive


LIMITS = None


def check_histogram(h, values, rtol=1e-6, atol=0.0):
    """`h` (a HistogramValue read back) describes `values`: statistics in float64, and every
    written bucket [previous default limit, limit) holds exactly the values it counts."""
    global LIMITS
    if LIMITS is None:
        LIMITS = tf_bucket_limits()
    v = np.asarray(values, dtype=np.float64).ravel()
    assert h.num == v.size
    np.testing.assert_allclose([h.min, h.max], [v.min(), v.max()], rtol=rtol, atol=atol)
    np.testing.assert_allclose([h.sum, h.sum_squares], [v.sum(), np.sum(v * v)], rtol=rtol, atol=atol * v.size)
    limits, counts = list(h.bucket_limit), list(h.bucket)
    assert sum(counts) == v.size and len(limits) == len(counts)
    position = {x: i for i, x in enumerate(LIMITS)}
    if atol == 0.0:
        for limit, count in zip(limits, counts):
            i = position[limit]  # every written limit is one of TensorFlow's
            lower = LIMITS[i - 1] if i else -np.inf
            assert count == np.count_nonzero((v >= lower) & (v < limit))
    for a, b in zip(counts, counts[1:]):
        assert a > 0 or b > 0, "runs of empty buckets are written as one"


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_weight_gradient_and_output_histograms_per_validation_batch(tmp_path):
    rng = np.random.RandomState(0)
    x, xv = rng.rand(40, 4), rng.rand(20, 4)
    y, yv = (keras.utils.to_categorical(rng.randint(0, 3, n), 3) for n in (40, 20))
    wv = rng.rand(20) * (rng.rand(20) > 0.2)  # validation sample weights, some zero
    l2 = 0.01
    model = keras.Sequential([Dropout(0.5, input_shape=(4,), name="drop"),
                              Dense(3, activation="softmax", kernel_regularizer=regularizers.l2(l2), name="out")])
    model.compile("sgd", "categorical_crossentropy")
    weights = []
    recorder = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=2, batch_size=8, write_grads=True)
    model.fit(x, y, epochs=3, batch_size=10, verbose=0, validation_data=(xv, yv, wv), callbacks=[recorder, board])
    acc = accumulator(tmp_path)
    tags = acc.Tags()["histograms"]
    assert tags == ["drop_out", "out/kernel_0", "out/kernel_0_grad", "out/bias_0", "out/bias_0_grad", "out_out"]
    batches = [(s, min(s + 8, 20)) for s in range(0, 20, 8)]
    for tag in tags:
        events = acc.Histograms(tag)
        assert [e.step for e in events] == [0] * len(batches) + [2] * len(batches)  # epochs 0 and 2
    for epoch in (0, 2):
        kernel, bias = (w.astype(np.float64) for w in weights[epoch])
        at = {tag: [e.histogram_value for e in acc.Histograms(tag) if e.step == epoch] for tag in tags}
        for i, (s, e) in enumerate(batches):
            check_histogram(at["out/kernel_0"][i], kernel)
            check_histogram(at["out/bias_0"][i], bias)
            check_histogram(at["drop_out"][i], xv[s:e].astype(np.float32))  # inference: no dropout
            p = softmax(xv[s:e] @ kernel + bias)
            check_histogram(at["out_out"][i], p, rtol=1e-5, atol=1e-7)
            # Keras 2.2.4's weighted loss: mean(w * CE) / mean(w != 0), plus l2 * sum(kernel**2)
            w = wv[s:e]
            dz = (p - yv[s:e]) * w[:, None] / (len(w) * np.mean(w != 0))
            check_histogram(at["out/kernel_0_grad"][i], xv[s:e].T @ dz + 2 * l2 * kernel, rtol=1e-4, atol=1e-6)
            check_histogram(at["out/bias_0_grad"][i], dz.sum(axis=0), rtol=1e-4, atol=1e-6)


def test_functional_model_histograms_include_the_input_and_clipped_gradients(tmp_path):
    rng = np.random.RandomState(1)
    x, y = rng.rand(30, 3), rng.rand(30, 2)
    inp = Input((3,), name="features")
    out = Dense(2, name="regression")(inp)
    model = keras.models.Model(inp, out)
    model.compile(keras.optimizers.SGD(lr=0.01, clipvalue=0.05), "mse")
    weights = []
    recorder = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, batch_size=32, write_grads=True)
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.5, callbacks=[recorder, board])
    acc = accumulator(tmp_path)
    xv, yv = x[15:], y[15:]
    check_histogram(acc.Histograms("features_out")[0].histogram_value, xv.astype(np.float32))
    kernel, bias = (w.astype(np.float64) for w in weights[0])
    dz = 2 * (xv @ kernel + bias - yv) / yv.size
    check_histogram(acc.Histograms("regression/kernel_0_grad")[0].histogram_value,
                    np.clip(xv.T @ dz, -0.05, 0.05), rtol=1e-4, atol=1e-6)


def test_batch_normalization_runs_on_its_moving_statistics(tmp_path):
    rng = np.random.RandomState(6)
    x, y = rng.rand(24, 3) * 4 + 1, rng.rand(24, 2)
    model = keras.Sequential([BatchNormalization(input_shape=(3,), name="bn"), Dense(2, name="d")])
    model.compile("sgd", "mse")
    weights = []
    recorder = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, batch_size=16, write_grads=True)
    model.fit(x, y, epochs=1, batch_size=6, verbose=0, validation_split=0.5, callbacks=[recorder, board])
    acc = accumulator(tmp_path)
    assert sorted(acc.Tags()["histograms"]) == sorted(
        ["bn/gamma_0", "bn/gamma_0_grad", "bn/beta_0", "bn/beta_0_grad", "bn/moving_mean_0",
         "bn/moving_variance_0", "bn_out", "d/kernel_0", "d/kernel_0_grad", "d/bias_0", "d/bias_0_grad", "d_out"])
    gamma, beta, mean, variance, kernel, bias = (w.astype(np.float64) for w in weights[0])
    xv, yv = x[12:], y[12:]  # one validation batch (batch_size 16)
    normalized = (xv - mean) / np.sqrt(variance + 1e-3)  # inference: the moving statistics
    h = normalized * gamma + beta
    (event,) = acc.Histograms("bn_out")
    check_histogram(event.histogram_value, h, rtol=1e-5, atol=1e-6)
    dout = 2 * (h @ kernel + bias - yv) / yv.size
    dh = dout @ kernel.T
    for tag, grad in (("bn/gamma_0_grad", (dh * normalized).sum(axis=0)), ("bn/beta_0_grad", dh.sum(axis=0)),
                      ("d/kernel_0_grad", h.T @ dout)):
        (event,) = acc.Histograms(tag)
        check_histogram(event.histogram_value, grad, rtol=1e-4, atol=1e-6)


def decode_png(data):
    """(pixels, colour type) of an 8-bit PNG without interlacing, read with zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    assert np.all(rows[:, 0] == 0)  # filter type None on every row
    return rows[:, 1:], colour


def expected_pixels(image):
    """TensorFlow's image-summary scaling, in float64."""
    image = np.asarray(image, dtype=np.float64)
    lo, hi = image.min(), image.max()
    if lo < 0:
        return image * 127.0 / max(-lo, hi) + 128.0
    return image * 255.0 / hi


def test_weight_images_as_keras_reshapes_them(tmp_path):
    rng = np.random.RandomState(2)
    x, y = rng.rand(12, 5, 5, 1), keras.utils.to_categorical(rng.randint(0, 3, 12), 3)
    model = keras.Sequential([Conv2D(4, (3, 3), input_shape=(5, 5, 1), name="conv"), Flatten(),
                              Dense(3, activation="softmax", name="dense")])
    model.compile("sgd", "categorical_crossentropy")
    weights = []
    recorder = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    board = keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, write_images=True)
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[recorder, board])
    acc = accumulator(tmp_path)
    conv_kernel, conv_bias, dense_kernel, dense_bias = weights[0]
    expected = {
        # (3, 3, 1, 4) squeezed to (3, 3, 4): one 3x3 image per filter, the first three written
        **{f"conv/kernel_0/image/{i}": conv_kernel[:, :, 0, i] for i in range(3)},
        "conv/bias_0/image/0": conv_bias.reshape(4, 1),  # a bias: one column
        "dense/kernel_0/image/0": dense_kernel.T,  # (36, 3): the longer side as the width
        "dense/bias_0/image/0": dense_bias.reshape(3, 1),
    }
    assert sorted(acc.Tags()["images"]) == sorted(expected)
    for tag, image in expected.items():
        (event,) = acc.Images(tag)
        pixels, colour = decode_png(event.encoded_image_string)
        assert colour == 0 and (event.height, event.width) == image.shape == pixels.shape
        assert np.all(np.abs(pixels - np.floor(expected_pixels(image))) <= 1)


def test_png_encoder_reads_back_with_pillow():
    Image = pytest.importorskip("PIL.Image", reason="Pillow cross-checks the PNG encoder")
    import io
    pixels = np.random.RandomState(3).randint(0, 256, (7, 5)).astype(np.uint8)
    image = Image.open(io.BytesIO(encode_png(pixels)))
    assert image.mode == "L"
    np.testing.assert_array_equal(np.asarray(image), pixels)


def test_image_scaling_and_reshaping_rules():
    positive = np.array([[0.0, 0.5], [1.0, 2.0]], np.float32)
    np.testing.assert_array_equal(to_uint8(positive), np.floor(expected_pixels(positive)))
    signed = np.array([[-1.0, 0.25], [0.5, np.nan]], np.float32)
    assert to_uint8(signed)[1, 1] == 255  # not finite: TensorFlow's bad colour
    assert np.all(to_uint8(np.zeros((2, 2), np.float32)) == 0)
    assert weight_images(np.zeros((3, 3, 2, 8))) is None  # 4-D kernels are not drawn (as Keras)
    assert weight_images(np.zeros((1,))) is None
    assert weight_images(np.zeros((3, 2, 5)), "channels_first").shape == (3, 2, 5)
    assert weight_images(np.zeros((3, 2, 5))).shape == (5, 3, 2)


def test_histogram_fields_refuse_nan_and_collapse_empty_buckets():
    with pytest.raises(ValueError, match="NaN or infinity.*'w'"):
        histogram_fields(np.array([1.0, np.nan]), "w")
    lo, hi, num, total, squares, limits, counts = histogram_fields(np.array([0.0, 0.0, 1.0]))
    assert (lo, hi, num, total, squares) == (0.0, 1.0, 3.0, 1.0, 1.0)
    assert counts.sum() == 3 and limits[-1] == sys.float_info.max
    lo, hi, num, *_, limits, counts = histogram_fields(np.zeros(0))
    assert num == 0 and list(counts) == [0.0]


def test_graph_is_the_keras_config_read_by_the_graphs_plugin(tmp_path):
    model = keras.Sequential([Dense(4, activation="relu", input_dim=3, name="hidden"), Dense(2, name="top")],
                             name="net")
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path))])
    loader = tb("tensorboard.backend.event_processing.event_file_loader")
    summary_pb2 = tb("tensorboard.compat.proto.summary_pb2")
    (path,) = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    with quiet():
        values = [(e.step, v) for e in loader.EventFileLoader(path).Load() for v in e.summary.value if v.tag == "keras"]
    ((step, value),) = values
    assert step == 0
    assert value.metadata.plugin_data.plugin_name == "graph_keras_model"
    assert value.metadata.plugin_data.content == b"1"
    assert value.metadata.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    assert json.loads(value.tensor.string_val[0]) == json.loads(model.to_json())
    # TensorBoard's graphs plugin serves it as the run's conceptual graph
    mux_module = tb("tensorboard.backend.event_processing.plugin_event_multiplexer")
    provider_module = tb("tensorboard.backend.event_processing.data_provider")
    base_plugin = tb("tensorboard.plugins.base_plugin")
    graphs_plugin = tb("tensorboard.plugins.graph.graphs_plugin")
    graph_pb2 = tb("tensorboard.compat.proto.graph_pb2")
    context = tb("tensorboard.context")
    text_format = tb("google.protobuf.text_format")
    with quiet():
        mux = mux_module.EventMultiplexer()
        mux.AddRunsFromDirectory(str(tmp_path))
        mux.Reload()
        provider = provider_module.MultiplexerDataProvider(mux, str(tmp_path))
        plugin = graphs_plugin.GraphsPlugin(base_plugin.TBContext(data_provider=provider, logdir=str(tmp_path)))
        info = plugin.info_impl(context.RequestContext(), experiment="")
        body, _ = plugin.graph_impl(context.RequestContext(), ".", "keras", is_conceptual=True, experiment="")
    assert info["."]["tags"]["keras"]["conceptual_graph"]
    graph = text_format.Parse(body, graph_pb2.GraphDef())
    nodes = {n.name: n for n in graph.node}
    assert sorted(nodes) == ["net/hidden", "net/top"]
    assert list(nodes["net/top"].input) == ["net/hidden"]
    assert nodes["net/hidden"].attr["keras_class"].s == b"Dense"


def test_write_graph_false_writes_no_graph(tmp_path):
    model = keras.Sequential([Dense(2, input_dim=3)])
    model.compile("sgd", "mse")
    model.fit(np.zeros((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    assert accumulator(tmp_path).Tags()["tensors"] == []


def projector(log_dir):
    base_plugin = tb("tensorboard.plugins.base_plugin")
    projector_plugin = tb("tensorboard.plugins.projector.projector_plugin")
    mux_module = tb("tensorboard.backend.event_processing.plugin_event_multiplexer")
    provider_module = tb("tensorboard.backend.event_processing.data_provider")
    with quiet():
        mux = mux_module.EventMultiplexer()
        mux.AddRunsFromDirectory(str(log_dir))
        mux.Reload()
        provider = provider_module.MultiplexerDataProvider(mux, str(log_dir))
        plugin = projector_plugin.ProjectorPlugin(base_plugin.TBContext(data_provider=provider, logdir=str(log_dir)))
        plugin._update_configs()
    return plugin


def test_embeddings_are_the_layer_outputs_in_projector_files(tmp_path):
    rng = np.random.RandomState(4)
    x, y = rng.randint(0, 10, (30, 4)), rng.randint(0, 2, 30)
    data = rng.randint(0, 10, (12, 4))
    model = keras.Sequential([Embedding(10, 3, input_length=4, name="emb"), Flatten(),
                              Dense(1, activation="sigmoid", name="score")])
    model.compile("sgd", "binary_crossentropy")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "words.tsv").write_text("".join(f"w{i}\n" for i in range(12)))
    log_dir = tmp_path / "logs"
    weights = []
    recorder = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: weights.append(model.get_weights()))
    board = keras.callbacks.TensorBoard(str(log_dir), embeddings_freq=2, embeddings_data=data, batch_size=5,
                                        embeddings_layer_names=["emb", "score"],
                                        embeddings_metadata={"emb": str(outside / "words.tsv"),
                                                             "score": "labels.tsv"})
    model.fit(x, y, epochs=4, verbose=0, callbacks=[recorder, board])
    config_pb2 = tb("tensorboard.plugins.projector.projector_config_pb2")
    text_format = tb("google.protobuf.text_format")
    config = text_format.Parse((log_dir / "projector_config.pbtxt").read_text(), config_pb2.ProjectorConfig())
    by_name = {e.tensor_name: e for e in config.embeddings}
    assert list(by_name) == ["emb_embedding:0", "score_embedding:0"]
    assert by_name["emb_embedding:0"].metadata_path == "words.tsv"  # copied into the log directory
    assert (log_dir / "words.tsv").read_text() == (outside / "words.tsv").read_text()
    assert by_name["score_embedding:0"].metadata_path == "labels.tsv"  # relative: as given
    # written at epochs 0 and 2: the files hold the outputs with the weights after epoch 2
    table, kernel, bias = (w.astype(np.float64) for w in weights[2])
    expected = {"emb_embedding:0": table[data].reshape(12, 12),
                "score_embedding:0": 1 / (1 + np.exp(-(table[data].reshape(12, 12) @ kernel + bias)))}
    for name, vectors in expected.items():
        read = np.loadtxt(log_dir / by_name[name].tensor_path, delimiter="\t", ndmin=2)
        np.testing.assert_allclose(read, vectors, rtol=1e-5, atol=1e-7)
        assert list(by_name[name].tensor_shape) == list(vectors.shape)
    # what TensorBoard's projector serves for each tensor (float32 bytes)
    plugin = projector(log_dir)
    werkzeug_test = tb("werkzeug.test")
    client = werkzeug_test.Client(plugin._serve_tensor)
    for name, vectors in expected.items():
        with quiet():
            response = client.get("/tensor", query_string={"run": ".", "name": name[:-2]})
        assert response.status_code == 200
        served = np.frombuffer(response.data, dtype=np.float32).reshape(vectors.shape)
        np.testing.assert_allclose(served, vectors, rtol=1e-5, atol=1e-7)


def test_embeddings_default_to_the_embedding_layers_and_a_shared_metadata_file(tmp_path):
    inp = Input((3,), name="ids")
    out = Dense(1)(Flatten()(Embedding(6, 2, name="words")(inp)))
    model = keras.models.Model(inp, out)
    model.compile("sgd", "mse")
    data = np.arange(18).reshape(6, 3) % 6
    board = keras.callbacks.TensorBoard(str(tmp_path), embeddings_freq=1, embeddings_data={"ids": data},
                                        embeddings_metadata="meta.tsv")
    model.fit(np.zeros((4, 3)), np.zeros((4, 1)), epochs=1, verbose=0, callbacks=[board])
    config_pb2 = tb("tensorboard.plugins.projector.projector_config_pb2")
    text_format = tb("google.protobuf.text_format")
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), config_pb2.ProjectorConfig())
    (embedding,) = config.embeddings
    assert (embedding.tensor_name, embedding.metadata_path) == ("words_embedding:0", "meta.tsv")
    read = np.loadtxt(tmp_path / embedding.tensor_path, delimiter="\t", ndmin=2)
    np.testing.assert_allclose(read, model.get_layer("words").get_weights()[0][data].reshape(6, 6), rtol=1e-6)


def test_validation_data_is_given_to_callbacks_as_keras_does():
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.validation_data)

    x, y = np.random.RandomState(5).rand(10, 2), np.zeros((10, 1))
    model = keras.Sequential([Dense(1, input_dim=2)])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.3, callbacks=[Probe()])
    vx, vy, vw = seen[0]
    np.testing.assert_allclose(vx, x[7:], rtol=1e-6)
    np.testing.assert_array_equal(vy, y[7:])
    np.testing.assert_array_equal(vw, np.ones(3))

    def gen():
        while True:
            yield x[:2], y[:2]

    model.fit(x, y, epochs=1, verbose=0, validation_data=gen(), validation_steps=1, callbacks=[Probe()])
    model.fit(x, y, epochs=1, verbose=0, callbacks=[Probe()])
    assert seen[1:] == [None, None]


def test_histograms_need_array_validation_data(tmp_path):
    x, y = np.zeros((6, 2)), np.zeros((6, 1))
    model = keras.Sequential([Dense(1, input_dim=2)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="If printing histograms, validation_data must be provided"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])

    def gen():
        while True:
            yield x[:2], y[:2]

    with pytest.raises(ValueError, match="cannot be a generator"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=gen(), validation_steps=1,
                  callbacks=[keras.callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])


def test_embedding_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="embeddings_data must be provided"):
        keras.callbacks.TensorBoard(str(tmp_path), embeddings_freq=1)
    with pytest.raises(ValueError, match="embeddings_metadata"):
        keras.callbacks.TensorBoard(str(tmp_path), embeddings_freq=1, embeddings_data=np.zeros((2, 2)),
                                    embeddings_metadata=3)
    model = keras.Sequential([Dense(1, input_dim=2, name="only")])
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    for kwargs, message in (({}, "no Embedding layer"), ({"embeddings_layer_names": ["missing"]}, "missing"),
                            ({"embeddings_layer_names": ["only"], "embeddings_metadata": {"other": "m.tsv"}},
                             "other")):
        board = keras.callbacks.TensorBoard(str(tmp_path), embeddings_freq=1, embeddings_data=x, **kwargs)
        with pytest.raises(ValueError, match=message):
            model.fit(x, y, epochs=1, verbose=0, callbacks=[board])


def test_vectorized_crc32c_matches_tensorboards_reader():
    pywrap = tb("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")
    from seqnet.callbacks.tensorboard_events import masked_crc32c
    rng = np.random.RandomState(7)
    for n in (0, 5, 4095, 4096, 4097, 70001):
        data = rng.randint(0, 256, n).astype(np.uint8).tobytes()
        assert masked_crc32c(data) == pywrap.masked_crc32c(data)
