"""EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, LambdaCallback and
TerminateOnNaN: Keras 2.2.4 behaviour, checked against hand-worked expectations on scripted
sequences of monitored values and on real (tiny) fits."""
import csv

import numpy as np
import pytest

import seqnet as keras
import seqnet.backend as K
from seqnet.callbacks import (Callback, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
                              ReduceLROnPlateau, TerminateOnNaN)
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.optimizers import SGD


def tiny_model(lr=0.1, metrics=None, loss="mse", units=1, activation=None):
    model = Sequential([Dense(units, input_dim=3, activation=activation)])
    model.compile(SGD(lr=lr), loss, metrics=metrics)
    return model


def regression_data(n=12, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 3).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


class Inject(Callback):
    """Overwrites epoch log entries with scripted values (put it before the callback under test)."""

    def __init__(self, **scripts):
        super().__init__()
        self.scripts = scripts

    def on_epoch_end(self, epoch, logs=None):
        for key, values in self.scripts.items():
            logs[key] = values[epoch]


class RecordWeights(Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


class FakeModel:
    """What the monitoring callbacks touch: stop_training and the weights."""

    def __init__(self):
        self.stop_training = False
        self.weights = None

    def get_weights(self):
        return self.weights

    def set_weights(self, weights):
        self.weights = weights


def run_hooks(callback, values, key="val_loss"):
    """Drives callback through epochs with logs {key: value}; returns the epochs it ran."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, epoch, np.float32)]
        callback.on_epoch_end(epoch, {key: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end({})
    return epochs, model


# ---- EarlyStopping ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, values, expected_epochs", [
    # best 4 at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    (dict(patience=2), [5, 4, 4.5, 4.2, 3.9, 3], 4),
    # patience 0: the first epoch without improvement stops
    (dict(patience=0), [5, 4, 4, 3], 3),
    # an improvement smaller than min_delta does not count
    (dict(patience=2, min_delta=0.1), [1.0, 0.95, 0.91, 0.5], 3),
    (dict(patience=2, min_delta=0.1), [1.0, 0.85, 0.8, 0.7, 0.1], 5),
    # never improving on the baseline: stop after `patience` epochs
    (dict(patience=2, baseline=0.5), [0.9, 0.8, 0.7, 0.1], 2),
    # beating the baseline resets the count
    (dict(patience=2, baseline=0.5), [0.6, 0.4, 0.45, 0.47, 0.1], 4),
    # mode max
    (dict(patience=1, mode="max"), [0.1, 0.2, 0.2, 0.3], 3),
])
def test_early_stopping_stops_at_the_right_epoch(kwargs, values, expected_epochs):
    epochs, model = run_hooks(EarlyStopping(**kwargs), values)
    assert epochs == expected_epochs
    assert model.stop_training == (expected_epochs < len(values))


def test_early_stopping_auto_mode_maximises_accuracy_under_both_spellings():
    # 'val_acc' and 'val_accuracy' both contain 'acc': larger is better
    for monitor, key in [("val_acc", "val_accuracy"), ("val_accuracy", "val_acc"), ("val_acc", "val_acc")]:
        epochs, _ = run_hooks(EarlyStopping(monitor=monitor, patience=1), [0.5, 0.6, 0.7, 0.65, 0.8], key=key)
        assert epochs == 4
    epochs, _ = run_hooks(EarlyStopping(monitor="loss", patience=1), [0.5, 0.6, 0.7], key="loss")
    assert epochs == 2


def test_early_stopping_in_a_real_fit(capsys):
    x, y = regression_data()
    model = tiny_model()
    stopper = EarlyStopping(monitor="val_loss", patience=2, verbose=1)
    history = model.fit(x, y, epochs=10, batch_size=4, verbose=0, validation_data=(x, y),
                        callbacks=[Inject(val_loss=[5, 4, 4.5, 4.2, 1, 1, 1, 1, 1, 1]), stopper])
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["val_loss"] == [5, 4, 4.5, 4.2]
    assert stopper.stopped_epoch == 3
    assert capsys.readouterr().out == "Epoch 00004: early stopping\n"


def test_early_stopping_real_validation_loss_on_accuracy_alias():
    # A model that cannot learn (lr 0) has a constant val_accuracy: monitoring 'val_acc'
    # (the other spelling) finds it, stops after patience + 1 epochs, and warns about nothing.
    rng = np.random.RandomState(1)
    x = rng.rand(20, 3).astype(np.float32)
    y = (rng.rand(20, 1) > 0.5).astype(np.float32)
    model = tiny_model(lr=0.0, metrics=["accuracy"], loss="binary_crossentropy", activation="sigmoid")
    history = model.fit(x, y, epochs=10, batch_size=5, verbose=0, validation_split=0.25,
                        callbacks=[EarlyStopping(monitor="val_acc", patience=2)])
    assert len(history.epoch) == 3
    assert "val_accuracy" in history.history


def test_early_stopping_restores_the_best_weights():
    x, y = regression_data()
    model = tiny_model(lr=0.05)
    recorder = RecordWeights()
    history = model.fit(x, y, epochs=10, batch_size=4, verbose=0, shuffle=False,
                        callbacks=[Inject(val_loss=[3, 1, 2, 2.5, 0, 0, 0, 0, 0, 0]), recorder,
                                   EarlyStopping(patience=2, restore_best_weights=True)])
    assert len(history.epoch) == 4
    best, last = recorder.weights[1], recorder.weights[3]
    assert not np.allclose(best[0], last[0])  # training moved the weights after the best epoch
    for restored, expected in zip(model.get_weights(), best):
        np.testing.assert_array_equal(restored, expected)


def test_early_stopping_without_restore_keeps_the_last_weights():
    x, y = regression_data()
    model = tiny_model(lr=0.05)
    recorder = RecordWeights()
    model.fit(x, y, epochs=10, batch_size=4, verbose=0,
              callbacks=[Inject(val_loss=[3, 1, 2, 2.5] + [0] * 6), recorder, EarlyStopping(patience=2)])
    for kept, expected in zip(model.get_weights(), recorder.weights[-1]):
        np.testing.assert_array_equal(kept, expected)


def test_early_stopping_restore_with_baseline_never_beaten_keeps_weights(capsys):
    stopper = EarlyStopping(patience=2, baseline=0.5, restore_best_weights=True, verbose=1)
    epochs, model = run_hooks(stopper, [0.9, 0.8, 0.7])
    assert epochs == 2
    np.testing.assert_array_equal(model.weights[0], [1, 1])  # no best epoch: nothing restored
    stopper = EarlyStopping(patience=2, baseline=0.5, restore_best_weights=True, verbose=1)
    epochs, model = run_hooks(stopper, [0.9, 0.4, 0.7, 0.8, 0.1])
    assert epochs == 4
    np.testing.assert_array_equal(model.weights[0], [1, 1])  # epoch 1's weights
    assert "Restoring model weights from the end of the best epoch" in capsys.readouterr().out


def test_early_stopping_instance_is_reusable():
    stopper = EarlyStopping(patience=1)
    assert run_hooks(stopper, [1, 2, 3])[0] == 2
    assert run_hooks(stopper, [5, 4, 3, 3, 0])[0] == 4


def test_early_stopping_missing_monitor_warns_and_trains_on():
    x, y = regression_data()
    model = tiny_model()
    with pytest.warns(RuntimeWarning, match="Early stopping conditioned on metric `val_loss` which is not "
                                            "available. Available metrics are: loss"):
        history = model.fit(x, y, epochs=3, verbose=0, callbacks=[EarlyStopping(patience=0)])
    assert len(history.epoch) == 3


def test_early_stopping_unknown_mode_warns_and_uses_auto():
    with pytest.warns(RuntimeWarning, match="EarlyStopping mode middle is unknown"):
        stopper = EarlyStopping(monitor="acc", mode="middle", patience=0)
    assert run_hooks(stopper, [0.5, 0.6, 0.55], key="acc")[0] == 3


# ---- ReduceLROnPlateau -----------------------------------------------------------------------
def lr_trace(callback, values, lr=1.0, key="val_loss"):
    """The optimizer's lr after each epoch, driving the callback with scripted values."""
    model = tiny_model(lr=lr)
    callback.set_model(model)
    callback.on_train_begin({})
    trace = []
    for epoch, value in enumerate(values):
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        assert logs["lr"] == pytest.approx(trace[-1] if trace else lr)  # the lr the epoch ran with
        trace.append(float(K.get_value(model.optimizer.lr)))
    return trace


def test_reduce_lr_after_patience_epochs():
    trace = lr_trace(ReduceLROnPlateau(factor=0.5, patience=2), [1.0] * 7)
    assert trace == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125])


