"""Every engine computation treats subnormal floats (below 2**-126, about 1.2e-38) as zero, on
every thread, as TensorFlow's kernels do (seqnet/cpu.h, FlushScope): as inputs they read as 0
and results that small are stored as 0. Each subnormal a product reads would otherwise cost an
assist of about a hundred cycles: a few saturated sigmoids (inputs below -87.3) made a whole
training step ten times slower. The caller's thread keeps IEEE subnormals outside the engine.

The references are NumPy float64 with TensorFlow's rule applied: subnormal inputs zeroed,
results below the smallest normal float32 stored as 0."""
import platform

import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine as E

pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686", "aarch64", "arm64"),
    reason="the engine flushes subnormals through x86's MXCSR (FTZ/DAZ) and AArch64's FPCR.FZ only; this CPU is neither")

F32 = np.float32
TINY = np.finfo(F32).tiny  # the smallest normal float32, 2**-126


def rng(seed):
    return np.random.default_rng(seed)


def subnormal(a):
    return (a != 0) & (np.abs(a) < TINY)


def flushed(a):
    """a with its subnormals as zeros (DAZ on inputs, FTZ on float32 results)."""
    a = np.array(a, copy=True)
    a[np.abs(a) < TINY] = 0
    return a


def callers_thread_keeps_subnormals():
    return F32(3e-39) * F32(0.5) != 0.0


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(64, 96, 48), (300, 512, 256)])  # small path, and packed (AMX where present)
def test_products_read_subnormal_inputs_as_zero(shape, threads, restore_threads):
    E.set_num_threads(threads)
    m, k, n = shape
    a = rng(1).standard_normal((m, k)).astype(F32)
    b = rng(2).standard_normal((k, n)).astype(F32)
    a[rng(3).random((m, k)) < 0.1] = F32(3e-39)
    b[:, ::7] = F32(-5e-40)
    assert subnormal(a).any() and subnormal(b).any()
    c = np.empty((m, n), F32)
    E.sgemm(a, b, c)
    zeroed = np.empty_like(c)
    E.sgemm(flushed(a), flushed(b), zeroed)
    np.testing.assert_array_equal(c, zeroed)
    ref = flushed(a).astype(np.float64) @ flushed(b).astype(np.float64)
    np.testing.assert_allclose(c, ref, rtol=2e-4, atol=2e-4 * np.abs(ref).max())
    assert callers_thread_keeps_subnormals()


def test_saturated_sigmoids_give_zero_as_tensorflow_does():
    """sigmoid(x) for x in [-103.3, -87.3] is a subnormal float32; TensorFlow's CPU kernels give
    0 there (tf.sigmoid([-87.5, -88.0]) == [0, 0]), and so does seqnet, in the layer and the
    model's gradient step."""
    x = np.array([[0.0, -20.0, -86.0, -87.0, -87.5, -88.0, -95.0, -103.0, -120.0, 3.0]], F32)
    want = flushed((1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32))
    assert subnormal((1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32)).sum() >= 4
    model = keras.models.Sequential([keras.layers.Activation("sigmoid", input_shape=(x.shape[1],))])
    got = model.predict(x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    assert not subnormal(got).any()
    assert callers_thread_keeps_subnormals()


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "elu"])
def test_elementwise_results_are_the_same_on_any_thread_count(act, restore_threads):
    """A large activation splits over threads; each thread flushes, so the bits do not depend
    on which thread computed what."""
    x = rng(4).standard_normal(300_000).astype(F32) * F32(2e-38)  # about half subnormal
    x[::5] = F32(-100.0)
    assert subnormal(x).mean() > 0.3
    code = getattr(E.Activation, act)
    outs = []
    for threads in (1, 2):
        E.set_num_threads(threads)
        y = np.empty_like(x)
        E.activation_forward(code, x, y)
        outs.append(y)
    np.testing.assert_array_equal(outs[0].view(np.uint32), outs[1].view(np.uint32))
    assert not subnormal(outs[0]).any()
    y64 = {"relu": np.maximum(flushed(x), 0), "sigmoid": 1 / (1 + np.exp(-flushed(x).astype(np.float64))),
           "tanh": np.tanh(flushed(x).astype(np.float64)),
           "elu": np.where(flushed(x) > 0, flushed(x), np.expm1(flushed(x).astype(np.float64)))}[act]
    np.testing.assert_allclose(outs[0], flushed(y64.astype(F32)), rtol=2e-6, atol=0)


def raw_pixel_model():
    """Sigmoids on unscaled pixels: pre-activations reach -200, so some hidden outputs are
    subnormal in exact arithmetic."""
    keras.utils.set_random_seed(5)
    model = keras.models.Sequential([
        keras.layers.Dense(64, activation="sigmoid", input_shape=(196,)),
        keras.layers.Dense(32, activation="sigmoid"),
        keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.RMSprop(), "categorical_crossentropy")
    return model


def test_training_on_saturated_sigmoids_is_the_same_on_any_thread_count(restore_threads):
    x = (rng(6).random((256, 196)) * 255).astype(F32)
    y = np.eye(10, dtype=F32)[rng(7).integers(0, 10, 256)]
    model = raw_pixel_model()
    w, b = model.layers[0].get_weights()
    pre = x.astype(np.float64) @ w.astype(np.float64) + b
    exact = (1 / (1 + np.exp(-pre))).astype(F32)
    assert subnormal(exact).sum() > 20  # the data reaches the subnormal range
    hidden = keras.models.Model(model.input, model.layers[0].output).predict(x)
    # float32 pre-activations of up to 200 carry errors of about 1e-4 (sigmoid' <= 1/4)
    np.testing.assert_allclose(hidden, flushed(exact), rtol=1e-5, atol=1e-4)
    assert not subnormal(hidden).any() and (hidden[subnormal(exact)] == 0).all()
    weights = []
    for threads in (1, 2):
        E.set_num_threads(threads)
        model = raw_pixel_model()
        model.fit(x, y, batch_size=64, epochs=2, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for w1, w2 in zip(*weights):
        np.testing.assert_array_equal(w1, w2)
        assert np.isfinite(w1).all()
    assert callers_thread_keeps_subnormals()
