"""Embedding: turns integer indices (batch, input_length) into dense vectors
(batch, input_length, output_dim) by looking up rows of `embeddings` (input_dim, output_dim)."""
import numbers

import numpy as np

from seqnet import _engine, constraints, initializers, regularizers
from seqnet.engine.base_layer import Layer, TokenRows
from seqnet.engine.keras_tensor import KerasTensor, SymbolicMask


class Embedding(Layer):
    # The model feeds integer index data as it is (engine/training.py _integer_inputs).
    reads_integer_indices = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None,
                 **kwargs):
        for what, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"Embedding: {what} must be a positive integer, got {value!r}")
        # input_length is the sequence length: the layer's input shape is (input_length,).
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            if isinstance(input_length, (list, tuple)):
                kwargs["input_shape"] = tuple(input_length)
            else:
                kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        super().build(input_shape)

    def compute_mask(self, inputs, mask=None):
        """With mask_zero, index 0 is padding: the mask is inputs != 0 (Keras 2)."""
        if not self.mask_zero:
            return None
        if isinstance(inputs, KerasTensor):
            return SymbolicMask(inputs.shape)
        return np.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def forward(self, x, training):
        x = _index_array(x)
        y = self._workspace("y", x.shape + (self.output_dim,))
        _engine.embedding_forward(x, self.embeddings.value, y)  # ValueError on a bad index
        self._x = x
        return y

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        self._write_grad(self._x, dy)
        return self._index_grad() if need_dx else None

    # The recurrent layer reading this layer's output alone may take the indices instead
    # (engine/network.py, _token_fusions): token_rows is then the forward, and that layer writes
    # this one's gradient through _write_grad.
    _gives_tokens = True

    def token_rows(self, x):
        """The forward that leaves the output to its reader: the indices, checked as forward
        would, wrapped in a TokenRows (the reader gathers what it needs)."""
        x = _index_array(x)
        self._x = x
        return TokenRows(self, x, x.shape + (self.output_dim,))

    def _write_grad(self, ids, dy):
        """The embeddings' gradient from dL/d(output) `dy` at indices `ids` (dy: ids.shape +
        (output_dim,)): dense, or row-sparse (row_sparse_grads) with the rows it wrote noted."""
        grad = self.embeddings.grad
        if grad is None:
            return
        address = grad.__array_interface__["data"][0]
        if self.row_sparse_grads:
            # only the rows the previous backward wrote can be non-zero: the engine clears
            # those, adds this step's rows and lists them (increasing) in one pass
            rows = self._workspace("grad_rows", (ids.size,), np.int64)
            known = self._grad_rows is not None and self._grad_address == address
            if not known:
                grad.fill(0.0)
            clear = self._grad_rows if known else rows[:0]
            count = _engine.embedding_backward_rows(ids, dy, grad, clear, rows)
            self._grad_rows = rows[:count]
            self._grad_address = address
            self._grad_writes += 1
        else:
            _engine.embedding_backward(ids, dy, grad)

    def _index_grad(self):
        """dL/d(indices) of the last forward: zeros (indices are not differentiable)."""
        dx = self._workspace("dx", self._x.shape)
        dx.fill(0.0)
        return dx

    # ---- row-sparse gradients --------------------------------------------------------------
    # Set by the model that trains this layer (Model._row_sparse_tables) when the layer is
    # called once per step, its table has no penalty and one process trains: backward then
    # clears only the rows its previous call wrote (the gradient is exact all the same) and
    # tells the optimizer which rows it wrote (take_grad_rows).
    row_sparse_grads = False
    _grad_rows, _grad_address, _grad_writes = None, None, 0

    @property
    def row_sparse_weight(self):
        """The weight whose gradient is non-zero only in the rows of the indices seen."""
        return self.embeddings

    def take_grad_rows(self, grad):
        """The rows (increasing int64) of `grad` the backward of the step now ending wrote, when
        exactly one backward wrote it, else None (then the optimizer updates the table densely)."""
        one = self._grad_writes == 1 and self._grad_address == grad.__array_interface__["data"][0]
        self._grad_writes = 0
        return self._grad_rows if one else None

    def _call_clone(self):
        clone = super()._call_clone()  # a second call of a shared layer writes dense gradients
        clone.row_sparse_grads, clone._grad_rows, clone._grad_writes = False, None, 0
        return clone

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      **self._weight_options_config("embeddings"), mask_zero=self.mask_zero, input_length=self.input_length)
        return config


def _index_array(x):
    """Indices as the engine takes them, never rounded: int32/int64 and float32 pass as they are
    (the engine rejects float32 indices at or above 2**24, which float32 cannot represent
    exactly); other integer types become int64, other float types float32 when that is exact."""
    x = np.asarray(x)
    if x.dtype.kind in "iu" and x.dtype not in (np.int32, np.int64):
        if x.dtype.kind == "u" and x.size and x.max() > np.iinfo(np.int64).max:
            raise ValueError(f"Embedding: index {x.max()} does not fit in int64")
        x = x.astype(np.int64)
    elif x.dtype.kind == "f" and x.dtype != np.float32:
        x32 = x.astype(np.float32)
        bad = np.flatnonzero(~(x32 == x) | (np.abs(x) >= 2 ** 24))
        if bad.size:
            raise ValueError(f"Embedding: index {x.flat[bad[0]]!r} at flat position {bad[0]} is not an integer "
                             f"below 2**24 representable as float32; pass int32 or int64 indices")
        x = x32
    elif x.dtype.kind not in "iuf":
        raise ValueError(f"Embedding: expected integer (or integral float) indices, got dtype {x.dtype}")
    return np.ascontiguousarray(x)
