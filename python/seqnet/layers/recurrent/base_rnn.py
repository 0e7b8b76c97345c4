"""BaseRNN: what LSTM, GRU and SimpleRNN share — arguments, states, dropout masks, sequence
masks, return_state, and one engine call per direction over the whole sequence
(``_engine.rnn_forward`` / ``rnn_backward``)."""
import numpy as np

from seqnet import _engine, activations, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer, TokenRows
from seqnet.random_state import batch_position, new_key


class BaseRNN(Layer):
    """A recurrent layer over inputs of shape (batch, timesteps, input_dim).

    Subclasses set ``_cell`` (an ``_engine.RnnCell``), ``_gates`` (4, 3 or 1) and create
    their weights in ``build`` with ``_add_rnn_weights``. States, when ``stateful``, live in
    ``self.states`` (one (batch, units) array each) and carry over between batches until
    ``reset_states()``.

    Masks (Keras 2.2.4's K.rnn): ``forward(x, training, mask)`` takes a (batch, timesteps)
    bool/uint8 mask; at a step whose mask is 0 the states carry over unchanged and the
    output repeats the previous step's output (zeros before the first unmasked step, even
    for a non-zero initial state, as tf-keras and Keras 2.2.4 with ``unroll=True``; Keras
    2.2.4's default loop repeats the previous *state* there instead, which differs only for
    a stateful layer whose row starts with masked steps). ``compute_mask`` passes the mask
    on only with ``return_sequences``.

    ``initial_state`` (Keras 2.2.4): ``layer(x, initial_state=[h0])`` (LSTM: ``[h0, c0]``), or
    ``layer([x, h0, ...])``, starts from given states, symbolic tensors of shape (batch, units)
    that get gradients (an encoder's final states feeding a decoder). A stateful layer starts
    from them on every call, as Keras 2.2.4 (tf-keras only while its stored states are all
    zero), and stores its final states as usual.

    ``return_state=True``: ``forward`` returns ``[output, h]`` (LSTM: ``[output, h, c]``),
    the final states being the ones carried past masked steps, and ``backward`` takes a list
    of the same length whose entries are arrays or None (no gradient for that output).
    ``n_outputs`` says how many arrays ``forward`` returns.
    """

    _cell = _engine.RnnCell.SimpleRNN
    _gates = 1
    _n_states = 1
    _reset_after = False  # GRU(reset_after=True) sets it
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, implementation=1, time_major=False, **kwargs):
        # A recurrent layer's input_dim alone means (timesteps unknown, input_dim).
        if kwargs.get("input_dim") is not None and "input_length" not in kwargs:
            kwargs["input_length"] = None
        super().__init__(**kwargs)
        kind = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{kind}: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self._act = _engine_activation(self.activation, kind, "activation")
        self._rec_act = _engine_activation(self.recurrent_activation, kind, "recurrent_activation")
        self.use_bias = bool(use_bias)
        set_recurrent_options(self, kind, kernel_initializer, recurrent_initializer, bias_initializer,
                              kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                              recurrent_constraint, bias_constraint, dropout, recurrent_dropout)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted; the engine's loop is already one call
        if time_major:  # tf-keras writes time_major=False into its configs
            raise ValueError(f"{kind}: time_major=True is not supported by seqnet (inputs are batch-major)")
        self.implementation = implementation
        self.states = None
        self._key = new_key()
        self._step = 0

    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        """Applies the layer to a symbolic tensor; ``initial_state`` (a tensor or a list, one
        per state) becomes extra inputs, as in Keras."""
        return super().__call__(initial_state_inputs(self, inputs, initial_state, constants), **kwargs)

    # ---- building -----------------------------------------------------------------------
    def _add_rnn_weights(self, input_shape, bias_shape, bias_initializer):
        kind = type(self).__name__
        if is_shape_list(input_shape):  # [inputs] + initial states
            shapes = [tuple(s) for s in input_shape]
            input_shape = shapes[0]
            check_initial_states(self, shapes[1:], [self.units] * self._n_states)
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' ({kind}) expects inputs of shape (batch, timesteps, "
                             f"input_dim), got {tuple(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"Layer '{self.name}': the last axis of the input must be defined, got "
                             f"{tuple(input_shape)}")
        if self.stateful and input_shape[0] is None:
            raise ValueError(f"Layer '{self.name}': if a RNN is stateful, it needs to know its batch size. "
                             "Specify the batch size of your input tensors: pass `batch_input_shape=(batch, "
                             "timesteps, input_dim)` (or `batch_size=`) to the first layer of a Sequential "
                             "model.")
        n = self._gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], n), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, n), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", bias_shape, bias_initializer, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        if self.stateful:
            self.states = [np.zeros((input_shape[0], self.units), np.float32) for _ in range(self._n_states)]

    @property
    def n_outputs(self):
        """How many arrays ``forward`` returns: 1, or with ``return_state`` 1 + the states."""
        return 1 + self._n_states if self.return_state else 1

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):  # Keras: a list is [inputs] + initial states
            input_shape = input_shape[0]
        out = (input_shape[0], input_shape[1], self.units) if self.return_sequences else (input_shape[0], self.units)
        if self.return_state:
            return [out] + [(input_shape[0], self.units)] * self._n_states
        return out

    def compute_mask(self, inputs, mask=None):
        """The output mask (Keras 2.2.4): the input mask with ``return_sequences``, else
        None; with ``return_state`` a list with None for each state."""
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * self._n_states
        return out

    def reset_states(self, states=None):
        """Zeroes the states of a stateful layer (or sets them to `states`)."""
        reset_state_arrays(self, states)

    # ---- running ----------------------------------------------------------------------------
    def forward(self, x, training, mask=None):
        tokens, self._tokens = None, (None, None)
        given = None
        if isinstance(x, (list, tuple)):  # [inputs] + initial states
            x, given = x[0], list(x[1:])
        if isinstance(x, TokenRows):
            x, tokens = self._token_inputs(x, training)
        batch, steps, dim = x.shape if tokens is None else tokens.shape
        u = self.units
        if self.stateful and batch != self.states[0].shape[0]:
            raise ValueError(f"Layer '{self.name}' is stateful with batch size {self.states[0].shape[0]} "
                             f"(from batch_input_shape), but got a batch of {batch} samples; pass "
                             "batch_size= to fit/predict and use a sample count divisible by it")
        if given is not None and (len(given) != self._n_states or any(np.shape(s) != (batch, u) for s in given)):
            raise ValueError(f"Layer '{self.name}': the initial states must be {self._n_states} array(s) of shape "
                             f"(batch, units) = {(batch, u)}, got {[np.shape(s) for s in given]}")
        init = []
        for i in range(self._n_states):
            s0 = self._workspace(f"s0_{i}", (batch, u))
            if given is not None:
                s0[...] = given[i]
            elif self.stateful:
                s0[...] = self.states[i]
            else:
                s0.fill(0.0)
            init.append(s0)
        lstm = self._n_states > 1
        gates = self._workspace("gates", (batch, steps, self._gates * u))
        hs = self._workspace("hs", (batch, steps, u))
        aux = self._workspace("aux", (batch, steps, u)) if self._cell != _engine.RnnCell.SimpleRNN else None
        h_last = self._workspace("h_last", (batch, u))
        c_last = self._workspace("c_last", (batch, u)) if lstm else None
        size = _engine.rnn_scratch_size(self._cell, batch, steps, dim, u)
        scratch = self._workspace("scratch", (size,))
        in_mask = self._mask("in_mask", self.dropout, (self._gates, batch, dim)) if training else None
        rec_mask = self._mask("rec_mask", self.recurrent_dropout, (self._gates, batch, u)) if training else None
        seq_mask = self._sequence_mask(mask, batch, steps)
        if tokens is not None:
            self._project_tokens(tokens, gates)
        _engine.rnn_forward(self._cell, x, self.kernel.value, self.recurrent_kernel.value,
                            self.bias.value if self.bias is not None else None, init[0], init[1] if lstm else None,
                            in_mask, rec_mask, gates, hs, aux, scratch, self._act, self._rec_act, self.go_backwards,
                            mask=seq_mask, h_last=h_last, c_last=c_last, reset_after=self._reset_after)
        if training:
            self._step += 1
        if self.stateful:
            self.states[0][...] = h_last
            if lstm:
                self.states[1][...] = c_last
        self._saved = (x, init, in_mask, rec_mask, seq_mask, gates, hs, aux, scratch)
        self._given_states = given is not None
        if self.return_sequences:
            y = hs
        else:
            y = self._workspace("y", (batch, u))
            y[...] = hs[:, -1]  # the last output: with a mask, the one of the last unmasked step
        if self.return_state:
            return [y, h_last] + ([c_last] if lstm else [])
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        x, init, in_mask, rec_mask, seq_mask, gates, hs, aux, scratch = self._saved
        tokens, embedding = self._tokens
        lstm = self._n_states > 1
        dh_state = dc_state = None
        if self.return_state:
            if not isinstance(dy, (list, tuple)) or len(dy) != self.n_outputs:
                raise ValueError(f"Layer '{self.name}' returns {self.n_outputs} outputs (return_state=True); "
                                 f"backward needs a list of {self.n_outputs} gradients (None for none)")
            dy, dh_state, dc_state = dy[0], dy[1], _f32(dy[2]) if lstm else None
        dy = _f32(dy)
        dhs, dh_last = (dy, None) if self.return_sequences else (None, dy)
        if dh_state is not None:
            dh_state = _f32(dh_state)
            # the last output is h itself (or, with a mask, h carried from the last unmasked
            # step): both gradients reach the final state
            if dh_last is None:
                dh_last = dh_state
            else:
                dh_last = np.add(dh_last, dh_state, out=self._workspace("dh_last", dh_state.shape))
        # an Embedding read as token rows needs this layer's dx for its gradient
        dx = self._workspace("dx", x.shape) if x is not None and (need_dx or embedding is not None) else None
        dkernel = self.kernel.grad if self.kernel.grad is not None else self._workspace("dk", self.kernel.shape)
        if tokens is not None:
            dkernel = self.kernel.grad  # None: no dW (from the distinct tokens, _token_grads)
        drec = (self.recurrent_kernel.grad if self.recurrent_kernel.grad is not None
                else self._workspace("dr", self.recurrent_kernel.shape))
        dbias = self.bias.grad if self.bias is not None else None
        # initial states given as inputs get their gradients (need_dx: the network wants them)
        dinit = [self._workspace(f"ds0_{i}", s.shape) for i, s in enumerate(init)] \
            if self._given_states and need_dx else [None, None]
        _engine.rnn_backward(self._cell, x, self.kernel.value, self.recurrent_kernel.value, init[0],
                             init[1] if lstm else None, in_mask, rec_mask, gates, hs, aux, dhs, dh_last, dc_state,
                             dx, None if tokens is not None else dkernel, drec, dbias, dinit[0],
                             dinit[1] if lstm else None, scratch, self._act, self._rec_act, self.go_backwards,
                             mask=seq_mask, reset_after=self._reset_after)
        if self._given_states:
            return [dx] + dinit if need_dx else None
        if tokens is not None:
            drows = self._token_grads(tokens, gates, dkernel)
            if self._token_collect:  # the wrapper adds the two directions' rows and writes them
                self._token_part = drows
                return None
            if drows is not None:
                tokens.embedding._write_grad(tokens.distinct, drows)
            return tokens.embedding._index_grad() if need_dx else None
        if embedding is not None:
            if self._token_collect:  # the wrapper adds both directions' dx before the Embedding's backward
                return dx
            return type(embedding).backward(embedding, dx, need_dx)  # as if it had run apart
        return dx

    # ---- an Embedding's indices as input (engine/network.py, _token_fusions) ----------------
    # Embedding -> LSTM / GRU / SimpleRNN: the input projection x W of a token depends on the
    # token only, so it is computed once per distinct token of the batch and gathered per step,
    # and backward sums the gate gradients per distinct token (S) before the products dW =
    # E_u^T S and dE_u = S W^T, whose rows are the Embedding's gradient (no dx, no scatter).
    # Running text repeats its words (Zipf: 1280 words of a 5000-word vocabulary hold about 550
    # distinct ones), so the three products that dominate the layer shrink by as much. With few
    # repeats (more than _DISTINCT_TOKENS of the rows distinct) or input dropout (a mask per
    # sample), or in a layer too small for the saving to pay for the extra calls, the Embedding
    # runs apart as before. The forward gives the same bits either way (each
    # output sums the same products in the same order); the gradients are reassociated sums.
    _reads_tokens = False  # set on the built-in cells' classes (LSTM, GRU, SimpleRNN)
    # Set on the two layers of a Bidirectional: backward then leaves the Embedding's gradient
    # to the wrapper, as the rows of the distinct tokens (_token_part) or as dx (returned).
    _token_collect = False
    _token_part = None
    _DISTINCT_TOKENS = 0.75  # training steps break even near 0.78 (bench/bench_embedding_rnn.py)
    # ...and only when the multiply-adds it saves outweigh its extra calls (tens of microseconds):
    # training steps on Zipf-distributed ids broke even between 2.4M saved (0.95x) and 15M
    # (1.03x; 20M: 1.10x) (bench/bench_embedding_rnn.py --small).
    _MIN_SAVED_MACS = 1 << 24
    _tokens = (None, None)
    _given_states = False

    def _token_macs(self):
        """Multiply-adds per token of the three products the distinct-token path shrinks: the
        projection, dW and the Embedding's rows."""
        return 3 * self.kernel.value.shape[0] * self._gates * self.units

    def _takes_tokens(self, ids, training):
        """Whether this layer takes an Embedding's indices `ids` (its input) for this forward
        (engine/network.py): not under input dropout in training, nor when even all-repeated
        tokens would save fewer than _MIN_SAVED_MACS multiply-adds."""
        if training and self.dropout > 0.0:
            return False
        ids = np.asarray(ids)
        return ids.ndim == 2 and ids.size * self._token_macs() >= self._MIN_SAVED_MACS

    def _token_inputs(self, tokens, training):
        """(x, token plan) for this forward: (None, plan) to project the distinct tokens, or the
        Embedding's own output (x, None) when that is not worth it."""
        embedding, ids = tokens.layer, tokens.ids
        if self._takes_tokens(ids, training):
            distinct = self._workspace("token_ids", (ids.size,), np.int64)
            inverse = self._workspace("token_inverse", ids.shape, np.int64)
            # checks the indices as the Embedding's forward does (the same ValueError)
            count = _engine.embedding_distinct(ids, embedding.input_dim, distinct, inverse)
            saved = (ids.size - count) * self._token_macs()
            if count <= self._DISTINCT_TOKENS * ids.size and saved >= self._MIN_SAVED_MACS:
                plan = _TokenPlan(embedding, distinct[:count], inverse, tokens.shape)
                self._tokens = (plan, None)
                return None, plan
        self._tokens = (None, embedding)
        # the class's own forward and backward (as the plan's fusions, not through a profiler's
        # per-instance timers): the Embedding runs inside this layer's call
        return type(embedding).forward(embedding, ids, training), None

    def _project_tokens(self, plan, gates):
        """gates[b, t] = E[ids[b, t]] W + b_in, from the projections of the distinct tokens."""
        n, dim = plan.distinct.size, plan.shape[-1]
        rows = self._workspace("token_rows", (n, dim))
        _engine.embedding_forward(plan.distinct, plan.embedding.embeddings.value, rows)
        bias = None
        if self.bias is not None:
            bias = self.bias.value[0] if self._reset_after else self.bias.value  # the input half
        proj = self._workspace("token_proj", (n, gates.shape[-1]))
        _engine.dense_forward(rows, self.kernel.value, bias, None, proj, _engine.Activation.linear)
        _engine.embedding_forward(plan.inverse, proj, gates)
        plan.rows = rows

    def _token_grads(self, plan, dgates, dkernel):
        """dW from the gate gradients summed per distinct token; returns the rows of the
        Embedding's gradient for those tokens (None when the table takes no gradient)."""
        embedding = plan.embedding
        table_grad = embedding.embeddings.grad is not None
        if dkernel is None and not table_grad:
            return None
        sums = self._workspace("token_sums", (plan.distinct.size, dgates.shape[-1]))
        _engine.embedding_backward(plan.inverse, dgates, sums)  # zeroed, then added in order
        if dkernel is not None:
            _engine.sgemm(plan.rows, sums, dkernel, True, False)
        if not table_grad:
            return None
        drows = self._workspace("token_drows", plan.rows.shape)
        _engine.sgemm(sums, self.kernel.value, drows, False, True)
        return drows

    def _sequence_mask(self, mask, batch, steps):
        """The (batch, steps) mask as the engine reads it (bool, C-contiguous, in a reused
        workspace), or None when there is none or it keeps every step."""
        if isinstance(mask, (list, tuple)):  # Keras: [input mask] + the initial states' masks
            mask = mask[0] if mask else None
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.shape != (batch, steps):
            raise ValueError(f"Layer '{self.name}': the mask must have shape (batch, timesteps) = "
                             f"{(batch, steps)}, got {mask.shape}")
        out = self._workspace("seq_mask", (batch, steps), np.bool_)
        np.not_equal(mask, 0, out=out)
        # an all-ones mask changes nothing (bit for bit); skipping it saves the per-step selects
        return None if out.all() else out

    def _mask(self, key, rate, shape):
        """Inverted-dropout multipliers (0 or 1/(1-rate)), one per gate, sample and feature,
        fixed across the time steps of a batch as Keras; None when rate is 0."""
        if rate <= 0.0:
            return None
        n = int(np.prod(shape))
        ones = self._workspace(key + "_ones", (n,))
        ones.fill(1.0)
        out = self._workspace(key, (n,))
        bits = self._workspace(key + "_bits", (n,), np.uint8)
        stream = 2 * self._step + (1 if key == "rec_mask" else 0)
        gate_masks(ones, out, bits, rate, self._key, stream, shape)
        return out.reshape(shape)

    # ---- configuration ------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            return_sequences=self.return_sequences, return_state=self.return_state,
            go_backwards=self.go_backwards, stateful=self.stateful, unroll=self.unroll, units=self.units,
            activation=activations.config_name(self.activation), use_bias=self.use_bias,
            **self._weight_options_config("kernel", "recurrent", "bias"),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        return config


