"""Fixtures shared by the test files: run under each instruction set, restore global state."""
import pytest

from numeric_helpers import AVAILABLE_ISAS
from seqnet import _engine


@pytest.fixture(params=AVAILABLE_ISAS)
def isa(request):
    """Runs the test under each instruction set this CPU has, then restores the previous one."""
    saved = _engine.active_isa()
    assert _engine.set_isa(request.param) == request.param
    yield request.param
    _engine.set_isa(saved)


@pytest.fixture
def restore_isa():
    saved = _engine.active_isa()
    yield
    _engine.set_isa(saved)


@pytest.fixture
def restore_threads():
    saved = _engine.get_num_threads()
    yield
    _engine.set_num_threads(saved)
