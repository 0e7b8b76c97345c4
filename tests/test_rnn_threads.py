"""The recurrent layers' one parallel region per call (issue 8): batch rows split between
the threads for the recurrence, and, backward (LSTM), the weight gradients split by columns in
the same region. Whatever the split (or the contention fallback to one thread), the results
are the bits of the one-thread run, and they match a float64 reference."""
import numpy as np
import pytest

from seqnet import _engine

from test_rnn_masks import make_case, engine_forward, engine_grads, reference

A = _engine.Activation


@pytest.fixture
def restore_threads():
    """Restores the thread count after the test, and keeps every thread running meanwhile (no
    contention back-off to one thread), so each split really runs."""
    before = _engine.get_num_threads()
    backoff = _engine.set_contention_backoff(False)
    yield
    _engine.set_num_threads(before)
    _engine.set_contention_backoff(backoff)


def _run(c, mask, back, cell="lstm"):
    rng = np.random.RandomState(5)
    dhs = rng.normal(size=c["x"].shape[:2] + (c["u"].shape[0],)).astype(np.float32)
    dh = rng.normal(size=(c["x"].shape[0], c["u"].shape[0])).astype(np.float32)
    f = engine_forward(cell, c, mask, back=back)
    g = engine_grads(cell, c, mask, A.tanh, A.hard_sigmoid, back, dhs, dh, None)
    return [f["hs"], f["h_last"]] + [v for v in g.values() if v is not None]


# the seed stacked / stateful LSTM layers (64 and 32 rows, 32 units): split since issue 8; the
# GRU's (reset_after either way) and the SimpleRNN's recurrences likewise
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_ra", "simple"])
@pytest.mark.parametrize("batch,steps,dim,units", [(64, 8, 32, 32), (32, 8, 16, 32), (9, 30, 8, 64), (12, 40, 5, 37)])
@pytest.mark.parametrize("masked", [False, True])
def test_threads_bit_identical_without_dropout(cell, batch, steps, dim, units, masked, restore_threads):
    c = make_case(cell, batch=batch, steps=steps, dim=dim, n=units, seed=7, scale=0.3, dropout=False)
    mask = None
    if masked:
        mask = (np.random.RandomState(2).uniform(size=(batch, steps)) > 0.3).astype(np.uint8)
        mask[0] = 0
    runs = []
    for threads in (1, 2):
        _engine.set_num_threads(threads)
        runs.append(_run(c, mask, back=masked, cell=cell))
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    ref, _, _ = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], mask, None, None,
                          back=masked)
    np.testing.assert_allclose(runs[1][0], ref, rtol=1e-4, atol=1e-5)


# With dropout, the per-step products go gate by gate through scratch (recurrent_product), on
# each thread's own rows all the same.
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_ra", "simple"])
def test_threads_bit_identical_with_dropout(cell, restore_threads):
    c = make_case(cell, batch=16, steps=12, dim=24, n=48, seed=8, scale=0.3, dropout=True)
    mask = (np.random.RandomState(6).uniform(size=(16, 12)) > 0.25).astype(np.uint8)
    runs = []
    for threads in (1, 2, 3):
        _engine.set_num_threads(threads)
        runs.append(_run(c, mask, back=True, cell=cell))
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
    ref, _, _ = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], mask, c["in_mask"],
                          c["rec_mask"], back=True)
    np.testing.assert_allclose(runs[1][0], ref, rtol=1e-4, atol=1e-5)


@pytest.fixture
def restore_speeds():
    before = _engine.rnn_thread_speeds()
    yield
    _engine.set_rnn_thread_speeds(before)