def test_reduce_lr_improvements_reset_the_wait():
    # 0.9 improves; 0.89995 is within min_delta=1e-4 of the best and does not
    values = [1.0, 1.0, 0.9, 0.9, 0.89995, 0.9]
    trace = lr_trace(ReduceLROnPlateau(factor=0.5, patience=2), values)
    assert trace == pytest.approx([1, 1, 1, 1, 0.5, 0.5])


def test_reduce_lr_cooldown_and_min_lr():
    # Keras 2.2.4 counts the cooldown down at the start of each epoch's check, so with
    # cooldown=2 the epoch right after a reduction is skipped and the next one counts again:
    # reductions at epochs 1, 3, 5 (patience 1). The lr never goes below min_lr.
    trace = lr_trace(ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.2), [1.0] * 10)
    assert trace == pytest.approx([1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2])
    trace = lr_trace(ReduceLROnPlateau(factor=0.5, patience=1, cooldown=3), [1.0] * 8)
    assert trace == pytest.approx([1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125])


def test_reduce_lr_stops_announcing_at_min_lr(capsys):
    # 0.2 held as float32 is a hair above 0.2: once there, no further 'reduction' is made.
    lr_trace(ReduceLROnPlateau(factor=0.5, patience=1, min_lr=0.2, verbose=1), [1.0] * 6, lr=0.4)
    out = capsys.readouterr().out
    assert out.count("reducing learning rate") == 1
    assert "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.2" in out


