"""The LSTM's one parallel region per call (issue 8): batch rows split between the threads
for the recurrence, and, backward, the weight gradients split by columns in the same region.
Whatever the split (or the contention fallback to one thread), the results are the bits of
the one-thread run, and they match a float64 reference."""
import numpy as np
import pytest

from seqnet import _engine

from test_rnn_masks import make_case, engine_forward, engine_grads, reference

A = _engine.Activation


@pytest.fixture
def restore_threads():
    before = _engine.get_num_threads()
    yield
    _engine.set_num_threads(before)


def _run(c, mask, back):
    rng = np.random.RandomState(5)
    dhs = rng.normal(size=c["x"].shape[:2] + (c["u"].shape[0],)).astype(np.float32)
    dh = rng.normal(size=(c["x"].shape[0], c["u"].shape[0])).astype(np.float32)
    f = engine_forward("lstm", c, mask, back=back)
    g = engine_grads("lstm", c, mask, A.tanh, A.hard_sigmoid, back, dhs, dh, None)
    return [f["hs"], f["h_last"]] + [v for v in g.values() if v is not None]


# the seed stacked / stateful LSTM layers (64 and 32 rows, 32 units): split since issue 8
@pytest.mark.parametrize("batch,steps,dim,units", [(64, 8, 32, 32), (32, 8, 16, 32), (9, 30, 8, 64)])
@pytest.mark.parametrize("masked", [False, True])
def test_lstm_threads_bit_identical_without_dropout(batch, steps, dim, units, masked, restore_threads):
    c = make_case("lstm", batch=batch, steps=steps, dim=dim, n=units, seed=7, scale=0.3, dropout=False)
    mask = None
    if masked:
        mask = (np.random.RandomState(2).uniform(size=(batch, steps)) > 0.3).astype(np.uint8)
        mask[0] = 0
    runs = []
    for threads in (1, 2):
        _engine.set_num_threads(threads)
        runs.append(_run(c, mask, back=masked))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    ref, _, _ = reference("lstm", c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], mask, None, None,
                          back=masked)
    np.testing.assert_allclose(runs[1][0], ref, rtol=1e-4, atol=1e-5)