# The rows follow the threads' measured speeds (a VM's cores need not run alike): an uneven
# split, either way round, and a layer large enough that its projections and dx run on
# sgemm's threads outside the recurrence, still give the bits of one thread.
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_ra", "simple"])
@pytest.mark.parametrize("batch,steps,dim,units", [(16, 12, 16, 32), (16, 40, 64, 128), (11, 8, 8, 64)])
@pytest.mark.parametrize("speeds", [[3.0, 1.0], [1.0, 4.0], [0.25, 0.25]])
def test_uneven_thread_split_bit_identical(cell, batch, steps, dim, units, speeds, restore_threads,
                                           restore_speeds):
    # U in +-0.3 over 128 units makes a SimpleRNN chaotic (spectral radius about 2), where float32
    # drifts from float64 by 1e-4 after 40 steps whatever the threads; 0.1 keeps it contracting
    c = make_case(cell, batch=batch, steps=steps, dim=dim, n=units, seed=3, scale=0.1 if cell == "simple" else 0.3,
                  dropout=False)
    mask = (np.random.RandomState(4).uniform(size=(batch, steps)) > 0.2).astype(np.uint8)
    _engine.set_num_threads(1)
    one = _run(c, mask, back=False, cell=cell)
    _engine.set_num_threads(2)
    for _ in range(3):  # the split moves toward the measured speeds between calls
        _engine.set_rnn_thread_speeds(speeds)
        assert _engine.rnn_thread_speeds()[:2] == speeds
        for a, b in zip(one, _run(c, mask, back=False, cell=cell)):
            assert np.array_equal(a, b)
    ref, _, _ = reference(cell, c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], mask, None, None, back=False)
    np.testing.assert_allclose(one[0], ref, rtol=1e-4, atol=1e-5)


def test_set_rnn_thread_speeds_checks_its_argument(restore_speeds):
    with pytest.raises(ValueError, match=r"in \[0.25, 4\], got 0.1"):
        _engine.set_rnn_thread_speeds([1.0, 0.1])
    with pytest.raises(ValueError, match="at most 8 speeds, got 9"):
        _engine.set_rnn_thread_speeds([1.0] * 9)


# More threads than the split remembers speeds for (8): an equal split, still the bits of one thread.
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_ra", "simple"])
def test_many_threads_bit_identical(cell, restore_threads):
    c = make_case(cell, batch=48, steps=6, dim=16, n=32, seed=9, scale=0.3, dropout=False)
    _engine.set_num_threads(1)
    one = _run(c, None, back=False, cell=cell)
    _engine.set_num_threads(12)
    for a, b in zip(one, _run(c, None, back=False, cell=cell)):
        assert np.array_equal(a, b)


# A large layer's products after the backward recurrence (dx, dW, dU, db on sgemm's threads):
# any thread count gives the bits of one thread, and each product matches float64 from the gate
# gradients the backward leaves in `gates` (dx = dG W^T, dW = x^T dG, dU = hprev^T dG, db).
@pytest.mark.parametrize("batch,steps,dim,units", [(16, 40, 136, 128), (6, 30, 200, 160)])
def test_lstm_backward_product_tasks(batch, steps, dim, units, restore_threads):
    c = make_case("lstm", batch=batch, steps=steps, dim=dim, n=units, seed=11, scale=0.3, dropout=False)
    rng = np.random.RandomState(5)
    dhs = rng.normal(size=(batch, steps, units)).astype(np.float32)
    runs = []
    for threads in (1, 2, 3):
        _engine.set_num_threads(threads)
        f = engine_forward("lstm", c, None)
        g = dict(x=np.empty_like(c["x"]), w=np.empty_like(c["w"]), u=np.empty_like(c["u"]), b=np.empty_like(c["b"]))
        _engine.rnn_backward(_engine.RnnCell.LSTM, c["x"], c["w"], c["u"], c["h0"], c["c0"], None, None, f["gates"],
                             f["hs"], f["aux"], dhs, None, None, g["x"], g["w"], g["u"], g["b"], None, None,
                             f["scratch"], A.tanh, A.hard_sigmoid, False)
        runs.append((f, g))
    for f, g in runs[1:]:
        for name in g:
            assert np.array_equal(g[name], runs[0][1][name]), name
    f, g = runs[0]
    dg = f["gates"].astype(np.float64).reshape(batch * steps, 4 * units)
    x = c["x"].astype(np.float64).reshape(batch * steps, dim)
    hprev = np.concatenate([c["h0"][:, None], f["hs"][:, :-1]], axis=1).astype(np.float64).reshape(-1, units)
    np.testing.assert_allclose(g["x"].reshape(-1, dim), dg @ c["w"].astype(np.float64).T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g["w"], x.T @ dg, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g["u"], hprev.T @ dg, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g["b"], dg.sum(axis=0), rtol=1e-4, atol=1e-4)


