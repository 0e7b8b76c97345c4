"""StackedRNNCells: several cells run as one (Keras 2.2.4's ``keras.layers.StackedRNNCells``),
and ``deserialize_cell``, which rebuilds a cell from its config."""
from seqnet.engine.base_layer import Layer
from seqnet.layers.recurrent.cells import GRUCell, LSTMCell, SimpleRNNCell
from seqnet.utils.generic_utils import deserialize_keras_object, has_arg


class StackedRNNCells(Layer):
    """A stack of cells that behaves as one cell: at each step the output of a cell is the
    input of the next, and the stack's output is the last cell's.

    As Keras 2.2.4, the states are one flat list in *reverse* cell order (a stack of two
    LSTMCells has states ``[h2, c2, h1, c1]``, so ``state_size[0]`` is the output size);
    ``RNN(..., return_state=True)`` returns them, and ``initial_state`` takes them, in that
    order (tf-keras 2.x uses cell order). The weights are the cells' weights, in cell
    order. ``RNN`` over a stack of built-in cells runs one native sequence kernel per cell.
    """

    def __init__(self, cells, **kwargs):
        if isinstance(cells, Layer) or not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(f"StackedRNNCells: cells must be a non-empty list of cells, got {cells!r}")
        for cell in cells:
            check_cell(cell, "StackedRNNCells")
        self.cells = list(cells)
        super().__init__(**kwargs)

    @property
    def state_size(self):
        sizes = []
        for cell in self.cells[::-1]:
            sizes += state_sizes(cell)
        return tuple(sizes)

    @property
    def output_size(self):
        return output_size(self.cells[-1])

    def call(self, inputs, states, training=None):
        nested, at = [], len(states)
        for cell in self.cells:  # states are in reverse cell order: the first cell's come last
            n = len(state_sizes(cell))
            nested.append(list(states[at - n:at]))
            at -= n
        new_nested = []
        for cell, cell_states in zip(self.cells, nested):
            kwargs = {"training": training} if has_arg(cell.call, "training") else {}
            inputs, new_states = cell.call(inputs, cell_states, **kwargs)
            new_nested.append(list(new_states) if isinstance(new_states, (list, tuple)) else [new_states])
        flat = []
        for cell_states in new_nested[::-1]:
            flat += cell_states
        return inputs, flat

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(input_shape)
                cell.built = True
                for w in cell.weights:
                    w.name = f"{self.name}/{w.name}"
            input_shape = (input_shape[0], output_size(cell))
        self._weights = [w for cell in self.cells for w in getattr(cell, "weights", [])]
        self.built = True

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for cell in self.cells for w in getattr(cell, "trainable_weights", [])]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for cell in self.cells for w in getattr(cell, "non_trainable_weights", [])]

    def reset_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_mask"):
                cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        for cell in self.cells:
            if hasattr(cell, "reset_recurrent_dropout_mask"):
                cell.reset_recurrent_dropout_mask()

    def get_config(self):
        config = super().get_config()
        config["cells"] = [{"class_name": type(cell).__name__, "config": cell.get_config()} for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_cell(c, custom_objects) for c in config.pop("cells", [])]
        return cls(cells, **config)


def deserialize_cell(config, custom_objects=None):
    """A cell from ``{'class_name', 'config'}`` (a built-in cell, a stack, or a class in
    ``custom_objects`` / the custom-object scope); a cell object is returned as it is."""
    if not isinstance(config, dict):
        return config
    inner = dict(config.get("config") or {})
    if isinstance(inner.get("dtype"), dict):  # tf-keras' dtype policy {"class_name", "config": {"name"}}
        inner["dtype"] = (inner["dtype"].get("config") or {}).get("name")
    return deserialize_keras_object({"class_name": config.get("class_name"), "config": inner},
                                    module_objects=CELLS, custom_objects=custom_objects,
                                    printable_module_name="RNN cell",
                                    expected=f"seqnet knows {sorted(CELLS)}; pass other cells in custom_objects.")


def check_cell(cell, where):
    """ValueError unless `cell` has what an RNN needs: ``call`` and ``state_size``."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{where}: a cell must have a `call` method, got {cell!r}")
    if not hasattr(cell, "state_size"):
        raise ValueError(f"{where}: the RNN cell {cell!r} should have an attribute `state_size` (an integer, or "
                         "a tuple of integers, one per RNN state)")


def state_sizes(cell):
    """A cell's state sizes as a list of ints."""
    size = cell.state_size
    return [int(s) for s in size] if hasattr(size, "__len__") else [int(size)]


def output_size(cell):
    """The size of a cell's output: ``output_size`` if it has one, else its first state's."""
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else state_sizes(cell)[0]


CELLS = {c.__name__: c for c in (SimpleRNNCell, GRUCell, LSTMCell, StackedRNNCells)}
