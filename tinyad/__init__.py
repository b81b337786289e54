"""tinyad: automatic differentiation you can read in an afternoon.

One table of primitives (primitives/), each with its computation, its JVP rule, its VJP rule and
its batching rule, drives two modes and vmap through one interpreter (interpreter.py): dual
numbers (dual.py), a tape (tape.py) and batches (batching.py). Transforms (transforms.py,
vmap.py), a training stack (nn, optim, data) and learning rules (learning) are built on top.

The imports below climb the ladder the README describes, one rung at a time; each rung uses only
the rungs under it (the table and the ops, rungs 3 and 4, use each other: rules are written in
ops, and ops call the table).
"""


def _kernels_from_the_source_tree():
    """Installed, kernels/ is the subpackage tinyad.kernels (pyproject's package-dir). Run from a
    checkout that is not installed (``PYTHONPATH=.``), it is the folder beside tinyad/: load it
    from there under the same name, so ``import tinyad`` works either way."""
    import importlib.util
    import os
    import sys
    if importlib.util.find_spec(__name__ + ".kernels") is not None:
        return
    folder = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kernels")
    if not os.path.exists(os.path.join(folder, "__init__.py")):
        raise ImportError("tinyad.kernels is missing: install tinyad (pip install -e . in a "
                          "checkout) or put the checkout's kernels/ folder beside tinyad/")
    spec = importlib.util.spec_from_file_location(__name__ + ".kernels",
                                                  os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    sys.modules[spec.name] = module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


_kernels_from_the_source_tree()

# rung 0: errors that name the operation, the shapes and the rule; NumPy/CuPy backends
from . import errors  # noqa: E402  (every import comes after kernels/ is found)
from .backend import normalize_device
from .errors import (AxisError, BatchingError, DeviceError, DtypeError, GradError,
                     IndexingError, ShapeError)

# rung 1: the value, an array with what reverse mode needs to know about it
from .tensor import Tensor, ones, ones_like, randn, tensor, zeros, zeros_like
from .creation import (arange, empty, empty_like, eye, full, full_like, linspace, rand,
                       randint)

# rung 2: the interpreter: the modes in force per thread (recording, dual and batch levels,
# observers), dual numbers (forward mode), batches (vmap), the tape (reverse mode) and what its
# nodes keep, and apply, where every operation runs
from . import modes, node
from .batching import Batched
from .dual import Dual, dual_level
from .tape import enable_grad, is_grad_enabled, no_grad
from .interpreter import PRIMITIVES, Primitive, apply

# rung 3: the table of primitives, each with its computation, JVP, VJP and batching rules
from . import primitives

# rung 4: operations: wrappers that lift numbers, composites; Tensor's operators and methods
from .ops import (abs, concatenate, cos, exp, expand_dims, gelu, log, log_softmax, logsumexp, matmul,
                  max, maximum, mean, minimum, relu, reshape, sigmoid, sin, softmax, sqrt,
                  squeeze, stack, sum, tanh, transpose, where)
from .ops import (  # the breadth of NumPy's and PyTorch's operations
    acos, acosh, all, any, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, argmax,
    argmin, argsort, argwhere, array_split, asin, asinh, atan, atan2, atanh, bitwise_and,
    bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, ceil, celu,
    chunk, clamp, clip, copysign, cosh, cummax, cummin, cumprod, cumsum, diag, diagonal, einsum,
    elu, erf, exp2, expm1, flatten, flip, floor, floor_divide, fmod, gather, hardsigmoid,
    hardswish, hardtanh, index_select, invert, isclose, isfinite, isinf, isnan, leaky_relu,
    left_shift, lerp, log1p, log2, log10, logaddexp, logcumsumexp, logical_and, logical_not,
    logical_or, logical_xor, logsigmoid, masked_fill, masked_select, min, mish, movedim,
    moveaxis, nonzero, norm, one_hot, pad, permute, prod, reciprocal, relu6, remainder, repeat,
    repeat_interleave, right_shift, roll, round, rsqrt, scatter, scatter_reduce, selu, sign,
    silu, sinh, softmin, softplus, softsign, sort, split, square, std, swapaxes, swapdims,
    swish, take, take_along_axis, tan, tile, topk, tril, triu, trunc, unflatten, unsqueeze, var)
from .ops import torch_scatter_add as scatter_add  # PyTorch's (ops.scatter_add: the primitive's)

# rung 5: transforms in JAX's style, and the check of both modes against finite differences
from .dual_constructor import dual
from . import tree
from .transforms import grad, hvp, jvp, value_and_grad, vjp
from .vmap import vmap
from .jacobians import hessian, jacfwd, jacrev
from . import calls
from .custom import custom_jvp, custom_vjp
from .checkpoint import checkpoint, remat
from .linearize import linear_transpose, linearize
from .gradcheck import gradcheck

float32, float64, int64 = "float32", "float64", "int64"

__version__ = "0.1.0"

# rung 6: libraries on the engine, loaded on first use (``ad.nn``, ``ad.optim``...), so that
# ``import tinyad`` is fast. The programs (the ``tinyad`` command) sit above them, in cli.py.
_SUBMODULES = ("nn", "optim", "data", "learning", "viz", "kernels", "autograd")
_LAZY = {"save": "serialization", "load": "serialization"}


def __getattr__(name):
    """Subpackages (``ad.nn``, ``ad.optim``...) load on first use."""
    import importlib
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tinyad' has no attribute {name!r}")
