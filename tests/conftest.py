"""Fixtures shared by the test files: run under each instruction set, restore global state."""
import pytest

from numeric_helpers import AVAILABLE_ISAS
from seqnet import _engine


@pytest.fixture(params=AVAILABLE_ISAS)
def isa(request):
    """Runs the test under each instruction set this CPU has, then restores the previous one.
    The AMX GEMM path is off meanwhile, so that on an AMX machine "avx512" still tests the
    AVX-512 kernels; tests/test_gemm_amx.py tests the AMX path."""
    saved = _engine.active_isa()
    saved_amx = _engine.amx_active()
    _engine.set_amx(False)
    assert _engine.set_isa(request.param) == request.param
    yield request.param
    _engine.set_isa(saved)
    _engine.set_amx(saved_amx)


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
