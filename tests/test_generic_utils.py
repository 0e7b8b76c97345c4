"""seqnet.utils.generic_utils: custom-object scopes, Keras 2.2.4's
serialize_keras_object / deserialize_keras_object (name lookups only: nothing named in
data is imported or run), has_arg, and func_load's refusal to load code."""
import inspect

import numpy as np
import pytest

import seqnet.utils
from seqnet.utils import generic_utils
from seqnet.utils.generic_utils import (CustomObjectScope, custom_object_scope, deserialize_keras_object,
                                        func_dump, func_load, get_custom_objects, has_arg,
                                        serialize_keras_object, to_list, unpack_singleton)


class Thing:
    """A configurable object with a from_config that takes no custom_objects."""

    def __init__(self, size=1, inner=None):
        self.size = size
        self.inner = inner

    def get_config(self):
        return {"size": self.size}

    @classmethod
    def from_config(cls, config):
        # A nested name is resolved through the scope deserialize opened.
        inner = config.get("inner")
        return cls(size=config["size"], inner=deserialize_keras_object(inner) if inner else None)


class Holder:
    """A from_config that takes custom_objects explicitly."""

    def __init__(self, objects):
        self.objects = objects

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(custom_objects)


def square(x):
    return x * x


def make_pair(a, b=2):
    return (a, b)


@pytest.fixture(autouse=True)
def clean_custom_objects():
    saved = dict(get_custom_objects())
    yield
    get_custom_objects().clear()
    get_custom_objects().update(saved)


# ---------------------------------------------------------------------------
# Scopes

def test_scope_adds_names_and_restores_the_globals():
    get_custom_objects()["before"] = 1
    with CustomObjectScope({"square": square}, {"Thing": Thing}) as scope:
        assert isinstance(scope, CustomObjectScope)
        assert get_custom_objects()["square"] is square and get_custom_objects()["Thing"] is Thing
        get_custom_objects()["added_inside"] = 2
        del get_custom_objects()["before"]
    assert get_custom_objects() == {"before": 1}


def test_scopes_nest_and_restore_after_an_error():
    with pytest.raises(RuntimeError):
        with custom_object_scope({"a": 1}):
            with custom_object_scope({"b": 2}, None):
                assert get_custom_objects()["a"] == 1 and get_custom_objects()["b"] == 2
            assert "b" not in get_custom_objects()
            raise RuntimeError("boom")
    assert "a" not in get_custom_objects()


def test_get_custom_objects_is_the_live_global_dict():
    assert get_custom_objects() is generic_utils._GLOBAL_CUSTOM_OBJECTS
    get_custom_objects()["square"] = square
    assert deserialize_keras_object("square") is square


# ---------------------------------------------------------------------------
# serialize_keras_object

def test_serialize_keras_object():
    assert serialize_keras_object(None) is None
    assert serialize_keras_object(Thing(3)) == {"class_name": "Thing", "config": {"size": 3}}
    assert serialize_keras_object(square) == "square"
    with pytest.raises(ValueError, match="Cannot serialize"):
        serialize_keras_object(3)


# ---------------------------------------------------------------------------
# deserialize_keras_object

def test_names_are_looked_up_custom_then_scope_then_module():
    def local_square(x):
        return x

    module = {"square": square}
    assert deserialize_keras_object("square", module_objects=module) is square
    with custom_object_scope({"square": make_pair}):
        assert deserialize_keras_object("square", module_objects=module) is make_pair
        assert deserialize_keras_object("square", module, {"square": local_square}) is local_square


