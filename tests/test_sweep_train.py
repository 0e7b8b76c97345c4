"""Regression tests from the differential sweep of losses, metrics, optimizers and the
training API against tf-keras: each test pins one discrepancy that was fixed. References
are NumPy float64 formulas written here, or tf-keras results stored by
tests/fixtures/make_sweep_train_fixtures.py in tests/fixtures/sweep_train.npz."""
import functools
import os

import numpy as np
import pytest

from seqnet import losses, optimizers
from seqnet.layers import Dense
from seqnet.models import Sequential

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "sweep_train.npz")


@pytest.fixture(scope="module")
def tf_keras_results():
    with np.load(FIXTURE) as data:
        return dict(data)


def two_dense(input_shape, units, activation, flat_weights=None, seed=0):
    """Dense(5, tanh) then Dense(units, activation), as the fixture script builds it."""
    model = Sequential([Dense(5, activation="tanh", input_shape=input_shape), Dense(units, activation=activation)])
    shapes = [w.shape for w in model.get_weights()]
    if flat_weights is None:
        flat_weights = np.random.RandomState(seed).uniform(-0.8, 0.8, sum(int(np.prod(s)) for s in shapes))
    splits = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    model.set_weights([p.reshape(s).astype(np.float32) for p, s in zip(np.split(flat_weights, splits), shapes)])
    return model


def flat(weights):
    return np.concatenate([np.ravel(w) for w in weights])


# ---- sparse_categorical_crossentropy on 3-D outputs ---------------------------------------
# Integer labels (samples, timesteps) were flattened to (samples * timesteps,), so every
# fit/evaluate failed with "Found 10 input samples and 30 target samples".

def sparse_cce_reference(model, x, labels, weights=None):
    """Keras 2.2.4's weighted temporal loss in float64: sum(w * -log p[label]) / count(w != 0)."""
    p = model.predict(x).astype(np.float64)
    nll = -np.log(np.take_along_axis(p, labels.astype(np.int64)[..., None], axis=-1)[..., 0])
    w = np.ones_like(nll) if weights is None else weights.astype(np.float64)
    return float(np.sum(w * nll) / np.count_nonzero(w))


