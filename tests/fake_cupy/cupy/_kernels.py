"""CuPy's user-kernel classes on the fake: arguments checked as CuPy checks them, and the CUDA C
replaced by a NumPy stand-in registered under the kernel's name (``fake.kernel(name)``).

``ElementwiseKernel(in_params, out_params, operation, name)``: a stand-in takes the input arrays
(NumPy, unbroadcast) and returns the outputs; the fake broadcasts them and casts each to its
declared type. A type placeholder (``T``) is bound by the first array declared with it; an array
of another dtype for the same placeholder is a TypeError, as in CuPy.

``RawKernel(code, name)`` and ``RawModule(code=..., name_expressions=[...]).get_function(name)``:
called as ``kernel(grid, block, args, shared_mem=0)``; a stand-in ``(grid, block, args,
shared_mem)`` gets the arguments with device arrays as NumPy arrays and writes its outputs into
them. Every array must be C-contiguous: a raw kernel sees only a pointer, so any other layout
would be read wrongly on a GPU, silently.
"""
import numpy as np

from . import fake
from ._array import is_scalar, ndarray, operand


def _params(spec):
    """'T x, raw T y, float32 z' -> [(type, name)] (raw arrays are passed whole)."""
    out = []
    for p in spec.split(","):
        words = [w for w in p.split() if w != "raw"]
        if words:
            out.append((words[0], words[1]))
    return out


def _dtype(name):
    """A declared type: a NumPy dtype name, or None for a one-letter placeholder such as T."""
    return None if len(name) == 1 else np.dtype(name)


class ElementwiseKernel:
    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, **options):
        self.in_params, self.out_params = _params(in_params), _params(out_params)
        self.operation, self.name, self.return_tuple = operation, name, return_tuple

    def __call__(self, *args, size=None, block_size=None):
        n_in, n_out = len(self.in_params), len(self.out_params)
        if len(args) not in (n_in, n_in + n_out):
            raise TypeError(f"Wrong number of arguments for {self.name!r}: {len(args)} given, "
                            f"{n_in} inputs and {n_out} outputs declared")
        ins = [operand(a) for a in args[:n_in]]      # NumPy arrays and lists: TypeError
        bound = {}
        for (kind, name), a in zip(self.in_params, ins):
            if _dtype(kind) is None and isinstance(a, np.ndarray):
                if bound.setdefault(kind, a.dtype) != a.dtype:
                    raise TypeError(f"Type is mismatched. {name} {a.dtype} {kind} {bound[kind]}")
        shape = np.broadcast_shapes(*[np.shape(a) for a in ins])
        results = fake.standin(self.name)(*ins)
        results = results if isinstance(results, tuple) else (results,)
        outs = [np.array(np.broadcast_to(r, shape), dtype=_dtype(kind) or bound[kind])
                for (kind, _), r in zip(self.out_params, results)]
        given = args[n_in:]
        if given:
            for o, r in zip(given, outs):
                o._a[...] = r
            outs = [o._a for o in given]
            wrapped = list(given)
        else:
            wrapped = [ndarray._of(r) for r in outs]
        return tuple(wrapped) if n_out > 1 or self.return_tuple else wrapped[0]


class RawKernel:
    def __init__(self, code, name, options=(), backend="nvrtc", **kwargs):
        self.code, self.name = code, name

    def __call__(self, grid, block, args, *, shared_mem=0):
        raw = []
        for a in args:
            if isinstance(a, ndarray) and not a._a.flags.c_contiguous:
                raise ValueError(f"{self.name}: a raw kernel reads a pointer; pass C-contiguous "
                                 f"arrays (got strides {a.strides} for shape {a.shape})")
            if not (isinstance(a, ndarray) or is_scalar(a)):
                raise TypeError(f"Unsupported type {type(a)}")
            raw.append(a._a if isinstance(a, ndarray) else a)
        fake.standin(self.name)(tuple(grid), tuple(block), tuple(raw), shared_mem)


class RawModule:
    def __init__(self, code=None, path=None, options=(), backend="nvrtc", *,
                 name_expressions=None, **kwargs):
        self.code, self.names = code, name_expressions

    def get_function(self, name):
        if self.names is not None and name not in self.names:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: {name!r} is not among the module's "
                               f"name_expressions {self.names}")
        return RawKernel(self.code, name)
