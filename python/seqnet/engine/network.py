"""Network: the one graph engine under Sequential and functional models.

A model is read once from its symbolic tensors into a plan: tensor slots (the inputs first,
then one per layer output) and the layer calls (nodes) in topological order. Forward runs
the plan (with masks where the graph has them), backward runs it in reverse, summing the
gradients of a tensor that feeds several layers and of a layer called several times. A
Network is a Layer, so a model can be called on tensors and used inside another model.

A plain chain (one input, one output, one layer call per step, no masks: every
Sequential MLP, convnet or LSTM stack) runs through a shorter loop with the same result.
"""
import collections
import inspect
import itertools
import numbers

import numpy as np

from seqnet import _engine
from seqnet.engine import backend_call
from seqnet.engine.base_layer import Layer, _to_snake_case, _unique_name
from seqnet.engine.weight import unique_weights
from seqnet.engine.input_layer import InputLayer
from seqnet.engine.keras_tensor import KerasTensor, Node, SymbolicMask, is_symbolic


class Step:
    """One node of the plan: the layer object that runs it (the layer itself, or a clone
    with its own workspaces for a second call of a shared layer) and its slots."""

    __slots__ = ("layer", "runner", "node", "in_slots", "out_slots", "takes_list", "returns_list", "need_dx",
                 "from_inputs", "accumulate", "pass_mask", "mask_out", "training", "call_kwargs", "fused",
                 "scratch")

    def __init__(self, node, runner, in_slots, out_slots, n_inputs):
        self.node, self.layer, self.runner = node, node.layer, runner
        self.in_slots, self.out_slots = in_slots, out_slots
        self.takes_list, self.returns_list = node.takes_list, node.returns_list
        self.need_dx = any(s >= n_inputs for s in in_slots)
        self.from_inputs = any(s < n_inputs for s in in_slots)
        masks = node.input_masks if isinstance(node.input_masks, list) else [node.input_masks]
        self.pass_mask = any(m is not None for m in masks) and _forward_takes_mask(runner)
        self.mask_out = any(t._keras_mask is not None for t in node.output_tensors)
        self.training = node.kwargs.get("training")
        self.call_kwargs = {k: v for k, v in node.kwargs.items() if k not in ("training", "mask")}
        self.accumulate = False
        self.fused = False
        self.scratch = None


