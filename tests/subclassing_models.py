"""The subclassed models of tests/test_model_subclassing.py, written once for any Keras 2
API: ``model_classes(keras)`` defines them over ``seqnet`` or ``tf_keras`` (the fixture
script tests/fixtures/make_subclassing_fixtures.py builds the same classes in tf-keras).

Each class assigns its layers in an order other than the one ``call`` runs them in, so the
weights order (the attributes' order, a dict's by sorted key, a list's where it was
assigned) is tested against tf-keras' rather than the graph's."""


def model_classes(keras):
    """{'mlp': MLP, 'two_inputs': TwoInputs, 'conv_net': ConvNet} over the module `keras`."""
    layers = keras.layers

    class MLP(keras.Model):
        """Dense - Dropout - Dense(softmax); `rate` 0 for comparable training steps."""

        def __init__(self, rate=0.5, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(16, activation="relu")
            self.drop = layers.Dropout(rate)
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs, training=None):
            return self.out(self.drop(self.hidden(inputs), training=training))

    class TwoInputs(keras.Model):
        """Two inputs, a Dense branch each, concatenated, one linear output."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.out = layers.Dense(2)
            self.branches = {"b": layers.Dense(4, activation="relu"), "a": layers.Dense(4, activation="tanh")}
            self.merge = layers.Concatenate()

        def call(self, inputs):
            a, b = inputs
            return self.out(self.merge([self.branches["a"](a), self.branches["b"](b)]))

    class ConvNet(keras.Model):
        """Conv2D(relu) - BatchNormalization - MaxPooling2D - Flatten - Dense(softmax)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = []  # filled below, but ordered where it is assigned (tf-keras)
            self.head = {"out": layers.Dense(3, activation="softmax"), "flat": layers.Flatten()}
            self.bn = layers.BatchNormalization()
            self.blocks.append(layers.Conv2D(4, 3, activation="relu"))
            self.pool = layers.MaxPooling2D()

        def call(self, x, training=None):
            x = self.pool(self.bn(self.blocks[0](x), training=training))
            return self.head["out"](self.head["flat"](x))

    return {"mlp": MLP, "two_inputs": TwoInputs, "conv_net": ConvNet}
