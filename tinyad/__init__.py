"""tinyad: automatic differentiation you can read in an afternoon.

One table of primitives (primitives.py), each with its computation, its JVP rule and its VJP rule,
drives two modes: dual numbers (dual.py) and a tape (tape.py). Transforms (transforms.py), a
training stack (nn, optim, data) and learning rules (learning) are built on top.
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

from . import errors  # noqa: E402  (after kernels/ is found)
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
