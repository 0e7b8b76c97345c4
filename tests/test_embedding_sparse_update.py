"""Row-sparse Embedding updates (issue 8): an Embedding called once per step writes only the
rows its indices touch into its gradient, and plain RMSprop updates only those rows, leaving
the others to take their zero-gradient decays (a = rho * a) when next touched or when the
optimizer's slots are read. Everything must be the bits of the dense update Keras does: the
reference runs below train the same model with the row-sparse path switched off."""
import numpy as np
import pytest

import seqnet as keras
from seqnet import _engine

L = keras.layers
VOCAB, DIM = 300, 8


def dense_only(m):
    """Switches the row-sparse path off for model `m` (the reference runs)."""
    m._row_sparse_tables = lambda: []
    return m


def _data(seed, n=24, steps=5, vocab=VOCAB, rows_used=40):
    rng = np.random.RandomState(seed)
    x = rng.randint(rows_used, size=(n, steps)).astype(np.int32) * (vocab // rows_used)
    y = rng.randint(2, size=(n, 1)).astype(np.float32)
    return x, y


def _model(optimizer, recurrent=True, **emb_kw):
    m = keras.models.Sequential()
    m.add(L.Embedding(VOCAB, DIM, input_length=5, embeddings_initializer=keras.initializers.RandomUniform(seed=1),
                      **emb_kw))
    if recurrent:
        m.add(L.LSTM(6, kernel_initializer=keras.initializers.glorot_uniform(seed=2),
                     recurrent_initializer=keras.initializers.orthogonal(seed=3)))
    else:
        m.add(L.Flatten())
    m.add(L.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.glorot_uniform(seed=4)))
    m.compile(optimizer=optimizer, loss="binary_crossentropy")
    return m


def _train(make, dense, batches=6, fit_epochs=2, read_state_at=(), read_final=True):
    m = dense_only(make()) if dense else make()
    states = []
    for i in range(batches):
        x, y = _data(i)
        m.train_on_batch(x[:8], y[:8])
        if i in read_state_at:
            states.append([w.copy() for w in m.optimizer.get_weights()])
    x, y = _data(99)
    m.fit(x, y, batch_size=4, epochs=fit_epochs, verbose=0, shuffle=False)
    final = [w.copy() for w in m.optimizer.get_weights()] if read_final else None
    return m.get_weights(), final, states, m


def _assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert np.array_equal(np.asarray(u), np.asarray(v))


@pytest.mark.parametrize("opt", [
    lambda: keras.optimizers.RMSprop(),
    lambda: keras.optimizers.RMSprop(lr=0.01, rho=0.5, decay=0.01),
])
def test_rmsprop_row_updates_are_the_dense_bits(opt):
    ref = _train(lambda: _model(opt()), dense=True, read_state_at=(2,))
    got = _train(lambda: _model(opt()), dense=False, read_state_at=(2,))
    _assert_same(got[0], ref[0])  # weights
    _assert_same(got[1], ref[1])  # optimizer slots, read mid-run and at the end
    _assert_same(got[2][0], ref[2][0])
    # the row-sparse path did run, and left rows behind (only a few rows are ever touched)
    m = got[3]
    assert m._sparse_tables and m.layers[0].row_sparse_grads


def test_rows_left_behind_are_caught_up_by_save_and_dense_steps(tmp_path):
    def make():
        return _model(keras.optimizers.RMSprop(lr=0.01))
    ref = _train(make, dense=True, fit_epochs=1, read_final=False)[3]
    got = _train(make, dense=False, fit_epochs=1, read_final=False)[3]
    opt = got.optimizer
    assert opt._lazy, "the table's rows should be waiting for their decays"
    got.save(str(tmp_path / "m.h5"))  # reads the slots: every row brought up to date
    ref.save(str(tmp_path / "r.h5"))
    _assert_same(keras.models.load_model(str(tmp_path / "m.h5")).optimizer.get_weights(),
                 keras.models.load_model(str(tmp_path / "r.h5")).optimizer.get_weights())
    # one more step each, then weights and slots still agree
    x, y = _data(7)
    got.train_on_batch(x[:8], y[:8])
    ref.train_on_batch(x[:8], y[:8])
    _assert_same(got.get_weights(), ref.get_weights())
    _assert_same(got.optimizer.get_weights(), ref.optimizer.get_weights())


