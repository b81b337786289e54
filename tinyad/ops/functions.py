"""Elementwise functions and activations: one-line wrappers over their primitives."""
import math

from .. import primitives as P
from ..interpreter import apply
from .lifting import lift


def exp(x): return apply(P.exp, lift(x))
def log(x): return apply(P.log, lift(x))
def sqrt(x): return apply(P.sqrt, lift(x))
def abs(x): return apply(P.abs, lift(x))
def sin(x): return apply(P.sin, lift(x))
def cos(x): return apply(P.cos, lift(x))
def tanh(x): return apply(P.tanh, lift(x))
def sigmoid(x): return apply(P.sigmoid, lift(x))
def relu(x): return apply(P.relu, lift(x))


def gelu(x, approximate="tanh"):
    """GELU, x Φ(x). ``approximate="tanh"`` (tinyad's default, one fused primitive):
    0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))); ``"none"`` (PyTorch's default): the exact
    0.5 x (1 + erf(x / √2)), composed with the erf primitive."""
    x = lift(x)
    if approximate == "tanh":
        return apply(P.gelu, x)
    if approximate == "none":
        return 0.5 * x * (1 + apply(P.erf, x * math.sqrt(0.5)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