def test_reduce_lr_mode_max_on_accuracy_alias():
    trace = lr_trace(ReduceLROnPlateau(monitor="val_acc", factor=0.1, patience=1),
                     [0.5, 0.6, 0.4, 0.7, 0.7], key="val_accuracy")
    assert trace == pytest.approx([1, 1, 0.1, 0.1, 0.01])


def test_reduce_lr_in_a_real_fit_records_lr_in_history(capsys):
    x, y = regression_data()
    model = tiny_model(lr=0.01)
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(x, y),
                        callbacks=[Inject(val_loss=[1, 1, 1, 1]), ReduceLROnPlateau(patience=1, factor=0.5,
                                                                                    verbose=1)])
    assert history.history["lr"] == pytest.approx([0.01, 0.01, 0.005, 0.0025])
    assert float(K.get_value(model.optimizer.lr)) == pytest.approx(0.00125)
    out = capsys.readouterr().out
    # the message shows the rate computed from the float32 variable, as Keras does
    assert "\nEpoch 00002: ReduceLROnPlateau reducing learning rate to 0.00499999" in out
    assert out.count("ReduceLROnPlateau reducing learning rate") == 3


def test_reduce_lr_arguments():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        callback = ReduceLROnPlateau(epsilon=0.5)
    assert callback.min_delta == 0.5
    with pytest.raises(TypeError, match="bogus"):
        ReduceLROnPlateau(bogus=1)


def test_reduce_lr_missing_monitor_warns():
    x, y = regression_data()
    model = tiny_model()
    with pytest.warns(RuntimeWarning, match="Reduce LR on plateau conditioned on metric `val_loss`"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[ReduceLROnPlateau()])


# ---- LearningRateScheduler ------------------------------------------------------------------
class RecordLR(Callback):
    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.lrs.append(float(K.get_value(self.model.optimizer.lr)))


