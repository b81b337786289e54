"""Activations: the functions (``F.leaky_relu``...) and their modules (``nn.LeakyReLU``...),
with PyTorch's names, arguments and defaults.

    relu, tanh, sigmoid       primitives (one fused kernel each at first order)
    gelu(x)                   x·Φ(x) = x/2 · (1 + erf(x/√2));  approximate="tanh": the gelu
                              primitive, x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))
    leaky_relu(x, s=0.01)     x where x > 0, else s·x
    elu(x, alpha=1)           x where x > 0, else alpha·(e^x - 1)
    silu(x)                   x·sigmoid(x)
    softplus(x, beta=1, threshold=20)   log(1 + e^{beta·x}) / beta, and x where beta·x > threshold
    softmax, log_softmax      along ``dim``

At a kink the derivative is PyTorch's: leaky_relu and elu take their left branch at 0 (x > 0 is
false there). Where tinyad has no primitive yet these are composites of existing ops, written so
that no branch ``where`` discards can overflow (a NaN in the discarded branch would still poison
the gradient, 0·inf): elu exponentiates min(x, 0), softplus min(beta·x, threshold). The exact
GELU needs erf, which tinyad's table lacks for now (the ops breadth work adds ``ops.erf`` and
primitives for softplus, leaky_relu, elu, silu: swap them in when they land).
"""
import math
import warnings

import numpy as np

from .. import backend, ops
from ..custom import custom_jvp
from ..ops import relu, sigmoid, tanh
from ..tensor import Tensor
from .module import Module


# ---- functions ----------------------------------------------------------------------------------
@custom_jvp
def _erf(x):
    """erf, elementwise: exact values (Python's math.erf, on the host), derivative
    2/√π · e^{-x²} in tinyad ops (so every order is exact). A stopgap until ``ops.erf`` lands:
    on a GPU it copies the values to the host and back."""
    data = backend.to_device(x.data, "cpu")
    values = np.frompyfunc(math.erf, 1, 1)(data).astype(data.dtype)
    return Tensor(backend.asarray(values, x.device))


@_erf.defjvp
def _erf_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return _erf(x), (2 / math.sqrt(math.pi)) * ops.exp(-x * x) * t


def gelu(x, approximate="none"):
    """x·Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` is the tanh approximation (the
    gelu primitive, also ``ad.gelu``)."""
    if approximate == "tanh":
        return ops.gelu(x)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = ops.lift(x)
    return 0.5 * x * (1 + _erf(x * (1 / math.sqrt(2))))


def leaky_relu(x, negative_slope=0.01):
    x = ops.lift(x)
    return ops.where(x > 0, x, x * negative_slope)


def elu(x, alpha=1.0):
    x = ops.lift(x)
    negative = ops.where(x > 0, 0.0, x)                  # e^x of the left branch never overflows
    return ops.where(x > 0, x, alpha * (ops.exp(negative) - 1))


def silu(x):
    x = ops.lift(x)
    return x * ops.sigmoid(x)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^{beta·x}) / beta, reverting to x where beta·x > threshold (PyTorch's)."""
    x = ops.lift(x)
    z = x * beta
    linear = z > threshold
    soft = ops.log(1 + ops.exp(ops.where(linear, threshold, z))) * (1 / beta)
    return ops.where(linear, x, soft)


def log1p_exp(z):
    """log(1 + e^z) for any z, never overflowing: max(z, 0) + log(1 + e^{-|z|}), written branch
    by branch (z > 0 or not) so that each branch is smooth and first and second derivatives are
    exact everywhere, at 0 too (the binary cross-entropy with logits is built on it)."""
    z = ops.lift(z)
    positive = z > 0
    return ops.where(positive, z, 0.0) + ops.log(1 + ops.exp(ops.where(positive, -z, z)))


def softmax(x, dim=None):
    return ops.softmax(x, _softmax_dim("softmax", x, dim))


def log_softmax(x, dim=None):
    return ops.log_softmax(x, _softmax_dim("log_softmax", x, dim))


def _softmax_dim(name, x, dim):
    """`dim`, or for None PyTorch's legacy choice (0 for 0-, 1- and 3-d inputs, else 1) with its
    warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ops.lift(x).ndim in (0, 1, 3) else 1


# ---- modules ------------------------------------------------------------------------------------
class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x):
        return relu(x)


class Tanh(Module):
    def forward(self, x):
        return tanh(x)


class Sigmoid(Module):
    """1 / (1 + e^-x), elementwise."""

    def forward(self, x):
        return sigmoid(x)


class SiLU(Module):
    """x·sigmoid(x) (also called swish)."""

    def forward(self, x):
        return silu(x)


class GELU(Module):
    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return log_softmax(x, self.dim)
