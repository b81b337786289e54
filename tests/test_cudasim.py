"""CUDA kernels checked without a GPU, three ways.

1. The simulator suite (tests/cudasim) in its own process with NUMBA_ENABLE_CUDASIM=1: Numba
   reads the variable at its first import, so it cannot be switched on inside this process.
2. ``numba.cuda.compile_ptx`` for every Numba CUDA kernel (needs NVVM and NVRTC, not a GPU):
   real typing and code generation, which the simulator (plain Python) skips. Float32 kernels
   must emit no float64 instruction (a stray Python float constant would make one).
3. NVRTC compiles the CUDA C++ of the CuPy kernels (needs libnvrtc, not CuPy or a GPU).

2 and 3 are skipped only where the library is not installed: a compiler that is there but fails
(numba-cuda 0.30.4 on NumPy 2.5 did, at its first compile) fails the test.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _need(module):
    """Skip unless `module` is installed (a dotted name whose parent package is absent too)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:                # find_spec("cuda.bindings") without "cuda"
        found = False
    if not found:
        pytest.skip(f"{module} is not installed")


@pytest.mark.cudasim
def test_simulator_suite_passes():
    _need("numba_cuda")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "tests/cudasim", "-q",
                           "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"simulator suite failed:\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"\d+ passed", proc.stdout) and "skipped" not in proc.stdout, proc.stdout


def _need_library(name):
    """Skip when CUDA library `name` (nvvm, nvrtc) is not on this machine; once it is, every
    failure to compile is a failure of the test, never a skip."""
    _need("cuda.pathfinder")
    from cuda.pathfinder import load_nvidia_dynamic_lib
    try:
        load_nvidia_dynamic_lib(name)
    except Exception as e:                     # DynamicLibNotFoundError
        pytest.skip(f"lib{name} is not installed: {e}")


@pytest.fixture(scope="module")
def compile_ptx():
    _need("numba_cuda")
    from numba import config
    if config.ENABLE_CUDASIM:
        pytest.skip("this process runs the CUDA simulator, which cannot compile PTX")
    _need_library("nvvm")                     # code generation
    _need_library("nvrtc")                    # numba-cuda asks NVRTC which architectures exist
    from numba import cuda

    from tinyad.kernels import cuda as kc      # first: it makes numba-cuda work on NumPy 2.5
    return kc, lambda kernel, sig: cuda.compile_ptx(kernel.py_func, sig, cc=(9, 0))[0]


def test_numba_cuda_kernels_compile_to_ptx(compile_ptx):
    kc, compile_ptx = compile_ptx
    assert hasattr(np, "row_stack") == (np.lib.NumpyVersion(np.__version__) < "2.5.0")  # given back
    for dt in ("float32", "float64"):
        ptx = compile_ptx(kc.MATMUL[np.dtype(dt)], f"void({', '.join([dt + '[:, :]'] * 3)})")
        assert ptx.count("bar.sync") == 2 and ".shared" in ptx
        assert (".f64" in ptx) == (dt == "float64"), f"matmul {dt}"
        for kernel, arrays in [(kc.forward_kernel, 3), (kc.jvp_kernel, 4), (kc.bias_kernel, 4)]:
            ptx = compile_ptx(kernel, f"void(int64, {', '.join([dt + '[::1]'] * arrays)})")
            assert (".f64" in ptx) == (dt == "float64"), f"{kernel.__name__} {dt}"
        compile_ptx(kc.softmax_xent_kernel,
                    f"void({dt}[:, ::1], int64[::1], {dt}[:, ::1], float64[::1], float64)")


def _nvrtc(source):
    from cuda.bindings import nvrtc
    _, prog = nvrtc.nvrtcCreateProgram(source.encode(), b"tinyad.cu", 0, [], [])
    result, = nvrtc.nvrtcCompileProgram(prog, 1, [b"--gpu-architecture=compute_90"])
    _, size = nvrtc.nvrtcGetProgramLogSize(prog)
    log = b" " * size
    nvrtc.nvrtcGetProgramLog(prog, log)
    nvrtc.nvrtcDestroyProgram(prog)
    return result == nvrtc.nvrtcResult.NVRTC_SUCCESS, log.decode(errors="replace")


@pytest.fixture(scope="module")
def nvrtc_compile():
    _need("cuda.bindings")
    _need_library("nvrtc")
    return _nvrtc


def test_cupy_kernel_sources_compile_with_nvrtc(nvrtc_compile):
    from tinyad.kernels import cupy_kernels as ck
    for ctype in ("float", "double"):
        ok, log = nvrtc_compile(
            ck.SOFTMAX_XENT + f"template __global__ void softmax_xent<{ctype}>"
            f"(const {ctype}*, const long long*, {ctype}*, {ctype}*, int, int);")
        assert ok, log
    for form, (inputs, outputs, _, _) in ck.FORMS.items():
        params = [p.split()[1] for p in f"{inputs}, {outputs}".split(", ")]
        for name in ck.RULES:                  # one element's work, wrapped as CuPy wraps it
            source = ("template <typename T> __global__ void k(T* p) {"
                      + "".join(f"T& {n} = p[{i}]; " for i, n in enumerate(params))
                      + ck.operation(form, name) + "}\n"
                      + "template __global__ void k<float>(float*);"
                      + "template __global__ void k<double>(double*);")
            ok, log = nvrtc_compile(source)
            assert ok, f"{form} {name}:\n{log}"
