"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, and the device.

The device ("cuda") of a test session is one of two CuPys, chosen here before anything imports
cupy, by TINYAD_TEST_CUPY:

- ``fake`` (the default where CuPy is not installed, as on CI): tests/fake_cupy, a strict
  stand-in on NumPy that refuses what CuPy 14 refuses and counts host syncs and copies;
- ``real`` (the default where CuPy is installed): CuPy and the GPU.

Tests marked ``gpu`` run on that device (they get the ``cp`` fixture, the cupy module). On real
CuPy they skip only when no device answers (CuPy not installed, or no CUDA device); any other
error fails them. ``fake_cp`` is for tests that read the fake's counters (skipped on a GPU);
``device`` runs a test once on "cpu" and once on "cuda".

TINYAD_TEST_DEVICE=cuda makes ``ad.tensor``, ``ad.zeros``, ``ad.ones`` and ``ad.randn`` default
to the device, so the whole suite runs on device tensors (bench/gpu_check.sh's last stage).
"""
import importlib.util
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FAKE_CUPY = Path(__file__).resolve().parent / "fake_cupy"


def _choose_cupy():
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


CUPY = _choose_cupy()


def pytest_report_header(config):
    where = "fake (tests/fake_cupy)" if CUPY == "fake" else "real CuPy"
    default = os.environ.get("TINYAD_TEST_DEVICE", "cpu")
    return f"tinyad device 'cuda': {where}; tensors default to '{default}'"


def pytest_configure(config):
    device = os.environ.get("TINYAD_TEST_DEVICE")
    if device:
        T = importlib.import_module("tinyad.tensor")
        T.tensor.__defaults__ = T.tensor.__defaults__[:-1] + (device,)
        for make in (T.zeros, T.ones, T.randn):
            make.__kwdefaults__["device"] = device


def pytest_collection_modifyitems(config, items):
    for item in items:                               # every gpu test asks for the device
        if item.get_closest_marker("gpu") and "cp" not in item.fixturenames:
            item.fixturenames.append("cp")


@pytest.fixture(scope="session")
def cp():
    """The cupy module of this session; skips only when no device answers."""
    return device_module()


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


@pytest.fixture
def fake_cp(cp):
    """The fake cupy, for tests that read its counters (``cp.fake.counting()``)."""
    if not hasattr(cp, "fake"):
        pytest.skip("reads the fake device's counters (TINYAD_TEST_CUPY=fake)")
    return cp


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """Each device in turn: "cpu", then "cuda" (a gpu test)."""
    if request.param == "cuda":
        request.getfixturevalue("cp")
    return request.param
