"""Elementwise functions and activations: one-line wrappers over their primitives."""
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
def gelu(x): return apply(P.gelu, lift(x))