class Network(Layer):
    """A graph of layer calls with inputs and outputs (Keras 2's Network); Model adds training.

    Setting ``trainable`` (on the model or any of its layers) takes effect at the next
    training step, without compiling again; Keras 2.2.4 and tf-keras keep training the
    weights that were trainable at ``compile()`` until the model is compiled again.
    """

    _is_network = True
    _token_run = None  # per step, _TOKENS where the last forward handed over an Embedding's indices

    def __init__(self, name=None, trainable=True):
        Layer.__init__(self, name=name or _unique_name(_to_snake_case(type(self).__name__)), trainable=trainable)
        self.inputs, self.outputs = [], []
        self.input_names, self.output_names = [], []
        self._layers = []
        self._steps = []
        self.built = False

    # ---- the graph ------------------------------------------------------------------
    def _init_graph(self, inputs, outputs):
        """Reads the plan from symbolic `inputs` and `outputs` (a tensor or a list each)."""
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
        nodes = _nodes_behind(self.outputs)
        slots = {id(t): i for i, t in enumerate(self.inputs)}
        for node in nodes:
            if isinstance(node.layer, InputLayer) and id(node.output_tensors[0]) not in slots:
                raise ValueError(f"Graph disconnected: cannot obtain value for tensor {node.output_tensors[0].name} "
                                 f"at layer '{node.layer.name}'. The following previous layers were accessed "
                                 f"without issue: {[t.node.layer.name for t in self.inputs]}")
        calls = [n for n in nodes if not isinstance(n.layer, InputLayer)]
        steps, runners = [], {}
        for node in calls:
            in_slots = [slots[id(t)] for t in node.input_tensors]
            out_slots = []
            for t in node.output_tensors:
                slots[id(t)] = len(slots)
                out_slots.append(slots[id(t)])
            first = id(node.layer) not in runners
            runner = node.layer if first else node.layer._call_clone()
            runners.setdefault(id(node.layer), []).append(runner)
            steps.append(Step(node, runner, in_slots, out_slots, len(self.inputs)))
        seen = set()
        for step in reversed(steps):  # a shared layer's later-run backwards add to its gradients
            step.accumulate = id(step.layer) in seen
            seen.add(id(step.layer))
        self._steps = steps
        self._n_slots = len(slots)
        self._values = [None] * self._n_slots
        self._masks = [None] * self._n_slots
        self._output_slots = [slots[id(t)] for t in self.outputs]
        self._no_masks = [None] * len(self.outputs)
        self._consumers = {}
        for step in steps:
            for s in step.in_slots:
                self._consumers[s] = self._consumers.get(s, 0) + 1
        for t in self.outputs:
            if isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: output '{t.node.layer.name}' is an Input; seqnet needs at least one "
                                 "layer between an input and an output")
        layers, seen_layers = [], set()
        for step in steps:
            if id(step.layer) not in seen_layers:
                seen_layers.add(id(step.layer))
                layers.append(step.layer)
        self._layers = [t.node.layer for t in self.inputs] + layers
        counts = collections.Counter(layer.name for layer in self._layers)
        duplicates = sorted(n for n, c in counts.items() if c > 1)
        if duplicates:
            raise ValueError(f"The name {duplicates[0]!r} is used {counts[duplicates[0]]} times in the model. "
                             "All layer names should be unique.")
        self.input_names = [t.node.layer.name for t in self.inputs]
        self.output_names = [t.node.layer.name for t in self.outputs]
        self._masked = any(step.mask_out or step.pass_mask for step in steps)
        self._chain = _as_chain(self)
        self._nodes = calls
        # Keras 2: a network's first node links its own inputs to its outputs (so its first
        # call inside another model is node 1).
        self_node = Node(self, self.inputs, not self._single_input)
        self_node.returns_list = not self._single_output
        self_node.output_tensors = list(self.outputs)
        self_node.is_self_node = True
        if self._inbound_nodes and getattr(self._inbound_nodes[0], "is_self_node", False):
            self._inbound_nodes[0] = self_node
        else:
            self._inbound_nodes.insert(0, self_node)
        self.built = True

    @property
    def layers(self):
        """The InputLayers, then every layer in topological (creation) order, as Keras lists them."""
        return list(self._layers)

    @property
    def _run_layers(self):
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def _output_runner(self, i):
        """The layer object that produced output i (its logits feed a fused loss)."""
        slot = self._output_slots[i]
        for step in self._steps:
            if slot in step.out_slots:
                return step
        return None

    # ---- running ----------------------------------------------------------------------
    def _run(self, xs, training, masks=None, chain=None, keep_values=False):
        """Forward through the plan; the list of output arrays (layer workspaces). `chain`
        replaces the plain chain's runners (the folded ones of _inference_chain). keep_values:
        every slot holds its layer's output afterwards (no Embedding left to its reader)."""
        chain = chain or self._chain
        own = chain is None or chain is self._chain
        # a MaxPooling2D written by the Conv2D before it (see _graph_relu_gates)
        pools = self._pool_fusions() if own else None
        # an Embedding whose reader takes its indices (see _graph_tokens), when the reader wants
        # them for this batch; backward follows what this forward did (_token_run)
        readers = self._token_fusions() if own and not keep_values else None
        taken = self._token_run = [None] * len(self._steps) if readers is not None and any(readers) else None
        if chain is not None and masks is None:
            x = xs[0]
            for i, (runner, act) in enumerate(zip(chain, self._activation_fusions(chain))):
                if act is _RUN_BEFORE:
                    continue
                if taken is not None and readers[i] is not None and self._reader_takes(readers[i], x, training):
                    x = runner.token_rows(x)
                    taken[i] = _TOKENS
                    continue
                if pools is not None and pools[i] is not None:
                    x = _with_pool(runner, pools[i], act, x, training)
                elif act is None:
                    x = runner.forward(x, training)
                else:
                    x = _with_activation(runner, act, runner.forward, x, training)
            self._values[self._output_slots[0]] = x
            return [x]
        values, mvals = self._values, self._masks
        values[:len(xs)] = xs
        mvals[:len(xs)] = masks if masks is not None else [None] * len(xs)
        acts = self._step_fusions()
        for i, (step, act) in enumerate(zip(self._steps, acts)):
            x = [values[s] for s in step.in_slots] if step.takes_list else values[step.in_slots[0]]
            if act is _RUN_BEFORE:  # its producer applied it
                values[step.out_slots[0]] = x
                continue
            if pools is not None and pools[i] is not None:
                values[step.out_slots[0]] = _with_pool(step.runner, pools[i], act, x, training)
                continue
            if act is not None:
                values[step.out_slots[0]] = _with_activation(step.runner, act, step.runner.forward, x, training)
                continue
            phase = training if step.training is None else bool(step.training)
            m = None
            if step.pass_mask or step.mask_out:
                m = [mvals[s] for s in step.in_slots] if step.takes_list else mvals[step.in_slots[0]]
            if taken is not None and readers[i] is not None and self._reader_takes(readers[i], x, training):
                out = step.runner.token_rows(x)
                taken[i] = _TOKENS
            elif step.call_kwargs:
                out = backend_call.forward(step.runner, x, phase, m, step.call_kwargs)
            elif step.pass_mask and m is not None and not (isinstance(m, list) and all(v is None for v in m)):
                out = step.runner.forward(x, phase, mask=m)
            else:
                out = step.runner.forward(x, phase)
            if step.returns_list:
                for s, o in zip(step.out_slots, out):
                    values[s] = o
            else:
                values[step.out_slots[0]] = out
            if step.mask_out:
                om = step.runner.compute_mask(x, m)
                oms = om if step.returns_list else [om]
                for s, o in zip(step.out_slots, oms if isinstance(oms, list) else [oms] * len(step.out_slots)):
                    mvals[s] = o
        return [values[s] for s in self._output_slots]

    def _activation_fusions(self, chain):
        """Per runner of `chain`: the activation it applies in its own kernels on behalf of the
        Activation layer after it, _RUN_BEFORE for that Activation layer, None otherwise. The
        model's own chain runs its steps' runners in order, so those are _step_fusions'; another
        (predict's folded chain, the same for every batch of one call) is remembered as well."""
        if chain is self._chain:
            return self._step_fusions()
        cached = getattr(chain, "fusions", None)  # a _FoldedChain keeps its own
        if cached is None or cached[0] != FUSE_ACTIVATIONS:
            cached = (FUSE_ACTIVATIONS, _chain_activations(chain))
            if isinstance(chain, _FoldedChain):
                chain.fusions = cached
        return cached[1]

    def _relu_gates(self):
        """_graph_relu_gates of this plan (with its activation fusions), cached."""
        return self._relu_gate_plan()[0]

    def _pool_fusions(self):
        """Per step: the MaxPooling2D whose forward output this step's Conv2D writes (the pooling it
        hands the ReLU gate to, when it can take it: Pooling.fill_from decides at run time), None
        elsewhere. In training and inference alike (not in predict's folded chain)."""
        return self._relu_gate_plan()[1]

    def _relu_gate_plan(self):
        cached = self.__dict__.get("_relu_gate_cache")
        on = FUSE_ACTIVATIONS and FUSE_RELU_GATES
        if cached is None or cached[0] is not self._steps or cached[1] != on:
            gates, pairs = _graph_relu_gates(self, self._step_fusions())
            pools = [None] * len(gates)
            for producer, pool in pairs.items():
                if type(self._steps[producer].runner).__dict__.get("_pool_fusable"):
                    pools[producer] = self._steps[pool].runner
            cached = (self._steps, on, gates, pools)
            self._relu_gate_cache = cached
        return cached[2], cached[3]

    def _reader_takes(self, j, ids, training):
        """Whether step j, the reader of an Embedding's output, takes the indices `ids` now."""
        step = self._steps[j]
        return step.runner._takes_tokens(ids, training if step.training is None else bool(step.training))

    def _token_fusions(self):
        """_graph_tokens of this plan, cached."""
        return self._plan_cache("_token_fusion_cache", FUSE_EMBEDDINGS, _graph_tokens)

    def _step_fusions(self):
        """_graph_activations of this plan, cached."""
        return self._plan_cache("_step_fusion_cache", FUSE_ACTIVATIONS, _graph_activations)

    def _plan_cache(self, attr, setting, build):
        """build(self), remembered in `attr` while the plan's steps and `setting` stay."""
        cached = self.__dict__.get(attr)
        if cached is None or cached[0] is not self._steps or cached[1] != setting:
            cached = (self._steps, setting, build(self))
            setattr(self, attr, cached)
        return cached[2]

    def _inference_chain(self):
        """For predict: the plain chain with each layer that can fold itself into the one
        before it (BatchNormalization after a linear Dense or convolution: ``fold_into``)
        folded, so one kernel call does both; None when the model is not a plain chain.
        Built from the current weights, once per predict call."""
        if self._chain is None:
            return None
        chain, folded = _FoldedChain(), False
        for runner in self._chain:
            fold = getattr(runner, "fold_into", None)
            merged = fold(chain[-1]) if fold is not None and chain else None
            if merged is not None:
                chain[-1], folded = merged, True
            else:
                chain.append(runner)
        return chain if folded else None

    def _output_masks(self):
        """The masks of the outputs of the last forward (None each when the graph has none)."""
        if not self._masked:
            return self._no_masks
        return [self._masks[s] for s in self._output_slots]

    def _backward(self, output_grads, need_input_grads=False):
        """Backward through the plan from dL/d(output) per output (dL/d(logits) for a fused
        output); weight gradients land in each weight's .grad. Returns the inputs'
        gradients when need_input_grads (a model used as a layer)."""
        chain = self._chain
        if chain is not None:
            g = output_grads[0]
            last = len(chain) - 1
            fused = self._steps[-1].fused
            acts = self._activation_fusions(chain)
            gates = self._relu_gates()
            taken = self._token_run
            for i in range(last, -1, -1):
                pre = (fused and i == last) or gates[i] is _TAKES_PREACTIVATION
                if taken is not None and taken[i] is _TOKENS:
                    continue  # its reader wrote its gradient and returned its input's (zeros)
                if gates[i] is _GATES:
                    g = _with_relu_gate(chain[i], g, i > 0 or need_input_grads)
                elif acts[i] is None:
                    g = chain[i].backward(g, i > 0 or need_input_grads, pre)
                elif acts[i] is not _RUN_BEFORE:  # never the last layer
                    g = _with_activation(chain[i], acts[i], chain[i].backward, g, i > 0 or need_input_grads, pre)
            return [g] if need_input_grads else None
        grads = [None] * self._n_slots
        for slot, g in zip(self._output_slots, output_grads):
            grads[slot] = g if grads[slot] is None else grads[slot] + g
        n_inputs, values = len(self.inputs), self._values
        acts, gates = self._step_fusions(), self._relu_gates()
        tokens = reversed(self._token_run) if self._token_run else itertools.repeat(None)
        for step, act, gate, tok in zip(reversed(self._steps), reversed(acts), reversed(gates), tokens):
            g = [grads[s] for s in step.out_slots] if step.returns_list else grads[step.out_slots[0]]
            if act is _RUN_BEFORE:  # its producer takes the gradient through it (the only reader)
                grads[step.in_slots[0]] = g
                continue
            if tok is _TOKENS:  # its reader wrote its gradient; its input's is zeros
                continue
            if g is None or (step.returns_list and all(v is None for v in g)):
                if not step.accumulate:  # nothing reaches this call: its weights get no gradient
                    for w in step.layer.trainable_weights:
                        if w.grad is not None:
                            w.grad.fill(0.0)
                continue
            reg = step.layer.activity_regularizer
            if reg is not None and not step.returns_list:
                reg.add_gradient(values[step.out_slots[0]], g)
            need = step.need_dx or (need_input_grads and step.from_inputs)
            pre = gate is _TAKES_PREACTIVATION
            if gate is _GATES:
                dx = _with_relu_gate(step.runner, g, need)
            elif act is not None:
                dx = _with_activation(step.runner, act, step.runner.backward, g, need, pre)
            else:
                dx = self._step_backward(step, g, need, pre)
            if not need:
                continue
            for s, d in zip(step.in_slots, dx if step.takes_list else (dx,)):
                if d is None or (s < n_inputs and not need_input_grads):
                    continue
                if grads[s] is None:
                    grads[s] = d
                else:
                    grads[s] = np.add(grads[s], d, out=grads[s] if grads[s].flags.writeable else None)
        if not need_input_grads:
            return None
        return [grads[s] if grads[s] is not None else np.zeros_like(values[s]) for s in range(n_inputs)]

    def _step_backward(self, step, g, need, pre=False):
        if not step.accumulate:
            return step.runner.backward(g, need, step.fused or pre)
        # A second call of a shared layer: its weight gradients go to scratch buffers, then
        # are added to the gradients of the calls already run backward.
        weights = [w for w in step.layer.trainable_weights if w.grad is not None]
        if step.scratch is None or [s.shape for s in step.scratch] != [w.grad.shape for w in weights]:
            step.scratch = [np.empty_like(w.grad) for w in weights]
        real = [w.grad for w in weights]
        for w, s in zip(weights, step.scratch):
            w.grad = s
        try:
            dx = step.runner.backward(g, need, step.fused)
        finally:
            for w, r in zip(weights, real):
                w.grad = r
        for r, s in zip(real, step.scratch):
            np.add(r, s, out=r)
        return dx

    # ---- a model used as a layer ---------------------------------------------------------
    def compute_output_shape(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(shapes) != len(self.inputs):
            raise ValueError(f"Model '{self.name}' expects {len(self.inputs)} input(s), got {len(shapes)}")
        batch = shapes[0][0]
        out = [(batch,) + tuple(t.shape[1:]) for t in self.outputs]
        return out[0] if self._single_output else out

    def compute_mask(self, inputs, mask=None):
        if is_symbolic(inputs):
            masks = [SymbolicMask(t.shape[:-1]) if t._keras_mask is not None else None for t in self.outputs]
        else:  # arrays, at run time: the masks of the last forward
            masks = self._output_masks()
        return masks[0] if self._single_output else masks

    def _build_for(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        for shape, t in zip(shapes, self.inputs):
            if len(shape) != len(t.shape) or any(a is not None and b is not None and a != b
                                                 for a, b in zip(shape[1:], t.shape[1:])):
                raise ValueError(f"Model '{self.name}' expects inputs of shape {t.shape}, got {tuple(shape)}")

    def forward(self, x, training, mask=None):
        xs = x if isinstance(x, list) else [x]
        masks = None
        if mask is not None:
            masks = mask if isinstance(mask, list) else [mask]
        outs = self._run(xs, training, masks)
        return outs if not self._single_output else outs[0]

    def backward(self, dy, need_dx=True, dy_is_preactivation=False):
        grads = dy if isinstance(dy, list) else [dy]
        grads = [np.zeros_like(self._values[s]) if g is None else g for g, s in zip(grads, self._output_slots)]
        dx = self._backward(grads, need_input_grads=need_dx)
        if not need_dx:
            return None
        return dx if not self._single_input else dx[0]

    def _call_clone(self):
        clone = Layer._call_clone(self)
        clone._steps = []
        for step in self._steps:
            copy = Step.__new__(Step)
            for slot in Step.__slots__:
                setattr(copy, slot, getattr(step, slot))
            copy.runner = step.runner._call_clone()
            copy.scratch = None
            clone._steps.append(copy)
        clone._values = [None] * self._n_slots
        clone._masks = [None] * self._n_slots
        clone._chain = _as_chain(clone)
        return clone

    # ---- weights ---------------------------------------------------------------------
    @property
    def weights(self):
        return unique_weights([w for layer in self._run_layers for w in layer.weights])

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return unique_weights([w for layer in self._run_layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def reset_states(self):
        for layer in self._run_layers:
            if hasattr(layer, "reset_states") and getattr(layer, "stateful", True):
                layer.reset_states()

    def get_layer(self, name=None, index=None):
        """A layer by index (which wins when both are given) or by unique name; ValueError otherwise."""
        layers = self.layers
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise ValueError(f"get_layer: index must be an integer, got {index!r}")
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(layers)} layers.")
            return layers[int(index)]
        if name is not None and not isinstance(name, str):
            raise ValueError(f"get_layer: name must be a string, got {name!r} (a position goes in index=, "
                             f"e.g. get_layer(index={name!r}))")
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    # ---- description -----------------------------------------------------------------
    @property
    def input_shape(self):
        self._require_graph("input_shape")
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if self._single_input else shapes

    @property
    def output_shape(self):
        self._require_graph("output_shape")
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if self._single_output else shapes

    @property
    def input(self):
        self._require_graph("input")
        return self.inputs[0] if self._single_input else list(self.inputs)

    @property
    def output(self):
        self._require_graph("output")
        return self.outputs[0] if self._single_output else list(self.outputs)

    @property
    def uses_learning_phase(self):
        return True

    @property
    def state_updates(self):
        return []

    def _require_graph(self, what):
        if not self.built:
            raise AttributeError(f"This model has not yet been built (needed by {what}). Build the model first "
                                 "by calling build() or calling fit() with some data. Or specify input_shape or "
                                 "batch_input_shape in the first layer for automatic build.")

    def summary(self, line_length=None, positions=None, print_fn=None):
        """Prints the layer table in Keras 2's format ('Connected to' for non-sequential graphs)."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling build() or "
                             "calling fit() with some data. Or specify input_shape or batch_input_shape in the "
                             "first layer for automatic build.")
        from seqnet.utils.layer_utils import print_summary
        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        """Keras 2's functional config: {'name', 'layers': [{'name', 'class_name', 'config',
        'inbound_nodes'}], 'input_layers': [[name, node, tensor], ...], 'output_layers': [...]}."""
        from seqnet.engine.network_config import network_config
        return network_config(self)


def _nodes_behind(outputs):
    """Every node the outputs depend on, in creation order (a topological order)."""
    nodes, stack = {}, [t.node for t in outputs]
    while stack:
        node = stack.pop()
        if node.id in nodes:
            continue
        nodes[node.id] = node
        stack.extend(t.node for t in node.input_tensors)
    return [nodes[i] for i in sorted(nodes)]


# An Activation layer right after a linear Dense or convolution (Conv1D/2D/3D, SeparableConv1D/2D,
# DepthwiseConv2D, Conv2D/3DTranspose; channels_last) runs inside that layer's kernels, as if the
# layer had been given activation=..., instead of as a pass of its own over the output (Keras'
# cifar10_cnn has five such pairs), and a ReLU after a BatchNormalization inside its kernels: in a
# plain chain, and in any graph where the Activation is the only reader of the layer's output
# (_graph_activations). The same elementwise functions either way, so the same bits
# (tests/test_network_fusion.py). Off here runs every layer apart (the ReLU gate of max pooling
# below, _graph_relu_gates, included; FUSE_RELU_GATES turns that one off alone).
FUSE_ACTIVATIONS = True
FUSE_RELU_GATES = True
FUSE_POOL_GRADIENTS = True  # with the gates: see _with_relu_gate
_RUN_BEFORE = object()  # marks an Activation layer whose function its producer applied


def _fused_code(producer, act):
    """The activation `producer` can apply in its kernels on behalf of the Activation layer
    `act` that reads its output, or None."""
    linear, softmax = _engine.Activation.linear, _engine.Activation.softmax
    if not (type(producer).__dict__.get("_activation_fusable") and producer._custom is None
            and producer._act == linear and getattr(producer, "data_format", "channels_last") == "channels_last"):
        return None
    if not (type(act).__dict__.get("_fusable_into_previous") and act._custom is None
            and act._code not in (linear, softmax)):
        return None
    allowed = type(producer).__dict__.get("_fusable_activations")  # None: every elementwise one
    return act._code if allowed is None or act._code in allowed else None


class _FoldedChain(list):
    """predict's chain of runners (_inference_chain), which remembers its fusions for the
    batches of the call that built it and is dropped with it."""
    fusions = None


def _chain_activations(chain):
    """The fusions of a chain of runners not the model's own (predict's, with a BatchNormalization
    folded into the layer before it): each fusable pair of neighbours but the last layer."""
    acts = [None] * len(chain)
    if not FUSE_ACTIVATIONS:
        return acts
    # chain[i + 1] is never the last layer: the model's output activation stays with its layer
    # (a fused loss reads the logits of the layer that applies it).
    for i in range(len(chain) - 2):
        code = _fused_code(chain[i], chain[i + 1]) if acts[i] is None else None
        if code is not None:
            acts[i], acts[i + 1] = code, _RUN_BEFORE
    return acts


def _plan_links(steps, network):
    """How many steps read each slot, the model's output slots, and the step that writes each slot."""
    readers = collections.Counter(s for step in steps for s in step.in_slots)
    producer_of = {step.out_slots[0]: i for i, step in enumerate(steps) if not step.returns_list}
    return readers, set(network._output_slots), producer_of


