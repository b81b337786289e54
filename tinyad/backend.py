"""Array backends: NumPy on the CPU, CuPy on the GPU.

A tensor's device is the module its array belongs to. CuPy is imported only when a GPU tensor is
asked for, so ``import tinyad`` stays fast and works on machines without CUDA.
"""
import numpy as np

from .errors import DeviceError, DtypeError
from .kernels.arrays import FLOATS, is_cupy  # noqa: F401  (FLOATS: part of this namespace)


def cupy():
    """The CuPy module, or a clear error saying how to get it."""
    try:
        import cupy as cp
    except ImportError as e:
        raise DeviceError(
            "device 'cuda' needs CuPy: pip install 'tinyad[cuda12]' or 'tinyad[cuda13]'") from e
    return cp


def device_of(array):
    """'cuda' for a CuPy array, else 'cpu'."""
    return "cuda" if is_cupy(array) else "cpu"


def xp_of(array):
    """The array module (numpy or cupy) that owns `array`."""
    return cupy() if device_of(array) == "cuda" else np


def module(device):
    """The array module of 'cpu' (numpy) or 'cuda' (cupy)."""
    return cupy() if normalize_device(device) == "cuda" else np


def to_device(array, device):
    """Move an array to 'cpu' or 'cuda' (a copy only when the device changes)."""
    device = normalize_device(device)
    if device_of(array) == device:
        return array
    if device == "cuda":
        return cupy().asarray(array)
    return array.get()


def asarray(data, device, dtype=None):
    """`data` (a NumPy or CuPy array, a list, a number) as an array on `device`, in `dtype` if
    given: copied between host and device only when it lives on the other one."""
    xp = module(device)
    if xp is np and device_of(data) == "cuda":
        data = data.get()
    return xp.asarray(data, dtype=dtype)


def copy_to(data, device, dtype=None):
    """A new array on `device` holding `data`'s values (in `dtype` if given): never a view of
    `data`, so writing to one cannot change the other."""
    moved = asarray(data, device, dtype)
    return moved.copy() if moved is data else moved


def normalize_device(device):
    """Accept 'cpu', 'cuda', 'cuda:0' (and 'gpu'); reject anything else."""
    name = str(device).split(":")[0].lower()
    if name == "gpu":
        name = "cuda"
    if name not in ("cpu", "cuda"):
        raise DeviceError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    return name


def check_dtype(dtype, where="tensor"):
    """Allow float32/float64 (differentiable), integers and bool (no gradients); reject the rest,
    naming `where` (the operation asked for it).

    float16 (and bfloat16) are refused, not computed: NumPy has no float16 arithmetic of its own
    (it converts element by element, many times slower than float32), tinyad's kernels are
    compiled for float32 and float64, and gradients summed in float16 lose the small updates.
    Cast to float32 first (``np.asarray(a, np.float32)``)."""
    dtype = np.dtype(dtype)
    if dtype in FLOATS or dtype.kind in "iub":
        return dtype
    hint = (" (float16 is not computed: cast to float32)" if dtype.kind == "f" else "")
    raise DtypeError(
        f"{where}: unsupported dtype {dtype}{hint}; tinyad computes in float32 or float64 "
        "(integer and bool tensors are allowed where no gradient is asked for)")