@pytest.mark.parametrize("label_shape", ["(n, t)", "(n, t, 1)"])
def test_sparse_crossentropy_on_sequences_evaluates_and_trains(label_shape):
    rng = np.random.RandomState(0)
    x = rng.randn(10, 3, 2).astype(np.float32)
    labels = rng.randint(0, 4, (10, 3))
    y = labels if label_shape == "(n, t)" else labels[..., None]
    model = two_dense((3, 2), 4, "softmax")
    model.compile(optimizers.SGD(lr=0.3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(x, y, batch_size=4, verbose=0)
    assert loss == pytest.approx(sparse_cce_reference(model, x, labels), rel=1e-5)
    assert acc == pytest.approx(np.mean(model.predict(x).argmax(-1) == labels), rel=1e-6)
    history = model.fit(x, y, batch_size=4, epochs=2, validation_split=0.2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["val_loss"]).all()


def test_sparse_crossentropy_on_sequences_trains_as_one_hot_crossentropy():
    """Sparse labels and their one-hot form give the same training, batch by batch
    (rows of the labels go with rows of x, also when the batches are shuffled)."""
    rng = np.random.RandomState(1)
    x = rng.randn(11, 3, 2).astype(np.float32)
    labels = rng.randint(0, 4, (11, 3))
    sparse, onehot = two_dense((3, 2), 4, "softmax"), two_dense((3, 2), 4, "softmax")
    sparse.compile(optimizers.SGD(lr=0.3), "sparse_categorical_crossentropy")
    onehot.compile(optimizers.SGD(lr=0.3), "categorical_crossentropy")
    order = rng.permutation(11)
    for a, b in ((sparse, labels[order]), (onehot, np.eye(4, dtype=np.float32)[labels[order]])):
        a.fit(x[order], b, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(sparse.get_weights(), onehot.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_sparse_crossentropy_on_sequences_with_temporal_weights_matches_tf_keras(tf_keras_results):
    f = tf_keras_results
    model = two_dense((3, 2), 4, "softmax", f["sparse3d_w0"])
    model.compile(optimizers.SGD(lr=0.3), "sparse_categorical_crossentropy", sample_weight_mode="temporal")
    first = model.evaluate(f["sparse3d_x"], f["sparse3d_y"], sample_weight=f["sparse3d_sw"], batch_size=4, verbose=0)
    assert first == pytest.approx(sparse_cce_reference(model, f["sparse3d_x"], f["sparse3d_y"], f["sparse3d_sw"]),
                                  rel=1e-5)
    history = model.fit(f["sparse3d_x"], f["sparse3d_y"], sample_weight=f["sparse3d_sw"], batch_size=4, epochs=2,
                        shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose([first] + history, f["sparse3d_loss"], rtol=1e-4)
    np.testing.assert_allclose(flat(model.get_weights()), f["sparse3d_w1"], rtol=1e-3, atol=1e-5)


def test_accuracies_on_sequence_outputs_are_means_over_timesteps():
    """The accuracy kernels sum over samples and timesteps; the mean divided by the samples
    only, so accuracies of 3-D outputs came out times the number of timesteps."""
    rng = np.random.RandomState(4)
    x = rng.randn(10, 3, 2).astype(np.float32)
    labels = rng.randint(0, 4, (10, 3))
    onehot = np.eye(4, dtype=np.float32)[labels]
    for loss, y, metrics in (("categorical_crossentropy", onehot, ["accuracy", "categorical_accuracy"]),
                             ("sparse_categorical_crossentropy", labels, ["accuracy", "sparse_categorical_accuracy"]),
                             ("binary_crossentropy", onehot, ["accuracy", "binary_accuracy"])):
        model = two_dense((3, 2), 4, "sigmoid" if loss == "binary_crossentropy" else "softmax")
        model.compile("sgd", loss, metrics=metrics)
        p = model.predict(x)
        want = (np.mean((p > 0.5) == onehot) if loss == "binary_crossentropy"
                else np.mean(p.argmax(-1) == labels))
        for got in (model.evaluate(x, y, batch_size=4, verbose=0)[1:], model.test_on_batch(x, y)[1:]):
            np.testing.assert_allclose(got, [want, want], rtol=1e-6)


# ---- clipvalue with global_clipnorm (tf-keras' order) and clipnorm (Keras 2.2.4's) --------

def one_sgd_step(clip, lr=0.1):
    """The weights of Dense(2) (linear, mse) after one SGD step with `clip`, and the float64
    reference gradient of that step (before clipping)."""
    rng = np.random.RandomState(2)
    x, y = rng.randn(6, 3), 5.0 * rng.randn(6, 2)
    model = Sequential([Dense(2, input_shape=(3,))])
    kernel, bias = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 2)
    model.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    model.compile(optimizers.SGD(lr=lr, **clip), "mse")
    model.train_on_batch(x.astype(np.float32), y.astype(np.float32))
    residual = 2.0 * (x @ kernel + bias - y) / y.size
    grads = [x.T @ residual, residual.sum(axis=0)]
    return model.get_weights(), [kernel, bias], grads


def clip_by_global_norm(grads, c):
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    return [g * (c / norm) if norm >= c else g for g in grads]


@pytest.mark.parametrize("norm_arg", ["clipnorm", "global_clipnorm"])
def test_clipvalue_order_with_norm_clipping(norm_arg):
    got, weights, grads = one_sgd_step({norm_arg: 0.5, "clipvalue": 0.3})
    if norm_arg == "clipnorm":  # Keras 2.2.4's get_gradients: by the global norm, then by value
        clipped = [np.clip(g, -0.3, 0.3) for g in clip_by_global_norm(grads, 0.5)]
    else:  # tf-keras' _transform_gradients: by value, then by the global norm
        clipped = clip_by_global_norm([np.clip(g, -0.3, 0.3) for g in grads], 0.5)
    for g, w, c in zip(got, weights, clipped):
        np.testing.assert_allclose(g, w - 0.1 * c, rtol=1e-5, atol=1e-6)


def test_global_clipnorm_with_clipvalue_matches_tf_keras(tf_keras_results):
    f = tf_keras_results
    model = two_dense((4,), 3, None, f["gclip_w0"])
    model.compile(optimizers.Adam(learning_rate=0.05, global_clipnorm=0.1, clipvalue=0.01), "mse")
    got = [model.train_on_batch(f["gclip_x"], f["gclip_y"]) for _ in range(3)]
    np.testing.assert_allclose(got, f["gclip_loss"], rtol=1e-4)
    np.testing.assert_allclose(flat(model.get_weights()), f["gclip_w1"], rtol=1e-3, atol=2e-5)


# ---- label_smoothing (tf-keras' argument) -----------------------------------------------------

def test_label_smoothing_values():
    rng = np.random.RandomState(3)
    y = np.eye(4)[rng.randint(0, 4, 5)]
    p = rng.uniform(0.05, 1.0, (5, 4))
    p /= p.sum(axis=-1, keepdims=True)
    smooth = y * 0.8 + 0.2 / 4
    np.testing.assert_allclose(losses.categorical_crossentropy(y, p, label_smoothing=0.2),
                               -np.sum(smooth * np.log(p), axis=-1), rtol=1e-5)
    q = rng.uniform(0.05, 0.95, (5, 4))
    smooth = y * 0.8 + 0.1
    np.testing.assert_allclose(losses.binary_crossentropy(y, q, label_smoothing=0.2),
                               -np.mean(smooth * np.log(q) + (1 - smooth) * np.log(1 - q), axis=-1), rtol=1e-5)
    logits = rng.randn(5, 4)
    np.testing.assert_allclose(losses.binary_crossentropy(y, logits, from_logits=True, label_smoothing=0.2),
                               losses.binary_crossentropy(y, 1 / (1 + np.exp(-logits)), label_smoothing=0.2),
                               rtol=1e-4)


@pytest.mark.parametrize("case,loss,activation", [("ls_cce", "categorical_crossentropy", "softmax"),
                                                  ("ls_bce", "binary_crossentropy", "sigmoid")])
def test_label_smoothing_trains_as_tf_keras(tf_keras_results, case, loss, activation):
    f = tf_keras_results
    model = two_dense((4,), 3, activation, f[f"{case}_w0"])
    model.compile(optimizers.SGD(lr=0.5), functools.partial(getattr(losses, loss), label_smoothing=0.2))
    got = [model.train_on_batch(f[f"{case}_x"], f[f"{case}_y"]) for _ in range(2)]
    np.testing.assert_allclose(got, f[f"{case}_loss"], rtol=1e-4)
    np.testing.assert_allclose(flat(model.get_weights()), f[f"{case}_w1"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("value", [-0.1, 1.5, "0.1", True])
def test_label_smoothing_rejects_bad_values(value):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\], got"):
        losses.categorical_crossentropy(np.eye(3), np.full((3, 3), 1 / 3), label_smoothing=value)


# ---- bad input: clear errors instead of silent surprises ---------------------------------------

def small_model(**compile_kwargs):
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "categorical_crossentropy", **compile_kwargs)
    return model


def test_steps_with_batch_size_is_an_error_for_arrays():
    """Keras 2.2.4 (check_num_samples): with steps, each step takes all the samples, so a
    batch_size was silently ignored (tf-keras would take steps batches of batch_size)."""
    x, y = np.zeros((10, 4), np.float32), np.eye(3, dtype=np.float32)[np.arange(10) % 3]
    model = small_model()
    with pytest.raises(ValueError, match=r"fit: if steps_per_epoch is set, batch_size must be None.*"
                                         r"got batch_size=4 and steps_per_epoch=2"):
        model.fit(x, y, batch_size=4, steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: if steps is set, batch_size must be None.*"
                                         r"got batch_size=4 and steps=2"):
        model.evaluate(x, y, batch_size=4, steps=2, verbose=0)
    assert len(model.fit(x, y, steps_per_epoch=2, epochs=1, verbose=0).history["loss"]) == 1
    assert np.isfinite(model.evaluate(x, y, steps=2, verbose=0))


def test_temporal_sample_weights_need_a_time_axis():
    """A (samples, 1) weight array on a 2-D output broadcast to (samples, samples) weights
    and failed in the loss kernel ('needs 10 entries, got (100,)')."""
    x, y = np.zeros((10, 4), np.float32), np.eye(3, dtype=np.float32)[np.arange(10) % 3]
    model = small_model(sample_weight_mode="temporal")
    with pytest.raises(ValueError, match=r"sample_weight array with shape \(10, 1\) for a target of shape \(10, 3\)"
                                         r".*at least 3D"):
        model.fit(x, y, sample_weight=np.ones((10, 1)), verbose=0)
