"""seqnet.utils.plot_model / model_to_dot (Keras 2.2.4's vis_utils) and print_summary's table.

The dot graphs are read back with pydot's own parser and compared with the graph each test
model was built as (and, for functional models, with the inbound nodes of its get_config());
PNG files are checked with Pillow where installed, else by their signature and IHDR chunk."""
import collections
import os
import shutil
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest

import seqnet
import seqnet.backend as K
from seqnet.layers import (LSTM, Activation, Add, BatchNormalization, Bidirectional, Dense, Dropout, Input,
                           TimeDistributed, concatenate)
from seqnet.models import Model, Sequential
from seqnet.utils import layer_utils, vis_utils

try:
    import pydot
except ImportError:  # the tests of the graph need it; the error-message tests do not
    pydot = None
needs_pydot = pytest.mark.skipif(pydot is None, reason="pydot is not installed (pip install pydot)")
needs_graphviz = pytest.mark.skipif(pydot is None or shutil.which("dot") is None,
                                    reason="pydot (pip install pydot) or Graphviz's dot (apt-get install graphviz) "
                                           "is not installed")


@pytest.fixture(autouse=True)
def fresh_names():
    K.clear_session()
    yield
    K.clear_session()


def read_graph(dot):
    """(labels by layer name, Counter of (source name, target name) edges, graph attributes)
    of a pydot graph, read back from its dot source by pydot's parser."""
    parsed = parse_dot(dot.to_string())
    labels = {}
    for node in parsed.get_nodes():
        if node.get_name() in ("node", "edge", "graph"):
            continue
        labels[node.get_name()] = decode(node.get("label"))
    names = {key: label.split("\n")[0].split(":")[0] for key, label in labels.items()}
    edges = collections.Counter((names[e.get_source()], names[e.get_destination()]) for e in parsed.get_edges())
    by_name = {names[key]: label for key, label in labels.items()}
    return by_name, edges, parsed


