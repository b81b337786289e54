"""tinyad.kernels.cuda under Numba's CUDA simulator: every thread runs as Python, on the CPU.

The kernel registry (tests/kernel_specs.py, simulator-sized shapes) on the Numba CUDA backend,
with numba.cuda device arrays. The simulator checks indexing (out-of-bounds reads raise
IndexError) and the logic of shared memory and barriers, but it is slow: shapes stay at 64 or
below. Launched by tests/test_cudasim.py; see conftest.py here.
"""
import numpy as np
import pytest
from numba import config, cuda

import kernel_specs as specs
from tinyad.kernels import NUMBA_CUDA
from tinyad.kernels import cuda as kc
from tinyad.kernels import reference as ref

pytestmark = pytest.mark.skipif(not config.ENABLE_CUDASIM, reason="needs NUMBA_ENABLE_CUDASIM=1")

# Numba device arrays are viewed flat, so strided views go only to matmul (2-D indexing).
CASES = [case for dtype in (np.float32, np.float64) for case in specs.cases(dtype, small=True)
         if case.layout == "c" or case.kernel == "matmul"]


def to_host(a):
    return a.copy_to_host() if hasattr(a, "copy_to_host") else np.asarray(a)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_registry(case):
    specs.check(NUMBA_CUDA, case, to_device=cuda.to_device, to_host=to_host)


def test_grid_stride_loop_covers_more_elements_than_threads():
    x = (np.random.default_rng(0).standard_normal(1000) * 3).astype(np.float32)
    y, d = cuda.device_array_like(x), cuda.device_array_like(x)
    kc.forward_kernel[2, 32](specs.ACTIVATIONS.index("gelu"), cuda.to_device(x), y, d)
    np.testing.assert_allclose(y.copy_to_host(), ref.act_forward("gelu", x)[0], rtol=2e-5,
                               atol=2e-6)


def test_helpers_refuse_host_arrays_and_mixed_dtypes():
    with pytest.raises(TypeError, match="device array"):
        kc.act_forward("relu", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="one dtype"):
        kc.matmul(cuda.to_device(np.zeros((2, 2))), cuda.to_device(np.zeros((2, 2), np.float32)))
    with pytest.raises(ValueError, match="unknown activation"):
        kc.act_forward("swish", cuda.to_device(np.zeros(3, np.float32)))
