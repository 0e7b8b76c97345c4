"""Model-level API and utilities against Keras 2.2.4 / tf-keras: shared layers on inputs of
other lengths, get_layer's arguments, summary positions, get_source_inputs/count_params,
get_file's argument errors, and trainable changes without recompiling."""
import os

import numpy as np
import pytest

import seqnet as keras
from seqnet.utils import get_file, get_source_inputs
from seqnet.utils.layer_utils import count_params

L = keras.layers
FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "fixtures", "sweep_api.npz"))


def shared_encoder_model():
    a, b = L.Input((5,)), L.Input((7,))
    emb, conv = L.Embedding(10, 4), L.Conv1D(3, 2)
    lstm = L.LSTM(2, recurrent_activation="sigmoid")
    return keras.models.Model([a, b], L.concatenate([lstm(conv(emb(t))) for t in (a, b)]))


def test_shared_layers_take_inputs_of_other_lengths_as_tf_keras():
    # Embedding, Conv1D and LSTM weights do not depend on the number of steps (was: ValueError)
    f = FIXTURES
    model = shared_encoder_model()
    model.set_weights([f[f"shared_w{i}"] for i in range(len(model.get_weights()))])
    x = [f["shared_xa"], f["shared_xb"]]
    np.testing.assert_allclose(model.predict(x), f["shared_pred"], rtol=1e-4, atol=1e-6)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    np.testing.assert_allclose(model.train_on_batch(x, f["shared_y"]), f["shared_loss"], rtol=1e-4)
    np.testing.assert_allclose(model.get_weights()[0], f["shared_trained_0"], rtol=1e-3, atol=1e-6)


def test_shared_layer_shapes_are_multiple_and_per_node():
    conv = L.Conv1D(2, 1)
    conv(L.Input((5, 3)))
    conv(L.Input((7, 3)))
    assert conv.get_output_shape_at(1) == (None, 7, 2)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        conv.output_shape


def test_no_random_draws_while_checking_a_shared_layer():
    # the check builds a copy of the layer: later layers must initialise as without it
    def kernel_after(share):
        keras.utils.set_random_seed(3)
        lstm = L.LSTM(2)
        lstm(L.Input((5, 3)))
        if share:
            lstm(L.Input((7, 3)))
        dense = L.Dense(2)
        dense(L.Input((4,)))
        return dense.get_weights()[0]

    np.testing.assert_array_equal(kernel_after(False), kernel_after(True))


@pytest.mark.parametrize("layer, other", [
    (lambda: L.Dense(2), (None, 5, 4)),  # other features: other kernel
    (lambda: L.LSTM(2), (None, 5, 4)),
    (lambda: L.LocallyConnected1D(2, 2), (None, 7, 3)),  # its kernel depends on the length
    (lambda: L.Bidirectional(L.GRU(2)), (None, 5, 4)),  # was accepted, then failed in predict
])
def test_shared_layer_on_an_input_its_weights_do_not_fit_raises(layer, other):
    layer = layer()
    layer(L.Input((5, 3)))
    with pytest.raises(ValueError, match="was built for inputs of shape"):
        layer(L.Input(other[1:]))


def test_get_layer_takes_numpy_indices_and_names_a_bad_name():
    inp = L.Input((3,), name="x")
    model = keras.models.Model(inp, L.Dense(2, name="d")(inp))
    assert model.get_layer(index=np.int64(1)).name == "d"
    with pytest.raises(ValueError, match=r"name must be a string, got 0 .*index=0"):
        model.get_layer(0)
    with pytest.raises(ValueError, match="index must be an integer"):
        model.get_layer(index="1")
    with pytest.raises(ValueError, match="No such layer: zz"):
        model.get_layer("zz")


def test_summary_positions_must_cover_every_column():
    model = keras.models.Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="positions must give the right edge of each of the 3 columns"):
        model.summary(positions=[0.5, 1.0])
    lines = []
    model.summary(positions=[20, 40, 50, 60], print_fn=lines.append)  # extra edges are ignored, as Keras
    assert lines[1].rstrip() == "Layer (type)        Output Shape        Param #"


def test_get_source_inputs_and_count_params_as_keras_2_2_4():
    a, b = L.Input((3,), name="a"), L.Input((3,), name="b")
    out = L.Dense(2)(L.add([a, b, a]))
    assert get_source_inputs(out) == [a, b]
    assert get_source_inputs(a) == [a]
    assert keras.utils.get_source_inputs is get_source_inputs
    with pytest.raises(ValueError, match="expected a symbolic tensor"):
        get_source_inputs(np.ones(3))
    model = keras.models.Model([a, b], out)
    assert count_params(model.trainable_weights) == 8
    assert count_params([np.zeros((2, 3))]) == 6


def test_get_file_argument_errors(tmp_path):
    cached = tmp_path / "datasets" / "here.txt"
    cached.parent.mkdir()
    cached.write_text("hello")
    # a cached file needs no origin; fname defaults to the origin's last path part (tf-keras)
    assert get_file("here.txt", None, cache_dir=str(tmp_path)) == str(cached)
    assert get_file(None, "http://example.invalid/data/here.txt", cache_dir=str(tmp_path)) == str(cached)
    with pytest.raises(ValueError, match="no fname given"):
        get_file(None, None, cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="missing.txt is not in the cache .* origin is None"):
        get_file("missing.txt", None, cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="hash_algorithm must be 'auto', 'sha256' or 'md5', got 'sha1'"):
        get_file("here.txt", None, cache_dir=str(tmp_path), file_hash="0" * 40, hash_algorithm="sha1")


def test_trainable_changes_take_effect_without_recompiling():
    # documented difference: Keras 2.2.4 and tf-keras keep the compile-time trainable set
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    model = keras.models.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.layers[0].trainable = False
    before = model.get_weights()
    model.train_on_batch(x, y)
    changed = [not np.array_equal(b, a) for b, a in zip(before, model.get_weights())]
    assert changed == [False, False, True, True]
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 10" in lines and "Non-trainable params: 16" in lines
