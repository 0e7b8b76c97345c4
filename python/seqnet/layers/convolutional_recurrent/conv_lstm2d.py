"""ConvLSTM2D: an LSTM whose input and recurrent transformations are 2-D convolutions
(Shi 2015), Keras 2.2.4's ``keras.layers.ConvLSTM2D``.

It runs on the convolution kernels (``_engine.conv_forward`` / ``conv_backward``) and
NumPy (``conv_lstm_sequence.py``): one input convolution over all time steps at once, one
recurrent convolution per step, the gate math in NumPy; backward through time with one
transposed recurrent convolution per step, then one call each for the recurrent kernel's
and the input kernel's gradients over all steps.
"""
import numpy as np

from seqnet import _engine, activations, regularizers
from seqnet.engine.base_layer import Layer
from seqnet.layers.convolutional.conv_utils import (normalize_data_format, normalize_padding, normalize_tuple,
                                                    output_length)
from seqnet.layers.convolutional_recurrent.conv_lstm_sequence import ConvLSTMSequence
from seqnet.layers.recurrent.base_rnn import gate_masks, reset_state_arrays, set_recurrent_options
from seqnet.layers.recurrent.cells import unit_forget_bias_initializer
from seqnet.random_state import new_key


class ConvLSTM2D(Layer):
    """Convolutional LSTM over inputs (batch, time, rows, cols, channels) (channels_last) or
    (batch, time, channels, rows, cols) (channels_first).

    Arguments as Keras 2.2.4: ``filters``, ``kernel_size``, ``strides``, ``padding``
    ('valid' or 'same'), ``data_format``, ``dilation_rate`` (of the input convolution; the
    recurrent one is 'same', stride 1), ``activation='tanh'``,
    ``recurrent_activation='hard_sigmoid'``, ``use_bias``, ``unit_forget_bias``, the
    initializers, regularizers and constraints of ``kernel`` (kh, kw, channels, 4 * filters),
    ``recurrent_kernel`` (kh, kw, filters, 4 * filters) and ``bias`` (4 * filters,) (gates i,
    f, c, o), ``activity_regularizer``, ``return_sequences``, ``return_state`` (``[output, h,
    c]``), ``go_backwards``, ``stateful``, ``dropout``, ``recurrent_dropout`` (one mask per
    gate, fixed over the time steps of a batch).

    Output: (batch, time, out_rows, out_cols, filters) with ``return_sequences``, else
    (batch, out_rows, out_cols, filters) (channels_first: filters before the rows).
    Differences from Keras 2.2.4: masks are not accepted; activations must be built-in.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, dropout=0.0,
                 recurrent_dropout=0.0, unroll=False, time_major=False, **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{kind}: filters must be a positive integer, got {filters!r}")
        if unroll:
            raise TypeError("Unrolling isn't possible with convolutional RNNs.")
        if time_major:
            raise ValueError(f"{kind}: time_major=True is not supported by seqnet")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", kind)
        self.strides = normalize_tuple(strides, 2, "strides", kind)
        self.padding = normalize_padding(padding, ("valid", "same"), kind)
        self.data_format = normalize_data_format(data_format, kind)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", kind)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{kind}: strides > 1 together with dilation_rate > 1 is not supported (strides="
                             f"{self.strides}, dilation_rate={self.dilation_rate})")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self._act = _engine_code(self.activation, kind, "activation")
        self._rec_act = _engine_code(self.recurrent_activation, kind, "recurrent_activation")
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        set_recurrent_options(self, kind, kernel_initializer, recurrent_initializer, bias_initializer,
                              kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                              recurrent_constraint, bias_constraint, dropout, recurrent_dropout)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = False
        self.states = None  # stateful: [h, c], each (batch, out_rows, out_cols, filters) channels_last
        self._key = new_key()
        self._step = 0

    # ---- shapes -------------------------------------------------------------------------------
    def _split_shape(self, input_shape):
        """(batch, time, rows, cols, channels) of an input shape, or ValueError."""
        input_shape = tuple(input_shape)
        if len(input_shape) != 5:
            raise ValueError(f"Layer '{self.name}' (ConvLSTM2D) expects inputs of rank 5 (batch, time, rows, cols, "
                             f"channels) or (batch, time, channels, rows, cols), got shape {input_shape}")
        if self.data_format == "channels_first":
            batch, steps, channels, rows, cols = input_shape
        else:
            batch, steps, rows, cols, channels = input_shape
        return batch, steps, rows, cols, channels

    def _out_spatial(self, rows, cols, input_shape):
        out = []
        for axis, length in enumerate((rows, cols)):
            n = output_length(length, self.kernel_size[axis], self.padding, self.strides[axis],
                              self.dilation_rate[axis])
            if n is not None and n < 1:
                raise ValueError(f"Layer '{self.name}' (ConvLSTM2D): kernel_size {self.kernel_size} with "
                                 f"dilation_rate {self.dilation_rate} is larger than the input's spatial size "
                                 f"{(rows, cols)} with padding='valid' (input shape {tuple(input_shape)})")
            out.append(n)
        return tuple(out)

    def _with_channels(self, batch, spatial):
        if self.data_format == "channels_first":
            return (batch, self.filters) + tuple(spatial)
        return (batch,) + tuple(spatial) + (self.filters,)

    def compute_output_shape(self, input_shape):
        batch, steps, rows, cols, _ = self._split_shape(input_shape)
        state = self._with_channels(batch, self._out_spatial(rows, cols, input_shape))
        out = (state[0], steps) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    @property
    def n_outputs(self):
        return 3 if self.return_state else 1

    # ---- building -----------------------------------------------------------------------------------
    def build(self, input_shape):
        batch, _, rows, cols, channels = self._split_shape(input_shape)
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel axis of the input must be defined, got "
                             f"{tuple(input_shape)}")
        spatial = self._out_spatial(rows, cols, input_shape)
        if self.stateful and (batch is None or None in spatial):
            raise ValueError(f"Layer '{self.name}': a stateful ConvLSTM2D needs to know its batch size and spatial "
                             f"size (pass batch_input_shape=(batch, time, ...)), got input shape "
                             f"{tuple(input_shape)}")
        f = self.filters
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, 4 * f), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", self.kernel_size + (f, 4 * f),
                                                self.recurrent_initializer, regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            bias_init = self.bias_initializer
            if self.unit_forget_bias:
                bias_init = unit_forget_bias_initializer(self.bias_initializer, f)
            self.bias = self.add_weight("bias", (4 * f,), bias_init, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        if self.stateful:
            self.states = [np.zeros((batch,) + spatial + (f,), np.float32) for _ in range(2)]
        super().build(input_shape)

    def reset_states(self, states=None):
        """Zeroes h and c of a stateful layer (or sets them to `states` = [h, c], in the
        layer's data_format)."""
        first = self.data_format == "channels_first"
        reset_state_arrays(self, states, described="2 states [h, c]",
                           to_stored=(lambda a: a.transpose(0, 2, 3, 1) if first and a.ndim == 4 else a),
                           shown=self._layout)

    # ---- running ------------------------------------------------------------------------------------
    def forward(self, x, training):
        batch, steps, rows, cols, channels = self._split_shape(x.shape)
        if self.stateful and batch != self.states[0].shape[0]:
            raise ValueError(f"Layer '{self.name}' is stateful with batch size {self.states[0].shape[0]}, but got "
                             f"a batch of {batch} samples")
        spatial = self._out_spatial(rows, cols, x.shape)
        seq = self._sequence()
        xt = seq.buffer("x", (steps, batch, rows, cols, channels))
        perm = (1, 0, 3, 4, 2) if self.data_format == "channels_first" else (1, 0, 2, 3, 4)
        source = x.transpose(perm)
        np.copyto(xt, source[::-1] if self.go_backwards else source)
        h0 = c0 = None
        if self.stateful:
            h0, c0 = self.states
        in_masks = self._masks("in", self.dropout, (batch, rows, cols, channels)) if training else None
        rec_masks = self._masks("rec", self.recurrent_dropout, (batch,) + spatial + (self.filters,)) \
            if training else None
        if training:
            self._step += 1
        hs, h_last, c_last = seq.forward(xt, spatial, h0, c0, in_masks, rec_masks)
        if self.stateful:
            self.states[0][...] = h_last
            self.states[1][...] = c_last
        state_shape = self._with_channels(batch, spatial)
        if self.return_sequences:
            y = self._workspace("y", (batch, steps) + state_shape[1:])
            np.copyto(y, hs.transpose((1, 0, 4, 2, 3) if self.data_format == "channels_first" else (1, 0, 2, 3, 4)))
        else:
            y = self._workspace("y", state_shape)
            np.copyto(y, self._layout(h_last))
        if self.return_state:
            h = self._workspace("h_out", state_shape)
            c = self._workspace("c_out", state_shape)
            np.copyto(h, self._layout(h_last))
            np.copyto(c, self._layout(c_last))
            return [y, h, c]
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        seq = self._seq
        dh_last = dc_last = None
        if self.return_state:
            if not isinstance(dy, (list, tuple)) or len(dy) != 3:
                raise ValueError(f"Layer '{self.name}' returns 3 outputs (return_state=True); backward needs a list "
                                 "of 3 gradients (None for none)")
            dy, dh_last, dc_last = dy
            dh_last, dc_last = self._nhwc(dh_last), self._nhwc(dc_last)
        dhs = None
        if dy is not None:
            dy = np.asarray(dy, np.float32)
            if self.return_sequences:
                dhs = dy.transpose((1, 0, 3, 4, 2) if self.data_format == "channels_first" else (1, 0, 2, 3, 4))
            else:
                d = self._nhwc(dy)
                dh_last = d if dh_last is None else dh_last + d
        dxt = seq.backward(dhs, dh_last, dc_last, need_dx, self.kernel, self.recurrent_kernel, self.bias)
        if dxt is None:
            return None
        if self.go_backwards:
            dxt = dxt[::-1]
        perm = (1, 0, 4, 2, 3) if self.data_format == "channels_first" else (1, 0, 2, 3, 4)
        dx = self._workspace("dx", tuple(dxt.shape[i] for i in perm))
        np.copyto(dx, dxt.transpose(perm))
        return dx

    def _sequence(self):
        seq = self.__dict__.get("_seq")
        if seq is None:
            seq = self._seq = ConvLSTMSequence(self)
        return seq

    def _call_clone(self):
        clone = super()._call_clone()
        clone._seq = None
        return clone

    def _layout(self, a):
        """An NHWC state array in the layer's data_format (a view)."""
        return a.transpose(0, 3, 1, 2) if self.data_format == "channels_first" else a

    def _nhwc(self, a):
        if a is None:
            return None
        a = np.asarray(a, np.float32)
        return a.transpose(0, 2, 3, 1) if self.data_format == "channels_first" else a

    def _masks(self, which, rate, shape):
        """Four inverted-dropout multipliers of `shape` (one per gate), or None when rate is 0."""
        if rate <= 0.0:
            return None
        n = 4 * int(np.prod(shape))
        ones = self._workspace(which + "_ones", (n,))
        ones.fill(1.0)
        out = self._workspace(which + "_mask", (n,))
        bits = self._workspace(which + "_bits", (n,), np.uint8)
        gate_masks(ones, out, bits, rate, self._key, 2 * self._step + (which == "rec"), (4,) + tuple(shape))
        return out.reshape((4,) + tuple(shape))

    # ---- configuration -----------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll,
                      filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                      data_format=self.data_format, dilation_rate=self.dilation_rate,
                      activation=activations.config_name(self.activation),
                      recurrent_activation=activations.config_name(self.recurrent_activation), use_bias=self.use_bias)
        options = self._weight_options_config("kernel", "recurrent", "bias")
        for key in ("kernel_initializer", "recurrent_initializer", "bias_initializer"):
            config[key] = options.pop(key)
        config["unit_forget_bias"] = self.unit_forget_bias
        config.update(options)
        config.update(dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        return config


def _engine_code(fn, kind, what):
    code = activations.engine_code(fn)
    if code is None:
        raise ValueError(f"{kind}: {what}={getattr(fn, '__name__', fn)!r} is not supported by seqnet's ConvLSTM2D "
                         "(use a built-in activation)")
    return code
