"""Shared test settings: hypothesis profiles sized for a 2-core CI machine, and the device.

The device ("cuda") of a test session is one of two CuPys, chosen here before anything imports
cupy, by TINYAD_TEST_CUPY:

- ``fake`` (the default where CuPy is not installed, as on CI): tests/fake_cupy, a strict
  stand-in on NumPy that refuses what CuPy 14 refuses and counts host syncs and copies;
- ``real`` (the default where CuPy is installed): CuPy and the GPU.

Tests marked ``gpu`` run on that device (they get the ``cp`` fixture, the cupy module). On real
CuPy they skip only when no device answers (CuPy not installed, or no CUDA device); any other
error fails them. ``traffic`` counts host syncs and copies (on the fake); ``fake_cp`` is for tests
of the fake itself (skipped on a GPU);
``device`` runs a test once on "cpu" and once on "cuda".

TINYAD_TEST_DEVICE=cuda makes ``ad.tensor``, ``ad.zeros``, ``ad.ones`` and ``ad.randn`` default
to the device, so the whole suite runs on device tensors (bench/gpu_check.sh's last stage).
"""
import contextlib
import importlib
import os

import devices
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CUPY = devices.choose_cupy()


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


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu"):               # every gpu test needs a device that answers
        devices.device_module()


@pytest.fixture(scope="session")
def cp():
    """The cupy module of this session; skips only when no device answers."""
    return devices.device_module()


@pytest.fixture
def traffic(cp):
    """``with traffic() as seen:`` counts the host syncs and copies inside the block where the
    device can count them (the fake: ``seen.syncs``, ``seen.h2d``...); on a GPU ``seen`` is None."""
    return cp.fake.counting if hasattr(cp, "fake") else contextlib.nullcontext


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
