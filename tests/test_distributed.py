"""seqnet.distribute: data-parallel training over MPI.

The MPI tests launch tests/distributed/*.py with `mpiexec -n 2` and `-n 3` and compare
with the same training run in this process as one process with the global batch; they
are skipped only when mpi4py or mpiexec is missing (`pip install seqnet[mpi]`)."""
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnet
import seqnet as keras
import seqnet.distribute as hvd
from seqnet import _engine, random_state
from seqnet.distribute.data_parallel import DataParallel
from seqnet.engine.batch_sources import ShardedSequence, shard_bounds
from seqnet.layers import LSTM, AlphaDropout, Dense, Dropout, GaussianDropout, GaussianNoise, SpatialDropout1D
from seqnet.models import Sequential

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "distributed")
sys.path.insert(0, SCRIPTS)
from scenarios import SCENARIOS  # noqa: E402


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return found


MPIEXEC = _mpiexec()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason="needs mpi4py and mpiexec (pip install seqnet[mpi])")


def _launch(n, script, *args, timeout=60, cwd=None):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.path.dirname(os.path.dirname(seqnet.__file__)))
    start = time.monotonic()
    proc = subprocess.run([MPIEXEC, "-n", str(n), sys.executable, os.path.join(SCRIPTS, script), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    return proc, time.monotonic() - start


# ---- the dropout kernels' element offset ------------------------------------------------------
@pytest.mark.parametrize("n,offset", [(10000, 1), (10000, 1023), (10000, 4096), (9000, 4099), (300, 77)])
def test_dropout_offset_draws_the_slice_of_the_whole_mask(n, offset):
    x = np.random.RandomState(0).rand(n).astype(np.float32)
    y, mask = np.empty_like(x), np.empty(n, np.uint8)
    _engine.dropout_forward(x, y, mask, 0.3, 11, 5)
    part_y, part_mask = np.empty(n - offset, np.float32), np.empty(n - offset, np.uint8)
    _engine.dropout_forward(x[offset:], part_y, part_mask, 0.3, 11, 5, offset)
    np.testing.assert_array_equal(part_mask, mask[offset:])
    np.testing.assert_array_equal(part_y, y[offset:])
    assert 0.25 < 1 - mask.mean() < 0.35
    for fill, args in ((_engine.random_normal, (0.0, 1.0)), (_engine.random_uniform, (0.0, 1.0))):
        whole, part = np.empty(n, np.float32), np.empty(n - offset, np.float32)
        fill(whole, *args, 3, 2)
        fill(part, *args, 3, 2, offset=offset)
        np.testing.assert_array_equal(part, whole[offset:])


def test_dropout_offset_must_be_non_negative():
    x = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="offset must be >= 0"):
        _engine.dropout_forward(x, x.copy(), np.empty(4, np.uint8), 0.5, 1, 1, -1)


@pytest.mark.parametrize("make,shape", [
    (lambda: Dropout(0.4), (10, 7)), (lambda: SpatialDropout1D(0.5), (10, 3, 4)),
    (lambda: Dropout(0.4, noise_shape=(None, 1, 4)), (10, 3, 4)), (lambda: Dropout(0.4, noise_shape=(1, 7)), (10, 7)),
    (lambda: GaussianNoise(0.3), (10, 6)), (lambda: GaussianDropout(0.3), (10, 6)),
    (lambda: AlphaDropout(0.3), (10, 6)), (lambda: LSTM(3, dropout=0.4, recurrent_dropout=0.3), (10, 4, 2))])
def test_random_layers_draw_the_global_batch_at_the_slice_position(make, shape):
    """A slice of rows [3, 7) of a global batch of 10 gets the rows the whole batch gets."""
    x = np.random.RandomState(1).rand(*shape).astype(np.float32)
    layer = make()
    layer.build(shape)
    layer.built = True
    layer._step = 4
    whole = np.array(layer.forward(x, True), copy=True)
    layer._step = 4
    random_state.set_batch_position(3, 10)
    try:
        part = np.array(layer.forward(np.ascontiguousarray(x[3:7]), True), copy=True)
    finally:
        random_state.set_batch_position(0, None)
    np.testing.assert_allclose(part, whole[3:7], rtol=1e-6, atol=1e-7)
    assert not np.allclose(whole, layer.forward(x, False))  # the training pass did draw


# ---- sharding -------------------------------------------------------------------------------------
def test_shard_bounds_split_a_global_batch_contiguously():
    for count in (0, 1, 2, 7, 12):
        for size in (1, 2, 3, 5):
            bounds = [shard_bounds(count, r, size) for r in range(size)]
            assert bounds[0][0] == 0 and bounds[-1][1] == count
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            sizes = [hi - lo for lo, hi in bounds]
            assert max(sizes) - min(sizes) <= 1


def test_sharded_sequence_reads_batch_k_times_size_plus_rank():
    class Items(keras.utils.Sequence):
        def __len__(self):
            return 7

        def __getitem__(self, k):
            return k

    seen = []
    for rank in range(3):
        shard = ShardedSequence(Items(), rank, 3)
        assert len(shard) == 3
        seen.append([shard[k] for k in range(len(shard))])
    assert [item for step in zip(*seen) for item, real in step if real] == list(range(7))
    assert seen[1][2] == (6, False) and seen[2][2] == (6, False)  # stand-ins at the short last step
    shuffled = [ShardedSequence(Items(), r, 3, seed=5) for r in range(3)]
    order = [s[k][0] for k in range(3) for s in shuffled if s[k][1]]
    assert sorted(order) == list(range(7)) and order != list(range(7))


# ---- one process ------------------------------------------------------------------------------------
def test_single_process_is_plain_training():
    hvd.init()
    assert (hvd.size(), hvd.rank(), hvd.local_rank(), hvd.local_size()) == (1, 0, 0, 1)
    np.testing.assert_array_equal(hvd.allreduce(np.arange(3.0)), np.arange(3.0))
    np.testing.assert_array_equal(hvd.allgather(np.arange(2)), np.arange(2))
    assert hvd.broadcast({"a": 1}, 0) == {"a": 1}
    with pytest.raises(ValueError, match="root_rank"):
        hvd.broadcast(1, 1)
    results = []
    for wrap in (False, True):
        keras.utils.set_random_seed(2)
        model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dropout(0.3), Dense(2)])
        opt = keras.optimizers.Adam(lr=0.01)
        model.compile(hvd.DistributedOptimizer(opt) if wrap else opt, "mse", metrics=["mae"])
        x = np.random.RandomState(0).rand(30, 3).astype("float32")
        y = np.random.RandomState(1).rand(30, 2).astype("float32")
        cbs = [hvd.callbacks.BroadcastGlobalVariablesCallback(0), hvd.callbacks.MetricAverageCallback()] if wrap else []
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=cbs)
        results.append((model.get_weights(), history.history))
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    assert results[0][1] == results[1][1]
    assert type(model.optimizer).__name__ == "Adam" and isinstance(model.optimizer, keras.optimizers.Adam)


