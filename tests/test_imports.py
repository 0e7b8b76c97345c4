"""Imports point one way: engine <- layers <- models <- saving, with backend, utils and
callbacks below the engine. Every import statement counts, also those inside functions;
the graph of seqnet's modules must have no cycle."""
import ast
import os

import pytest

import seqnet

ROOT = os.path.dirname(seqnet.__file__)

# A package may not import from the packages listed for it (not even inside a function).
FORBIDDEN = {
    "seqnet.backend": ["seqnet.engine", "seqnet.layers", "seqnet.models", "seqnet.saving", "seqnet.callbacks"],
    "seqnet.callbacks": ["seqnet.engine", "seqnet.layers", "seqnet.models", "seqnet.saving"],
    "seqnet.engine": ["seqnet.layers", "seqnet.models", "seqnet.saving"],
    "seqnet.layers": ["seqnet.models", "seqnet.saving"],
    "seqnet.models.sequential": ["seqnet.saving"],
}


def module_names():
    names = {}
    for folder, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                names[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = path
    return names


def imports_of(name, path, modules):
    """The seqnet modules `name` imports, anywhere in the file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith("__init__.py") else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m in modules and m != "seqnet" and m != name}


_GRAPH = {}


def graph():
    if not _GRAPH:
        modules = module_names()
        _GRAPH.update({name: imports_of(name, path, modules) for name, path in modules.items()})
    return _GRAPH


def test_packages_import_only_downward():
    bad = []
    for name, targets in graph().items():
        for owner, forbidden in FORBIDDEN.items():
            if name == owner or name.startswith(owner + "."):
                bad += [f"{name} -> {t}" for t in targets for f in forbidden if t == f or t.startswith(f + ".")]
    assert not bad, "imports pointing upward:\n" + "\n".join(sorted(bad))


def test_no_import_cycles():
    edges = graph()
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", ["seqnet.engine", "seqnet.layers", "seqnet.models", "seqnet.backend"])
def test_the_scan_sees_imports(name):
    # the checker itself: packages do import things, so an empty graph would be a broken scan
    assert graph()[name]