def parse_dot(text):
    """The first graph of a dot source, read by pydot's parser (pyparsing 3.3 warns about the
    old method names that pydot's parser calls: not ours to fix)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pydot(\.|$)")
        return pydot.graph_from_dot_data(text)[0]


def decode(label):
    """A dot attribute as written (quoted, escaped) back to the text."""
    if label.startswith('"') and label.endswith('"'):
        label = label[1:-1]
    return label.replace('\\"', '"').replace("\\n", "\n")


def config_edges(model):
    """The edges a functional model's Keras config states: inbound layer -> layer, one per
    inbound tensor of each node."""
    edges = collections.Counter()
    for entry in model.get_config()["layers"]:
        for node in entry["inbound_nodes"]:
            for inbound in node:
                edges[(inbound[0], entry["name"])] += 1
    return edges


# ---- the models --------------------------------------------------------------------------------------
def two_input_model():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    merged = concatenate([Dense(5, name="da")(a), Dense(6, name="db")(b)], name="cat")
    return Model([a, b], Dense(1, name="out")(merged))


def siamese_model():
    encoder = Sequential([Dense(6, input_shape=(4,), name="e1"), Dense(3, name="e2")], name="encoder")
    a, b = Input((4,), name="left"), Input((4,), name="right")
    shared = Dense(3, name="shared")
    return Model([a, b], Add(name="add")([shared(encoder(a)), shared(encoder(b))]))


def nested_model():
    inner_in = Input((4,), name="inner_in")
    inner = Model(inner_in, Dense(2, name="inner_dense")(inner_in), name="inner")
    outer_in = Input((4,), name="outer_in")
    hidden = inner(outer_in)
    return Model(outer_in, [hidden, Dense(1, name="head")(hidden)], name="outer")


def wrapper_model():
    seq = Input((5, 3), name="seq")
    x = Bidirectional(LSTM(4, return_sequences=True, name="lstm"), name="bi")(seq)
    x = TimeDistributed(Dense(2, name="dense"), name="td")(x)
    return Model(seq, x)


# ---- model_to_dot: nodes, labels, edges --------------------------------------------------------------
@needs_graphviz
def test_sequential_is_a_chain_from_its_input_layer():
    model = Sequential([Dense(8, input_shape=(4,), name="d1"), Dropout(0.5, name="drop"), Dense(2, name="d2")])
    labels, edges, parsed = read_graph(vis_utils.model_to_dot(model))
    assert labels == {"d1_input": "d1_input: InputLayer", "d1": "d1: Dense", "drop": "drop: Dropout",
                      "d2": "d2: Dense"}
    assert edges == collections.Counter([("d1_input", "d1"), ("d1", "drop"), ("drop", "d2")])
    assert parsed.get("rankdir") == "TB"
    assert parsed.get("concentrate") in ("true", "True")
    assert parsed.get_node("node")[0].get("shape") == "record"


@needs_graphviz
def test_functional_two_inputs_and_merge():
    model = two_input_model()
    labels, edges, _ = read_graph(vis_utils.model_to_dot(model))
    assert labels == {"a": "a: InputLayer", "b": "b: InputLayer", "da": "da: Dense", "db": "db: Dense",
                      "cat": "cat: Concatenate", "out": "out: Dense"}
    assert edges == collections.Counter([("a", "da"), ("b", "db"), ("da", "cat"), ("db", "cat"), ("cat", "out")])
    assert edges == config_edges(model)


@needs_graphviz
def test_nested_models_are_one_node_each():
    model = nested_model()
    labels, edges, _ = read_graph(vis_utils.model_to_dot(model))
    assert labels == {"outer_in": "outer_in: InputLayer", "inner": "inner: Model", "head": "head: Dense"}
    assert edges == collections.Counter([("outer_in", "inner"), ("inner", "head")])
    assert edges == config_edges(model)


@needs_graphviz
def test_shared_layer_and_shared_model_appear_once_with_an_edge_per_call():
    model = siamese_model()
    labels, edges, _ = read_graph(vis_utils.model_to_dot(model))
    assert labels == {"left": "left: InputLayer", "right": "right: InputLayer", "encoder": "encoder: Sequential",
                      "shared": "shared: Dense", "add": "add: Add"}
    assert edges == collections.Counter({("left", "encoder"): 1, ("right", "encoder"): 1, ("encoder", "shared"): 2,
                                         ("shared", "add"): 2})
    assert edges == config_edges(model)


@needs_graphviz
def test_a_call_outside_the_model_draws_no_edge():
    shared = Dense(3, name="shared")
    shared(Input((4,), name="elsewhere"))
    x = Input((4,), name="x")
    labels, edges, _ = read_graph(vis_utils.model_to_dot(Model(x, Dense(1, name="out")(shared(x)))))
    assert set(labels) == {"x", "shared", "out"}
    assert edges == collections.Counter([("x", "shared"), ("shared", "out")])


@needs_graphviz
def test_wrappers_name_the_wrapped_layer():
    model = wrapper_model()
    labels, edges, _ = read_graph(vis_utils.model_to_dot(model))
    assert labels == {"seq": "seq: InputLayer", "bi(lstm)": "bi(lstm): Bidirectional(LSTM)",
                      "td(dense)": "td(dense): TimeDistributed(Dense)"}
    assert edges == collections.Counter([("seq", "bi(lstm)"), ("bi(lstm)", "td(dense)")])
    parsed = parse_dot(vis_utils.model_to_dot(model, show_layer_names=False).to_string())
    assert sorted(decode(n.get("label")) for n in parsed.get_nodes() if n.get_name() != "node") == [
        "Bidirectional(LSTM)", "InputLayer", "TimeDistributed(Dense)"]


def record(name, inputs, outputs):
    return f"{name}\n|{{input:|output:}}|{{{{{inputs}}}|{{{outputs}}}}}"


@needs_graphviz
def test_show_shapes_writes_the_input_output_record():
    labels, _, _ = read_graph(vis_utils.model_to_dot(two_input_model(), show_shapes=True))
    assert labels == {
        "a": record("a: InputLayer", "(None, 4)", "(None, 4)"),
        "b": record("b: InputLayer", "(None, 3)", "(None, 3)"),
        "da": record("da: Dense", "(None, 4)", "(None, 5)"),
        "db": record("db: Dense", "(None, 3)", "(None, 6)"),
        "cat": record("cat: Concatenate", "[(None, 5), (None, 6)]", "(None, 11)"),
        "out": record("out: Dense", "(None, 11)", "(None, 1)"),
    }
    labels, _, _ = read_graph(vis_utils.model_to_dot(wrapper_model(), show_shapes=True, show_layer_names=False))
    assert labels["Bidirectional(LSTM)"] == record("Bidirectional(LSTM)", "(None, 5, 3)", "(None, 5, 8)")
    assert labels["TimeDistributed(Dense)"] == record("TimeDistributed(Dense)", "(None, 5, 8)", "(None, 5, 2)")


@needs_graphviz
def test_show_shapes_of_nested_and_shared_layers():
    labels, _, _ = read_graph(vis_utils.model_to_dot(nested_model(), show_shapes=True))
    assert labels["inner"] == record("inner: Model", "(None, 4)", "(None, 2)")
    # a layer called on two shapes has no single shape: Keras writes 'multiple'
    relu = Activation("relu", name="relu")
    flat, seq = Input((4,), name="flat"), Input((2, 4), name="seq")
    model = Model([flat, seq], [relu(flat), relu(seq)])
    labels, edges, _ = read_graph(vis_utils.model_to_dot(model, show_shapes=True))
    assert labels["relu"] == record("relu: Activation", "multiple", "multiple")
    assert edges == collections.Counter([("flat", "relu"), ("seq", "relu")])


@needs_graphviz
def test_record_characters_in_names_are_escaped():
    x = Input((2,), name="in")
    model = Model(x, Dense(1, name="a|b{c}")(x))
    labels, _, _ = read_graph(vis_utils.model_to_dot(model))
    assert "a\\|b\\{c\\}: Dense" in labels.values()


@needs_graphviz
@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT", "RL"])
def test_rankdir(rankdir):
    _, _, parsed = read_graph(vis_utils.model_to_dot(two_input_model(), rankdir=rankdir))
    assert parsed.get("rankdir") == rankdir


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"rankdir must be one of .*got 'XY'"):
        vis_utils.model_to_dot(two_input_model(), rankdir="XY")
    with pytest.raises(TypeError, match="must be a seqnet model.*got Dense"):
        vis_utils.model_to_dot(Dense(2))
    unbuilt = Sequential([Dense(2)])
    with pytest.raises(ValueError, match="has not been built"):
        vis_utils.model_to_dot(unbuilt)


# ---- plot_model: files ------------------------------------------------------------------------------
def png_size(path):
    """(width, height) from a PNG's signature and IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


