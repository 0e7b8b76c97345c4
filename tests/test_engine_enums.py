"""The engine's enums (seqnet._engine.Activation, Loss, Accuracy, RnnCell, Isa) are the one
source of the numeric codes: every Python-side name maps to the member of the same name, the
bindings take the members (and, while callers migrate, range-checked plain ints), and no
Python module keeps a number of its own."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest

from seqnet import _engine, activations, layers, losses, metrics
from seqnet.engine import compile_utils
from seqnet.layers.convolutional import base_conv
from seqnet.layers.core import dense

A, L, C = _engine.Activation, _engine.Loss, _engine.Accuracy
F32 = np.float32

ACTIVATION_NAMES = [n for n in activations.__all__ if n not in ("get", "serialize", "deserialize")]


def members(enum):
    return dict(enum.__members__)


# ---- names ----------------------------------------------------------------------------------
def test_every_activation_name_has_its_engine_member():
    assert set(ACTIVATION_NAMES) == set(members(A)), "seqnet.activations and the engine disagree"
    for name in ACTIVATION_NAMES:
        fn = activations.get(name)
        code = activations.engine_code(fn)
        assert isinstance(code, A) and code is members(A)[name] and code.name == name, name


def test_activation_members_run_the_kernel_they_name():
    x = np.linspace(-3, 3, 12, dtype=F32).reshape(3, 4)
    expected = {"linear": x, "relu": np.maximum(x, 0), "tanh": np.tanh(x), "sigmoid": 1 / (1 + np.exp(-x)),
                "hard_sigmoid": np.clip(0.2 * x + 0.5, 0, 1), "softsign": x / (1 + np.abs(x)),
                "softplus": np.log1p(np.exp(x)), "exponential": np.exp(x)}
    for name, want in expected.items():
        y = np.empty_like(x)
        _engine.activation_forward(members(A)[name], x, y)
        np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_a_user_activation_has_no_engine_member():
    assert activations.engine_code(lambda t: t * 2) is None


def test_engine_losses_map_to_the_functions_of_the_same_name():
    for name, member in members(L).items():
        fn = getattr(losses, name)
        assert losses.engine_code(fn) is member, name
        assert losses.engine_code(losses.get(name)) is member
    # aliases resolve to the same member; a loss without a kernel has none
    assert losses.engine_code(losses.get("mse")) is L.mean_squared_error
    assert losses.engine_code(losses.get("mae")) is L.mean_absolute_error
    assert losses.engine_code(losses.get("hinge")) is None


def test_accuracy_members_are_the_metrics_of_the_same_name():
    for name in members(C):
        assert callable(getattr(metrics, name)), name
    y = np.eye(3, dtype=F32)[[0, 1, 2, 1]]
    p = np.array([[.8, .1, .1], [.2, .7, .1], [.5, .4, .1], [.1, .2, .7]], F32)
    assert _engine.accuracy_sum(C.categorical_accuracy, y, p) == 2.0
    assert _engine.accuracy_sum(C.sparse_categorical_accuracy, np.array([0, 1, 2, 1], F32), p) == 2.0
    assert _engine.accuracy_sum(C.binary_accuracy, y, p) == pytest.approx(np.mean(y == (p > 0.5), axis=1).sum())


def test_rnn_cells_are_the_layer_classes_of_the_same_name():
    for name, member in members(_engine.RnnCell).items():
        cls = getattr(layers, name)
        assert cls._cell is member, name
    assert [m.name for m in members(_engine.RnnCell).values()] == ["SimpleRNN", "GRU", "LSTM"]


def test_isa_members_are_the_seqnet_isa_names(restore_isa):
    assert list(members(_engine.Isa)) == ["generic", "avx2", "avx512"]
    assert _engine.set_isa(_engine.Isa.generic) == "generic" == _engine.active_isa()
    assert _engine.set_isa("generic") == "generic"
    assert _engine.detected_isa() in members(_engine.Isa)


# ---- what the engine decides, Python asks ------------------------------------------------
def test_which_activations_need_their_input():
    need = {name for name, m in members(A).items() if _engine.activation_backward_needs_input(m)}
    assert need == {"swish", "gelu"}


def test_recurrent_activations_come_from_the_engine():
    ok = {name for name, m in members(A).items() if _engine.rnn_activation_supported(m)}
    assert ok == {"linear", "relu", "sigmoid", "hard_sigmoid", "tanh", "softsign"}
    for name in members(A):
        if name in ok:
            layers.LSTM(2, activation=name, recurrent_activation=name)
        else:
            with pytest.raises(ValueError, match="not supported by seqnet's recurrent layers"):
                layers.GRU(2, activation=name)


def test_python_constants_are_engine_members():
    """The module constants that used to be retyped integers now hold the members."""
    for value in activations._CODES.values():
        assert isinstance(value, A)
    for value in losses._ENGINE_CODES.values():
        assert isinstance(value, L)
    assert (compile_utils._CCE, compile_utils._SCCE, compile_utils._BCE) == (
        L.categorical_crossentropy, L.sparse_categorical_crossentropy, L.binary_crossentropy)
    for const in (compile_utils._CCE, compile_utils._SCCE, compile_utils._BCE):
        assert isinstance(const, L)
    for const in (compile_utils._ACC_BINARY, compile_utils._ACC_CATEGORICAL, compile_utils._ACC_SPARSE):
        assert isinstance(const, C)
    for module in (dense, base_conv):
        assert (module._LINEAR, module._SIGMOID, module._SOFTMAX) == (A.linear, A.sigmoid, A.softmax)
        assert all(isinstance(c, A) for c in (module._LINEAR, module._SIGMOID, module._SOFTMAX))
    d = layers.Dense(2, activation="softmax")
    assert d._act is A.softmax and d.output_activation == "softmax"
    assert layers.Activation("sigmoid").output_activation == "sigmoid"


# ---- bindings: members, migration ints, bad values -----------------------------------------
def test_bindings_take_members_and_still_range_checked_ints():
    x = np.linspace(-1, 1, 6, dtype=F32).reshape(2, 3)
    y_enum, y_int = np.empty_like(x), np.empty_like(x)
    _engine.activation_forward(A.relu, x, y_enum)
    _engine.activation_forward(int(A.relu), x, y_int)  # callers still passing numbers keep working
    np.testing.assert_array_equal(y_enum, y_int)
    for bad in (13, -1):
        with pytest.raises(ValueError, match=f"unknown activation code {bad}"):
            _engine.activation_forward(bad, x, y_int)
    with pytest.raises(ValueError, match="unknown loss code 5"):
        _engine.loss(5, x, x, None, None, None, None)
    with pytest.raises(ValueError, match="unknown accuracy code 3"):
        _engine.accuracy_sum(3, x, x)
    with pytest.raises(ValueError, match="rnn: unknown cell code 3"):
        _engine.rnn_scratch_size(3, 1, 1, 1, 1)
    with pytest.raises(TypeError):
        _engine.activation_forward("relu", x, y_int)  # names go through seqnet.activations
    with pytest.raises(TypeError):
        _engine.loss(A.relu, x, x, None, None, None, None)  # an Activation is not a Loss


def test_members_are_strict_and_convert_to_their_numbers():
    # a member is not a number: mixing a leftover integer constant with members fails loudly
    assert A.softmax != 5 and int(A.softmax) == 5 and {5: "softmax"}.get(A.softmax) is None
    assert int(L.sparse_categorical_crossentropy) == 1 and int(C.sparse_categorical_accuracy) == 2
    assert int(_engine.RnnCell.LSTM) == 2 and int(_engine.Isa.avx512) == 2
    assert _engine.rnn_scratch_size(_engine.RnnCell.GRU, 2, 3, 4, 5) == _engine.rnn_scratch_size(1, 2, 3, 4, 5)
    x = np.ones((2, 3), F32)
    with pytest.raises(TypeError):
        _engine.activation_forward(True, x, x.copy())  # a bool is not a code


# ---- the type stub ------------------------------------------------------------------------------
STUB = Path(_engine.__file__).with_name("_engine.pyi")


def _stub():
    tree = ast.parse(STUB.read_text())
    functions, classes, variables = {}, {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = node.args
            names = [a.arg for a in args.posonlyargs + args.args] + [a.arg for a in args.kwonlyargs]
            kinds = {a.arg: ast.unparse(a.annotation) for a in args.args + args.kwonlyargs}
            functions.setdefault(node.name, []).append((names, kinds))
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)
                                  and ast.unparse(n.annotation) == f"ClassVar[{node.name}]"}
        elif isinstance(node, ast.AnnAssign):
            variables.add(node.target.id)
    return functions, classes, variables


def _runtime_signatures(fn):
    """(argument names, {name: enum annotation}) of each overload, from pybind11's docstring."""
    out = []
    for params in re.findall(rf"^(?:\d+\. )?{fn.__name__}\((.*)\) -> ", fn.__doc__, re.MULTILINE):
        if params == "*args, **kwargs":
            continue
        names, enums = [], {}
        for p in re.split(r", (?![^\[]*\])", params):
            if p in ("*", ""):
                continue
            name, _, annotation = p.partition(": ")
            names.append(name)
            if annotation.startswith("seqnet._engine."):
                enums[name] = annotation.split(" = ")[0].rsplit(".", 1)[1]
        out.append((names, enums))
    return out


def test_stub_names_every_function_enum_and_constant_of_the_module():
    functions, classes, variables = _stub()
    public = {n for n in dir(_engine) if not n.startswith("_")}
    assert set(functions) | set(classes) | variables == public
    for name, enum in classes.items():
        assert enum == set(members(getattr(_engine, name))), name


def test_stub_arguments_match_the_module():
    functions, _, _ = _stub()
    for name, overloads in functions.items():
        runtime = _runtime_signatures(getattr(_engine, name))
        assert len(runtime) == len(overloads), name
        for (names, kinds), (want_names, want_enums) in zip(overloads, runtime):
            assert names == want_names, name
            for arg, enum in want_enums.items():
                assert kinds[arg] == enum, (name, arg)