def test_distributed_optimizer_saves_as_its_class(tmp_path):
    hvd.init()
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile(hvd.DistributedOptimizer("sgd"), "mse")
    model.train_on_batch(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32))
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = hvd.load_model(path)
    assert type(loaded.optimizer).__name__ == "SGD" and loaded.optimizer.data_parallel is None
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_distributed_optimizer_rejects_what_seqnet_does_not_do():
    with pytest.raises(ValueError, match="compression"):
        hvd.DistributedOptimizer("sgd", compression=hvd.Compression.fp16)
    with pytest.raises(ValueError, match="backward_passes_per_step"):
        hvd.DistributedOptimizer("sgd", backward_passes_per_step=2)
    with pytest.raises(ValueError, match="already"):
        hvd.DistributedOptimizer(hvd.DistributedOptimizer("sgd"))


def test_uninitialized_calls_name_init():
    hvd.shutdown()
    try:
        with pytest.raises(ValueError, match=r"init\(\)"):
            hvd.size()
    finally:
        hvd.init()


def test_side_effect_callbacks_run_on_rank_zero_only():
    class Comm:
        size, rank = 2, 1

    class Mine(keras.callbacks.Callback):
        root_rank_only = True

    csv, ckpt = keras.callbacks.CSVLogger("x.csv"), keras.callbacks.ModelCheckpoint("x.h5")
    early, mine, bar = keras.callbacks.EarlyStopping(), Mine(), keras.callbacks.ProgbarLogger()
    cbs = [bar, csv, ckpt, early, mine]
    assert DataParallel(Comm()).callbacks_for_rank(cbs) == [early]
    Comm.rank = 0
    assert DataParallel(Comm()).callbacks_for_rank(cbs) == cbs