@needs_graphviz
def test_plot_model_writes_a_png(tmp_path):
    path = tmp_path / "model.png"
    assert vis_utils.plot_model(siamese_model(), to_file=str(path), show_shapes=True) is None
    width, height = png_size(path)
    assert width > 0 and height > 0
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG" and image.size == (width, height)
        pixels = np.asarray(image.convert("L"))
    assert pixels.min() < 128 < pixels.max()  # something is drawn on the page


@needs_graphviz
def test_plot_model_default_file_and_no_extension_are_png(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    vis_utils.plot_model(two_input_model())
    assert min(png_size(tmp_path / "model.png")) > 0
    vis_utils.plot_model(two_input_model(), to_file=str(tmp_path / "plain"))
    assert min(png_size(tmp_path / "plain")) > 0


@needs_graphviz
def test_horizontal_plot_is_wider_than_tall(tmp_path):
    model = Sequential([Dense(4, input_shape=(3,)), Dense(4), Dense(4), Dense(1)])
    vis_utils.plot_model(model, to_file=str(tmp_path / "tb.png"), rankdir="TB")
    vis_utils.plot_model(model, to_file=str(tmp_path / "lr.png"), rankdir="LR")
    tb_width, tb_height = png_size(tmp_path / "tb.png")
    lr_width, lr_height = png_size(tmp_path / "lr.png")
    assert tb_height > tb_width and lr_width > lr_height


@needs_graphviz
def test_extension_picks_the_format(tmp_path):
    model = wrapper_model()
    vis_utils.plot_model(model, to_file=str(tmp_path / "m.svg"))
    svg = (tmp_path / "m.svg").read_text()
    assert "<svg" in svg and "bi(lstm): Bidirectional(LSTM)" in svg
    vis_utils.plot_model(model, to_file=str(tmp_path / "m.pdf"))
    assert (tmp_path / "m.pdf").read_bytes()[:5] == b"%PDF-"
    vis_utils.plot_model(model, to_file=str(tmp_path / "m.dot"))
    laid_out = parse_dot((tmp_path / "m.dot").read_text())
    assert len([n for n in laid_out.get_nodes() if n.get_name() not in ("node", "graph", "edge")]) == 3
    with pytest.raises(ValueError, match=r"format 'xyz'.*Graphviz"):
        vis_utils.plot_model(model, to_file=str(tmp_path / "m.xyz"))


@needs_graphviz
def test_plot_model_returns_an_image_in_ipython(tmp_path, monkeypatch):
    shown = []

    class Image:
        def __init__(self, filename):
            shown.append(filename)

    fake = type(sys)("IPython")
    fake.display = type(sys)("IPython.display")
    fake.display.Image = Image
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.setitem(sys.modules, "IPython.display", fake.display)
    path = str(tmp_path / "m.png")
    assert isinstance(vis_utils.plot_model(two_input_model(), to_file=path), Image) and shown == [path]
    assert vis_utils.plot_model(two_input_model(), to_file=str(tmp_path / "m.svg")) is None


# ---- optional dependencies ---------------------------------------------------------------------------
def test_missing_pydot_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` raise ImportError
    with pytest.raises(ImportError, match=r"pip install pydot"):
        vis_utils.model_to_dot(two_input_model())
    with pytest.raises(ImportError, match=r"seqnet\[plot\]"):
        vis_utils.plot_model(two_input_model(), to_file=str(tmp_path / "m.png"))
    assert not (tmp_path / "m.png").exists()


@needs_pydot
def test_missing_graphviz_says_dot_must_be_on_the_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` to run
    with pytest.raises(ImportError, match=r"Graphviz.*`dot`.*on the PATH"):
        vis_utils.model_to_dot(two_input_model())
    with pytest.raises(ImportError, match=r"Graphviz"):
        vis_utils.plot_model(two_input_model(), to_file=str(tmp_path / "m.png"))
    assert not (tmp_path / "m.png").exists()


def test_importing_seqnet_does_not_import_pydot():
    root = os.path.dirname(os.path.dirname(seqnet.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    code = ("import sys, seqnet, seqnet.utils, seqnet.utils.vis_utils, seqnet.models; "
            "sys.exit('pydot imported' if 'pydot' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_exports():
    assert seqnet.utils.plot_model is vis_utils.plot_model
    assert seqnet.utils.model_to_dot is vis_utils.model_to_dot
    assert seqnet.utils.print_summary is layer_utils.print_summary
    from seqnet.utils.vis_utils import model_to_dot, plot_model  # the Keras 2.2 module path
    assert (plot_model, model_to_dot) == (vis_utils.plot_model, vis_utils.model_to_dot)


# ---- print_summary ------------------------------------------------------------------------------------
def summary_lines(model, **kwargs):
    lines = []
    layer_utils.print_summary(model, print_fn=lines.append, **kwargs)
    return lines


def columns(line, edges):
    """A table row cut at the column edges, each field stripped."""
    starts = [0] + edges[:-1]
    return [line[s:e].strip() for s, e in zip(starts, edges)]


def layer_rows(lines):
    """The rows of the table's body: each layer's lines (a layer may take several)."""
    body = lines[3:lines.index("=" * len(lines[0]), 3)]
    rows, current = [], []
    for line in body:
        if line == "_" * len(lines[0]):
            rows.append(current)
            current = []
        else:
            current.append(line)
    return rows + [current]


def weight_count(arrays):
    return int(sum(np.asarray(a).size for a in arrays))


def test_summary_of_a_functional_model_has_the_connected_to_column():
    a, b = Input((4,), name="a"), Input((3,), name="b")
    da = Dense(5, name="da")(a)
    normed = BatchNormalization(name="bn")(Dense(6, name="db")(b))
    frozen = Dense(2, name="frozen", trainable=False)
    out = Dense(1, name="out")(concatenate([da, normed, frozen(da)], name="cat"))
    model = Model([a, b], out)
    lines = summary_lines(model)
    edges = [int(98 * p) for p in (0.33, 0.55, 0.67, 1.0)]
    assert all(len(line) == 98 for line in lines[:3]) and lines[0] == "_" * 98 and lines[2] == "=" * 98
    assert columns(lines[1], edges) == ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    expected = {  # layer: (output shape, inbound tensors in the order of the call)
        "a": ((None, 4), []), "b": ((None, 3), []), "da": ((None, 5), ["a[0][0]"]),
        "db": ((None, 6), ["b[0][0]"]), "bn": ((None, 6), ["db[0][0]"]), "frozen": ((None, 2), ["da[0][0]"]),
        "cat": ((None, 13), ["da[0][0]", "bn[0][0]", "frozen[0][0]"]), "out": ((None, 1), ["cat[0][0]"])}
    rows = layer_rows(lines)
    assert [columns(r[0], edges)[0] for r in rows] == [f"{l.name} ({type(l).__name__})" for l in model.layers]
    for layer, row in zip(model.layers, rows):
        shape, inbound = expected[layer.name]
        cells = [columns(line, edges) for line in row]
        assert cells[0][1:3] == [str(shape), str(weight_count(layer.get_weights()))]
        assert [c[3] for c in cells if c[3]] == inbound
        assert all(c[:3] == ["", "", ""] for c in cells[1:])
    total = weight_count(model.get_weights())
    non_trainable = weight_count(model.get_layer("frozen").get_weights()) + 2 * 6  # + bn's moving mean, variance
    assert total == (4 * 5 + 5) + (3 * 6 + 6) + 4 * 6 + (5 * 2 + 2) + (13 + 1)
    assert lines[-4:] == [f"Total params: {total:,}", f"Trainable params: {total - non_trainable:,}",
                          f"Non-trainable params: {non_trainable:,}", "_" * 98]


def test_summary_of_shared_layers_and_nested_models():
    lines = summary_lines(siamese_model())
    edges = [int(98 * p) for p in (0.33, 0.55, 0.67, 1.0)]
    connected = {columns(r[0], edges)[0]: [columns(line, edges)[3] for line in r] for r in layer_rows(lines)}
    # a model's node 0 links its own inputs to its outputs (Keras 2), so its calls are nodes 1 and 2
    assert connected == {"left (InputLayer)": [""], "right (InputLayer)": [""],
                         "encoder (Sequential)": ["left[0][0]", "right[0][0]"],
                         "shared (Dense)": ["encoder[1][0]", "encoder[2][0]"],
                         "add (Add)": ["shared[0][0]", "shared[1][0]"]}
    params = {columns(r[0], edges)[0]: columns(r[0], edges)[2] for r in layer_rows(lines)}
    assert params["encoder (Sequential)"] == str(4 * 6 + 6 + 6 * 3 + 3)


def test_summary_node_index_counts_calls_outside_the_model():
    shared = Dense(3, name="shared")
    shared(Input((4,), name="elsewhere"))  # node 0, not in the model
    x = Input((4,), name="x")
    y = shared(x)  # node 1
    model = Model(x, concatenate([y, x], name="cat"))
    edges = [int(98 * p) for p in (0.33, 0.55, 0.67, 1.0)]
    connected = {columns(r[0], edges)[0]: [columns(line, edges)[3] for line in r]
                 for r in layer_rows(summary_lines(model))}
    assert connected["cat (Concatenate)"] == ["shared[1][0]", "x[0][0]"]
    assert connected["shared (Dense)"] == ["x[0][0]"]


def test_functional_chain_prints_the_sequential_table():
    x = Input((4,), name="x")
    hidden = Dense(3, name="hidden")(x)
    # one node per depth, one inbound tensor each: Keras 2 prints no 'Connected to' column,
    # also when an inner tensor is an output too
    for model in (Model(x, Dense(2, name="out")(hidden)), Model(x, [hidden, Dense(2, name="head")(hidden)])):
        lines = summary_lines(model)
        assert len(lines[0]) == 65
        assert columns(lines[1], [29, 55, 65]) == ["Layer (type)", "Output Shape", "Param #"]
        assert [columns(r[0], [29, 55, 65]) for r in layer_rows(lines)][:2] == [
            ["x (InputLayer)", "(None, 4)", "0"], ["hidden (Dense)", "(None, 3)", str(4 * 3 + 3)]]
    branches = Model(x, [Dense(2, name="left")(x), Dense(2, name="right")(x)])  # two nodes at depth 0
    assert len(summary_lines(branches)[0]) == 98


def test_summary_line_length_and_positions():
    lines = summary_lines(two_input_model(), line_length=120, positions=[40, 70, 85, 120])
    assert lines[0] == "_" * 120
    assert columns(lines[1], [40, 70, 85, 120]) == ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    assert lines[1].index("Output Shape") == 40 and lines[1].index("Connected to") == 85
    assert model_summary_matches(two_input_model())


def model_summary_matches(model):
    """Model.summary prints what print_summary prints."""
    printed = []
    model.summary(print_fn=printed.append)
    return printed == summary_lines(model)
