"""Masks as Keras 2.2.4 has them: Embedding(mask_zero) and Masking create them, Dense,
Dropout, Activation and merges pass them on, GlobalAveragePooling1D and recurrent layers
consume them, Flatten refuses them, and losses and metrics are masked; temporal sample
weights. References: NumPy float64 versions of Keras 2.2.4's weighted_masked_objective,
and tf-keras fixtures (tests/fixtures/make_graph_fixtures.py)."""
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import (Add, Dense, Embedding, Flatten, GlobalAveragePooling1D, Input, Masking, concatenate)
from seqnet.models import Model, Sequential

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def keras224_masked_mse(pred, y, mask, weights=None):
    """Keras 2.2.4's weighted_masked_objective(mse) in float64."""
    score = ((pred.astype(np.float64) - y) ** 2).mean(axis=-1)
    m = mask.astype(np.float64)
    score = score * m / m.mean()
    if weights is None:
        weights = np.ones(score.shape[:1])
    if weights.ndim == 1:
        score = score.mean(axis=1)
    score = score * weights
    score = score / np.mean(weights != 0)
    return score.mean()


def masking_model():
    keras.utils.set_random_seed(3)
    model = Sequential([Masking(mask_value=0.0, input_shape=(5, 3)), Dense(2)])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse", metrics=["mae"])
    return model


def padded_batch(rng):
    x = rng.randn(4, 5, 3).astype(np.float32)
    x[0, :2] = 0.0   # leading padding
    x[1, 3:] = 0.0   # trailing padding
    x[2, 2] = 0.0    # a gap
    return x, rng.randn(4, 5, 2).astype(np.float32)


def test_masking_zeroes_masked_steps_and_the_loss_ignores_them():
    model = masking_model()
    rng = np.random.RandomState(0)
    x, y = padded_batch(rng)
    mask = np.any(x != 0.0, axis=-1)
    kernel, bias = model.get_weights()
    pred = model.predict(x)
    want = (x * mask[..., None]) @ kernel + bias
    np.testing.assert_allclose(pred, want, rtol=1e-5, atol=1e-6)
    loss, mae = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(keras224_masked_mse(pred, y, mask), rel=1e-5)
    abs_err = np.abs(pred.astype(np.float64) - y).mean(axis=-1)
    assert mae == pytest.approx((abs_err * mask).sum() / mask.sum(), rel=1e-5)


def test_masked_loss_gradient_matches_finite_differences():
    model = masking_model()
    rng = np.random.RandomState(1)
    x, y = padded_batch(rng)
    mask = np.any(x != 0.0, axis=-1)
    model.compile(keras.optimizers.SGD(lr=1.0), "mse")
    w0 = [w.astype(np.float64) for w in model.get_weights()]
    model.train_on_batch(x, y)
    grads = [a - b for a, b in zip(w0, model.get_weights())]
    xm = x.astype(np.float64) * mask[..., None]

    def loss_of(kernel, bias):
        return keras224_masked_mse(xm @ kernel + bias, y, mask)

    eps = 1e-6
    numeric = np.zeros_like(w0[0])
    for idx in np.ndindex(numeric.shape):
        plus, minus = w0[0].copy(), w0[0].copy()
        plus[idx] += eps
        minus[idx] -= eps
        numeric[idx] = (loss_of(plus, w0[1]) - loss_of(minus, w0[1])) / (2 * eps)
    np.testing.assert_allclose(grads[0], numeric, rtol=1e-3, atol=1e-6)


def test_temporal_sample_weights_with_a_mask():
    model = masking_model()
    model.compile(keras.optimizers.SGD(lr=0.1), "mse", sample_weight_mode="temporal")
    rng = np.random.RandomState(2)
    x, y = padded_batch(rng)
    mask = np.any(x != 0.0, axis=-1)
    sw = rng.rand(4, 5).astype(np.float32)
    sw[3] = 0.0
    pred = model.predict(x)
    assert model.test_on_batch(x, y, sample_weight=sw) == pytest.approx(keras224_masked_mse(pred, y, mask, sw),
                                                                         rel=1e-5)
    with pytest.raises(ValueError, match="2D sample_weight"):
        model.test_on_batch(x, y, sample_weight=sw[:, 0])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="sample_weight_mode"):
        model.test_on_batch(x, y, sample_weight=sw)
    per_sample = rng.rand(4).astype(np.float32)
    assert model.test_on_batch(x, y, sample_weight=per_sample) == pytest.approx(
        keras224_masked_mse(pred, y, mask, per_sample), rel=1e-5)


def test_embedding_mask_zero_feeds_masked_average_pooling():
    keras.utils.set_random_seed(5)
    model = Sequential([Embedding(10, 4, mask_zero=True, input_length=6), GlobalAveragePooling1D(), Dense(1)])
    model.compile(keras.optimizers.SGD(lr=1.0), "mse")
    ids = np.array([[0, 0, 3, 4, 5, 1], [2, 2, 9, 0, 0, 0], [7, 8, 0, 1, 2, 3]])
    table, kernel, bias = model.get_weights()
    mask = ids != 0
    pooled = (table[ids] * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(ids), pooled @ kernel + bias, rtol=1e-5, atol=1e-6)
    # gradient of the table: only unmasked positions contribute
    y = np.zeros((3, 1))
    model.train_on_batch(ids, y)
    diff = table - model.get_weights()[0]
    assert np.all(diff[0] == 0) and np.any(diff[3] != 0) and np.all(diff[6] == 0)


def test_layers_without_mask_support_refuse_a_mask():
    with pytest.raises(TypeError, match="does not support masking"):
        Sequential([Embedding(10, 4, mask_zero=True, input_length=6), Flatten()])
    x = Input((6,))
    emb = Embedding(10, 4, mask_zero=True)(x)
    assert emb._keras_mask is not None
    assert Dense(3)(emb)._keras_mask is not None  # Dense passes masks on (Keras 2.2.4)


def test_merge_masks_are_combined_at_run_time():
    a, b = Input((4,)), Input((4,))
    ea, eb = Embedding(10, 2, mask_zero=True)(a), Embedding(10, 2, mask_zero=True)(b)
    added, joined = Add()([ea, eb]), concatenate([ea, eb], axis=1)
    assert added._keras_mask is not None and joined._keras_mask.shape == (None, 8)
    model = Model([a, b], [GlobalAveragePooling1D()(added), GlobalAveragePooling1D()(joined)])
    ia, ib = np.array([[1, 2, 0, 0]]), np.array([[1, 0, 3, 0]])
    table_a, table_b = model.get_weights()
    out_add, out_cat = model.predict([ia, ib])
    both = (ia != 0) & (ib != 0)
    summed = table_a[ia] + table_b[ib]
    np.testing.assert_allclose(out_add, (summed * both[..., None]).sum(1) / both.sum(), rtol=1e-6)
    cat = np.concatenate([table_a[ia], table_b[ib]], axis=1)
    cmask = np.concatenate([ia != 0, ib != 0], axis=1)
    np.testing.assert_allclose(out_cat, (cat * cmask[..., None]).sum(1) / cmask.sum(), rtol=1e-6)