class _TokenPlan:
    """The distinct tokens of one batch (in order of first appearance) and each position's
    index among them."""

    __slots__ = ("embedding", "distinct", "inverse", "shape", "rows")

    def __init__(self, embedding, distinct, inverse, shape):
        self.embedding, self.distinct, self.inverse, self.shape, self.rows = embedding, distinct, inverse, shape, None


def _f32(a):
    """`a` as the engine reads it: float32, C-contiguous (a copy only when it is not)."""
    return a if a is None else np.ascontiguousarray(a, dtype=np.float32)


def _engine_activation(fn, kind, what):
    code = activations.engine_code(fn)
    if code is None or not _engine.rnn_activation_supported(code):
        raise ValueError(f"{kind}: {what}={getattr(fn, '__name__', fn)!r} is not supported by seqnet's recurrent "
                         "layers yet (supported: linear, relu, sigmoid, hard_sigmoid, tanh, softsign)")
    return code


def set_recurrent_options(layer, kind, kernel_initializer, recurrent_initializer, bias_initializer,
                          kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                          recurrent_constraint, bias_constraint, dropout, recurrent_dropout):
    """The weight options and dropout rates that every recurrent layer and cell stores (the
    kernel, recurrent kernel and bias initializers, regularizers and constraints), checked."""
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.recurrent_initializer = initializers.get(recurrent_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.recurrent_regularizer = regularizers.get(recurrent_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.recurrent_constraint = constraints.get(recurrent_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)
    # Keras 2.2.4 clips the rates to [0, 1]; a rate of 1 would zero everything.
    for what, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"{kind}: {what} must be a number in [0, 1), got {rate!r}")
    layer.dropout = float(dropout)
    layer.recurrent_dropout = float(recurrent_dropout)


def initial_state_inputs(layer, inputs, initial_state, constants):
    """The inputs of a recurrent layer's call: `inputs`, or with ``initial_state`` (a tensor or a
    list, one per state) the list [inputs] + the states, as Keras; a one-element list is its
    element. ``constants`` (Keras 2.2.4's extra per-sequence inputs of a cell) are refused."""
    kind = type(layer).__name__
    if constants is not None:
        raise ValueError(f"Layer '{layer.name}' ({kind}): `constants` are not supported by seqnet")
    if initial_state is not None:
        if isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer '{layer.name}' ({kind}): pass the initial states either in the input list or "
                             "as initial_state, not both")
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        inputs = [inputs] + states
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
    return inputs