# A small layer (its products together under 32M multiply-adds) whose input projection, dx and
# dW would each be large enough for the AMX path on their own (input 1000 x 4 * 100 gates,
# 64 rows): the threads split them between themselves, and the parts, whose shapes depend on
# the thread count, must still take the same path as the whole.
@pytest.mark.parametrize("amx", [False, True])
def test_lstm_split_products_bit_identical_with_amx(amx, restore_threads):
    if amx and not _engine.amx_available():
        pytest.skip("needs AMX-BF16 and Linux granting the tile state")
    saved = _engine.amx_active()
    _engine.set_amx(amx)
    try:
        c = make_case("lstm", batch=8, steps=8, dim=1000, n=100, seed=3, scale=0.1, dropout=False)
        runs = []
        for threads in (1, 2, 3):
            _engine.set_num_threads(threads)
            runs.append(_run(c, None, back=False))
    finally:
        _engine.set_amx(saved)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
    ref, _, _ = reference("lstm", c["x"], c["w"], c["u"], c["b"], c["h0"], c["c0"], None, None, None, back=False)
    np.testing.assert_allclose(runs[0][0], ref, rtol=1e-4, atol=1e-5)


# (8, 16): an LSTM that splits its products between the recurrence's threads; (64, 128): per-step
# products and cell loops of a GRU / SimpleRNN large enough for threads of their own.
@pytest.mark.parametrize("batch,units", [(8, 16), (64, 128)])
@pytest.mark.parametrize("cell", ["lstm", "gru", "gru_ra", "simple"])
@pytest.mark.parametrize("dropout", [False, True])
def test_recurrence_flushes_subnormals_alike_on_every_thread(cell, dropout, batch, units, restore_threads):
    """Gradients through 200 steps decay into the subnormal range, where the recurrence
    flushes them to zero (as TensorFlow's threads do, and 2x faster than taking the assists),
    on every thread alike, while the products after it keep the caller's mode whether they run
    on the recurrence's threads (an LSTM's own rows) or after it: the same bits for 1, 2 and 3
    threads, with and without recurrent dropout (whose masked products run through scratch).
    The calling thread's own floating-point mode is left as it was."""
    c = make_case(cell, batch=batch, steps=200, dim=8, n=units, seed=4, scale=0.05, dropout=dropout)
    rng = np.random.RandomState(1)
    dhs = np.zeros(c["x"].shape[:2] + (units,), np.float32)
    dh = rng.normal(size=(batch, units)).astype(np.float32)
    dc = np.zeros_like(dh) if cell == "lstm" else None
    runs = []
    for threads in (1, 2, 3):
        _engine.set_num_threads(threads)
        g = engine_grads(cell, c, None, A.tanh, A.hard_sigmoid, False, dhs, dh, dc)
        runs.append([v for v in g.values() if v is not None])
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            assert np.array_equal(a, b)
    dx = runs[0][0]
    tiny = np.finfo(np.float32).tiny
    assert np.abs(dx[:, 0]).max() < tiny <= np.abs(dx[:, -1]).max()  # decayed to nothing at the start
    # NumPy on this thread still computes subnormals (the mode was restored).
    assert np.float32(1e-38) / np.float32(100) != 0