def _plain_step(step):
    """One input, one output, no masks, keyword arguments, fixed training phase, activity
    regularizer or second call of a shared layer: a step whose neighbours may fuse with it."""
    return not (step.takes_list or step.returns_list) and _plain_call(step)


def _plain_call(step):
    return not (step.pass_mask or step.mask_out or step.call_kwargs or step.accumulate or step.training is not None
                or step.layer.activity_regularizer is not None)


def _plain_merge(step):
    """A merge of several inputs into one output (Add) with nothing else about it that
    _plain_step rules out: it may apply the Activation after it, as a plain step does."""
    return (step.takes_list and not step.returns_list and _plain_call(step)
            and type(step.runner).__dict__.get("_activation_fusable", False))


def _graph_activations(network):
    """As _chain_activations, per step of a general plan: an Activation step whose input is the
    output of one step, read by no other step and not an output of the model, with no masks,
    keyword arguments, activity regularizers or second calls of a shared layer on either side."""
    steps = network._steps
    acts = [None] * len(steps)
    if not FUSE_ACTIVATIONS:
        return acts
    readers, outputs, producer_of = _plan_links(steps, network)
    plain = _plain_step
    for j, step in enumerate(steps):
        slot = step.in_slots[0]
        i = producer_of.get(slot)
        if i is None or acts[i] is not None or not plain(step) or not (plain(steps[i]) or _plain_merge(steps[i])):
            continue
        if readers[slot] != 1 or slot in outputs or step.out_slots[0] in outputs:
            continue
        code = _fused_code(steps[i].runner, step.runner)
        if code is not None:
            acts[i], acts[j] = code, _RUN_BEFORE
    return acts


