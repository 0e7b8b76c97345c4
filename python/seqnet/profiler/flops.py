"""FLOPs of one layer call per sample, counted for the direct algorithm.

One multiply-add is 2 FLOPs. Layers with weights count their matrix products only (the
bias, and an activation fused into the layer, are left out), so a layer's effective
GFLOP/s compares with the machine's FMA peak: Dense 2·in·units per position, Conv
2·kh·kw·c_in·filters per output position, LSTM/GRU/SimpleRNN 2·T·(in + units)·gates·units;
their backward is the weight gradient plus, when the step needs it, the input gradient,
each as many FLOPs as the forward (recurrent layers add the state gradient through the
recurrent kernel). Normalisation, activation, pooling, dropout and merge layers count
their elementwise operations; reshaping layers count 0. docs/profiling.md has the table
of every rule. Layers it does not know (Lambda, Dot, a user's layer) count as None.
"""
import numpy as np

from seqnet.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from seqnet.layers.convolutional import DepthwiseConv2D
from seqnet.layers.convolutional._spatial import SpatialLayer
from seqnet.layers.convolutional.base_conv import Conv
from seqnet.layers.convolutional.conv2d_transpose import ConvTranspose
from seqnet.layers.convolutional.separable_conv import SeparableConv
from seqnet.layers.convolutional.upsampling import UpSampling
from seqnet.layers.convolutional_recurrent import ConvLSTM2D
from seqnet.layers.core import (Activation, ActivityRegularization, Dense, Dropout, Flatten, Masking, Permute,
                                RepeatVector, Reshape)
from seqnet.layers.embeddings import Embedding
from seqnet.layers.local.base_local import LocallyConnected
from seqnet.layers.merge import Add, Average, Concatenate, Maximum, Multiply, Subtract
from seqnet.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise
from seqnet.layers.normalization import BatchNormalization
from seqnet.layers.pooling.base_pooling import GlobalPooling, Pooling
from seqnet.layers.recurrent import RNN
from seqnet.layers.recurrent.base_rnn import BaseRNN
from seqnet.layers.recurrent.stacked_rnn_cells import StackedRNNCells
from seqnet.layers.wrappers import Bidirectional, TimeDistributed


def layer_flops(layer, input_shapes, output_shapes, training=True, need_dx=True):
    """(forward, backward) FLOPs per sample of one call of `layer`, or (None, None) for a
    layer the count does not know (see the module doc for what is counted).

    # Arguments
        layer: a built seqnet layer.
        input_shapes, output_shapes: the shape of each input / output of the call, without
            the batch axis (a list of tuples of ints).
        training: the call's training flag (Dropout, noise and BatchNormalization count
            differently in inference).
        need_dx: whether the backward pass computes the input gradient (the first layer of
            a model does not).
    """
    ins = [tuple(int(d) for d in s) for s in input_shapes]
    outs = [tuple(int(d) for d in s) for s in output_shapes]
    for cls in type(layer).__mro__:
        rule = _RULES.get(cls)
        if rule is not None:
            fwd, bwd = rule(layer, ins, outs, bool(training), bool(need_dx))
            return (None, None) if fwd is None else (int(fwd), int(bwd))
    return None, None


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


def _weighted(forward, need_dx, extra=0):
    """A product layer: backward = weight gradient (as forward) + input gradient if needed."""
    return forward, forward + (forward if need_dx else 0) + extra


