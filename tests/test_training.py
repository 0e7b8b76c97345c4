"""compile / fit / evaluate / predict: behaviour, numbers against independent references,
the progress bar, and the errors a Keras user gets for bad input."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import seqnet as keras
import seqnet.backend as K
from seqnet.layers import Activation, Dense, Dropout
from seqnet.models import Sequential
from seqnet.optimizers import SGD, RMSprop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_model(activation="softmax", units=3, input_dim=5, hidden=8, name=None):
    return Sequential([Dense(hidden, activation="tanh", input_dim=input_dim),
                       Dense(units, activation=activation)], name=name)


def data(n=40, dim=5, classes=3, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, dim).astype(np.float32)
    y = keras.utils.to_categorical(rng.randint(classes, size=n), classes)
    return x, y


# ---- errors ----------------------------------------------------------------------------
def test_fit_before_compile_is_a_runtime_error():
    model = small_model()
    x, y = data()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.evaluate(x, y, verbose=0)
    with pytest.raises(RuntimeError, match="compile"):
        model.train_on_batch(x, y)


def test_wrong_feature_count_names_the_input_and_both_shapes():
    K.clear_session()
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    x, y = data(dim=7)
    with pytest.raises(ValueError, match=r"dense_1_input.*\(5,\).*\(40, 7\)"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=r"dense_1_input"):
        model.predict(x)


def test_row_mismatch_names_both_counts():
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    x, y = data()
    with pytest.raises(ValueError, match=r"40 input samples and 39 target samples"):
        model.fit(x, y[:39], verbose=0)


def test_wrong_number_of_classes_names_the_output_layer_and_shapes():
    K.clear_session()
    model = small_model(units=3)
    model.compile("sgd", "categorical_crossentropy")
    x, _ = data()
    y = keras.utils.to_categorical(np.arange(40) % 5, 5)
    with pytest.raises(ValueError, match=r"dense_2.*\(3,\).*\(40, 5\)"):
        model.fit(x, y, verbose=0)


def test_sparse_label_out_of_range_is_rejected_before_training():
    model = small_model(units=3)
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, _ = data()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"label 7.*3 classes"):
        model.fit(x, np.full(40, 7), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, word", [
    ({"optimizer": "sgdd", "loss": "mse"}, "optimizer"),
    ({"optimizer": "sgd", "loss": "msee"}, "loss"),
    ({"optimizer": "sgd", "loss": "mse", "metrics": ["acuracy"]}, "metric"),
])
def test_unknown_strings_in_compile_are_value_errors(kwargs, word):
    with pytest.raises(ValueError, match=word):
        small_model().compile(**kwargs)


def test_bad_arguments_to_fit_are_value_errors():
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    x, y = data()
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="verbose"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="numeric"):
        model.fit(np.array([["a"] * 5] * 40), y, verbose=0)


# ---- conversions -------------------------------------------------------------------------
def test_lists_float64_int_and_noncontiguous_inputs_give_the_same_predictions():
    model = small_model()
    x, _ = data()
    ref = model.predict(x)
    np.testing.assert_array_equal(model.predict(x.astype(np.float64)), ref)
    np.testing.assert_array_equal(model.predict(x.tolist()), ref)
    wide = np.zeros((40, 10), dtype=np.float64)
    wide[:, ::2] = x
    np.testing.assert_array_equal(model.predict(wide[:, ::2]), ref)
    xi = (x * 10).astype(np.int64)
    np.testing.assert_array_equal(model.predict(xi), model.predict(xi.astype(np.float32)))


def test_integer_and_list_targets_train_like_float_targets():
    x, y = data()
    results = []
    for target in (y, y.astype(np.int32), y.tolist()):
        keras.utils.set_random_seed(3)
        model = small_model()
        model.compile(SGD(lr=0.1), "categorical_crossentropy")
        results.append(model.train_on_batch(x, target))
    assert results[0] == results[1] == results[2]


# ---- numbers -------------------------------------------------------------------------------
def numpy_forward(weights, x, activations):
    h = x.astype(np.float64)
    for (w, b), act in zip(zip(weights[::2], weights[1::2]), activations):
        h = h @ w + b
        if act == "tanh":
            h = np.tanh(h)
        elif act == "softmax":
            h = np.exp(h - h.max(axis=1, keepdims=True))
            h /= h.sum(axis=1, keepdims=True)
        elif act == "sigmoid":
            h = 1 / (1 + np.exp(-h))
    return h


def test_gradient_of_a_training_step_matches_finite_differences():
    """SGD with lr=1 moves each weight by exactly -dL/dw: compare with central differences
    of the loss computed in float64 by NumPy."""
    x, y = data(n=16)
    model = small_model()
    w0 = [w.astype(np.float64) for w in model.get_weights()]
    model.compile(SGD(lr=1.0), "categorical_crossentropy")
    model.train_on_batch(x, y)
    grads = [a - b for a, b in zip(w0, model.get_weights())]

    def loss(ws):
        p = numpy_forward(ws, x, ["tanh", "softmax"])
        return float(np.mean(-np.sum(y * np.log(p), axis=1)))

    eps = 1e-6
    for k, w in enumerate(w0):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus = [v.copy() for v in w0]
            minus = [v.copy() for v in w0]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, rtol=2e-3, atol=2e-6)


def test_custom_loss_trains_exactly_like_the_builtin_one():
    def my_mse(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    x, y = data()
    runs = []
    for loss in ("mse", my_mse):
        keras.utils.set_random_seed(11)
        model = small_model(activation="linear")
        model.compile(RMSprop(lr=0.01), loss)
        runs.append(([model.train_on_batch(x, y) for _ in range(4)], model.get_weights()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert runs[1][0][-1] < runs[1][0][0]


def test_custom_metric_mean_pred_is_the_mean_of_the_predictions():
    def mean_pred(y_true, y_pred):
        return K.mean(y_pred)

    x, y = data(classes=2)
    y = y[:, :1]
    model = small_model(activation="sigmoid", units=1)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy", mean_pred])
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    loss, acc, mp = model.evaluate(x, y, batch_size=40, verbose=0)
    p = model.predict(x).astype(np.float64)
    assert mp == pytest.approx(p.mean(), rel=1e-5)
    assert acc == pytest.approx(np.mean((p > 0.5) == y), abs=1e-7)
    pc = np.clip(p, 1e-7, 1 - 1e-7)
    ref = -np.mean(y * np.log(pc + 1e-7) + (1 - y) * np.log(1 - pc + 1e-7))
    assert loss == pytest.approx(ref, rel=1e-4)


def test_sample_and_class_weights_follow_keras_weighted_mean():
    x, y = data(n=12)
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    p = model.predict(x).astype(np.float64)
    per_sample = -np.sum(y * np.log(p), axis=1)
    w = np.linspace(0, 2, 12)
    expected = np.sum(w * per_sample) / np.count_nonzero(w)
    assert model.test_on_batch(x, y, sample_weight=w) == pytest.approx(expected, rel=1e-5)
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    wc = np.array([cw[c] for c in np.argmax(y, axis=1)])
    before = model.get_weights()
    model2 = small_model()
    model2.set_weights(before)
    model2.compile(SGD(lr=0.5), "categorical_crossentropy")
    assert model2.train_on_batch(x, y, class_weight=cw) == pytest.approx(np.sum(wc * per_sample) / 12, rel=1e-5)


def test_batch_methods_agree_with_predict_and_evaluate():
    x, y = data()
    model = small_model()
    model.compile("sgd", "categorical_crossentropy", metrics=["acc"])
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, batch_size=40))
    assert model.test_on_batch(x, y) == pytest.approx(model.evaluate(x, y, batch_size=40, verbose=0))
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.predict(x, batch_size=40), rtol=1e-6)


# ---- fit ---------------------------------------------------------------------------------
def test_history_keys_are_as_written_and_both_spellings_resolve():
    x, y = data()
    for name, other in (("accuracy", "acc"), ("acc", "accuracy")):
        model = small_model()
        model.compile("rmsprop", "categorical_crossentropy", metrics=[name])
        h = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
        assert sorted(h.history) == sorted(["loss", name, "val_loss", "val_" + name])
        assert h.history[other] == h.history[name]
        assert h.history["val_" + other] == h.history["val_" + name]
        assert other in h.history and h.epoch == [0, 1]


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = data(n=50)
    model = small_model()
    model.compile(SGD(lr=0.1), "categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.2, verbose=0)
    val_loss, val_acc = model.evaluate(x[40:], y[40:], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)
    assert h.history["val_accuracy"][0] == pytest.approx(val_acc)


def test_validation_data_and_epoch_average_of_training_loss():
    x, y = data(n=30)
    xv, yv = data(n=10, seed=1)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((logs["size"], logs["loss"]))

    model = small_model()
    model.compile(SGD(lr=0.1), "categorical_crossentropy")
    h = model.fit(x, y, epochs=1, batch_size=8, validation_data=(xv, yv), verbose=0, callbacks=[Record()])
    assert [s for s, _ in seen] == [8, 8, 8, 6]
    assert h.history["loss"][0] == pytest.approx(sum(s * l for s, l in seen) / 30, rel=1e-6)
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(xv, yv, verbose=0), rel=1e-6)


def test_fit_is_reproducible_with_a_seed_and_identical_for_one_or_two_threads():
    x, y = data(n=64)
    results = []
    for threads in (1, 2, 2):
        keras.set_num_threads(threads)
        keras.utils.set_random_seed(5)
        model = Sequential([Dense(16, activation="relu", input_dim=5), Dropout(0.3), Dense(3, activation="softmax")])
        model.compile(SGD(lr=0.05, momentum=0.9, nesterov=True), "categorical_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        results.append((h.history["loss"], model.get_weights()))
    keras.set_num_threads(2)
    for other in results[1:]:
        assert other[0] == results[0][0]
        for a, b in zip(other[1], results[0][1]):
            np.testing.assert_array_equal(a, b)


def test_dropout_is_active_in_fit_and_inactive_in_predict():
    x, _ = data()
    model = Sequential([Dropout(0.5, input_shape=(5,))])
    np.testing.assert_array_equal(model.predict(x), x)
    model.compile(SGD(lr=0.0), "mse")
    out = model.layers[0].forward(x, True)
    kept = out != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(out[kept], 2 * x[kept], rtol=1e-6)


def test_shuffle_false_and_batch_visit_samples_once_per_epoch():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    y = np.zeros((20, 1), dtype=np.float32)
    for shuffle in (False, "batch", True):
        seen = []

        class Spy(keras.layers.Layer):
            def forward(self, xb, training):
                if training:
                    seen.extend(xb[:, 0].tolist())
                return xb

            def backward(self, dy, need_dx=True, dy_is_preactivation=False):
                return dy

        model = Sequential([Spy(input_shape=(1,)), Dense(1)])
        model.compile("sgd", "mse")
        model.fit(x, y, batch_size=6, epochs=1, shuffle=shuffle, verbose=0)
        assert sorted(seen) == list(range(20))
        if shuffle is False:
            assert seen == list(range(20))


def test_stop_training_from_a_callback_ends_fit():
    x, y = data()

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    h = model.fit(x, y, epochs=5, verbose=0, callbacks=[Stop()])
    assert h.epoch == [0]


def test_learning_rate_can_be_read_and_set_during_training():
    x, y = data()
    model = small_model()
    model.compile(SGD(lr=0.1), "categorical_crossentropy")
    assert K.get_value(model.optimizer.lr) == pytest.approx(0.1)
    K.set_value(model.optimizer.lr, 0.0)
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert K.get_value(model.optimizer.iterations) == 2


# ---- progress output ------------------------------------------------------------------------
BAR_LINE = re.compile(r"^40/40 \[=+\] - \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4} - accuracy: \d\.\d{4}$")


def test_verbose_1_to_a_file_writes_one_bar_line_per_epoch(capsys):
    x, y = data()
    model = small_model()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, epochs=3, batch_size=4, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6 and all(BAR_LINE.match(line) for line in lines[1::2]), lines
    assert lines[-1].endswith("loss: %.4f - accuracy: %.4f" % (h.history["loss"][-1], h.history["accuracy"][-1]))


def test_verbose_2_writes_one_line_per_epoch(capsys):
    x, y = data()
    model = small_model()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=2, validation_split=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.match(r"^ - \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: "
                    r"\d\.\d{4}$", lines[1]), lines[1]


def test_verbose_0_prints_nothing(capsys):
    x, y = data()
    model = small_model()
    model.compile("sgd", "categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""


def test_on_a_terminal_the_bar_redraws_in_place_with_an_eta():
    """Run in a pseudo-terminal: carriage returns and 'ETA:' appear, as in Keras."""
    script = ("import time, numpy as np, seqnet as keras\n"
              "from seqnet.layers import Dense\n"
              "class Slow(keras.callbacks.Callback):\n"
              "    def on_batch_end(self, b, logs=None): time.sleep(0.06)\n"
              "m = keras.Sequential([Dense(2, activation='softmax', input_dim=3)])\n"
              "m.compile('sgd', 'categorical_crossentropy', metrics=['accuracy'])\n"
              "m.fit(np.random.rand(40, 3), keras.utils.to_categorical(np.arange(40) % 2), batch_size=10,\n"
              "      epochs=1, callbacks=[Slow()])\n")
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    out = b"".join(chunks).decode()
    assert proc.returncode == 0, err
    assert "\r" in out and "ETA:" in out
    assert re.search(r"10/40 \[={6}>\.{23}\] - ETA: \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}", out), out
    assert re.search(r"40/40 \[=+\] - \d+s \d+(us|ms)/step - loss", out)


# ---- the main example ----------------------------------------------------------------------------
def test_digits_example_reaches_95_percent(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "digits_mlp.py"), "10"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"Test accuracy: ([\d.]+)", result.stdout).group(1))
    assert accuracy >= 0.95, result.stdout


def test_digits_data_set_shapes_and_labels():
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == np.uint8 and x_train.max() == 16 and x_train.min() == 0
    assert sorted(set(y_train.tolist())) == list(range(10))
    assert np.bincount(np.concatenate([y_train, y_test])).tolist() == [178, 182, 177, 183, 181, 182, 181, 179,
                                                                      174, 180]


def test_a_training_step_allocates_no_arrays():
    """The step budget: after the first batch, buffers are reused (tracemalloc sees every
    NumPy allocation, so a single batch-sized array would show up as >= 2 KB here)."""
    import tracemalloc
    x, y = data(n=64, dim=20, classes=10)
    model = Sequential([Dense(32, activation="relu", input_dim=20), Dropout(0.5), Dense(10, activation="softmax")])
    model.compile(SGD(lr=0.01, momentum=0.9, nesterov=True), "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    tracemalloc.start()
    model._train_batch(x[:16], y[:16], None)
    base, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in range(10):
        model._train_batch(x[:16], y[:16], None)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak - base < 2048 and current - base < 512


def test_predict_classes_and_proba():
    x, y = data()
    model = small_model()
    p = model.predict(x)
    np.testing.assert_array_equal(model.predict_classes(x), np.argmax(p, axis=-1))
    np.testing.assert_array_equal(model.predict_proba(x), p)
    binary = small_model(activation="sigmoid", units=1)
    pb = binary.predict(x)
    np.testing.assert_array_equal(binary.predict_classes(x), (pb > 0.5).astype("int32"))
    with pytest.warns(UserWarning, match="invalid probability"):
        small_model(activation="linear", units=2).predict_proba(x * 100)


def test_default_initializers_are_glorot_uniform_and_zeros_and_seeded():
    keras.utils.set_random_seed(42)
    a = Dense(300, input_dim=200)
    Sequential([a])
    keras.utils.set_random_seed(42)
    b = Dense(300, input_dim=200)
    Sequential([b])
    kernel, bias = a.get_weights()
    np.testing.assert_array_equal(kernel, b.get_weights()[0])
    limit = np.sqrt(6.0 / (200 + 300))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.99 * limit
    assert kernel.std() == pytest.approx(limit / np.sqrt(3), rel=0.01)
    assert abs(kernel.mean()) < 0.01 * limit
    np.testing.assert_array_equal(bias, np.zeros(300))
    keras.utils.set_random_seed(43)
    c = Dense(300, input_dim=200)
    Sequential([c])
    assert not np.array_equal(c.get_weights()[0], kernel)


def test_weighted_metrics_use_sample_weights_as_keras():
    x, y = data(n=12)
    model = small_model()
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"], weighted_metrics=["accuracy", "mse"])
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy", "weighted_mse"]
    p = model.predict(x).astype(np.float64)
    hits = (np.argmax(p, 1) == np.argmax(y, 1)).astype(np.float64)
    mse = np.mean((p - y) ** 2, axis=1)
    w = np.array([0, 1, 2, 0, 1, 1, 3, 0, 1, 2, 1, 1], dtype=np.float64)
    loss, acc, wacc, wmse = model.test_on_batch(x, y, sample_weight=w)
    assert acc == pytest.approx(hits.mean())
    assert wacc == pytest.approx(np.sum(w * hits) / np.count_nonzero(w))
    assert wmse == pytest.approx(np.sum(w * mse) / np.count_nonzero(w), rel=1e-5)
    _, acc, wacc, _ = model.test_on_batch(x, y)
    assert wacc == acc
