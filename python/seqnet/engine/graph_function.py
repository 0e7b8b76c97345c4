"""What K.function runs: a part of a model's graph from some Input tensors to some layer
outputs, as a small Network (registered into seqnet.backend by seqnet.engine)."""
import numpy as np

from seqnet.engine.input_layer import Input
from seqnet.engine.keras_tensor import KerasTensor
from seqnet.engine.network import Network


class GraphFunction:
    """``f = K.function([model.input, K.learning_phase()], [layer.output]); f([x, 0])``."""

    def __init__(self, inputs, outputs):
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._single = not isinstance(outputs, (list, tuple))
        outputs = [outputs] if self._single else list(outputs)
        self._phase_at = [i for i, t in enumerate(inputs) if not isinstance(t, KerasTensor)]
        for i in self._phase_at:
            if inputs[i] not in (0, 1):
                raise TypeError(f"K.function: input {i} is {inputs[i]!r}; inputs are Input tensors of a model "
                                "(and optionally K.learning_phase())")
        tensors = [t for t in inputs if isinstance(t, KerasTensor)]
        self._network = Network()
        self._network._init_graph(tensors, outputs)
        self._tensors = tensors

    def __call__(self, values):
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        if len(values) != len(self._tensors) + len(self._phase_at):
            raise ValueError(f"K.function: expected {len(self._tensors) + len(self._phase_at)} input values, got "
                             f"{len(values)}")
        phase = bool(values[self._phase_at[0]]) if self._phase_at else False
        arrays = [np.ascontiguousarray(v, dtype=np.float32) for i, v in enumerate(values) if i not in self._phase_at]
        for a, t in zip(arrays, self._tensors):
            if a.ndim != len(t.shape) or any(e is not None and e != d for e, d in zip(t.shape[1:], a.shape[1:])):
                raise ValueError(f"K.function: input of shape {a.shape} does not fit tensor {t.name} of shape "
                                 f"{t.shape}")
        outs = [o.copy() for o in self._network._run(arrays, phase)]
        return outs[0] if self._single else outs


def placeholder(shape, dtype, name):
    return Input(batch_shape=shape, dtype=dtype, name=name)