# An Embedding whose output only a built-in recurrent layer (LSTM, GRU, SimpleRNN, or a
# Bidirectional of them) reads hands that layer its indices instead of the gathered vectors
# (Embedding.token_rows, TokenRows): the layer projects each distinct token of the batch once and
# writes the Embedding's gradient from its gate gradients summed per token
# (BaseRNN._token_inputs), so neither the output nor its gradient is written out, nor scattered
# back. Not for a model output, a second call of a
# shared layer, keyword arguments or an activity regularizer on the Embedding, nor when every
# slot must keep its value (Network._run's keep_values). Off here runs them apart
# (tests/test_embedding_rnn_fusion.py).
FUSE_EMBEDDINGS = True
_TOKENS = object()  # marks an Embedding whose reader took its indices (Network._token_run)


def _graph_tokens(network):
    """Per step of the plan: for an Embedding read only by a recurrent layer that takes token
    rows (class attribute _reads_tokens), the index of that layer's step; None elsewhere. Masks
    may pass (mask_zero). Whether the reader takes the indices of a batch, it says then
    (_takes_tokens: not for a layer too small to gain, nor under input dropout)."""
    steps = network._steps
    marks = [None] * len(steps)
    if not FUSE_EMBEDDINGS:
        return marks
    readers, outputs, producer_of = _plan_links(steps, network)
    for j, step in enumerate(steps):
        if not type(step.runner).__dict__.get("_reads_tokens") or step.takes_list or step.call_kwargs \
                or step.accumulate:
            continue
        slot = step.in_slots[0]
        i = producer_of.get(slot)
        if i is None or readers[slot] != 1 or slot in outputs:
            continue
        e = steps[i]
        if type(e.runner).__dict__.get("_gives_tokens") and not (e.takes_list or e.call_kwargs or e.accumulate) \
                and e.layer.activity_regularizer is None:
            marks[i] = j
    return marks


