"""The machine a number was measured on, and the two settings of it a run may change.

``record()`` is what every results file carries, because a time means nothing without its machine:
the CPU, the core count, Python and library versions, the thread variables of the environment,
OpenBLAS's build and live thread count, Numba's threads, the load average and the date; and for
a run on a GPU, the GPU (its name, memory, compute capability, CUDA runtime and driver).

``threads(n)`` sets OpenBLAS's thread count (through its C API, ``ctypes``) and Numba's for the
duration of a ``with`` block and puts both back after it. Why a program wants that: on a 2-core
machine shared with other work, two BLAS threads spin-wait on each other while the cores are taken
(a ``tinyad compare`` ran 5x slower than with one thread); the library itself never changes them.
``keep_freed_memory()`` asks glibc's malloc to keep freed memory in the process (see there).
"""
import contextlib
import ctypes
import functools
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
       "NUMBA_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYAD_KERNELS", "CUPY_TF32")


def record(device="cpu"):
    """Where the numbers were measured (a JSON-ready dict); `device` 'cuda' adds "gpu"."""
    info = {"python": sys.version.split()[0], "platform": platform.platform(),
            "processor": _cpu_name(), "cpu_count": os.cpu_count(), "numpy": np.__version__,
            "env": {k: os.environ[k] for k in ENV if k in os.environ},
            "blas": {"threads": blas_threads(), "config": blas_config()},
            "loadavg": loadavg(), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    for name in ("numba", "tinyad", "torch", "jax", "cupy"):
        module = sys.modules.get(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "?")
    if "numba" in sys.modules:
        numba = sys.modules["numba"]
        info["numba_threads"] = numba.get_num_threads()
        info["numba_threading_layer"] = numba.config.THREADING_LAYER
    if device == "cuda":
        info["gpu"] = gpu()
    return info


def gpu():
    """CuPy's current CUDA device: name, memory (GiB), compute capability, runtime and driver."""
    import cupy
    runtime = cupy.cuda.runtime
    props = runtime.getDeviceProperties(runtime.getDevice())
    name = props["name"]
    return {"name": name.decode() if isinstance(name, bytes) else name,
            "memory_gib": round(props["totalGlobalMem"] / 2**30, 1),
            "compute_capability": f"{props['major']}.{props['minor']}",
            "cuda_runtime": runtime.runtimeGetVersion(), "driver": runtime.driverGetVersion()}


def describe(m):
    """One markdown sentence for a ``record()``."""
    blas = m.get("blas", {}).get("threads")
    gpu = m.get("gpu")
    return ((f"GPU: {gpu['name']}, {gpu['memory_gib']} GiB, compute capability "
             f"{gpu['compute_capability']}, CuPy {m.get('cupy', '?')}. " if gpu else "")
            + f"Machine: {m['processor']}, {m['cpu_count']} cores, {m['platform']}; Python "
            f"{m['python']}, NumPy {m['numpy']}" + (f", Numba {m['numba']}" if "numba" in m else "")
            + f"; BLAS threads {blas if blas else 'unknown'}; environment {m['env'] or 'none'}; "
            f"load average {m['loadavg']}; {m['date']}.")


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def loadavg():
    """The load average over 1, 5 and 15 minutes (None where the system has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


# ---- BLAS and Numba threads -------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _openblas():
    """NumPy's OpenBLAS as (ctypes library, symbol prefix, symbol suffix), or None."""
    try:
        paths = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            if hasattr(lib, f"{prefix}_get_num_threads{suffix}"):
                return lib, prefix, suffix
    return None


def _blas_function(name):
    """OpenBLAS's C function `name` ('get_num_threads', ...), or None."""
    found = _openblas()
    if found is None:
        return None
    lib, prefix, suffix = found
    return getattr(lib, f"{prefix}_{name}{suffix}", None)


def blas_threads():
    """OpenBLAS's current thread count (None when it cannot be asked)."""
    get = _blas_function("get_num_threads")
    return int(get()) if get else None


def set_blas_threads(n):
    """Set OpenBLAS's thread count for this process; False when NumPy's OpenBLAS is not found."""
    set_ = _blas_function("set_num_threads")
    if set_ is None:
        return False
    set_(ctypes.c_int(int(n)))
    return True


def blas_config():
    """OpenBLAS's build description (its kernels, its thread limit), or None."""
    fn = _blas_function("get_config")
    if fn is None:
        return None
    fn.restype = ctypes.c_char_p
    return fn().decode()


@contextlib.contextmanager
def threads(n=None):
    """Run the block with `n` OpenBLAS threads and at most `n` Numba threads, then restore both
    (``n=None``: leave them). Yields the setting in force, ``{"requested": n, "blas": count,
    "numba": count}``, a count None where it cannot be controlled here (NumPy's BLAS is not
    OpenBLAS; Numba missing)."""
    blas_before, numba = blas_threads(), _numba()
    numba_before = numba.get_num_threads() if numba else None
    applied = {"requested": n, "blas": blas_before, "numba": numba_before}
    if n is not None:
        applied["blas"] = n if set_blas_threads(n) else None
        if numba:
            applied["numba"] = min(n, numba.config.NUMBA_NUM_THREADS)
            numba.set_num_threads(applied["numba"])
    try:
        yield applied
    finally:
        if n is not None and blas_before is not None:
            set_blas_threads(blas_before)
        if n is not None and numba:
            numba.set_num_threads(numba_before)


def _numba():
    try:
        import numba
    except ImportError:
        return None
    return numba


# ---- the allocator ----------------------------------------------------------------------------
MALLOPT = {"M_TRIM_THRESHOLD": (-1, 1 << 30), "M_TOP_PAD": (-2, 256 << 20),
           "M_MMAP_THRESHOLD": (-3, 32 << 20)}   # mallopt's parameter numbers (malloc.h), bytes


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory in the process: trim the heap only above 1 GiB,
    grow it 256 MiB at a time, and serve blocks up to 32 MiB (mallopt's largest) from it.

    Why: every step of the CNN allocates and frees arrays of 12-115 MB. By default glibc hands
    such memory back to the kernel, and the next step page-faults it in again, zero-filled; how
    often depends on what ran before, so backprop-step samples of the same code scattered from
    362 to 723 ms (median 431), and with this setting did not (266-308 ms; bench/README.md).
    It applies to everything in the process alike (the same as MALLOC_TRIM_THRESHOLD_ and friends
    in the environment), for the rest of the process.
    Returns {setting: bytes} as applied, or None where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return None
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return None
    return {name: value for name, (param, value) in MALLOPT.items()
            if mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1}