def test_scheduler_with_epoch_only():
    x, y = regression_data()
    model = tiny_model(lr=0.5)
    recorder = RecordLR()
    model.fit(x, y, epochs=4, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)),
                                                    recorder])
    assert recorder.lrs == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])


def test_scheduler_with_epoch_and_lr(capsys):
    x, y = regression_data()
    model = tiny_model(lr=0.01)
    recorder = RecordLR()
    seen = []

    def halve(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    model.fit(x, y, epochs=3, verbose=0, initial_epoch=1, callbacks=[LearningRateScheduler(halve, verbose=1),
                                                                     recorder])
    assert [e for e, _ in seen] == [1, 2]
    assert [lr for _, lr in seen] == pytest.approx([0.01, 0.005])
    assert recorder.lrs == pytest.approx([0.005, 0.0025])
    assert "\nEpoch 00002: LearningRateScheduler setting learning rate to 0.00499999" in capsys.readouterr().out


def test_scheduler_rate_is_the_one_the_optimizer_uses():
    # One sample, one batch per epoch, linear Dense and mse: w <- w - lr * 2 (x.w + b - y) x.
    x = np.array([[1.0, 2.0, -1.0]], np.float32)
    y = np.array([[0.5]], np.float32)
    model = tiny_model()
    initial = model.get_weights()
    recorder = RecordWeights()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: [0.0, 0.05, 0.0][epoch]),
                                                    recorder])
    # epoch 0 ran with lr 0 (weights unchanged), epoch 1 with 0.05, epoch 2 with 0 again
    for a, b in zip(recorder.weights[0], initial):
        np.testing.assert_array_equal(a, b)
    w0, b0 = initial
    error = (x @ w0 + b0 - y).item()
    np.testing.assert_allclose(recorder.weights[1][0], w0 - 0.05 * 2 * error * x.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(recorder.weights[1][1], b0 - 0.05 * 2 * error, rtol=1e-5, atol=1e-6)
    for a, b in zip(recorder.weights[2], recorder.weights[1]):
        np.testing.assert_array_equal(a, b)


def test_scheduler_zero_rate_leaves_the_weights_unchanged():
    x, y = regression_data()
    model = tiny_model(lr=0.5)
    before = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[LearningRateScheduler(lambda epoch, lr: 0.0)])
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_scheduler_must_return_a_number():
    x, y = regression_data()
    model = tiny_model()
    with pytest.raises(ValueError, match="should be float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: "0.1")])


# ---- CSVLogger -------------------------------------------------------------------------------
def read_csv(path, delimiter=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def test_csv_logger_writes_header_and_one_row_per_epoch(tmp_path):
    x, y = regression_data()
    model = tiny_model(metrics=["mae"])
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, validation_data=(x, y),
                        callbacks=[CSVLogger(str(path))])
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        for key, text in zip(rows[0][1:], row[1:]):
            assert float(text) == pytest.approx(history.history[key][epoch], rel=1e-12)


def test_csv_logger_append_and_overwrite(tmp_path):
    x, y = regression_data()
    path = tmp_path / "log.csv"
    model = tiny_model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    model.fit(x, y, epochs=3, verbose=0, callbacks=[CSVLogger(path, separator=";", append=True)])
    rows = read_csv(path, delimiter=";")
    assert rows[0] == ["epoch", "loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "0", "1", "2"]  # one header, five epochs
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, separator=";")])
    assert [r[0] for r in read_csv(path, delimiter=";")] == ["epoch", "0"]
    fresh = tmp_path / "fresh.csv"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(fresh, append=True)])
    assert read_csv(fresh)[0] == ["epoch", "loss"]  # a new file gets its header


def test_csv_logger_na_for_missing_values_and_lists(tmp_path):
    path = tmp_path / "log.csv"
    logger = CSVLogger(path)
    logger.set_model(FakeModel())
    logger.on_train_begin({})
    logger.on_epoch_end(0, {"loss": 1.5, "v": [1, 2]})
    logger.on_epoch_end(1, {"loss": 0.5})
    logger.on_train_end({})
    assert read_csv(path) == [["epoch", "loss", "v"], ["0", "1.5", '"[1, 2]"'], ["1", "0.5", "NA"]]


