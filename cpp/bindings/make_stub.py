"""Writes python/seqnet/_engine.pyi, the type stub of the engine module, from the built
module's own signatures (pybind11 docstrings), typing each array argument from the binding's
C++ parameter (py::handle: a required array; py::object, or a None default: optional). Run
after changing a binding, with the new module importable:

    PYTHONPATH=python python cpp/bindings/make_stub.py

tests/test_engine_enums.py checks the stub against the module."""
import glob
import os
import re
import textwrap

from seqnet import _engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENUMS = ("Activation", "Loss", "Accuracy", "RnnCell", "Isa")
# Arrays that are not float32, by (function, argument), and the type of an optional plain
# value bound as py::object (fma_peak's threads).
DTYPES = {("embedding_forward", "indices"): "IndexArray", ("embedding_backward", "indices"): "IndexArray",
          ("dropout_forward", "mask"): "U8Array", ("dropout_backward", "mask"): "U8Array",
          ("gather_rows", "index"): "I64Array", ("max_pool_forward", "argmax"): "I32Array",
          ("max_pool_backward", "argmax"): "I32Array", ("global_max_pool_forward", "argmax"): "I32Array",
          ("global_max_pool_backward", "argmax"): "I32Array", ("rnn_forward", "mask"): "SequenceMask",
          ("rnn_backward", "mask"): "SequenceMask", ("fma_peak", "threads"): "int"}
HEADER = '''"""Type stub of seqnet._engine, the native engine (C++ kernels with OpenMP and SIMD).

Every entry point checks dtype, C-contiguity, shape and writability of the arrays it is
given and raises ValueError naming the argument, the expected and the actual shape; array
arguments typed ``... | None`` are optional. Enum arguments take the members of the enums
below; a plain ``int`` (exactly an int, range-checked) is still accepted while callers
migrate, never a member of another enum. Written by cpp/bindings/make_stub.py; checked
against the module by tests/test_engine_enums.py.
"""
from typing import ClassVar, Union, overload

import numpy
import numpy.typing

F32Array = numpy.typing.NDArray[numpy.float32]
IndexArray = numpy.typing.NDArray[numpy.int32] | numpy.typing.NDArray[numpy.int64] | F32Array
U8Array = numpy.typing.NDArray[numpy.uint8]
I32Array = numpy.typing.NDArray[numpy.int32]
I64Array = numpy.typing.NDArray[numpy.int64]
# (batch, steps), time order, 0 = skip the step
SequenceMask = Union[numpy.typing.NDArray[numpy.bool_], numpy.typing.NDArray[numpy.uint8]]

'''


def main():
    kinds = argument_kinds()
    functions = []
    for name in sorted(dir(_engine)):
        obj = getattr(_engine, name)
        if name.startswith("__") or isinstance(obj, type):
            continue
        if not callable(obj):
            functions.append(f"{name}: {type(obj).__name__}\n")
            continue
        lines = obj.__doc__.strip().splitlines()
        if lines[0].startswith(f"{name}(*args, **kwargs)"):  # overloads: "1. sig", its doc, "2. sig", ...
            sigs = re.findall(rf"^\d+\. ({name}\(.*\) -> .*)$", obj.__doc__, re.MULTILINE)
            docs = re.split(r"^\d+\. .*$", obj.__doc__, flags=re.MULTILINE)[1:]
            for sig, doc in zip(sigs, docs):
                functions.append("@overload\n" + stub_function(name, sig, doc, kinds.get(name, [])))
        else:
            functions.append(stub_function(name, lines[0], " ".join(lines[1:]), kinds.get(name, [])))
    text = HEADER + "\n\n".join(stub_enum(name) for name in ENUMS) + "\n\n" + "\n".join(functions)
    with open(os.path.join(ROOT, "python", "seqnet", "_engine.pyi"), "w") as f:
        f.write(text)


def argument_kinds():
    """For each bound function, the kind of each argument in order: 'handle' (a required
    array), 'object' (an array or None) or 'value', read from the C++ function it binds."""
    src = ""
    for path in sorted(glob.glob(os.path.join(ROOT, "cpp", "bindings", "*.cpp"))):
        with open(path) as f:
            src += f.read() + "\n"
    params = {}
    for m in re.finditer(r"\n(?:[\w:<>]+\s+)+(\w+)\(([^;{]*?)\)\s*\{", src):
        params.setdefault(m.group(1), [" ".join(p.split()) for p in m.group(2).split(",") if p.strip()])
    kinds = {}
    for m in re.finditer(r'm\.def\(\s*"(\w+)",\s*&(\w+)(?:<\w+>)?,', src):
        name, fn = m.groups()
        if fn in params:
            kinds[name] = ["object" if "py::object" in p else "handle" if "py::handle" in p else "value"
                           for p in params[fn]]
    kinds["matmul"] = ["handle", "handle", "value", "value"]  # a lambda
    return kinds


def stub_function(name, signature, doc, kinds):
    m = re.match(r"(\w+)\((.*)\) -> (.*)$", signature)
    out, i = [], 0
    for p in split_arguments(m.group(2)):
        if p == "*":
            out.append(p)
            continue
        am = re.match(r"(\w+): ([^=]+?)(?: = (.*))?$", p)
        arg, annotation, default = am.group(1), python_type(am.group(2)), am.group(3)
        if annotation == "object":
            array = DTYPES.get((name, arg), "F32Array")
            required = i < len(kinds) and kinds[i] == "handle" and default != "None"
            annotation = array if required else f"{array} | None"
        out.append(f"{arg}: {annotation}" + (f" = {default}" if default is not None else ""))
        i += 1
    ret = python_type(m.group(3))
    head = f"def {name}({', '.join(out)}) -> {ret}:"
    if len(head) > 110:  # one argument per line
        head = "\n".join([f"def {name}("] + [f"    {p}," for p in out] + [f") -> {ret}:"])
    doc = " ".join(doc.split())
    if not doc:
        body = "    ..."
    elif len(doc) <= 100:
        body = f'    """{doc}"""'
    else:
        body = '    """' + "\n    ".join(textwrap.wrap(doc, 100)) + '\n    """'
    return head + "\n" + body + "\n"


def stub_enum(name):
    enum = getattr(_engine, name)
    doc = " ".join(enum.__doc__.split("Members:")[0].split())
    listing = "\n    ".join(textwrap.wrap(
        "Members (value): " + ", ".join(f"{m} ({int(v)})" for m, v in enum.__members__.items()) + ".", 96))
    members = "\n".join(f"    {m}: ClassVar[{name}]" for m in enum.__members__)
    return f'''class {name}:
    """{doc}

    {listing}
    """

{members}
    __members__: ClassVar[dict[str, {name}]]
    def __init__(self, value: int) -> None: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...
'''


def python_type(annotation):
    """pybind11's annotation as the stub writes it."""
    return (annotation.replace("seqnet._engine.", "")
            .replace("typing.SupportsInt | typing.SupportsIndex", "int")
            .replace("typing.SupportsFloat | typing.SupportsIndex", "float")
            .replace("numpy.typing.NDArray[numpy.float32]", "F32Array")
            .replace("collections.abc.Sequence", "list"))


def split_arguments(text):
    """Splits 'a: int, b: tuple[int, int] = (1, 1)' at the commas outside brackets."""
    out, depth, current = [], 0, ""
    for ch in text:
        if ch == "," and depth == 0:
            out.append(current.strip())
            current = ""
            continue
        depth += (ch in "[(") - (ch in "])")
        current += ch
    if current.strip():
        out.append(current.strip())
    return out


if __name__ == "__main__":
    main()
