"""Building blocks of JVP and VJP rules: rules from partial derivatives, constants, masks.

Elementwise primitives give their partial derivatives once, ``d_i(out, *args) = ∂out/∂arg_i``;
both rules follow from it: ``jvp_i = t * d_i`` and ``vjp_i = g * d_i`` (broadcast inputs are
summed back to their shape by the interpreter's one fitting step), and their batching rule is
``batching.broadcasting``. ``saves`` says what the partials read (node.Saves), so the tape keeps
only that.

Masks such as ``x > 0`` and signs are *locally constant*: their derivative is zero almost
everywhere. ``mask(fn, *tensors, out=out)`` computes one from the tensors' arrays, example by
example inside vmap (``batching.map_arrays``). When nothing records, a mask is a plain constant.
When the tape records a rule (a backward pass with create_graph, forward over reverse) and the
output it was read from is on the tape, the mask stays connected to that output with a zero
derivative (the primitive ``locally_constant``), as PyTorch's backward formulas keep the tensors
they read: a gradient taken through the rule then reaches everything behind the mask, as zeros,
rather than leaving ``.grad`` at None (a parameter seen only through a ReLU's mask in a gradient
penalty gets zeros, and weight decay moves it, as in PyTorch).
"""
import numpy as np

from ..backend import xp_of
from ..batching import map_arrays
from ..interpreter import Primitive, apply
from ..modes import current
from ..node import ALL
from ..tensor import Tensor
from .batching import batch_all, broadcasting

BROADCAST = "broadcasting: aligned from the right, each axis pair must be equal or contain a 1"


def elementwise(name, impl, *partials, saves=ALL, shape_rule=BROADCAST):
    """A primitive applied elementwise, from its partial derivatives ``d_i(out, *args)``, which
    read what `saves` declares (default: everything); its batching rule is ``broadcasting``."""
    rules = tuple(_times(d) for d in partials)
    return Primitive(name, impl, jvp=rules, vjp=rules, shape_rule=shape_rule, saves=saves,
                     batch=broadcasting)


def _times(d):
    return lambda t, out, *args, **params: t * d(out, *args, **params)


def const(array):
    """A constant tensor (no tangent, no gradient) from a raw array."""
    return Tensor(array)


def zeros_like(x):
    """A constant tensor of zeros in x's shape (one example's, inside vmap) and dtype (x may be
    a value the tape did not keep: only its shape, dtype and device are read)."""
    return const(x._xp.zeros(x.shape, x.dtype))


locally_constant = Primitive(           # out = value, read from x; zero derivative
    "locally_constant", lambda x, value: value, saves=(),
    jvp=(lambda t, out, x, value: zeros_like(out), lambda t, out, x, value: zeros_like(out)),
    vjp=(lambda g, out, x, value: zeros_like(x), lambda g, out, x, value: zeros_like(value)),
    batch=lambda prim, values, batched: apply(prim, *batch_all(values, batched)))


def constant_of(value, out):
    """`value` (a constant tensor: a mask or a sign read from `out` or its inputs) with zero
    derivative: connected to `out` when the tape records and `out` is on it, else as it is."""
    if out._requires_grad and current().recording:
        return apply(locally_constant, out, value)
    return value


def mask(fn, *xs, out):
    """``fn(*arrays of xs)`` (a condition such as ``x > 0``, or weights such as 0.5 at ties) in
    out's dtype, with zero derivative: the derivative of a selection (see constant_of)."""
    dtype = out.dtype
    return constant_of(map_arrays(lambda *a: fn(*a).astype(dtype), *xs), out)


def array_module(array):
    """numpy or cupy, as `array` is (NumPy's own arrays answered without a lookup)."""
    return np if type(array) is np.ndarray else xp_of(array)