# ---- LambdaCallback --------------------------------------------------------------------------
def test_lambda_callback_hooks_and_arguments():
    x, y = regression_data(n=10)
    model = tiny_model()
    calls = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch, logs["size"])),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["batch"], "loss" in logs)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end",)),
        note="kept")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False, callbacks=[callback])
    epoch = lambda e: ([("epoch_begin", e)]
                       + [c for b, size in enumerate([4, 4, 2])
                          for c in [("batch_begin", b, size), ("batch_end", b, b, True)]]
                       + [("epoch_end", e, ["loss"])])
    assert calls == [("train_begin",)] + epoch(0) + epoch(1) + [("train_end",)]
    assert callback.note == "kept"


def test_lambda_callback_only_some_hooks_and_extra_hooks_by_keyword():
    x, y = regression_data(n=8)
    model = tiny_model()
    losses, tests = [], []
    callback = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]),
                              on_test_begin=lambda logs: tests.append("begin"),
                              on_train_batch_end=lambda batch, logs: tests.append(batch))
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[callback])
    assert losses == history.history["loss"]
    model.evaluate(x, y, verbose=0, callbacks=[callback])
    assert tests == [0, 1] * 3 + ["begin"]
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        LambdaCallback(on_epoch_end=3)


# ---- TerminateOnNaN --------------------------------------------------------------------------
def test_terminate_on_nan_in_the_data(capsys):
    x, y = regression_data(n=12)
    x[5, 1] = np.nan  # second batch of 4
    model = tiny_model()
    batches = []
    history = model.fit(x, y, epochs=5, batch_size=4, verbose=0, shuffle=False,
                        callbacks=[TerminateOnNaN(), LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1]  # the callbacks after it still see the batch, then training stops
    assert history.epoch == [0]
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n"


def test_terminate_on_nan_when_training_diverges(capsys):
    x, y = regression_data(n=12)
    model = tiny_model(lr=1e18)
    history = model.fit(x, y * 1e3, epochs=50, batch_size=1, verbose=0, shuffle=False,
                        callbacks=[TerminateOnNaN()])
    assert len(history.epoch) < 50
    loss = history.history["loss"][-1]
    assert np.isnan(loss) or np.isinf(loss)
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_ignores_finite_losses():
    callback = TerminateOnNaN()
    callback.set_model(FakeModel())
    for batch, loss in enumerate([1.0, 1e30, 0.0]):
        callback.on_batch_end(batch, {"loss": loss})
    callback.on_batch_end(3, {})
    assert not callback.model.stop_training
    callback.on_batch_end(4, {"loss": float("inf")})
    assert callback.model.stop_training


class RecordEpochLogs(Callback):
    """Keeps a copy of each epoch's logs as the callbacks after it see them."""

    def __init__(self):
        super().__init__()
        self.logs = []

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))


def test_scheduler_puts_the_epoch_rate_into_logs_and_history():
    # As Keras 2.2.4's LearningRateScheduler.on_epoch_end: logs['lr'] is the rate the
    # optimizer holds at the end of the epoch, i.e. the one the epoch trained with.
    x, y = regression_data()
    model = tiny_model(lr=0.5)
    schedule = [0.1, 0.02, 0.004]
    recorder, after = RecordLR(), RecordEpochLogs()
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                        callbacks=[LearningRateScheduler(lambda epoch: schedule[epoch]), recorder, after])
    assert history.history["lr"] == pytest.approx(recorder.lrs, rel=0, abs=0)
    assert history.history["lr"] == pytest.approx(schedule, rel=1e-7)  # float32 variable
    assert [logs["lr"] for logs in after.logs] == history.history["lr"]
    assert all(isinstance(lr, float) for lr in history.history["lr"])
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 3


def test_scheduler_and_plateau_agree_on_the_lr_key():
    x, y = regression_data()
    model = tiny_model(lr=0.5)
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                        callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.5),
                                   ReduceLROnPlateau(patience=100)])
    assert history.history["lr"] == pytest.approx([0.25, 0.125], rel=1e-7)
