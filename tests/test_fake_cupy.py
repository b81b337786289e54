"""The fake device itself (tests/fake_cupy): it must refuse what CuPy 14 refuses, allow what
CuPy allows, count what costs a host sync or a copy, and look like CuPy to tinyad.backend.
Runs where the session's cupy is the fake (CI); skipped on a GPU."""
import numpy as np
import pytest

import tinyad as ad
from tinyad import backend

import devices


@pytest.fixture
def cp(fake_cp):
    return fake_cp


def test_no_implicit_conversion_to_numpy(cp):
    x = cp.arange(3.0)
    for convert in (np.asarray, np.array, lambda a: np.frombuffer(a)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array|bytes-like"):
            convert(x)
    with pytest.raises(TypeError, match="no implementation found for 'numpy.histogram'"):
        np.histogram(x)                          # a NumPy function the fake does not implement
    assert isinstance(np.stack([x]), cp.ndarray)   # one it does: dispatched to cupy.stack
    with pytest.raises(TypeError, match="Implicit conversion"):
        cp.asarray([x, x])                       # a list of device arrays, as in CuPy
    with pytest.raises(TypeError):
        range(cp.asarray(3))                     # no __index__


def test_no_host_arrays_in_device_arithmetic(cp):
    x, host = cp.ones(3), np.ones(3)
    for mixed in (lambda: x + host, lambda: host + x, lambda: x * np.float64(2) + host[:1],
                  lambda: np.add(x, host), lambda: cp.maximum(x, host), lambda: x + [1, 2, 3],
                  lambda: x == host, lambda: cp.concatenate([x, host]),
                  lambda: cp.where(x > 0, x, host)):
        with pytest.raises(TypeError, match="Unsupported type|numpy.ndarray"):
            mixed()
    with pytest.raises(TypeError, match="Unsupported type"):
        x[:] = host
    with pytest.raises(TypeError, match="Unsupported type"):
        x += host
    assert (x + 2.0).dtype == np.float64 and (x.astype(np.float32) * 2.0).dtype == np.float32
    assert float((x * np.float32(2)).sum()) == 6.0    # NumPy scalars are kernel arguments


def test_a_tensor_handles_arithmetic_with_a_device_array(cp):
    t = ad.tensor(np.ones(2, np.float32), device="cuda")
    assert isinstance(cp.ones(2, cp.float32) * t, ad.Tensor)      # the array defers to the Tensor


def test_reading_values_back_is_counted_as_a_sync(cp):
    x = cp.arange(4.0)
    with cp.fake.counting() as seen:
        float(x[1]), int(x[2]), bool(x[0] < 1), x[3].item(), x.tolist(), x.get(), cp.asnumpy(x)
        repr(x), x[x > 1]
    assert seen.syncs == 9 and seen.d2h == 8 and seen.h2d == 0, seen.report()
    assert "test_fake_cupy.py" in seen.events[0][2]


def test_host_data_sent_to_the_device_is_counted_as_a_copy(cp):
    x = cp.arange(4.0)
    with cp.fake.counting() as seen:
        cp.asarray(np.ones(3)), cp.array([1.0, 2.0]), x[[0, 1]], x[np.array([2])]
        x + 1.0, cp.full((2,), 3.0), cp.zeros(5), cp.asarray(x), x.astype(np.float32)
        cp.random.default_rng(0).standard_normal(3, dtype=cp.float32)
    assert seen.h2d == 4 and seen.syncs == 0, seen.report()
    assert seen.h2d_bytes == 24 + 16 + 16 + 8


def test_kernels_check_their_arguments(cp):
    k = cp.ElementwiseKernel("T x, T y", "T z", "z = x + y", "fake_test_add")
    cp.fake.kernel("fake_test_add")(lambda x, y: x + y)
    out = k(cp.ones((2, 3), cp.float32), cp.ones(3, cp.float32))
    assert out.shape == (2, 3) and out.dtype == np.float32
    with pytest.raises(TypeError, match="Type is mismatched"):
        k(cp.ones(3, cp.float32), cp.ones(3, cp.float64))
    with pytest.raises(TypeError, match="Unsupported type"):
        k(cp.ones(3), np.ones(3))
    with pytest.raises(NotImplementedError, match="no NumPy stand-in for kernel 'unknown'"):
        cp.ElementwiseKernel("T x", "T y", "y = x", "unknown")(cp.ones(1))
    raw = cp.RawKernel("...", "fake_test_raw")
    cp.fake.kernel("fake_test_raw")(lambda grid, block, args, shared: None)
    with pytest.raises(ValueError, match="C-contiguous"):
        raw((1,), (1,), (cp.ones((3, 3)).T,))


def test_tinyad_cannot_tell_the_fake_from_cupy(cp):
    x = cp.zeros(2)
    assert backend.device_of(x) == "cuda" and backend.xp_of(x) is cp and backend.cupy() is cp
    assert ad.tensor(x).device == "cuda" and isinstance(ad.ones(2, device="cuda").data, cp.ndarray)


def test_the_gpu_fixture_skips_only_when_no_device_answers(cp, monkeypatch):
    error = cp.cuda.runtime.CUDARuntimeError

    def failing(message):
        def count():
            raise error(message)
        return count
    for no_device in (failing("cudaErrorNoDevice: no CUDA-capable device is detected"),
                      failing("cudaErrorInsufficientDriver: CUDA driver version is insufficient"),
                      lambda: 0):
        monkeypatch.setattr(cp.cuda.runtime, "getDeviceCount", no_device)
        with pytest.raises(pytest.skip.Exception):
            devices.device_module()
    monkeypatch.setattr(cp.cuda.runtime, "getDeviceCount", failing("cudaErrorLaunchFailure"))
    with pytest.raises(error, match="LaunchFailure"):
        devices.device_module()