@pytest.mark.parametrize("opt", [
    lambda: keras.optimizers.RMSprop(momentum=0.5),
    lambda: keras.optimizers.RMSprop(centered=True),
    lambda: keras.optimizers.Adam(),
    lambda: keras.optimizers.SGD(lr=0.1, momentum=0.9),
    lambda: keras.optimizers.Adagrad(),
])
def test_other_optimizers_update_densely_from_the_exact_gradient(opt):
    ref = _train(lambda: _model(opt(), recurrent=False), dense=True, batches=4, fit_epochs=1)
    got = _train(lambda: _model(opt(), recurrent=False), dense=False, batches=4, fit_epochs=1)
    _assert_same(got[0], ref[0])
    _assert_same(got[1], ref[1])


@pytest.mark.parametrize("opt", [
    lambda **clip: keras.optimizers.RMSprop(**clip),
    lambda **clip: keras.optimizers.Adam(lr=0.01, **clip),
])
@pytest.mark.parametrize("clip", [dict(clipnorm=0.05), dict(clipvalue=0.002), dict(clipnorm=0.05, clipvalue=0.002)])
def test_clipping_reads_only_the_touched_rows(opt, clip):
    """clipnorm and clipvalue take a sparse table's rows alone (the rest of its gradient is 0):
    the same training as the dense path, but for the summation order of the norm."""
    ref = _train(lambda: _model(opt(**clip)), dense=True, batches=4, fit_epochs=1)
    got = _train(lambda: _model(opt(**clip)), dense=False, batches=4, fit_epochs=1)
    assert got[3]._sparse_tables
    for u, v in zip(got[0] + got[1], ref[0] + ref[1]):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=2e-5, atol=1e-7)
    plain = _train(lambda: _model(opt()), dense=False, batches=4, fit_epochs=1)
    assert not all(np.allclose(u, v, rtol=1e-3) for u, v in zip(got[0], plain[0]))  # the clipping acted


def test_gradient_stays_exact_between_steps():
    ref = dense_only(_model(keras.optimizers.RMSprop(), recurrent=False))
    got = _model(keras.optimizers.RMSprop(), recurrent=False)
    for i in range(5):
        x, y = _data(i)
        ref.train_on_batch(x[:8], y[:8])
        got.train_on_batch(x[:8], y[:8])
        # the gradient the row-sparse backward leaves is the dense one, stale rows cleared
        assert np.array_equal(got.layers[0].embeddings.grad, ref.layers[0].embeddings.grad)
        untouched = np.setdiff1d(np.arange(VOCAB), x[:8])
        assert np.all(got.layers[0].embeddings.grad[untouched] == 0.0)
    assert got.layers[0].row_sparse_grads and not ref.layers[0].row_sparse_grads


def test_regularized_shared_and_wrapped_tables_stay_dense():
    def regularized():
        return _model(keras.optimizers.RMSprop(), recurrent=False, embeddings_regularizer=keras.regularizers.l2(0.01))
    ref = _train(regularized, dense=True, batches=3, fit_epochs=1)
    got = _train(regularized, dense=False, batches=3, fit_epochs=1)
    _assert_same(got[0], ref[0])
    assert not got[3]._sparse_tables and not got[3].layers[0].row_sparse_grads

    def shared():
        emb = L.Embedding(VOCAB, DIM, embeddings_initializer=keras.initializers.RandomUniform(seed=1))
        a, b = L.Input((5,)), L.Input((5,))
        out = L.Dense(1, activation="sigmoid", kernel_initializer=keras.initializers.glorot_uniform(seed=4))(
            L.concatenate([L.Flatten()(emb(a)), L.Flatten()(emb(b))]))
        m = keras.models.Model([a, b], out)
        m.compile(optimizer=keras.optimizers.RMSprop(), loss="binary_crossentropy")
        return m

    def run(dense):
        m = dense_only(shared()) if dense else shared()
        for i in range(4):
            x, y = _data(i)
            x2, _ = _data(i + 50)
            m.train_on_batch([x[:8], x2[:8]], y[:8])
        return m
    got, ref = run(False), run(True)
    _assert_same(got.get_weights(), ref.get_weights())
    assert not got._sparse_tables


