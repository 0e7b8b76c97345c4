"""GraphBuilder: collects the ONNX nodes and initializers of one export, with unique names
and the few ops whose signature changed between the opsets seqnet writes (13 to 21)."""
import numpy as np

# Slice bound meaning "to the end" (INT64_MAX and INT64_MIN, as ONNX spells them).
END = np.iinfo(np.int64).max
BEFORE_START = np.iinfo(np.int64).min


class GraphBuilder:
    """The ONNX graph under construction.

    ``op(type, inputs, **attributes)`` appends a node and returns its output name (a list
    with ``outputs=n``); ``const(array)`` adds an initializer (shared when ``key`` names it
    again: a layer called twice stores its weights once). Node and tensor names start with
    ``scope``, the name of the layer being converted. ``dtypes`` maps each tensor made by
    ``op``/``const``/``add_input`` to its ONNX element type where it is not float32.
    ``convert`` is set by the exporter: it converts a layer call (used by the wrappers)."""

    def __init__(self, onnx_module, opset, reserved=()):
        self.onnx = onnx_module
        self.helper = onnx_module.helper
        self.opset = opset
        self.nodes, self.initializers = [], []
        self.scope = "seqnet"
        self.dtypes = {}
        self.convert = None
        self._names = set(reserved)
        self._consts = {}
        self._counter = 0

    # ---- names, nodes and constants ----------------------------------------------------
    def unique(self, hint):
        name = hint
        while name in self._names:
            self._counter += 1
            name = f"{hint}_{self._counter}"
        self._names.add(name)
        return name

    def op(self, op_type, inputs, outputs=1, dtype=None, **attributes):
        """Appends an `op_type` node; returns the name of its output (a list when outputs > 1).
        `dtype` records a non-float32 output type; None-valued attributes are left out."""
        base = f"{self.scope}/{op_type}"
        outs = [self.unique(f"{base}:{i}") for i in range(outputs)]
        attributes = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs, name=self.unique(base), **attributes))
        if dtype is not None:
            for o in outs:
                self.dtypes[o] = dtype
        return outs[0] if outputs == 1 else outs

    def const(self, array, hint="const", key=None):
        """An initializer holding `array` (float arrays as float32, integer ones as int64)."""
        if key is not None and key in self._consts:
            return self._consts[key]
        array = np.asarray(array)
        array = array.astype(np.int64 if array.dtype.kind in "iub" else np.float32)
        name = self.unique(f"{self.scope}/{hint}")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        if array.dtype == np.int64:
            self.dtypes[name] = self.onnx.TensorProto.INT64
        if key is not None:
            self._consts[key] = name
        return name

    def ints(self, values):
        """A shared int64 1-D constant (shapes, axes, slice bounds)."""
        values = tuple(int(v) for v in values)
        saved, self.scope = self.scope, "const"
        try:
            return self.const(np.array(values, dtype=np.int64), "ints", key=("ints", values))
        finally:
            self.scope = saved

    def scalar(self, value):
        """A shared float32 scalar constant."""
        value = float(np.float32(value))
        saved, self.scope = self.scope, "const"
        try:
            return self.const(np.array(value, dtype=np.float32), "scalar", key=("scalar", value))
        finally:
            self.scope = saved

    def is_float(self, name):
        return name not in self.dtypes

    def as_float(self, name):
        """`name` as float32 (a Cast when it is an integer tensor)."""
        if self.is_float(name):
            return name
        return self.op("Cast", [name], to=self.onnx.TensorProto.FLOAT)

    # ---- ops with opset-dependent signatures -----------------------------------------------
    def reduce(self, op_type, x, axes, keepdims=False):
        """ReduceMean/ReduceMax/ReduceSum over `axes` (an attribute before opset 18, except
        ReduceSum, whose axes became an input at 13)."""
        axes = [int(a) for a in axes]
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.op(op_type, [x, self.ints(axes)], keepdims=int(keepdims))
        return self.op(op_type, [x], axes=axes, keepdims=int(keepdims))

    def transpose(self, x, perm):
        perm = [int(p) for p in perm]
        if perm == sorted(perm):
            return x
        return self.op("Transpose", [x], perm=perm)

    def reshape(self, x, shape):
        """Reshape to `shape` (0 copies the input's dimension, -1 is inferred)."""
        return self.op("Reshape", [x, self.ints(shape)])

    def squeeze(self, x, axes):
        return self.op("Squeeze", [x, self.ints(axes)])

    def unsqueeze(self, x, axes):
        return self.op("Unsqueeze", [x, self.ints(axes)])

    def slice(self, x, starts, ends, axes, steps=None):
        inputs = [x, self.ints(starts), self.ints(ends), self.ints(axes)]
        if steps is not None:
            inputs.append(self.ints(steps))
        return self.op("Slice", inputs, dtype=self.dtypes.get(x))

    def reverse(self, x, axis):
        """`x` read backwards along `axis` (a Slice with step -1)."""
        return self.slice(x, [-1], [BEFORE_START], [axis], [-1])

    def chain(self, op_type, xs):
        """A left fold of a binary op: op(op(x0, x1), x2) ... (the order seqnet computes in)."""
        y = xs[0]
        for x in xs[1:]:
            y = self.op(op_type, [y, x])
        return y
