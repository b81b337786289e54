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
false there). The functions are tinyad's ops (tinyad/ops/activations.py, the exact GELU through
the erf primitive); this module gives them PyTorch's defaults and their modules.
"""
import warnings

from .. import ops
from ..ops import elu, leaky_relu, relu, sigmoid, silu, softplus, tanh  # noqa: F401
from .module import Module


# ---- functions ----------------------------------------------------------------------------------
def gelu(x, approximate="none"):
    """x·Φ(x), Φ the standard normal CDF (PyTorch's default, through the erf primitive);
    ``approximate="tanh"`` is the tanh approximation (the gelu primitive, also ``ad.gelu``)."""
    return ops.gelu(x, approximate)


def log1p_exp(z):
    """log(1 + e^z) for any z, never overflowing: max(z, 0) + log(1 + e^{-|z|}), written branch
    by branch (z > 0 or not) so that each branch is smooth and first and second derivatives are
    exact everywhere, at 0 too (the binary cross-entropy with logits is built on it)."""
    z = ops.lift(z)
    positive = z > 0
    return ops.where(positive, z, 0.0) + ops.log1p(ops.exp(ops.where(positive, -z, z)))


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