def test_unknown_names_raise_value_error_with_the_printable_name():
    with pytest.raises(ValueError, match="^Unknown loss function: nope$"):
        deserialize_keras_object("nope", {"square": square}, printable_module_name="loss function")
    with pytest.raises(ValueError, match="^Unknown object: Nope$"):
        deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_dict_configs_use_from_config_or_call_the_class():
    assert deserialize_keras_object({"class_name": "Thing", "config": {"size": 4}}, {"Thing": Thing}).size == 4
    assert deserialize_keras_object({"class_name": "make_pair", "config": {"a": 1}}, {"make_pair": make_pair}) \
        == (1, 2)
    # custom_objects are in scope while from_config runs, so nested names resolve
    outer = deserialize_keras_object({"class_name": "Thing", "config": {"size": 1, "inner": "square"}},
                                     custom_objects={"Thing": Thing, "square": square})
    assert outer.inner is square
    assert "square" not in get_custom_objects()
    # a from_config that takes custom_objects gets the scope's and the given ones merged
    get_custom_objects()["scoped"] = 1
    holder = deserialize_keras_object({"class_name": "Holder", "config": {}}, custom_objects={"Holder": Holder})
    assert holder.objects == {"scoped": 1, "Holder": Holder}


def test_improper_configs_are_value_errors():
    with pytest.raises(ValueError, match="Improper config"):
        deserialize_keras_object({"class_name": "Thing"}, {"Thing": Thing})
    with pytest.raises(ValueError, match="'config' must be a dict"):
        deserialize_keras_object({"class_name": "Thing", "config": [1]}, {"Thing": Thing})
    with pytest.raises(ValueError, match="Could not interpret"):
        deserialize_keras_object(3)
    with pytest.raises(ValueError, match="Could not interpret"):
        deserialize_keras_object({"class_name": 3, "config": {}})


@pytest.mark.parametrize("name", ["os.system", "numpy", "np", "__builtins__", "_private", "eval",
                                  "builtins.eval", "lambda x: x"])
def test_nothing_named_in_data_is_imported_or_evaluated(name):
    # A module's table may hold modules and private names; neither is ever returned.
    module = {"np": np, "numpy": np, "__builtins__": __builtins__, "_private": square}
    with pytest.raises(ValueError, match="Unknown"):
        deserialize_keras_object(name, module_objects=module)
    with pytest.raises(ValueError, match="Unknown"):
        deserialize_keras_object({"class_name": name, "config": {}}, module_objects=module)


# ---------------------------------------------------------------------------
# has_arg, func_load, small helpers

def test_has_arg():
    def f(a, b=1, *args, c, **kwargs):
        pass

    def g(a, /, b):
        pass

    assert has_arg(f, "a") and has_arg(f, "b") and has_arg(f, "c")
    assert not has_arg(f, "args")
    assert not has_arg(f, "kwargs")
    assert not has_arg(f, "zzz") and has_arg(f, "zzz", accept_all=True)
    assert not has_arg(g, "a") and has_arg(g, "b")
    assert not has_arg(g, "zzz", accept_all=True)
    assert has_arg(Thing.from_config, "config") and not has_arg(Thing.from_config, "custom_objects")
    assert has_arg(Holder.from_config, "custom_objects")


def test_func_load_and_func_dump_refuse_code():
    code = square.__code__
    with pytest.raises(ValueError, match="code"):
        func_load(("4wAAAA==", None, None))
    with pytest.raises(ValueError, match="code"):
        func_load(code)
    with pytest.raises(ValueError, match="code"):
        func_dump(square)
    assert "custom_objects" in inspect.getdoc(func_load)


def test_to_list_and_unpack_singleton():
    assert to_list(1) == [1] and to_list([1, 2]) == [1, 2]
    assert to_list((1, 2)) == [(1, 2)] and to_list((1, 2), allow_tuple=True) == [1, 2]
    assert unpack_singleton([5]) == 5 and unpack_singleton((5,)) == 5
    assert unpack_singleton([5, 6]) == [5, 6] and unpack_singleton(5) == 5


def test_exported_from_seqnet_utils():
    for name in ("CustomObjectScope", "custom_object_scope", "get_custom_objects", "serialize_keras_object",
                 "deserialize_keras_object", "Progbar"):
        assert getattr(seqnet.utils, name) is getattr(generic_utils, name)
    assert seqnet.utils.generic_utils is generic_utils
