"""Bidirectional: a recurrent layer run forwards and backwards over the sequence, the two
outputs merged."""
import numpy as np

from seqnet.engine.base_layer import Layer, TokenRows
from seqnet.layers.recurrent.base_rnn import BaseRNN
from seqnet.layers.wrappers.wrapper import Wrapper, _layer_entry, deserialize_layer

MERGE_MODES = ("sum", "mul", "ave", "concat", None)
_RNN_FLAGS = ("go_backwards", "return_sequences", "return_state", "stateful")


class Bidirectional(Wrapper):
    """Bidirectional wrapper for recurrent layers (Keras 2.2.4's ``keras.layers.Bidirectional``).

    Arguments:
        layer: an LSTM, GRU, SimpleRNN or RNN(cell) instance. Two new layers are made from its
            config:
            ``forward_<name>`` and ``backward_<name>`` (``go_backwards`` flipped).
        merge_mode: how the two outputs are combined: 'concat' (default; features doubled),
            'sum', 'mul', 'ave', or None (the layer returns the list ``[forward, backward]``).
        weights: initial weights, the forward layer's then the backward layer's.
        backward_layer: (tf-keras) a recurrent layer to use as the backward one instead; it
            must differ from `layer` in ``go_backwards`` and match it in ``stateful``,
            ``return_sequences`` and ``return_state``.

    With ``return_sequences`` the backward output is reversed back to the input's time
    order before merging. With ``return_state`` the outputs are ``[merged, forward
    states..., backward states...]`` (``[forward, backward, states...]`` for
    ``merge_mode=None``). ``stateful`` layers carry both directions' states between batches
    until ``reset_states()``.

    Masks (Keras 2.2.4): both directions skip masked steps, a masked step repeating the
    previous output in each layer's processing order; the output mask is the input mask
    with ``return_sequences`` (one per output for ``merge_mode=None``), else None.

    Weights: the forward layer's, then the backward layer's, named
    ``bidirectional_1/forward_lstm_1/kernel:0`` as Keras 2.2.4 names them.

    Differs from tf-keras: tf-keras forces ``zero_output_for_mask=return_sequences`` on the
    inner layers, so its masked steps output zeros with ``return_sequences``; seqnet keeps
    Keras 2.2.4's repeated outputs. ``initial_state`` and ``constants`` are not supported.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        _check_recurrent(layer, "layer")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; merge mode should be one of "
                             "{'sum', 'mul', 'ave', 'concat', None}")
        self.forward_layer = _recreate(layer, "forward_" + layer.name, layer.go_backwards)
        if backward_layer is None:
            self.backward_layer = _recreate(layer, "backward_" + layer.name, not layer.go_backwards)
            self._backward_config = None
        else:
            _check_recurrent(backward_layer, "backward_layer")
            _check_matching(layer, backward_layer)
            self._backward_config = _layer_entry(backward_layer)
            backward_layer.name = "backward_" + backward_layer.name
            self.backward_layer = backward_layer
        for sub in (self.forward_layer, self.backward_layer):
            if isinstance(sub, BaseRNN):
                sub._token_collect = True  # an Embedding's gradient: added here (_token_backward)
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        super().__init__(layer, weights=None if weights is None or not len(weights) else list(weights), **kwargs)

    @property
    def _sublayers(self):
        return [self.forward_layer, self.backward_layer]

    @property
    def n_outputs(self):
        """How many arrays ``forward`` returns."""
        merged = 2 if self.merge_mode is None else 1
        return merged + 2 * self._n_states

    @property
    def _n_states(self):
        """The states each direction returns (0 without return_state)."""
        if not self.return_state:
            return 0
        n = getattr(self.forward_layer, "n_outputs", None)
        if n is None:  # a layer without n_outputs: count its state outputs
            n = len(self.forward_layer.compute_output_shape(self.input_shape_seen))
        return n - 1

    # ---- shapes and masks ------------------------------------------------------------------------
    def build(self, input_shape):
        if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"Layer '{self.name}' (Bidirectional) takes one input (initial_state and constants "
                             f"are not supported), got a list of shapes {[tuple(s) for s in input_shape]}")
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' (Bidirectional of '{self.layer.name}') expects inputs of shape "
                             f"(batch, timesteps, input_dim), got {tuple(input_shape)}")
        for layer in self._sublayers:
            built_before = layer.built
            layer._build_for(tuple(input_shape))
            if not built_before:
                self._name_weights(layer, keep_layer_name=True)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        shapes = self.forward_layer.compute_output_shape(input_shape)
        out, states = (shapes[0], list(shapes[1:])) if self.return_state else (shapes, [])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
        merged = [tuple(out), tuple(out)] if self.merge_mode is None else [tuple(out)]
        if self.return_state:
            return merged + states + list(states)
        return merged if self.merge_mode is None else merged[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        out = mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return masks + [None] * (2 * self._n_states)
        return masks if self.merge_mode is None else masks[0]

    # ---- running -----------------------------------------------------------------------------------
    # An Embedding's indices as input (engine/network.py, _graph_tokens): both layers take them
    # (each projects the distinct tokens with its own kernel) when both can and decide alike,
    # else the Embedding's output is gathered here; either way the two directions' gradients
    # reach the Embedding added, through one write (_token_backward).
    _reads_tokens = True
    _token_embedding = None

    def _takes_tokens(self, ids, training):
        """Both layers take them and decide alike (BaseRNN._token_inputs): the same class, width
        and dropout."""
        f, b = self.forward_layer, self.backward_layer
        return bool(type(f).__dict__.get("_reads_tokens") and type(b) is type(f) and f.units == b.units
                    and f.dropout == b.dropout and f._takes_tokens(ids, training))

    def forward(self, x, training, mask=None):
        self._token_embedding = None
        if isinstance(x, TokenRows):
            self._token_embedding = x.layer
            if not self._takes_tokens(x.ids, training):  # handed over all the same: gathered here
                x = type(x.layer).forward(x.layer, x.ids, training)
        outs_f = self.forward_layer.forward(x, training, mask=mask)
        outs_b = self.backward_layer.forward(x, training, mask=mask)
        states = []
        if self.return_state:
            states = list(outs_f[1:]) + list(outs_b[1:])
            outs_f, outs_b = outs_f[0], outs_b[0]
        y, y_rev = outs_f, outs_b
        if self.return_sequences:  # back to the input's time order
            rev = self._workspace("y_rev", y_rev.shape)
            rev[...] = y_rev[:, ::-1]
            y_rev = rev
        self._y, self._y_rev = y, y_rev
        mode = self.merge_mode
        if mode is None:
            merged = [y, y_rev]
        else:
            u = y.shape[-1]
            out = self._workspace("y", y.shape[:-1] + (2 * u if mode == "concat" else u,))
            if mode == "concat":
                out[..., :u] = y
                out[..., u:] = y_rev
            elif mode == "mul":
                np.multiply(y, y_rev, out=out)
            else:
                np.add(y, y_rev, out=out)
                if mode == "ave":
                    out *= np.float32(0.5)
            merged = [out]
        if self.return_state or mode is None:
            return merged + states
        return merged[0]

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        grads = list(dy) if isinstance(dy, (list, tuple)) else [dy]
        if len(grads) != self.n_outputs:
            raise ValueError(f"Layer '{self.name}' returns {self.n_outputs} output(s); backward got {len(grads)} "
                             "gradient(s) (a list with None for an output that gets none)")
        n_merged = 2 if self.merge_mode is None else 1
        dy_f, dy_b = self._split_gradient(grads[:n_merged])
        if self.return_state:
            n = self._n_states
            states = grads[n_merged:]
            dy_f, dy_b = [dy_f] + states[:n], [dy_b] + states[n:]
        if self._token_embedding is not None:
            return self._token_backward(dy_f, dy_b, need_dx)
        dx_f = self.forward_layer.backward(dy_f, need_dx)
        dx = None
        if need_dx:
            dx = self._workspace("dx", dx_f.shape)
            dx[...] = dx_f
        dx_b = self.backward_layer.backward(dy_b, need_dx)
        if need_dx:
            np.add(dx, dx_b, out=dx)
        return dx

    def _token_backward(self, dy_f, dy_b, need_dx):
        """Backward when the input was an Embedding's indices: the Embedding's gradient from both
        directions, added (as rows of the distinct tokens, or as dx), written once."""
        embedding, f, b = self._token_embedding, self.forward_layer, self.backward_layer
        dx_f = f.backward(dy_f, True)
        dx_b = b.backward(dy_b, True)
        if dx_f is None:  # both projected the distinct tokens, listed alike (the same indices)
            rows_f, rows_b = f._token_part, b._token_part
            if rows_f is not None:
                np.add(rows_f, rows_b, out=rows_f)
                embedding._write_grad(f._tokens[0].distinct, rows_f)
            return embedding._index_grad() if need_dx else None
        dx = self._workspace("dx", dx_f.shape)
        np.add(dx_f, dx_b, out=dx)
        return type(embedding).backward(embedding, dx, need_dx)

    def _split_gradient(self, grads):
        """The gradients of the forward and backward layers' outputs (the backward one in its
        processing order), each in its own buffer, from those of the merged output(s)."""
        y, y_rev, mode = self._y, self._y_rev, self.merge_mode
        dy_f = self._workspace("dy_f", y.shape)
        dy_b = self._workspace("dy_b", y.shape)  # in the input's time order first
        if mode is None:
            for g, buf in zip(grads, (dy_f, dy_b)):
                if g is None:
                    buf.fill(0.0)
                else:
                    buf[...] = g
        elif grads[0] is None:
            dy_f.fill(0.0)
            dy_b.fill(0.0)
        else:
            g = grads[0]
            u = y.shape[-1]
            if mode == "concat":
                dy_f[...] = g[..., :u]
                dy_b[...] = g[..., u:]
            elif mode == "mul":
                np.multiply(g, y_rev, out=dy_f)
                np.multiply(g, y, out=dy_b)
            else:
                scale = np.float32(0.5 if mode == "ave" else 1.0)
                np.multiply(g, scale, out=dy_f)
                dy_b[...] = dy_f
        if self.return_sequences:
            rev = self._workspace("dy_b_rev", y.shape)
            rev[...] = dy_b[:, ::-1]
            dy_b = rev
        return dy_f, dy_b

    def reset_states(self):
        """Zeroes the states of both directions (stateful layers)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def _call_clone(self):
        clone = super()._call_clone()
        clone.forward_layer = self.forward_layer._call_clone()
        clone.backward_layer = self.backward_layer._call_clone()
        return clone

    # ---- configuration -------------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        if self._backward_config is not None:
            config["backward_layer"] = self._backward_config
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if config.get("num_constants"):
            raise ValueError("Bidirectional: constants (num_constants) are not supported by seqnet")
        config.pop("num_constants", None)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], custom_objects, cls.__name__)
        return super().from_config(config, custom_objects)


