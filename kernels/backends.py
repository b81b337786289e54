"""The backends: one object each, with the same entry points, and the one table of what "auto" runs.

    NUMPY       whole-array operations (reference.py): the definitions run on arrays, BLAS matmul
    NUMBA_CPU   Numba kernels compiled from the same definitions (cpu.py, cpu_softmax.py,
                cpu_matmul.py, cpu_windows.py)
    NUMBA_CUDA  Numba CUDA kernels compiled from the same definitions, on CuPy (or numba.cuda)
                memory, on CuPy's current stream (cuda.py)
    CUPY        CuPy ElementwiseKernels and a RawKernel in CUDA C (cupy_kernels.py), cuBLAS

Each has ``act_forward act_jvp bias_act softmax_xent matmul col2im`` with the signatures of
reference.py; a backend without its own version of one uses another's (col2im on CUDA is the
reference's, which runs on CuPy arrays). Modules load on first use, so naming a backend imports
neither Numba nor CuPy.

AUTO says, per device and dtype, which backend runs each kernel ("numpy" or "numba" on the CPU,
"cupy" or "numba" on CUDA). The CPU rows are measured by bench/bench_engine_kernels.py (the
activations inside the engine, forward and backward, with the kernels' derivatives kept as the
tape's residuals: relu's kernel wins 3.6-4.7x alone, ties NumPy in the engine's forward and
backward (0.95x: NumPy's relu is one pass already) and wins 1.2-1.8x only in forward mode, so relu
and tanh stay on NumPy, sigmoid and gelu run Numba at 2.5-6x) and
bench/bench_kernels.py (softmax cross-entropy, matmul, col2im); the numbers are in
bench/results/engine_kernels.md and bench/results/kernels_cpu.md, not here. float64 follows
float32 (not measured separately); CUDA runs CuPy until a device measures otherwise.
"""
import importlib

ENTRY_POINTS = ("act_forward", "act_jvp", "bias_act", "softmax_xent", "matmul", "col2im")


class Backend:
    """`name` on `device`, each entry point taken from the module `modules[entry]` names."""

    def __init__(self, name, device, modules):
        self.name, self.device, self.modules = name, device, modules

    def __getattr__(self, entry):
        if entry not in ENTRY_POINTS:
            raise AttributeError(f"backend {self.name} has no entry point {entry!r}")
        fn = getattr(importlib.import_module("." + self.modules[entry], __package__), entry)
        setattr(self, entry, fn)                    # found once; later lookups skip this
        return fn

    def __repr__(self):
        return f"<tinyad.kernels backend {self.name!r} on {self.device}>"


def _modules(default, **own):
    return {entry: own.get(entry, default) for entry in ENTRY_POINTS}


NUMPY = Backend("numpy", "cpu", _modules("reference"))
NUMBA_CPU = Backend("numba", "cpu", _modules("cpu", softmax_xent="cpu_softmax",
                                               matmul="cpu_matmul", col2im="cpu_windows"))
NUMBA_CUDA = Backend("numba", "cuda", _modules("cuda", col2im="reference"))
CUPY = Backend("cupy", "cuda", _modules("cupy_kernels", col2im="reference"))
BACKENDS = {("cpu", "numpy"): NUMPY, ("cpu", "numba"): NUMBA_CPU,
            ("cuda", "cupy"): CUPY, ("cuda", "numba"): NUMBA_CUDA}

_CPU = {"relu": "numpy", "tanh": "numpy", "sigmoid": "numba", "gelu": "numba",
        "softmax_xent": "numba", "matmul": "numpy", "col2im": "numba"}
_CUDA = dict.fromkeys(_CPU, "cupy")
AUTO = {("cpu", "float32"): _CPU, ("cpu", "float64"): _CPU,
        ("cuda", "float32"): _CUDA, ("cuda", "float64"): _CUDA}