def test_sparse_table_in_a_nested_model_is_dense_but_exact():
    def make():
        inner = _model(keras.optimizers.RMSprop(), recurrent=False)
        inp = L.Input((5,))
        m = keras.models.Model(inp, inner(inp))
        m.compile(optimizer=keras.optimizers.RMSprop(), loss="binary_crossentropy")
        return m
    ref = _train(make, dense=True, batches=3, fit_epochs=1)
    got = _train(make, dense=False, batches=3, fit_epochs=1)
    _assert_same(got[0], ref[0])


# ---- the engine's row updates --------------------------------------------------------------
@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_engine_row_update_matches_dense_steps(isa):
    before = _engine.active_isa()
    _engine.set_isa(isa)
    try:
        rng = np.random.RandomState(0)
        rows, dim = 12, 37
        p = rng.normal(size=(rows, dim)).astype(np.float32)
        a = rng.uniform(0, 2, size=(rows, dim)).astype(np.float32)
        a[0, :3] = [0.0, 1e-38, 3e38]  # zero, subnormal-bound and huge accumulators
        grads = [np.zeros((rows, dim), np.float32) for _ in range(4)]
        ids = np.array([1, 4, 9], np.int64)
        for g in grads:
            g[ids] = rng.normal(size=(3, dim)).astype(np.float32)
        # dense: three zero steps for everyone, then the step with gradients on the ids
        pd, ad = p.copy(), a.copy()
        zero = np.zeros_like(p)
        for _ in range(3):
            _engine.rmsprop_update(pd.reshape(-1), zero.reshape(-1), ad.reshape(-1), None, None, 0.01, 0.9, 0.0, 1e-7)
        _engine.rmsprop_update(pd.reshape(-1), grads[0].reshape(-1), ad.reshape(-1), None, None, 0.01, 0.9, 0.0, 1e-7)
        # rows: the ids take 3 decays then the step; the rest wait, then catch up 4 decays
        pr, ar = p.copy(), a.copy()
        _engine.rmsprop_update_rows(pr, grads[0], ar, ids, np.full(3, 3, np.int64), 0.01, 0.9, 1e-7)
        rest = np.setdiff1d(np.arange(rows), ids).astype(np.int64)
        _engine.rmsprop_decay_rows(ar, rest, np.full(rest.size, 4, np.int64), 0.9)
        assert np.array_equal(pr, pd)
        assert np.array_equal(ar, ad)
    finally:
        _engine.set_isa(before)


def test_engine_row_update_rejects_bad_rows():
    p = np.zeros((5, 4), np.float32)
    g, a = p.copy(), p.copy()
    one = np.zeros(2, np.int64)
    with pytest.raises(ValueError, match=r"strictly increasing in \[0, 5\), got 1 at position 1"):
        _engine.rmsprop_update_rows(p, g, a, np.array([3, 1], np.int64), one, 0.1, 0.9, 1e-7)
    with pytest.raises(ValueError, match=r"strictly increasing in \[0, 5\), got 5 at position 0"):
        _engine.rmsprop_decay_rows(a, np.array([5], np.int64), np.zeros(1, np.int64), 0.9)
    with pytest.raises(ValueError, match="skipped must be >= 0, got -1"):
        _engine.rmsprop_decay_rows(a, np.array([0], np.int64), np.array([-1], np.int64), 0.9)
    with pytest.raises(ValueError, match="one length"):
        _engine.rmsprop_update_rows(p, g, a, np.array([0, 1], np.int64), np.zeros(3, np.int64), 0.1, 0.9, 1e-7)
    with pytest.raises(ValueError, match="accumulators"):
        _engine.rmsprop_update_rows(p, g, np.zeros((5, 3), np.float32), np.array([0], np.int64),
                                    np.zeros(1, np.int64), 0.1, 0.9, 1e-7)


