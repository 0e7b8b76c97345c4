"""Callbacks and weight loading, swept against tf-keras: the lr sequence, the stopping epoch,
checkpoint file names and the hooks a fit calls (fixtures from
tests/fixtures/make_sweep_callbacks_fixtures.py), and hand-worked cases for the Keras 2.2.4
rules found wrong in the sweep (EarlyStopping's min_delta sign and 'fmeasure', load_weights'
by_name with skip_mismatch, ModelCheckpoint's {batch} and tf-keras' later arguments)."""
import os
import warnings

import numpy as np
import pytest

from seqnet.callbacks import Callback, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from seqnet.layers import Dense, Dropout, Input
from seqnet.models import Model, Sequential
from seqnet.optimizers import SGD

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


@pytest.fixture(scope="module")
def ref():
    return np.load(os.path.join(FIXTURES, "sweep_callbacks.npz"))


def fixture_model(ref, lr=0.05):
    model = Sequential([Dense(1, input_shape=(3,))])
    model.set_weights([ref["w0"], ref["w1"]])
    model.compile(SGD(lr=lr), "mse")
    return model


class FakeModel:
    """Just enough of a model for a monitoring callback fed scripted values."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(1)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def stopping_epoch(callback, values, key="loss"):
    """The epoch at which `callback` stops a run monitoring `values`, or None."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin({})
    for epoch, value in enumerate(values):
        callback.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            return epoch
    return None


# ---- against tf-keras ---------------------------------------------------------------------
def test_reduce_lr_on_plateau_lr_sequence_matches_tf_keras(ref):
    plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=0.5, cooldown=1, min_lr=0.01)
    history = fixture_model(ref).fit(ref["x"], ref["y"], batch_size=4, epochs=8, shuffle=False, verbose=0,
                                     validation_data=(ref["x"][:4], ref["y"][:4]), callbacks=[plateau])
    np.testing.assert_allclose(history.history["loss"], ref["rlr_loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"], ref["rlr_val_loss"], rtol=1e-5)
    np.testing.assert_allclose(history.history["lr"], ref["rlr_lr"], rtol=1e-7)


def test_early_stopping_epoch_and_restored_weights_match_tf_keras(ref):
    model = fixture_model(ref)
    stopper = EarlyStopping(monitor="loss", min_delta=0.3, patience=2, restore_best_weights=True)
    history = model.fit(ref["x"], ref["y"], batch_size=4, epochs=20, shuffle=False, verbose=0, callbacks=[stopper])
    assert stopper.stopped_epoch == int(ref["es_stopped"])
    np.testing.assert_allclose(history.history["loss"], ref["es_loss"], rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], ref["es_w0"], rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], ref["es_w1"], rtol=1e-5)


def test_checkpoint_batch_in_file_name_counts_from_one_as_tf_keras(ref, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "b{epoch:02d}-{batch:02d}.h5"), save_freq=2, save_weights_only=True)
    fixture_model(ref).fit(ref["x"], ref["y"], batch_size=4, epochs=2, shuffle=False, verbose=0,
                           callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == list(ref["ckpt_files"])


def test_fit_validation_calls_the_test_hooks_as_tf_keras(ref):
    # The loop dispatches on the hooks a class overrides, so the recorder's class defines each.
    def recording(hook):
        def record(self, *args):
            self.hooks.append(hook)
            if hook == "on_test_end":
                self.test_end = args[-1]
        return record
    recorder_class = type("Recorder", (Callback,), {str(h): recording(str(h)) for h in ref["hooks"]})
    recorder = recorder_class()
    recorder.hooks, recorder.test_end = [], None
    history = fixture_model(ref).fit(ref["x"], ref["y"], batch_size=4, epochs=1, shuffle=False, verbose=0,
                                     validation_data=(ref["x"][:6], ref["y"][:6]), callbacks=[recorder])
    assert recorder.hooks == list(ref["hooks"])
    assert sorted(recorder.test_end) == list(ref["test_end_keys"])
    assert recorder.test_end["loss"] == pytest.approx(history.history["val_loss"][0])


def test_evaluate_passes_its_results_to_on_test_end():
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.random.RandomState(2).rand(7, 3).astype(np.float32)
    y = np.random.RandomState(3).rand(7, 2).astype(np.float32)
    seen = {}

    class Results(Callback):
        def on_test_end(self, logs=None):
            seen.update(logs)

    loss, mae = model.evaluate(x, y, batch_size=3, verbose=0, callbacks=[Results()])
    pred = model.predict(x).astype(np.float64)
    assert seen == {"loss": loss, "mae": mae}
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)