# Backward through a max pooling whose input is the output of a ReLU (Keras' Conv2D(relu) -
# MaxPooling2D, or Conv2D - Activation('relu') - MaxPooling2D with the Activation run inside the
# convolution): the pooling's backward gates each window's gradient by its forward output (the
# ReLU's output at the argmax, so > 0 exactly where the ReLU passes a gradient) and returns the
# gradient before the ReLU, which the layer that applied it takes as dy_is_preactivation. The
# convolution's backward then skips its pass of the ReLU's derivative over its whole output (that
# output is 4x the pooled one); the same comparisons pick the same elements, so the same bits
# (tests/test_network_fusion.py). When that layer is a Conv2D and the pooling is
# MaxPooling2D() (2x2, stride 2, 'valid', channels_last), the convolution also writes the
# pooling's output and argmax instead of its own output (_pool_fusions, Conv2D._kernel_forward,
# Pooling.fill_from): a Winograd convolution pools each output tile as it finishes it, so its
# output, 4x the pooled size, is never written nor read back. Off with FUSE_RELU_GATES (or
# FUSE_ACTIVATIONS).
_GATES = object()               # marks a max pooling that returns the pre-ReLU gradient
_TAKES_PREACTIVATION = object()  # marks the layer that applied that ReLU


def _graph_relu_gates(network, acts):
    """Per step of the plan: _GATES for a max pooling (MaxPooling1D/2D) whose input is read by it
    alone and is the ReLU output of a layer that applies the ReLU itself (its own activation, or
    an Activation('relu') fused into it: `acts`), _TAKES_PREACTIVATION for that layer; None
    elsewhere. Plain steps only (as _graph_activations); never a model output. Also returns
    {index of that layer: index of its pooling}."""
    steps = network._steps
    gates, pairs = [None] * len(steps), {}
    if not (FUSE_ACTIVATIONS and FUSE_RELU_GATES):
        return gates, pairs
    relu = _engine.Activation.relu
    readers, outputs, producer_of = _plan_links(steps, network)

    def plain(step):
        return _plain_step(step) and not step.fused

    for j, step in enumerate(steps):
        pool = step.runner
        if not type(pool).__dict__.get("_relu_gate_fusable") or not plain(step):
            continue
        slot = step.in_slots[0]
        i = producer_of.get(slot)
        if i is None or readers[slot] != 1 or slot in outputs or not plain(steps[i]):
            continue
        if acts[i] is _RUN_BEFORE:  # an Activation its producer applies: gate for that producer
            k = producer_of.get(steps[i].in_slots[0])
            if k is None or acts[k] != relu:
                continue
            target = k
        elif acts[i] is None and getattr(steps[i].runner, "_act", None) == relu:
            target = i
        else:
            continue
        layer = steps[target].runner
        if not (type(layer).__dict__.get("_activation_fusable") and layer._custom is None and plain(steps[target])):
            continue
        gates[j], gates[target] = _GATES, _TAKES_PREACTIVATION
        pairs[target] = j
    return gates, pairs