def _dense(layer, ins, outs, training, need_dx):
    return _weighted(2 * layer.kernel.value.size * _size(outs[0]) // layer.units, need_dx)


def _conv(layer, ins, outs, training, need_dx):
    return _weighted(2 * layer.kernel.value.size * _size(outs[0]) // layer.filters, need_dx)


def _depthwise(layer, ins, outs, training, need_dx):
    kernel = layer.depthwise_kernel.value
    channels = kernel.shape[-2] * kernel.shape[-1]
    return _weighted(2 * kernel.size * _size(outs[0]) // channels, need_dx)


def _separable(layer, ins, outs, training, need_dx):
    positions = _size(outs[0]) // layer.filters
    depthwise = 2 * layer.depthwise_kernel.value.size * positions
    pointwise = 2 * layer.pointwise_kernel.value.size * positions
    return depthwise + pointwise, depthwise + 2 * pointwise + (depthwise if need_dx else 0)


def _transpose(layer, ins, outs, training, need_dx):
    kernel = layer.kernel.value  # kernel_size + (filters, channels in): Conv2DTranspose, Conv3DTranspose
    return _weighted(2 * kernel.size * _size(ins[0]) // kernel.shape[-1], need_dx)


def _local(layer, ins, outs, training, need_dx):
    return _weighted(2 * layer.kernel.value.size, need_dx)


def _recurrent(cells, steps, positions, need_dx):
    """Products of recurrent cells over `steps`: input (K) and recurrent (U) kernels."""
    if any(getattr(c, "kernel", None) is None or getattr(c, "recurrent_kernel", None) is None for c in cells):
        return None, None
    k = sum(c.kernel.value.size for c in cells) * positions
    u = sum(c.recurrent_kernel.value.size for c in cells) * positions
    k_first = cells[0].kernel.value.size * positions
    forward = 2 * steps * (k + u)
    # dW and dU, the state gradient through U, the inner inputs' gradients, dx of the first cell.
    backward = 2 * steps * (k + 2 * u + (k - k_first) + (k_first if need_dx else 0))
    return forward, backward


def _base_rnn(layer, ins, outs, training, need_dx):
    return _recurrent([layer], ins[0][0], 1, need_dx)


def _rnn(layer, ins, outs, training, need_dx):
    cells = list(layer.cell.cells) if isinstance(layer.cell, StackedRNNCells) else [layer.cell]
    return _recurrent(cells, ins[0][0], 1, need_dx)


def _conv_lstm(layer, ins, outs, training, need_dx):
    steps = ins[0][0]
    positions = _size(outs[0]) // layer.filters // (steps if layer.return_sequences else 1)
    return _recurrent([layer], steps, positions, need_dx)


def _batchnorm(layer, ins, outs, training, need_dx):
    n = _size(outs[0])
    return (6 * n, 8 * n) if training else (2 * n, n)


def _elementwise(layer, ins, outs, training, need_dx):
    n = _size(outs[0])
    return n, n


def _noise(layer, ins, outs, training, need_dx):
    n = _size(outs[0]) if training else 0
    return n, n


def _masking(layer, ins, outs, training, need_dx):
    n = _size(ins[0])
    return n, n


def _pooling(layer, ins, outs, training, need_dx):
    window, n = _size(layer.pool_size), _size(outs[0])
    return window * n, (n if layer.mode == "max" else window * n)


def _global_pooling(layer, ins, outs, training, need_dx):
    n = _size(ins[0])
    return n, n


def _merge(forward_per_input, backward_per_input):
    def rule(layer, ins, outs, training, need_dx):
        n, k = _size(outs[0]), len(ins)
        return forward_per_input(k) * n, backward_per_input(k) * n
    return rule


def _embedding(layer, ins, outs, training, need_dx):
    return 0, _size(outs[0])


def _upsampling(layer, ins, outs, training, need_dx):
    return 0, _size(outs[0])


def _free(layer, ins, outs, training, need_dx):
    return 0, 0


def _bidirectional(layer, ins, outs, training, need_dx):
    fwd = bwd = 0
    for inner in (layer.forward_layer, layer.backward_layer):
        shape = inner.compute_output_shape((1,) + ins[0])
        shape = shape[0] if isinstance(shape, list) else shape
        f, b = layer_flops(inner, ins[:1], [tuple(shape[1:])], training, need_dx)
        if f is None:
            return None, None
        fwd, bwd = fwd + f, bwd + b
    return fwd, bwd


def _time_distributed(layer, ins, outs, training, need_dx):
    steps = ins[0][0]
    f, b = layer_flops(layer.layer, [ins[0][1:]], [outs[0][1:]], training, need_dx)
    return (None, None) if f is None else (steps * f, steps * b)


_RULES = {
    Dense: _dense, Conv: _conv, DepthwiseConv2D: _depthwise, SeparableConv: _separable,
    ConvTranspose: _transpose, LocallyConnected: _local,
    BaseRNN: _base_rnn, RNN: _rnn, ConvLSTM2D: _conv_lstm,
    BatchNormalization: _batchnorm,
    Activation: _elementwise, ELU: _elementwise, LeakyReLU: _elementwise, PReLU: _elementwise, ReLU: _elementwise,
    Softmax: _elementwise, ThresholdedReLU: _elementwise,
    Dropout: _noise, GaussianNoise: _noise, GaussianDropout: _noise, AlphaDropout: _noise, Masking: _masking,
    Pooling: _pooling, GlobalPooling: _global_pooling,
    Add: _merge(lambda k: k - 1, lambda k: 0), Subtract: _merge(lambda k: 1, lambda k: 1),
    Multiply: _merge(lambda k: k - 1, lambda k: k * (k - 1)), Average: _merge(lambda k: k, lambda k: k),
    Maximum: _merge(lambda k: k - 1, lambda k: k),
    Embedding: _embedding, UpSampling: _upsampling,
    Flatten: _free, Reshape: _free, Permute: _free, RepeatVector: _free, SpatialLayer: _free, Concatenate: _free,
    ActivityRegularization: _free,
    Bidirectional: _bidirectional, TimeDistributed: _time_distributed,
}
