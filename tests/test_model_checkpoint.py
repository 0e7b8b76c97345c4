"""ModelCheckpoint: the seed's usage (save the best model by val_acc every 2 epochs), file
names formatted from the logs, weights-only files, and batch-frequency saving."""
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.callbacks import ModelCheckpoint
from seqnet.layers import Dense
from seqnet.models import Sequential, load_model


def setup(seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.RandomState(seed)
    x = rng.rand(64, 6).astype(np.float32)
    y = keras.utils.to_categorical((x[:, 0] + x[:, 1] > 1).astype(int), 2)
    model = Sequential([Dense(8, activation="relu", input_dim=6), Dense(2, activation="softmax")])
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


class Snapshots(keras.callbacks.Callback):
    """Records the weights and logs at every epoch end (after the checkpoint ran)."""

    def __init__(self):
        super().__init__()
        self.weights, self.logs = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.logs.append(dict(logs))


def test_seed_usage_saves_the_best_model_by_val_acc_every_two_epochs(tmp_path, capsys):
    model, x, y = setup()
    filepath = str(tmp_path / "weights.best.hdf5")
    # the seed: ModelCheckpoint(filepath, monitor='val_acc', verbose=1, save_best_only=True, mode='max', period=2)
    checkpoint = ModelCheckpoint(filepath, monitor="val_acc", verbose=1, save_best_only=True, mode="max", period=2)
    snaps = Snapshots()
    model.fit(x, y, epochs=8, batch_size=16, validation_split=0.25, verbose=0, callbacks=[checkpoint, snaps])
    accs = [logs["val_accuracy"] for logs in snaps.logs]
    best_epoch, best = None, -np.inf  # the checkpoint looks at epochs 2, 4, 6, 8 (indices 1, 3, 5, 7)
    for i in (1, 3, 5, 7):
        if accs[i] > best:
            best_epoch, best = i, accs[i]
    restored = load_model(filepath)
    for a, b in zip(restored.get_weights(), snaps.weights[best_epoch]):
        np.testing.assert_array_equal(a, b)
    out = capsys.readouterr().out
    assert f"Epoch {best_epoch + 1:05d}: val_acc improved from" in out
    assert "saving model to " + filepath in out


def test_file_names_are_formatted_from_epoch_and_logs(tmp_path):
    model, x, y = setup(1)
    pattern = str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}-{val_acc:.2f}.h5")
    snaps = Snapshots()
    model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
              callbacks=[ModelCheckpoint(pattern, save_weights_only=True), snaps])
    expected = sorted("w.%02d-%.2f-%.2f.h5" % (i + 1, logs["val_loss"], logs["val_accuracy"])
                      for i, logs in enumerate(snaps.logs))
    assert sorted(os.listdir(tmp_path)) == expected
    fresh, _, _ = setup(2)
    fresh.load_weights(str(tmp_path / expected[-1]))
    for a, b in zip(fresh.get_weights(), snaps.weights[-1]):
        np.testing.assert_array_equal(a, b)


def test_save_freq_in_batches_and_missing_monitor(tmp_path):
    model, x, y = setup(3)
    pattern = str(tmp_path / "b{epoch}-{loss:.3f}.h5")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[ModelCheckpoint(pattern, save_freq=3)])
    assert len(os.listdir(tmp_path)) == 2  # 8 batches: after batches 3 and 6
    with pytest.warns(RuntimeWarning, match="Can save best model only with val_loss available"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[ModelCheckpoint(str(tmp_path / "best.h5"), save_best_only=True)])
    assert not os.path.exists(tmp_path / "best.h5")
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint("x.h5", save_freq=0)
