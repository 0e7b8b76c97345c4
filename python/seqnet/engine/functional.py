"""Model(inputs, outputs): the functional API, a graph of layers with several inputs
and outputs (Keras 2's functional Model).

The graph is read once from the symbolic tensors into a plan: tensor slots (the inputs
first, then one per layer call) and the layer calls in topological order. A forward pass
runs the plan, a backward pass runs it in reverse, summing the gradients of a tensor
that feeds several layers. Training (engine/training.py) works on lists: one array per
input, one target and one loss per output; total loss = sum_i loss_weight_i * loss_i."""
from abc import ABCMeta

import numpy as np

from seqnet.engine import data as data_utils
from seqnet.engine.compile_utils import CompiledLoss, CompiledMetric, metric_name
from seqnet.engine.input_layer import InputLayer
from seqnet.engine.keras_tensor import KerasTensor
from seqnet.engine.training import TrainingModel


class Model(TrainingModel, metaclass=ABCMeta):
    """`Model(inputs, outputs)`: inputs are `seqnet.layers.Input` tensors, outputs are the
    tensors of layers called on them (a tensor or a list of tensors each)."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        # Keras 2.0's spelling: Model(input=..., output=...)
        inputs = kwargs.pop("input", inputs)
        outputs = kwargs.pop("output", outputs)
        if kwargs:
            raise TypeError(f"Model: unexpected keyword argument(s) {sorted(kwargs)}")
        if inputs is None or outputs is None:
            raise ValueError("Model: give `inputs` and `outputs` (subclassed models are not supported by seqnet)")
        super().__init__(name=name)
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = [inputs] if self._single_input else list(inputs)
        self.outputs = [outputs] if self._single_output else list(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be tensors of seqnet.layers.Input or of layers "
                                f"called on them, got {t!r}")
        for t in self.inputs:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: input tensors must come from seqnet.layers.Input; got the output of "
                                 f"layer '{t.node.layer.name}'")
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("Model: the same Input is given twice in `inputs`")
        self._build_plan()

    # ---- the graph ------------------------------------------------------------------
    def _build_plan(self):
        nodes, stack = {}, list(self.outputs)
        while stack:
            t = stack.pop()
            if t.node.id in nodes:
                continue
            nodes[t.node.id] = t.node
            stack.extend(t.node.input_tensors)
        slots = {id(t): i for i, t in enumerate(self.inputs)}
        for node in nodes.values():
            if isinstance(node.layer, InputLayer) and id(node.output) not in slots:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {node.output.name} at layer "
                                 f"'{node.layer.name}'. The following previous layers were accessed without "
                                 f"issue: {[t.node.layer.name for t in self.inputs]}")
        calls = sorted((n for n in nodes.values() if not isinstance(n.layer, InputLayer)), key=lambda n: n.id)
        self._plan, consumers = [], {}
        for node in calls:
            in_slots = [slots[id(t)] for t in node.input_tensors]
            slots[id(node.output)] = len(slots)
            for s in in_slots:
                consumers[s] = consumers.get(s, 0) + 1
            # dx is needed unless every input is a model input
            need_dx = any(s >= len(self.inputs) for s in in_slots)
            self._plan.append((node.layer, in_slots, node.takes_list, slots[id(node.output)], need_dx))
        self._n_slots = len(slots)
        self._values = [None] * self._n_slots
        self._output_slots = [slots[id(t)] for t in self.outputs]
        for t in self.outputs:
            if isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: output '{t.node.layer.name}' is an Input; seqnet needs at least one "
                                 "layer between an input and an output")
        self._consumers = consumers
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"The name {duplicates[0]!r} is used {names.count(duplicates[0])} times in the model. "
                             "All layer names should be unique.")
        self.input_names = [t.node.layer.name for t in self.inputs]
        self.output_names = [t.node.layer.name for t in self.outputs]
        self._nodes = calls

    @property
    def layers(self):
        """The InputLayers, then every layer in topological (creation) order, as Keras lists them."""
        input_layers = [t.node.layer for t in self.inputs]
        return input_layers + [layer for layer, *_ in self._plan]

    @property
    def _run_layers(self):
        return [layer for layer, *_ in self._plan]

    def _is_built(self):
        return True

    def _ensure_built(self, batch_input_shape):
        pass

    def _input_shape_nobatch(self):
        return tuple(self.inputs[0].shape[1:])

    def _output_shape_nobatch(self):
        return tuple(self.outputs[0].shape[1:])

    @property
    def _input_name(self):
        return self.input_names[0]

    @property
    def _output_name(self):
        return self.output_names[0]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input(self):
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self):
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    # ---- running ----------------------------------------------------------------------
    def _run(self, xs, training):
        """Forward through the plan; the list of output arrays (layer workspaces)."""
        values = self._values
        values[:len(xs)] = xs
        for layer, in_slots, takes_list, out_slot, _ in self._plan:
            x = [values[s] for s in in_slots] if takes_list else values[in_slots[0]]
            values[out_slot] = layer.forward(x, training)
        return [values[s] for s in self._output_slots]

    def _forward(self, x, training, outputs=None):
        outs = self._run(x, training)
        return outs[0] if len(outs) == 1 else outs

    def _backward(self, output_grads):
        """Backward through the plan from dL/d(output) per output (or dL/d(logits) for a
        fused output); weight gradients land in each weight's .grad."""
        grads = [None] * self._n_slots
        for i, (slot, g) in enumerate(zip(self._output_slots, output_grads)):
            grads[slot] = g if grads[slot] is None else np.add(grads[slot], g, out=grads[slot])
        values, n_inputs, fused = self._values, len(self.inputs), self._fused_slots
        for layer, in_slots, takes_list, out_slot, need_dx in reversed(self._plan):
            g = grads[out_slot]
            if layer.activity_regularizer is not None:
                layer.activity_regularizer.add_gradient(values[out_slot], g)
            dx = layer.backward(g, need_dx, out_slot in fused)
            if not need_dx:
                continue
            for s, d in zip(in_slots, dx if takes_list else (dx,)):
                if s < n_inputs:
                    continue
                if grads[s] is None:
                    grads[s] = d
                else:
                    np.add(grads[s], d, out=grads[s])

    def _activity_outputs(self):
        return [self._values[out_slot] for _, _, _, out_slot, _ in self._plan]

    # ---- compile ------------------------------------------------------------------------
    def _per_output(self, value, what, default=None):
        """One entry per output from a single value, a list (outputs order) or a dict by output name."""
        names = self.output_names
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(names))
            if unknown:
                raise ValueError(f"compile: unknown entries in the {what} dictionary: {unknown}. Only expected "
                                 f"the following keys: {names}")
            missing = [n for n in names if n not in value]
            if missing and default is None:
                raise ValueError(f"compile: output {missing[0]!r} is missing from the {what} dictionary "
                                 f"(keys: {sorted(value)}); seqnet trains every output")
            return [value.get(n, default) for n in names]
        if isinstance(value, (list, tuple)) and what != "metrics":
            if len(value) != len(names):
                raise ValueError(f"compile: when passing a list as {what}, it should have one entry per model "
                                 f"output. The model has {len(names)} outputs ({names}), but you passed "
                                 f"{what}={value!r}")
            return list(value)
        return [default if value is None else value] * len(names)

    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, **kwargs):
        """As Sequential's compile; with several outputs, loss, loss_weights, metrics and
        weighted_metrics may be lists (outputs order) or dicts keyed by output name."""
        if loss is None:
            raise ValueError("compile: a loss is required (a name such as 'mse' or a function)")
        per_loss = self._per_output(loss, "loss")
        weights = self._per_output(loss_weights, "loss_weights", default=1.0)
        for lw in weights:
            if isinstance(lw, bool) or not isinstance(lw, (int, float, np.number)):
                raise ValueError(f"compile: loss_weights must be numbers, got {loss_weights!r}")

        def metric_lists(ms, what):
            if ms is not None and not isinstance(ms, (list, tuple, dict)):
                raise TypeError(f"compile: {what} must be a list or a dict, got {ms!r}")
            if isinstance(ms, dict):
                return [list(m) if isinstance(m, (list, tuple)) else [m]
                        for m in self._per_output(ms, what, default=[])]
            return [list(ms or [])] * len(self.output_names)

        per_metrics, per_weighted = metric_lists(metrics, "metrics"), metric_lists(weighted_metrics, "metrics")
        # the arguments as given, for the saved training_config
        self._compile_args = {"metrics": metrics, "weighted_metrics": weighted_metrics}
        self._compiled_losses = [CompiledLoss(l) for l in per_loss]
        self._loss_weights = [float(w) for w in weights]
        self._output_metric_ids = [[(m, False) for m in ms] + [(m, True) for m in ws]
                                   for ms, ws in zip(per_metrics, per_weighted)]
        flat_metrics = [m for ms in per_metrics for m in ms]
        flat_weighted = [m for ws in per_weighted for m in ws]
        super().compile(optimizer, loss=per_loss[0], metrics=flat_metrics, loss_weights=None,
                        sample_weight_mode=sample_weight_mode, weighted_metrics=flat_weighted,
                        target_tensors=target_tensors, **kwargs)
        self.loss = loss
        self.loss_weights = loss_weights
        self._compiled_loss = self._compiled_losses[0]
        names = ["loss"]
        multi = len(self.outputs) > 1
        if multi:
            names += [n + "_loss" for n in self.output_names]
        for out_name, ids in zip(self.output_names, self._output_metric_ids):
            for m, weighted in ids:
                name = metric_name(m, weighted)
                name = f"{out_name}_{name}" if multi else name
                base, j = name, 1
                while name in names:  # Keras dedupes repeated names with _1, _2, ...
                    name, j = f"{base}_{j}", j + 1
                names.append(name)
        self.metrics_names = names

    def _finish_compile(self):
        self._fused_slots = set()
        self._metrics = []
        for i, (slot, t, loss) in enumerate(zip(self._output_slots, self.outputs, self._compiled_losses)):
            layer = t.node.layer
            # Fuse the loss with the output's activation only where nothing else needs dL/d(output).
            fusable = (layer.activity_regularizer is None and not self._consumers.get(slot)
                       and self._output_slots.count(slot) == 1)
            loss.attach(layer.output_activation if fusable else None)
            if loss.fused:
                self._fused_slots.add(slot)
            self._metrics += [(i, CompiledMetric(m, loss, t.shape[1:], weighted))
                              for m, weighted in self._output_metric_ids[i]]
        self._metrics_ready = True

    # ---- data ---------------------------------------------------------------------------
    def _arrays(self, data, names, what):
        """A list of arrays in `names` order from one array, a list or a dict keyed by name."""
        if isinstance(data, dict):
            missing = [n for n in names if n not in data]
            if missing:
                raise ValueError(f"No data provided for \"{missing[0]}\". Need data for each key in: {names}")
            return [data[n] for n in names]
        if isinstance(data, (list, tuple)) and len(names) > 1 or (
                isinstance(data, (list, tuple)) and len(data) and hasattr(data[0], "shape")):
            if len(data) != len(names):
                raise ValueError(f"Error when checking model {what}: the list of Numpy arrays that you are passing "
                                 f"to your model is not the size the model expected. Expected to see {len(names)} "
                                 f"array(s) ({names}), but instead got {len(data)}")
            return list(data)
        if len(names) > 1:
            raise ValueError(f"Error when checking model {what}: the model has {len(names)} {what}s ({names}); pass "
                             f"a list or a dict of arrays, got a single {type(data).__name__}")
        return [data]

    def _standardize_x(self, x, what="x"):
        if x is None:
            raise ValueError(f"{what}: no input data given")
        arrays = self._arrays(x, self.input_names, "input")
        out = []
        for a, t, name in zip(arrays, self.inputs, self.input_names):
            a = data_utils.as_float32(a, f"input '{name}'")
            out.append(data_utils.check_input(a, t.shape[1:], name))
        _same_length(out, self.input_names, "input")
        return out

    def _standardize_xy(self, x, y, sample_weight=None, class_weight=None):
        x = self._standardize_x(x)
        if y is None:
            raise ValueError("y: no target data given")
        ys = self._arrays(y, self.output_names, "target")
        sws = self._weights_per_output(sample_weight, "sample_weight")
        cws = self._weights_per_output(class_weight, "class_weight", class_weight=True)
        out_y, out_w = [], []
        for a, t, name, loss, sw, cw in zip(ys, self.outputs, self.output_names, self._compiled_losses, sws, cws):
            a = data_utils.as_float32(a, f"target '{name}'")
            a = data_utils.check_target(a, t.shape[1:], name, loss.name, loss.sparse)
            out_y.append(a)
            out_w.append(data_utils.sample_weights(a, sw, cw, loss.sparse))
        data_utils.check_same_length(x[0], out_y[0])
        _same_length(out_y, self.output_names, "target")
        return x, out_y, None if all(w is None for w in out_w) else out_w

    def _weights_per_output(self, value, what, class_weight=False):
        names = self.output_names
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict) and (not class_weight or set(value) <= set(names)):
            if class_weight and len(names) == 1 and not set(value) & set(names):
                return [value]
            return [value.get(n) for n in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"{what}: expected one entry per output ({names}), got {len(value)}")
            return list(value)
        if len(names) > 1:
            raise ValueError(f"{what}: the model has several outputs ({names}); pass a list or a dict keyed by "
                             "output name")
        return [value]

    def _empty_prediction(self):
        outs = [np.empty((0,) + tuple(t.shape[1:]), dtype=np.float32) for t in self.outputs]
        return outs[0] if len(outs) == 1 else outs

    # ---- one batch ----------------------------------------------------------------------
    def _losses(self, ys, outs, ws, training):
        """(total loss, per-output losses); with training, the output gradients too."""
        grads, per_output, total = [], [], 0.0
        for i, (loss, lw, y, out) in enumerate(zip(self._compiled_losses, self._loss_weights, ys, outs)):
            g = self._buffer(f"grad{i}", out.shape) if training else None
            value = loss(y, out, None if ws is None else ws[i], g, self.outputs[i].node.layer.logits)
            if training and lw != 1.0:
                g *= np.float32(lw)
            per_output.append(value)
            grads.append(g)
            total += lw * value
        return total, per_output, grads

    def _values_of(self, total, per_output, ys, outs, ws):
        values = [total] + (per_output if len(self.outputs) > 1 else [])
        for i, m in self._metrics:
            values.append(m(ys[i], outs[i], None if ws is None else ws[i]))
        return values

    def _train_batch(self, xb, yb, wb):
        outs = self._run(xb, True)
        total, per_output, grads = self._losses(yb, outs, wb, True)
        if self._regularized or self._activity:
            total += self._penalties(self._activity_outputs() if self._activity else None)
        values = self._values_of(total, per_output, yb, outs, wb)
        self._backward(grads)
        for w in self._regularized:
            w.regularizer.add_gradient(w.value, w.grad)
        store = self._store
        if store.params.size:
            self.optimizer.apply_gradients_flat(store.params, store.grads, store.segments)
        for w in self._constrained:
            w.value[...] = w.constraint(w.value)
        return values

    def _test_batch(self, xb, yb, wb):
        outs = self._run(xb, False)
        total, per_output, _ = self._losses(yb, outs, wb, False)
        activity = self._has_activity_regularizers()
        total += self._penalties(self._activity_outputs() if activity else None)
        return self._values_of(total, per_output, yb, outs, wb)

    def predict_on_batch(self, x):
        outs = [a.copy() for a in self._run(self._standardize_x(x), False)]
        return outs[0] if len(outs) == 1 else outs

    # ---- layers and weights ------------------------------------------------------------
    def get_layer(self, name=None, index=None):
        from seqnet.models.sequential import Sequential
        return Sequential.get_layer(self, name, index)

    @property
    def weights(self):
        return [w for layer in self._run_layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._run_layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._run_layers for w in layer.non_trainable_weights]

    def get_weights(self):
        return [w for layer in self._run_layers for w in layer.get_weights()]

    def set_weights(self, weights):
        weights, own = [np.asarray(w) for w in weights], self.weights
        if len(weights) != len(own):
            raise ValueError(f"set_weights: model '{self.name}' has {len(own)} weight arrays, got {len(weights)}")
        for weight, array in zip(own, weights):  # check all first: a bad array changes nothing
            if array.shape != weight.value.shape:
                raise ValueError(f"set_weights: weight '{weight.name}' has shape {weight.value.shape}, "
                                 f"but got an array of shape {array.shape}")
        for weight, array in zip(own, weights):
            weight.value[...] = array

    def count_params(self):
        return sum(layer.count_params() for layer in self._run_layers)

    def reset_states(self):
        for layer in self._run_layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the layer table in Keras 2's format ('Connected to' for non-sequential graphs)."""
        from seqnet.utils.layer_utils import print_functional_summary
        print_functional_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    # ---- saving ------------------------------------------------------------------------------
    def get_config(self):
        """Keras 2's functional config: {'name', 'layers': [{'name', 'class_name', 'config',
        'inbound_nodes'}], 'input_layers': [[name, 0, 0], ...], 'output_layers': [...]}.
        Every layer has one node (seqnet shares no layers), so node and tensor indices are 0."""
        layers = []
        for layer in self.layers:
            if isinstance(layer, InputLayer):
                # Keras 2.2.4's InputLayer config (tf-keras refuses other keys, e.g. 'trainable')
                config = {"batch_input_shape": tuple(layer.batch_input_shape), "dtype": layer.dtype,
                          "sparse": False, "name": layer.name}
                inbound = []
            else:
                config = layer.get_config()
                node = layer._inbound_nodes[0]
                inbound = [[[t.node.layer.name, 0, 0, {}] for t in node.input_tensors]]
            layers.append({"name": layer.name, "class_name": type(layer).__name__, "config": config,
                           "inbound_nodes": inbound})
        return {"name": self.name, "layers": layers,
                "input_layers": [[name, 0, 0] for name in self.input_names],
                "output_layers": [[name, 0, 0] for name in self.output_names]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A new model from `get_config()` output (seqnet's, Keras 2's or tf-keras'); layer
        classes come from seqnet.layers and `custom_objects` only."""
        from seqnet.saving.model_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)



def _same_length(arrays, names, what):
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"All {what} arrays (x) should have the same number of samples. Got array shapes: "
                         f"{dict(zip(names, [a.shape for a in arrays]))}")


# Keras: a Sequential model is a Model.
from seqnet.models.sequential import Sequential  # noqa: E402

Model.register(Sequential)