def test_multi_gpu_model_explains_seqnet_distribute():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="seqnet.distribute") as info:
        keras.utils.multi_gpu_model(model, gpus=2)
    assert "mpiexec -n 4" in str(info.value)


# ---- several processes ---------------------------------------------------------------------------
@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_training_equals_one_process_with_the_global_batch(n, tmp_path):
    proc, _ = _launch(n, "run_scenarios.py", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ranks = [np.load(tmp_path / f"rank{r}.npz") for r in range(n)]
    for name, run in SCENARIOS.items():
        model, history = run(False, n)
        for i, w in enumerate(model.get_weights()):
            np.testing.assert_allclose(ranks[0][f"{name}/w{i}"], w, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name}: weight {i}")
        for key, values in history.items():  # the logs are the global batch's
            np.testing.assert_allclose(ranks[0][f"{name}/h/{key}"], values, rtol=1e-5, err_msg=f"{name}: {key}")
    for other in ranks[1:]:  # every rank holds the same weights and logs, bit for bit
        for key in ranks[0].files:
            if key != "callbacks_set":
                np.testing.assert_array_equal(other[key], ranks[0][key], err_msg=key)
    # CSVLogger, ModelCheckpoint and a root_rank_only callback ran on rank 0 only
    assert ranks[0]["callbacks_set"].all() and not any(r["callbacks_set"].any() for r in ranks[1:])
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,") and [line.split(",")[0] for line in lines[1:]] == ["0", "1"]
    assert (tmp_path / "ckpt.h5").exists()
    assert (tmp_path / "marker0.txt").read_text() == "0\n1\n"
    assert not any((tmp_path / f"marker{r}.txt").exists() for r in range(1, n))
    assert proc.stdout.count("Epoch 1/2") == 1  # the progress bar of rank 0 only


@needs_mpi
@pytest.mark.parametrize("mode,error", [("raise", "RuntimeError: boom on purpose"),
                                        ("uncaught", "KeyError: 'uncaught on purpose'")])
def test_a_failing_rank_ends_every_rank(mode, error):
    proc, seconds = _launch(2, "failures.py", mode)
    report = f"rc={proc.returncode} after {seconds:.1f} s\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.returncode != 0, report
    assert f"seqnet.distribute: rank 1 of 2 failed with {error}" in proc.stderr, report
    assert "finished training" not in proc.stdout, report
    assert seconds < 30, report


@needs_mpi
def test_different_models_on_different_ranks_are_an_error_on_every_rank():
    proc, _ = _launch(2, "failures.py", "mismatch")
    assert proc.returncode == 0, proc.stderr
    for r in range(2):
        assert f"rank {r} MISMATCH: seqnet.distribute: the ranks do not train the same model" in proc.stdout
    assert "rank 1: 3 layers, 6 weights, 41 parameters" in proc.stdout


@needs_mpi
def test_mnist_mlp_distributed_example(tmp_path):
    rng = np.random.RandomState(0)
    x, y = rng.randint(0, 256, (52, 28, 28)).astype(np.uint8), rng.randint(0, 10, 52)
    np.savez(tmp_path / "mnist.npz", x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
    example = os.path.join(os.path.dirname(HERE), "examples", "mnist_mlp_distributed.py")
    proc, _ = _launch(2, example, "--epochs", "2", "--data", "mnist.npz", "--batch-size", "8", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "40 train samples on 2 processes" in out and out.count("Epoch 2/2") == 1
    assert 0.0 <= float(re.findall(r"^Test accuracy: (\S+)$", out, flags=re.M)[0]) <= 1.0
