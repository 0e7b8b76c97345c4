"""plot_model and model_to_dot: a model's graph drawn with pydot and Graphviz, as Keras
2.2.4's ``keras.utils.vis_utils``. pydot (``pip install pydot``, or seqnet's ``plot``
extra) and Graphviz's ``dot`` program are optional: they are looked for only when a
function here is called."""
import os
import sys

_RANKDIRS = ("TB", "LR", "BT", "RL")
_RECORD_SPECIALS = "\\{}|<>"


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB"):
    """Converts a model to a ``pydot.Dot`` graph: one record node per layer labelled
    ``'name: ClassName'`` (``'bi(lstm): Bidirectional(LSTM)'`` for a wrapper), one edge per
    inbound tensor of each of the layer's calls in this model.

    # Arguments
        model: a built seqnet model (Sequential or functional).
        show_shapes: add the ``input:``/``output:`` shapes to each label.
        show_layer_names: start each label with the layer's name.
        rankdir: Graphviz's direction, ``'TB'`` (vertical) or ``'LR'`` (horizontal);
            also ``'BT'``, ``'RL'``.

    A model used as a layer (nested) is one node, a shared layer one node with an edge per
    call. Raises ImportError when pydot or Graphviz's ``dot`` is missing.

    Differs from Keras 2.2.4: a Sequential's InputLayer is drawn with its label (Keras 2.2.4
    drew it as an unlabelled node showing a number, keras-team/keras#11376, fixed in 2.2.5).
    """
    if rankdir not in _RANKDIRS:
        raise ValueError(f"model_to_dot: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    layers, nodes = _graph_of(model)
    pydot = _import_pydot()
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set_node_defaults(shape="record")
    for layer in layers:
        dot.add_node(pydot.Node(str(id(layer)), label=_label(layer, show_shapes, show_layer_names)))
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) in nodes:
                for tensor in node.input_tensors:
                    dot.add_edge(pydot.Edge(str(id(tensor.node.layer)), str(id(layer))))
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True, rankdir="TB"):
    """Draws a model's graph (see ``model_to_dot``) into `to_file`; its extension picks the
    format (``.png``, ``.svg``, ``.pdf``, ``.dot``, ... any that Graphviz writes; PNG without
    one). Needs pydot and Graphviz's ``dot`` (ImportError otherwise).

    Returns None; in an IPython session (tf-keras), an ``IPython.display.Image`` of a PNG,
    JPEG or GIF file so that a notebook shows it.
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_layer_names=show_layer_names, rankdir=rankdir)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension not in dot.formats:
        raise ValueError(f"plot_model: to_file {to_file!r} asks for the format {extension!r}, which Graphviz does "
                         f"not write; use one of {sorted(dot.formats)}")
    try:
        dot.write(to_file, format=extension)
    except AssertionError as err:  # pydot's way of saying that dot exited with an error
        raise RuntimeError(f"plot_model: Graphviz's dot failed to write {to_file!r} ({err})") from err
    if "IPython" in sys.modules and extension in ("png", "jpg", "jpeg", "gif"):
        from IPython import display
        return display.Image(filename=to_file)
    return None


def _graph_of(model):
    """The layers to draw (InputLayers included) and the ids of the model's own nodes."""
    if not getattr(model, "_is_network", False):
        raise TypeError(f"model_to_dot: model must be a seqnet model (Sequential or functional Model), got "
                        f"{type(model).__name__}")
    if not getattr(model, "built", False):
        raise ValueError(f"model_to_dot: model '{model.name}' has not been built yet. Build it first by calling "
                         "build(), or fit() with some data, or give the first layer an input_shape.")
    nodes = {id(n) for n in model._nodes}
    return list(model._layers), nodes


def _label(layer, show_shapes, show_layer_names):
    name, class_name = layer.name, type(layer).__name__
    if _is_wrapper(layer):
        name = f"{name}({layer.layer.name})"
        class_name = f"{class_name}({type(layer.layer).__name__})"
    label = _escape(f"{name}: {class_name}" if show_layer_names else class_name)
    if not show_shapes:
        return label
    outputs = _shape_text(layer, "output_shape")
    # an InputLayer's node reads no tensor: Keras gives its input shape as its output shape
    reads = any(n.input_tensors for n in layer._inbound_nodes)
    inputs = _shape_text(layer, "input_shape") if reads else outputs
    return f"{label}\n|{{input:|output:}}|{{{{{_escape(inputs)}}}|{{{_escape(outputs)}}}}}"


def _shape_text(layer, attr):
    # Keras 2: 'multiple' when the layer's calls disagree (a shared layer on several shapes)
    try:
        return str(getattr(layer, attr))
    except AttributeError:
        return "multiple"


def _is_wrapper(layer):
    """A seqnet Wrapper (TimeDistributed, Bidirectional, ...), found without importing
    seqnet.layers (utils sits below it)."""
    return hasattr(layer, "layer") and any(
        cls.__name__ == "Wrapper" and cls.__module__.startswith("seqnet.") for cls in type(layer).__mro__)


def _escape(text):
    """Text shown as is inside a Graphviz record label (braces, bars and angle brackets
    otherwise shape the record)."""
    for ch in _RECORD_SPECIALS:
        text = text.replace(ch, "\\" + ch)
    return text


def _import_pydot():
    try:
        import pydot
    except ImportError as err:
        raise ImportError("plot_model and model_to_dot need pydot: install it with `pip install pydot` (or "
                          "`pip install seqnet[plot]`), and Graphviz's `dot` program "
                          "(https://graphviz.org/download/).") from err
    try:
        # what Keras does: lay out an empty graph, which runs dot
        pydot.Dot.create(pydot.Dot())
    except Exception as err:  # noqa: BLE001 -- pydot raises OSError, AssertionError or its own errors
        raise ImportError("plot_model and model_to_dot need Graphviz: its `dot` program must be installed "
                          "(https://graphviz.org/download/, e.g. `apt-get install graphviz` or `brew install "
                          f"graphviz`) and on the PATH. pydot failed to run it: {err}") from err
    return pydot
