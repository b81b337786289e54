"""tinyad.kernels.cuda under Numba's CUDA simulator: every thread runs as Python, on the CPU.

The simulator checks indexing (out-of-bounds reads raise IndexError) and the logic of shared
memory and barriers, but it is slow (a 64^3 tiled matmul takes seconds): shapes stay at 64 or
below. Launched by tests/test_cudasim.py; see conftest.py here.
"""
import numpy as np
import pytest
from numba import config, cuda

from tinyad.kernels import cuda as kc
from tinyad.kernels import reference as ref

pytestmark = pytest.mark.skipif(not config.ENABLE_CUDASIM, reason="needs NUMBA_ENABLE_CUDASIM=1")

# The simulator evaluates math.tanh in double and mixes precisions where the GPU would not:
# near gelu's flat tail that costs float32 about 1e-6 absolute.
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-13)}


def data(shape, dtype, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 3).astype(dtype)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (16, 16, 16), (17, 40, 33), (64, 7, 50)])
def test_tiled_matmul(m, k, n):
    a, b = data((m, k), np.float32), data((k, n), np.float32, 1)
    c = kc.matmul(cuda.to_device(a), cuda.to_device(b)).copy_to_host()
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(kc.KINDS))
def test_activations(name, dtype):
    x, t = data((17, 31), dtype), data((17, 31), dtype, 1)
    y, d = kc.act_forward(name, cuda.to_device(x))
    y2, ty = kc.act_jvp(name, cuda.to_device(x), cuda.to_device(t))
    want_y, want_d = ref.act_forward(name, x)
    for got, want in [(y, want_y), (d, want_d), (y2, want_y), (ty, want_d * t)]:
        host = got.copy_to_host()
        assert host.dtype == np.dtype(dtype) and host.shape == x.shape
        np.testing.assert_allclose(host, want, **TOL[dtype])


def test_grid_stride_loop_covers_more_elements_than_threads():
    x = data(1000, np.float32)
    y, d = cuda.device_array_like(x), cuda.device_array_like(x)
    kc.forward_kernel[2, 32](kc.KINDS.index("gelu"), cuda.to_device(x), y, d)   # 64 threads
    np.testing.assert_allclose(y.copy_to_host(), ref.gelu(x)[0], **TOL[np.float32])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 in gelu'
def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -30.0, 30.0], np.float32)
    for name in kc.KINDS:
        want = ref.act_forward(name, x)
        got = kc.act_forward(name, cuda.to_device(x))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.copy_to_host(), w, equal_nan=True, **TOL[np.float32])


def test_helpers_refuse_host_arrays_and_wrong_dtypes():
    with pytest.raises(TypeError, match="device array"):
        kc.act_forward("relu", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="float32"):
        kc.matmul(cuda.to_device(np.zeros((2, 2))), cuda.to_device(np.zeros((2, 2))))
