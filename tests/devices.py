"""Which CuPy a test session uses, and whether its device answers (see conftest.py).

A module of its own (not conftest.py) so that tests can import it: conftest modules of different
folders share the name ``conftest``.
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

FAKE_CUPY = Path(__file__).resolve().parent / "fake_cupy"


def choose_cupy():
    """'fake' or 'real' (TINYAD_TEST_CUPY, default 'real' where CuPy is installed); for the fake,
    tests/fake_cupy goes first on the path of this process and of the ones it starts."""
    choice = os.environ.get("TINYAD_TEST_CUPY", "").strip().lower() or (
        "real" if importlib.util.find_spec("cupy") is not None else "fake")
    if choice not in ("fake", "real"):
        raise pytest.UsageError(f"TINYAD_TEST_CUPY must be 'fake' or 'real', got {choice!r}")
    if choice == "fake":
        if "cupy" in sys.modules and not hasattr(sys.modules["cupy"], "fake"):
            raise pytest.UsageError("TINYAD_TEST_CUPY=fake, but the real cupy is already imported")
        sys.path.insert(0, str(FAKE_CUPY))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(FAKE_CUPY), os.environ.get("PYTHONPATH")) if p)
    os.environ["TINYAD_TEST_CUPY"] = choice          # subprocesses (CLI tests) choose the same
    return choice


def device_module():
    """cupy, once a device answers; a skip when CuPy is not installed or finds no device (no
    driver, zero devices); any other error (a broken install, a failing driver) is raised."""
    try:
        import cupy
    except ModuleNotFoundError as e:
        if e.name != "cupy":
            raise
        pytest.skip("CuPy is not installed (TINYAD_TEST_CUPY=real)")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as e:
        if "NoDevice" not in str(e) and "InsufficientDriver" not in str(e):
            raise
        pytest.skip(f"no CUDA device answers: {e}")
    if count < 1:
        pytest.skip("CuPy finds no CUDA device")
    return cupy
