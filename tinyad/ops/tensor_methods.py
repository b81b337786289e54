"""What you can do with a tensor: its operators and methods, each one line into the op layer.

tensor.py says what a tensor is (an array, its dtype and device, its place on the tape); the
methods below are attached to that class when tinyad.ops is imported (which ``import tinyad``
does first), so ``x + y``, ``x @ w``, ``x.sum()`` and ``loss.backward()`` work on every tensor,
dual tensors included. tensor.py cannot import ops itself: the interpreter, which makes tensors,
sits between them.
"""
import types

from .. import ops, tape
from ..tensor import Tensor


class TensorMethods:
    """Written as a class body so each line reads as the method it becomes on Tensor."""

    def astype(self, dtype):
        return ops.astype(self, dtype)

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Reverse mode: accumulate d self / d leaf into ``leaf.grad`` for every leaf on the tape."""
        tape.backward(self, gradient, retain_graph, create_graph)

    # ---- operators ------------------------------------------------------------------------
    def __add__(self, o): return ops.add(self, o)
    def __radd__(self, o): return ops.add(o, self)
    def __sub__(self, o): return ops.sub(self, o)
    def __rsub__(self, o): return ops.sub(o, self)
    def __mul__(self, o): return ops.mul(self, o)
    def __rmul__(self, o): return ops.mul(o, self)
    def __truediv__(self, o): return ops.div(self, o)
    def __rtruediv__(self, o): return ops.div(o, self)
    def __pow__(self, o): return ops.power(self, o)
    def __rpow__(self, o): return ops.power(o, self)
    def __matmul__(self, o): return ops.matmul(self, o)
    def __rmatmul__(self, o): return ops.matmul(o, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, o): return ops.compare("less", self, o)
    def __le__(self, o): return ops.compare("less_equal", self, o)
    def __gt__(self, o): return ops.compare("greater", self, o)
    def __ge__(self, o): return ops.compare("greater_equal", self, o)
    def __eq__(self, o): return ops.compare("equal", self, o)
    def __ne__(self, o): return ops.compare("not_equal", self, o)

    # ---- methods --------------------------------------------------------------------------
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def relu(self): return ops.relu(self)
    def gelu(self): return ops.gelu(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def sum(self, axis=None, keepdims=False): return ops.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return ops.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return ops.max(self, axis, keepdims)
    def reshape(self, *shape): return ops.reshape(self, *shape)
    def transpose(self, *axes): return ops.transpose(self, *axes)

    @property
    def T(self):
        return ops.transpose(self)


def attach(methods, cls):
    """Copy the functions and properties defined in `methods` onto `cls`. (Defining ``__eq__``
    sets the body's ``__hash__`` to None; that is not a function, so a Tensor keeps the
    identity hashing tensor.py gives it.)"""
    for name, value in vars(methods).items():
        if isinstance(value, (types.FunctionType, property)):
            setattr(cls, name, value)


attach(TensorMethods, Tensor)
