"""ActivityRegularization: passes its input on unchanged and adds an L1/L2 penalty on it to the loss."""
import numbers

from seqnet import regularizers
from seqnet.engine.base_layer import Layer


class ActivityRegularization(Layer):
    """Identity layer that adds ``l1 * sum(|x|) + l2 * sum(x ** 2)`` of its input to the
    training loss (and that penalty's gradient to the input's gradient).

    Arguments:
        l1: non-negative float, the L1 factor.
        l2: non-negative float, the L2 factor.

    As Keras 2.2.4, the penalty is summed over the whole batch (tf-keras divides it by the
    batch size) and it is part of the loss that ``fit``, ``train_on_batch`` and
    ``evaluate`` report. Any input shape; the output has the same shape. Masks pass
    through unchanged.
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        for what, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
                raise ValueError(f"ActivityRegularization '{self.name}': {what} must be a non-negative number, "
                                 f"got {value!r}")
        self.l1 = float(l1)
        self.l2 = float(l2)
        # The engine adds the penalty and its gradient for every layer with this attribute.
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def forward(self, x, training):
        return x

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        return dy if need_dx else None

    def get_config(self):
        config = super().get_config()
        config.update(l1=self.l1, l2=self.l2)
        return config