def _with_pool(layer, pool, act, x, training):
    """The forward of `layer` (a Conv2D; with activation `act` fused in, unless None) with `pool`,
    the MaxPooling2D that reads its output next, as its pooling target (Conv._kernel_forward):
    the convolution then writes the pooling's output, which the pooling's forward returns. Its
    own output array is still returned, unwritten: only the pooling reads it."""
    layer._pool_into = pool
    try:
        if act is None:
            return layer.forward(x, training)
        return _with_activation(layer, act, layer.forward, x, training)
    except BaseException:
        pool._filled = None
        raise
    finally:
        layer._pool_into = None


def _with_relu_gate(pool, g, need):
    """The backward of max pooling `pool` with its ReLU gate on (see _graph_relu_gates). When a
    Conv2D filled the pooling's output (_with_pool), the pooling's gradient goes back to it as it
    is (a PooledGradient, FUSE_POOL_GRADIENTS): a Winograd convolution reads each tile's gradient
    from the pooled dy and argmax in both passes, so the scatter to the convolution's output size
    (4x the pooled one) is never written nor read; other algorithms scatter it first. The same
    bits either way (tests/test_network_fusion.py)."""
    pool._relu_gate, pool._pass_pooled = True, FUSE_POOL_GRADIENTS
    try:
        return pool.backward(g, need, False)
    finally:
        pool._relu_gate = pool._pass_pooled = False


def _with_activation(layer, act, method, *args):
    """layer.method(*args) run with activation `act` in place of its linear one."""
    saved = layer._act, layer._keep_z
    layer._act, layer._keep_z = act, _engine.activation_backward_needs_input(act)
    try:
        return method(*args)
    finally:
        layer._act, layer._keep_z = saved


def _as_chain(network):
    """The runners of a plain chain (see the module doc), or None."""
    steps = network._steps
    if len(network.inputs) != 1 or len(network.outputs) != 1 or not steps or network._masked:
        return None
    previous = 0
    for step in steps:
        if step.takes_list or step.returns_list or step.in_slots != [previous] or step.training is not None \
                or step.call_kwargs or step.accumulate or step.layer.activity_regularizer is not None:
            return None
        previous = step.out_slots[0]
    if network._output_slots != [previous]:
        return None
    return [step.runner for step in steps]


def _forward_takes_mask(runner):
    if backend_call.is_keras_style(runner):
        return True
    try:
        return "mask" in inspect.signature(runner.forward).parameters
    except (TypeError, ValueError):
        return False