def check_initial_states(layer, shapes, sizes):
    """ValueError unless the initial states' `shapes` are one (batch, size) per state size."""
    if len(shapes) != len(sizes) or any(len(s) != 2 or s[1] != n for s, n in zip(shapes, sizes)):
        kind = type(layer).__name__
        raise ValueError(f"Layer '{layer.name}' ({kind}): the initial states must have shapes "
                         f"{[(None, n) for n in sizes]} (state_size {tuple(sizes)}), got {shapes}")


def is_shape_list(shape):
    """Whether `shape` is a list of shapes ([inputs] + initial states), not one shape."""
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (list, tuple))


def gate_masks(ones, out, bits, rate, key, stream, shape):
    """Dropout multipliers for `shape` = (gates, batch, ...) into the flat `out`. In
    data-parallel training (seqnet.distribute) the batch is a slice of the global batch:
    each gate's rows are drawn where the global batch's mask has them, so every process
    draws what one process with the whole batch would."""
    first, total = batch_position()
    batch = shape[1]
    if first == 0 and total in (None, batch):
        _engine.dropout_forward(ones, out, bits, rate, key, stream)
        return
    per_sample = int(np.prod(shape[2:]))
    size = batch * per_sample
    for g in range(shape[0]):
        part = slice(g * size, (g + 1) * size)
        _engine.dropout_forward(ones[part], out[part], bits[part], rate, key, stream, (g * total + first) * per_sample)


def reset_state_arrays(layer, states, described=None, to_stored=None, shown=None):
    """``reset_states`` of a stateful recurrent layer: zeroes ``layer.states``, or sets them to
    `states` (as many as stored, `described` in the error), all checked before any change;
    `to_stored` maps a given array to the stored layout, `shown` a stored one to the user's."""
    if not layer.stateful:
        raise AttributeError("Layer must be stateful.")
    if layer.states is None:
        return
    if states is None:
        for s in layer.states:
            s.fill(0.0)
        return
    states = list(states) if isinstance(states, (list, tuple)) else [states]
    if len(states) != len(layer.states):
        raise ValueError(f"Layer '{layer.name}' expects {described or f'{len(layer.states)} states'}, "
                         f"got {len(states)}")
    arrays = [np.asarray(new, dtype=np.float32) for new in states]
    if to_stored is not None:
        arrays = [to_stored(a) for a in arrays]
    for s, new in zip(layer.states, arrays):
        if new.shape != s.shape:
            want = (shown(s) if shown is not None else s).shape
            raise ValueError(f"Layer '{layer.name}': state should have shape {want}, got {np.shape(new)}")
    for s, new in zip(layer.states, arrays):
        s[...] = new