# ---- the engine's row-sparse Embedding backward --------------------------------------------
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_engine_row_sparse_backward_matches_a_dense_scatter(dtype):
    rng = np.random.RandomState(3)
    vocab, dim = 300, 150  # 150: column blocks of 64 and a ragged last one, threaded
    grad = np.zeros((vocab, dim), np.float32)
    rows = np.empty(2 * 700, np.int64)
    count = 0
    for step in range(4):
        idx = rng.randint(0, vocab, size=(2, 700)).astype(dtype)
        dy = rng.normal(size=(2, 700, dim)).astype(np.float32)
        # clear: a view of rows_out (what the layer passes); it is read before rows_out is written
        count = _engine.embedding_backward_rows(idx, dy, grad, rows[:count], rows)
        ref = np.zeros((vocab, dim), np.float64)
        np.add.at(ref, idx.astype(np.int64).reshape(-1), dy.reshape(-1, dim).astype(np.float64))
        np.testing.assert_allclose(grad, ref, rtol=1e-5, atol=1e-5)
        assert np.array_equal(rows[:count], np.unique(idx.astype(np.int64)))
        # the same additions, in the same order, as the dense kernel: the same bits
        dense = np.zeros_like(grad)
        _engine.embedding_backward(idx, dy, dense)
        assert np.array_equal(grad, dense)


@pytest.mark.parametrize("vocab", [300, 50000])  # the rows listed by a scan of marks, and by a sort
def test_engine_row_sparse_backward_bits_for_any_thread_count(vocab):
    # Threads own runs of rows; a row's first index of a step overwrites it with 0 + dy (the bits
    # of clearing then adding: -0 becomes +0), rows of the previous step not seen again are
    # zeroed. Every thread count must give the dense kernel's bits.
    rng = np.random.RandomState(5)
    dim = 37  # no whole number of vectors
    saved = _engine.get_num_threads()
    try:
        grads = {}
        for threads in (1, 2, 3):
            _engine.set_num_threads(threads)
            grad = np.full((vocab, dim), 7.0, np.float32)
            grad[:] = 0.0
            rows = np.empty(3000, np.int64)
            count, history = 0, []
            for step in range(3):
                r = np.random.RandomState(step)
                # rows seen many times (the order of additions matters) and rows seen once (a -0
                # of dy must become +0, as 0 + -0 in the dense kernel)
                once = r.choice(vocab, size=min(vocab, 1500), replace=False)
                hot = r.randint(0, vocab, size=40)[r.randint(0, 40, size=3000 - once.size)]
                idx = r.permutation(np.concatenate([hot, once])).reshape(3, 1000)
                dy = r.normal(size=(3, 1000, dim)).astype(np.float32)
                dy[r.rand(*dy.shape) < 0.1] = -0.0
                count = _engine.embedding_backward_rows(idx, dy, grad, rows[:count], rows)
                dense = np.full_like(grad, 3.0)
                _engine.embedding_backward(idx, dy, dense)
                assert grad.tobytes() == dense.tobytes()
                assert np.array_equal(rows[:count], np.unique(idx))
                history.append(grad.copy())
            grads[threads] = history
    finally:
        _engine.set_num_threads(saved)
    for threads in (2, 3):
        for a, b in zip(grads[1], grads[threads]):
            assert a.tobytes() == b.tobytes()
    assert not np.signbit(grads[1][-1][grads[1][-1] == 0]).any()  # no -0 left in the table


def test_engine_row_sparse_backward_rejects_bad_arguments_and_writes_nothing():
    grad = np.ones((6, 4), np.float32)
    dy = np.ones((3, 4), np.float32)
    rows = np.empty(3, np.int64)
    with pytest.raises(ValueError, match=r"index 6 at flat position 2 is not an integer in \[0, input_dim=6\)"):
        _engine.embedding_backward_rows(np.array([0, 1, 6]), dy, grad, np.array([2], np.int64), rows)
    assert np.all(grad == 1.0)  # nothing cleared, nothing added
    with pytest.raises(ValueError, match=r"clear must be strictly increasing rows in \[0, 6\), got 1 at position 1"):
        _engine.embedding_backward_rows(np.array([0, 1, 2]), dy, grad, np.array([3, 1], np.int64), rows)
    with pytest.raises(ValueError, match=r"rows_out must hold one row per index \(3\), got 2"):
        _engine.embedding_backward_rows(np.array([0, 1, 2]), dy, grad, rows[:0], np.empty(2, np.int64))
    with pytest.raises(ValueError, match="rows_out must be a 1-D C-contiguous int64 array"):
        _engine.embedding_backward_rows(np.array([0, 1, 2]), dy, grad, rows[:0], np.empty(3, np.int32))
    assert np.all(grad == 1.0)
