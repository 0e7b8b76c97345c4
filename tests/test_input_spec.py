"""InputSpec (Keras 2.2.4's input checks for custom layers) and seqnet.layers.serialize /
deserialize."""
import numpy as np
import pytest

import seqnet as keras
from seqnet import backend as K
from seqnet import layers as L
from seqnet.engine import InputSpec


class Square(L.Layer):
    """A custom layer whose constructor sets the spec it accepts."""

    def __init__(self, spec=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = spec

    def call(self, x):
        return x * x


class Project(L.Layer):
    """The Keras 2 idiom: build fixes the last axis it was built for."""

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], 2), "ones")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_shape[-1]})
        super().build(input_shape)

    def call(self, x):
        return K.dot(x, self.kernel)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (2,)


@pytest.mark.parametrize("spec, shape, ok", [
    (InputSpec(ndim=3), (5, 4), True),
    (InputSpec(ndim=3), (4,), False),
    (InputSpec(min_ndim=3), (4,), False),
    (InputSpec(min_ndim=3), (2, 3, 4), True),
    (InputSpec(max_ndim=3), (2, 3, 4), False),
    (InputSpec(max_ndim=3), (3, 4), True),
    (InputSpec(axes={-1: 4}), (3, 4), True),
    (InputSpec(axes={-1: 4}), (3, 5), False),
    (InputSpec(axes={1: 3}), (3, 5), True),
    (InputSpec(axes={1: 3}), (None, 5), True),  # an unknown size passes, as in Keras
    (InputSpec(axes={7: 3}), (3, 5), False),  # an axis the input does not have
    (InputSpec(shape=(None, 3, 4)), (3, 4), True),
    (InputSpec(shape=(None, 3, 4)), (3, 5), False),
    (InputSpec(shape=(None, 3, 4)), (3,), False),  # the shape sets ndim
    (InputSpec(dtype="float32"), (3,), True),
    (InputSpec(dtype="int32"), (3,), False),
])
def test_spec_set_in_the_constructor_is_checked_on_each_call(spec, shape, ok):
    x = L.Input(shape)
    layer = Square(spec)
    if ok:
        assert layer(x).shape == (None,) + shape
    else:
        with pytest.raises(ValueError, match=r"Input 0 is incompatible with layer 'square_\d+' \(Square\): expected"):
            layer(x)
        assert not layer._inbound_nodes  # the refused call recorded nothing


def test_spec_set_in_build_refuses_a_second_call_of_another_width_and_trains():
    layer = Project()
    x = L.Input((4,))
    model = keras.Model(x, layer(x))
    with pytest.raises(ValueError, match=r"expected axis -1 of the input shape to have value 4, found shape "
                                         r"\(None, 5\)"):
        layer(L.Input((5,)))
    model.compile("sgd", "mse")
    data = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.testing.assert_allclose(model.predict(data), data.sum(axis=1, keepdims=True) * np.ones((1, 2)), rtol=1e-6)


def test_a_list_of_specs_checks_each_input():
    class Pair(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = [InputSpec(ndim=2), None]

        def call(self, inputs):
            return inputs[0]

        def compute_output_shape(self, input_shape):
            return input_shape[0]

    a, b = L.Input((3,)), L.Input((2, 2))
    assert Pair()([a, b]).shape == (None, 3)
    with pytest.raises(ValueError, match="Input 0 is incompatible"):
        Pair()([b, a])
    with pytest.raises(ValueError, match=r"expects 2 input\(s\) \(its input_spec\), but it received 1"):
        Pair()(a)


def test_spec_repr_config_and_paths():
    spec = InputSpec(shape=(None, 3), axes={-1: 3})
    assert spec.ndim == 2 and spec.axes == {-1: 3}
    assert "shape=(None, 3)" in repr(spec)
    assert InputSpec.from_config(spec.get_config()).get_config() == spec.get_config()
    from seqnet.engine.base_layer import InputSpec as from_base_layer
    assert L.InputSpec is InputSpec is from_base_layer
    assert L.Dense(3).input_spec is None  # built-in layers check their inputs in build


def test_serialize_gives_the_keras_dict_and_deserialize_rebuilds_the_layer():
    dense = L.Dense(3, activation="tanh", use_bias=False, name="proj")
    entry = L.serialize(dense)
    assert entry == {"class_name": "Dense", "config": dense.get_config()}
    clone = L.deserialize(entry)
    assert type(clone) is L.Dense and clone is not dense
    assert clone.get_config() == dense.get_config()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    models = [keras.Sequential([layer]) for layer in (dense, clone)]
    for m in models:
        m.build((None, 4))
    models[1].set_weights(models[0].get_weights())
    np.testing.assert_array_equal(models[0].predict(x), models[1].predict(x))
    np.testing.assert_allclose(models[0].predict(x), np.tanh(x.astype(np.float64) @ models[0].get_weights()[0]),
                               rtol=1e-5, atol=1e-6)


def test_deserialize_models_custom_classes_and_errors():
    model = keras.Sequential([L.Dense(2, input_shape=(4,)), L.Activation("relu")])
    clone = L.deserialize(L.serialize(model))
    assert type(clone) is keras.Sequential and clone.count_params() == model.count_params() == 10
    entry = L.serialize(Square(name="sq"))
    with pytest.raises(ValueError, match="Unknown layer: 'Square'"):
        L.deserialize(entry)
    assert type(L.deserialize(entry, custom_objects={"Square": Square})) is Square
    with pytest.raises(TypeError, match="expected a seqnet layer or model, got dict"):
        L.serialize({"class_name": "Dense"})
    with pytest.raises(ValueError, match="'class_name' string and a 'config' dict"):
        L.deserialize({"config": {}})
