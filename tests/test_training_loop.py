"""The one epoch loop: arrays, generators, Sequences and HDF5 datasets feed the same fit;
Keras 2.2.4's steps_per_epoch / validation_steps on arrays; validation from generators."""
import numpy as np
import pytest

import seqnet as keras
from seqnet.layers import Dense
from seqnet.models import Sequential
from seqnet.utils import Sequence


def make_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)])
    model.compile(keras.optimizers.SGD(lr=0.1), "mse")
    return model


def data(n=10, seed=1):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 3).astype(np.float32), rng.rand(n, 1).astype(np.float32)


def test_steps_per_epoch_on_arrays_takes_all_rows_each_step_as_keras_224():
    x, y = data()
    a, b = make_model(), make_model()
    history = a.fit(x, y, steps_per_epoch=3, epochs=2, verbose=0, shuffle=False)
    losses = [b.train_on_batch(x, y) for _ in range(6)]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    assert history.history["loss"][1] == pytest.approx(np.mean(losses[3:]), rel=1e-5)


def test_validation_steps_on_arrays():
    x, y = data()
    model = make_model()
    history = model.fit(x, y, steps_per_epoch=2, validation_data=(x, y), validation_steps=2, epochs=1, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(x, y, steps_per_epoch=0, verbose=0)


class Batches(Sequence):
    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return int(np.ceil(len(self.x) / self.size))

    def __getitem__(self, i):
        return self.x[i * self.size:(i + 1) * self.size], self.y[i * self.size:(i + 1) * self.size]


def test_array_training_validates_on_a_sequence_and_a_generator():
    x, y = data(12)
    vx, vy = data(8, seed=2)
    model = make_model()
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=Batches(vx, vy, 3))
    assert len(history.history["val_loss"]) == 2
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(vx, vy, verbose=0), rel=1e-5)

    def forever():
        while True:
            yield vx, vy
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=forever(), validation_steps=2)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(vx, vy, verbose=0), rel=1e-5)
    with pytest.raises(ValueError, match="validation_steps"):
        model.fit(x, y, epochs=1, verbose=0, validation_data=forever())


def test_generator_and_array_training_give_the_same_weights():
    x, y = data(12)
    a, b = make_model(), make_model()
    a.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    b.fit(Batches(x, y, 4), epochs=2, shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_fit_reads_an_hdf5_dataset_batch_by_batch(tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py is a dependency of seqnet")
    from seqnet.utils import HDF5Matrix
    x, y = data(20)
    path = str(tmp_path / "data.h5")
    with h5py.File(path, "w") as f:
        f["x"], f["y"] = x, y
    a, b = make_model(), make_model()
    hx, hy = HDF5Matrix(path, "x"), HDF5Matrix(path, "y")
    np.random.seed(3)
    a.fit(hx, hy, batch_size=6, epochs=2, shuffle="batch", verbose=0)
    np.random.seed(3)
    b.fit(x, y, batch_size=6, epochs=2, shuffle="batch", verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict(hx, batch_size=7), a.predict(x, batch_size=7))


def test_dict_input_with_an_unknown_name_is_refused():
    x, y = data()
    model = make_model()
    with pytest.raises(ValueError, match="no input layer is named"):
        model.fit({"not_an_input": x}, y, verbose=0)
    name = model.input_names[0]
    model.fit({name: x}, y, verbose=0)
