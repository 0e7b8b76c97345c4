"""BatchNormalization: each channel normalised over the batch (Ioffe and Szegedy, 2015)."""
import numbers

import numpy as np

from seqnet import _engine, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.engine.weight import Weight
from seqnet.layers.convolutional.conv1d import Conv1D
from seqnet.layers.convolutional.conv2d import Conv2D
from seqnet.layers.core.dense import Dense

# tf-keras config keys seqnet accepts only with these (their defaults) values.
_TF_KERAS_DEFAULTS = {"renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99, "fused": None,
                      "virtual_batch_size": None, "adjustment": None, "synchronized": False}


class BatchNormalization(Layer):
    """Batch normalization layer (Ioffe and Szegedy, 2015), Keras 2.2.4's.

    Normalizes the activations of the previous layer at each batch: per channel (the
    `axis`), ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta``.

    - Training (``fit``, ``train_on_batch``): mean and var are the batch's (the biased
      variance, over every axis but `axis`), and the moving statistics are updated once
      per step, as Keras 2.2.4's layer does::

          moving_mean     = moving_mean * momentum + mean * (1 - momentum)
          moving_variance = moving_variance * momentum + var * n / (n - (1 + epsilon)) * (1 - momentum)

      with n the number of values per channel in the batch (Keras 2.2.4's "unbiased"
      sample variance). The gradient flows through the batch statistics.
    - Inference (``predict``, ``evaluate``): mean and var are the moving statistics.
    - ``trainable=False`` (Keras 2.2.4): gamma and beta are not trained and the moving
      statistics are not updated, but training still normalizes with the batch's statistics
      (tf-keras 2 instead runs a frozen layer in inference mode).

    Arguments:
        axis: the channel axis (an integer; -1 for channels_last, 1 after a
            ``data_format="channels_first"`` convolution). Not the batch axis.
        momentum: momentum of the moving mean and variance, in [0, 1].
        epsilon: small float (>= 0) added to the variance to avoid dividing by zero.
        center: if True, add the offset `beta`; if False, `beta` is not created.
        scale: if True, multiply by `gamma`; if False, `gamma` is not created.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers of the four weights.
        beta_regularizer, gamma_regularizer: optional regularizers of beta and gamma.
        beta_constraint, gamma_constraint: optional constraints of beta and gamma.

    Weights, in Keras' order: ``[gamma, beta, moving_mean, moving_variance]`` (gamma only
    with `scale`, beta only with `center`), each of shape ``(channels,)``; the moving
    statistics are non-trainable. Input: any shape; output: the same shape. A mask is
    passed on unchanged (and, as in Keras 2.2.4, does not weight the statistics).

    Differences from Keras 2.2.4 on the TensorFlow backend, whose layer code seqnet follows:
    TensorFlow's ``assign_moving_average`` there zero-debiases the moving averages (a hidden
    accumulator, not saved with the weights, makes the first training step replace the
    initial moving statistics with the batch's), and its fused kernel (4-D channels_last
    inputs) returns an already Bessel-corrected variance that the layer corrects again.
    seqnet applies the plain moving average above, on every input rank, as Keras 2.2.4 does
    on its Theano backend (tf-keras and PyTorch: the same average, with the biased / n/(n-1)
    variance). seqnet reads `trainable` at each step, as it does for the weights. Only one
    axis (tf-keras' list of axes: a list of one); Keras 1 argument names are not accepted.
    """

    # A ReLU Activation layer right after it in a plain chain runs in its kernels (engine/network.py).
    _activation_fusable = True
    _fusable_activations = (_engine.Activation.relu,)
    _custom = None
    _act = _engine.Activation.linear  # the activation its kernels apply: relu only while fused
    _keep_z = False
    _relu_y = None  # the forward's output when it applied the ReLU

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(axis, self.name)
        self.momentum = _number(momentum, "momentum", self.name, 0.0, 1.0)
        self.epsilon = _number(epsilon, "epsilon", self.name, 0.0, float("inf"))
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._ws_sizes = {}

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        axis = self._channel_axis(input_shape)
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): axis {self.axis} of the input should have "
                             f"a defined dimension, but the layer received an input with shape {input_shape}")
        shape = (int(dim),)
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self._axis = axis
        super().build(input_shape)

    def _channel_axis(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): axis={self.axis} is out of range for "
                             f"inputs of shape {tuple(input_shape)} ({ndim} dimensions)")
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): axis={self.axis} is the batch axis of "
                             f"inputs of shape {tuple(input_shape)}; normalize along a feature axis")
        return axis

    def compute_output_shape(self, input_shape):
        return input_shape

    # ---- running -------------------------------------------------------------------------
    def forward(self, x, training, mask=None):
        axis = self._axis
        channels = self.moving_mean.value.shape
        y = self._workspace("y", x.shape)
        mean = self._workspace("mean", channels)
        inv_std = self._workspace("inv_std", channels)
        ws = self._workspace("bn", (self._workspace_size(x.shape),))
        gamma = self.gamma.value if self.gamma is not None else None
        beta = self.beta.value if self.beta is not None else None
        relu = self._act == _engine.Activation.relu
        if training:
            update = self.trainable  # Keras 2.2.4: a frozen layer's updates are dropped
            _engine.batchnorm_forward_training(x, gamma, beta, y, mean, inv_std,
                                               self.moving_mean.value if update else None,
                                               self.moving_variance.value if update else None,
                                               ws, axis, self.epsilon, self.momentum, relu)
        else:
            _engine.batchnorm_forward_inference(x, gamma, beta, self.moving_mean.value, self.moving_variance.value,
                                                y, mean, inv_std, ws, axis, self.epsilon, relu)
        self._x, self._mean, self._inv_std, self._batch_stats = x, mean, inv_std, bool(training)
        self._relu_y = y if relu else None
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        x = self._x
        if not dy.flags.c_contiguous:
            dy = np.ascontiguousarray(dy)
        dx = None
        if need_dx:  # computed in place: the contract lets a layer overwrite dy
            dx = dy if dy.flags.writeable else self._workspace("dx", x.shape)
        learn = self.trainable
        dgamma = self.gamma.grad if learn and self.gamma is not None else None
        dbeta = self.beta.grad if learn and self.beta is not None else None
        ws = self._workspace("bn", (self._workspace_size(x.shape),))
        _engine.batchnorm_backward(x, dy, self.gamma.value if self.gamma is not None else None, self._mean,
                                   self._inv_std, dx, dgamma, dbeta, ws, self._axis, self._batch_stats,
                                   None if dy_is_preactivation else self._relu_y)
        return dx

    def _workspace_size(self, shape):
        size = self._ws_sizes.get(shape)
        if size is None:
            size = self._ws_sizes[shape] = max(1, _engine.batchnorm_workspace_size(shape, self._axis))
        return size

    # ---- inference folding -------------------------------------------------------------------
    def fold_into(self, layer):
        """For inference: a runner of `layer` with this layer folded into it, or None.

        `layer` is the Dense, Conv1D or Conv2D (linear activation) whose output this layer
        normalizes along its channel axis. With s = gamma / sqrt(moving_variance + epsilon),
        the runner computes ``x @ (kernel * s) + (bias - moving_mean) * s + beta``, equal to
        this layer's inference output, in one kernel call. It is a clone with its own folded
        copies (recompute it after the weights change); both layers are left unchanged.
        """
        if not (self.built and getattr(layer, "built", False)) or type(layer) not in (Dense, Conv1D, Conv2D):
            return None
        if layer._custom is not None or layer._act != _engine.Activation.linear:
            return None
        ndim = len(self.input_shape_seen)
        channel = 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else ndim - 1
        units = layer.units if type(layer) is Dense else layer.filters
        if self._axis != channel or self.moving_mean.value.shape != (units,):
            return None
        inv = 1.0 / np.sqrt(self.moving_variance.value.astype(np.float64) + self.epsilon)
        scale = inv * self.gamma.value if self.gamma is not None else inv
        shift = -self.moving_mean.value * scale + (self.beta.value if self.beta is not None else 0.0)
        bias = layer.bias.value.astype(np.float64) if layer.bias is not None else 0.0
        runner = layer._call_clone()
        runner.kernel = Weight(layer.kernel.name, layer.kernel.value * scale, trainable=False)
        runner.bias = Weight(f"{layer.name}/bias:0", bias * scale + shift, trainable=False)
        runner._weights = [runner.kernel, runner.bias]
        return runner

    # ---- configuration ---------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, momentum=self.momentum, epsilon=self.epsilon, center=self.center,
                      scale=self.scale, beta_initializer=initializers.serialize(self.beta_initializer),
                      gamma_initializer=initializers.serialize(self.gamma_initializer),
                      moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
                      moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
                      beta_regularizer=regularizers.serialize(self.beta_regularizer),
                      gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
                      beta_constraint=constraints.serialize(self.beta_constraint),
                      gamma_constraint=constraints.serialize(self.gamma_constraint))
        return config

    @classmethod
    def from_config(cls, config):
        """Also reads tf-keras' configs: its extra keys are accepted at their default values."""
        config = dict(config)
        for key, default in _TF_KERAS_DEFAULTS.items():
            if key in config:
                value = config.pop(key)
                if value != default:
                    raise ValueError(f"BatchNormalization '{config.get('name')}': {key}={value!r} is not supported "
                                     "by seqnet")
        return cls(**config)


def _axis_argument(axis, name):
    """An integer axis; tf-keras' list of axes is accepted when it holds one."""
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"Layer '{name}' (BatchNormalization): axis must be an integer (one axis), got {axis!r}")
    return int(axis)


def _number(value, what, name, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ValueError(f"Layer '{name}' (BatchNormalization): {what} must be a number in [{low}, {high}], "
                         f"got {value!r}")
    return float(value)