def _check_recurrent(layer, what):
    """A recurrent layer: seqnet's LSTM, GRU, SimpleRNN, or any layer with their flags and a
    config holding go_backwards (Keras' RNN(cell) and subclasses)."""
    if isinstance(layer, BaseRNN):
        return
    if isinstance(layer, Layer) and all(hasattr(layer, a) for a in _RNN_FLAGS) \
            and "go_backwards" in layer.get_config():
        return
    name = getattr(layer, "name", None)
    raise ValueError(f"Bidirectional: `{what}` must be a recurrent layer instance (LSTM, GRU, SimpleRNN, RNN), got "
                     f"{type(layer).__name__}" + (f" '{name}'" if name else ""))


def _check_matching(layer, backward):
    if layer.go_backwards == backward.go_backwards:
        raise ValueError(f"Bidirectional: the forward layer '{layer.name}' and the backward layer '{backward.name}' "
                         f"must have different go_backwards values, both have {layer.go_backwards}")
    for attr in ("stateful", "return_sequences", "return_state"):
        if getattr(layer, attr) != getattr(backward, attr):
            raise ValueError(f"Bidirectional: the forward layer '{layer.name}' has {attr}={getattr(layer, attr)} "
                             f"but the backward layer '{backward.name}' has {getattr(backward, attr)}")


def _recreate(layer, name, go_backwards):
    """A new, unbuilt layer of `layer`'s class and configuration."""
    config = layer.get_config()
    config.update(name=name, go_backwards=go_backwards)
    return type(layer).from_config(config)
