"""tinyad: automatic differentiation you can read in an afternoon.

One table of primitives (primitives.py), each with its computation, its JVP rule and its VJP rule,
drives two modes: dual numbers (dual.py) and a tape (tape.py). Transforms (transforms.py), a
training stack (nn, optim, data) and learning rules (learning) are built on top.
"""
from . import errors
from .backend import normalize_device
from .dual import Dual, dual, dual_level
from .errors import DeviceError, DtypeError, GradError, ShapeError
from .gradcheck import gradcheck
from .ops import (abs, concatenate, cos, exp, expand_dims, gelu, log, log_softmax, logsumexp, matmul,
                  max, maximum, mean, minimum, relu, reshape, sigmoid, sin, softmax, sqrt,
                  squeeze, stack, sum, tanh, transpose, where)
from .primitive import PRIMITIVES, Primitive, apply
from .tape import enable_grad, is_grad_enabled, no_grad
from .tensor import Tensor, ones, ones_like, randn, tensor, zeros, zeros_like
from .transforms import grad, hessian, hvp, jacfwd, jacrev, jvp, value_and_grad, vjp
from . import conv_primitives, pool_primitives  # noqa: E402,F401  (register conv2d, max_pool2d)

float32, float64, int64 = "float32", "float64", "int64"

__version__ = "0.1.0"

_SUBMODULES = ("nn", "optim", "data", "learning", "viz", "kernels")
_LAZY = {"save": "serialization", "load": "serialization"}


def __getattr__(name):
    """Subpackages (``ad.nn``, ``ad.optim``...) load on first use, so ``import tinyad`` is fast."""
    import importlib
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'tinyad' has no attribute {name!r}")
