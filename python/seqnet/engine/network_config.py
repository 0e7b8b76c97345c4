"""A functional network's Keras 2 config: every layer with the nodes that call it inside
this network, numbered as Keras 2.2.4 numbers them (a nested model's node 0 is the one
linking its own inputs to its outputs, so its first call here is node 1)."""
from seqnet.engine.input_layer import InputLayer


def network_config(network):
    """{'name', 'layers': [{'name', 'class_name', 'config', 'inbound_nodes'}], 'input_layers',
    'output_layers'}, readable by seqnet's and tf-keras' model_from_config."""
    own = {id(n) for n in network._nodes} | {id(t.node) for t in network.inputs}
    index = {}
    for layer in network.layers:
        kept = 1 if getattr(layer, "_is_network", False) else 0
        for node in layer._inbound_nodes:
            if id(node) in own and node.layer is layer:
                index[id(node)] = kept
                kept += 1
    layers = []
    for layer in network.layers:
        inbound = []
        if not isinstance(layer, InputLayer):
            for node in layer._inbound_nodes:
                if id(node) not in own:
                    continue
                kwargs = {k: v for k, v in node.kwargs.items() if k != "mask"}
                inbound.append([[t.node.layer.name, index[id(t.node)], t.index, kwargs] for t in node.input_tensors])
        layers.append({"name": layer.name, "class_name": type(layer).__name__, "config": layer.get_config(),
                       "inbound_nodes": inbound})
    return {"name": network.name, "layers": layers,
            "input_layers": [[t.node.layer.name, index[id(t.node)], t.index] for t in network.inputs],
            "output_layers": [[t.node.layer.name, index[id(t.node)], t.index] for t in network.outputs]}