def test_predict_batch_end_logs_hold_the_outputs():
    model = Sequential([Dense(2, input_shape=(3,))])
    x = np.random.RandomState(1).rand(5, 3).astype(np.float32)
    seen = []

    class Outputs(Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(logs["outputs"])
    pred = model.predict(x, batch_size=2, callbacks=[Outputs()])
    assert [o.shape for o in seen] == [(2, 2), (2, 2), (1, 2)]
    np.testing.assert_array_equal(np.concatenate(seen), pred)


# ---- EarlyStopping: Keras 2.2.4's rules ---------------------------------------------------------
def test_early_stopping_negative_min_delta_keeps_its_sign_as_keras_2_2_4():
    # min mode, min_delta=-0.1: 2.2.4 negates it to +0.1, so a value counts as an improvement
    # when value - 0.1 < best, i.e. a rise of less than 0.1 still "improves" (and becomes best):
    # 1.0 (best), 1.05 (best), 1.12 (best), 1.3 (wait 1), 1.25 (wait 2: stop at epoch 4).
    values = [1.0, 1.05, 1.12, 1.3, 1.25, 0.1]
    assert stopping_epoch(EarlyStopping(monitor="loss", min_delta=-0.1, patience=2), values) == 4
    # With |min_delta| (tf-keras) the rises would never count: stop at epoch 2.
    assert stopping_epoch(EarlyStopping(monitor="loss", min_delta=0.1, patience=2), values) == 2


def test_early_stopping_start_from_epoch_ignores_the_warm_up():
    values = [5.0, 6.0, 7.0, 8.0, 9.0]
    assert stopping_epoch(EarlyStopping(monitor="loss", patience=1), values) == 1
    # epochs 0 and 1 ignored: 7.0 is the first best, 8.0 does not improve -> stop at epoch 3
    assert stopping_epoch(EarlyStopping(monitor="loss", patience=1, start_from_epoch=2), values) == 3
    with pytest.raises(ValueError, match=r"start_from_epoch must be an integer >= 0, got -1"):
        EarlyStopping(start_from_epoch=-1)


def test_fmeasure_is_minimised_by_early_stopping_and_plateau_maximised_by_checkpoint():
    # Keras 2.2.4: only ModelCheckpoint's 'auto' treats an f-measure as higher-is-better.
    rising = [0.1, 0.2, 0.3, 0.4]
    assert stopping_epoch(EarlyStopping(monitor="fmeasure", patience=1), rising, key="fmeasure") == 1
    assert ReduceLROnPlateau(monitor="fmeasure").monitor_op(0.5, 1.0)  # lower is better
    assert ModelCheckpoint("m.h5", monitor="fmeasure").monitor_op is np.greater
    assert EarlyStopping(monitor="val_acc").monitor_op is np.greater


# ---- ModelCheckpoint: tf-keras' later arguments -----------------------------------------------
def test_checkpoint_initial_value_threshold(ref, tmp_path):
    # epoch losses: 5.69, 2.38, 1.16, 0.60 -> with a threshold of 1.0 only epoch 4 beats it
    checkpoint = ModelCheckpoint(str(tmp_path / "m{epoch}.h5"), monitor="loss", save_best_only=True,
                                 save_weights_only=True, initial_value_threshold=1.0)
    fixture_model(ref).fit(ref["x"], ref["y"], batch_size=4, epochs=4, shuffle=False, verbose=0,
                           callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["m4.h5"]
    with pytest.raises(ValueError, match="initial_value_threshold must be a number or None, got 'low'"):
        ModelCheckpoint("m.h5", initial_value_threshold="low")
    with pytest.raises(ValueError, match="options must be None"):
        ModelCheckpoint("m.h5", options=object())


# ---- load_weights(by_name=True): Keras' per-weight rules -------------------------------------
def two_dense(n_in, second=None):
    inputs = Input((n_in,))
    hidden = Dense(4, name="d1")(inputs)
    return Model(inputs, (second or Dense(2, name="d2"))(hidden))


def numbered(model):
    model.set_weights([np.full(w.shape, k + 1.0, np.float32) for k, w in enumerate(model.get_weights())])
    return model


def test_skip_mismatch_skips_only_the_mismatched_weight(tmp_path):
    numbered(two_dense(3)).save_weights(tmp_path / "w.h5")
    target = two_dense(5)
    kernel = target.get_weights()[0].copy()
    with pytest.warns(UserWarning, match=r"layer 'd1'.*\(5, 4\) in the model, \(3, 4\) in the file"):
        target.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    got = target.get_weights()
    np.testing.assert_array_equal(got[0], kernel)  # the kernel's shape differs: kept
    np.testing.assert_array_equal(got[1], np.full(4, 2.0))  # d1's bias fits: loaded (as Keras)
    np.testing.assert_array_equal(got[2], np.full((4, 2), 3.0))
    np.testing.assert_array_equal(got[3], np.full(2, 4.0))


def test_by_name_refuses_a_namesake_with_another_weight_count(tmp_path):
    numbered(two_dense(3)).save_weights(tmp_path / "dense.h5")
    with_dropout = two_dense(3, Dropout(0.5, name="d2"))
    with pytest.raises(ValueError, match=r"layer 'd2' \(Dropout\) expects 0 weights, but the saved layer 'd2' has 2"):
        with_dropout.load_weights(tmp_path / "dense.h5", by_name=True)
    with_dropout.save_weights(tmp_path / "dropout.h5")
    target = two_dense(3)
    before = target.get_weights()
    with pytest.raises(ValueError, match=r"layer 'd2' \(Dense\) expects 2 weights, but the saved layer 'd2' has 0"):
        target.load_weights(tmp_path / "dropout.h5", by_name=True)
    for got, want in zip(target.get_weights(), before):  # nothing changed on error
        np.testing.assert_array_equal(got, want)
    with pytest.warns(UserWarning, match=r"layer 'd2' due to mismatch in number of weights \(2 in the model vs 0"):
        target.load_weights(tmp_path / "dropout.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_weights()[2], before[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        numbered(two_dense(3)).load_weights(tmp_path / "dense.h5", by_name=True, skip_mismatch=True)


def test_bad_schedule_output_and_factor_name_the_value():
    from seqnet.callbacks import LearningRateScheduler
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(SGD(lr=0.1), "mse")
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"should be float; LearningRateScheduler got 'fast' for epoch 0"):
        model.fit(x, x[:, :1], verbose=0, callbacks=[LearningRateScheduler(lambda epoch: "fast")])
    with pytest.raises(ValueError, match=r"factor >= 1.0, got factor=1.5"):
        ReduceLROnPlateau(factor=1.5)
