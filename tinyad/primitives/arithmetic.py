"""Arithmetic: add, neg, mul, power, maximum, minimum, select, identity, astype.

``out = f(x, y)``; ``t`` a tangent, ``g`` a cotangent. add and neg are linear (their own JVP);
the others give their partial derivatives (rules.elementwise). ``saves``: what the VJP rules
read (node.Saves): OTHER, each input's rule reads the other input."""
import numpy as np

from .. import ops
from ..interpreter import LINEAR, Primitive
from ..node import OUT
from .rules import BROADCAST, array_module, const, elementwise, mask

OTHER = ((1,), (0,))

add = Primitive("add", np.add, jvp=LINEAR, shape_rule=BROADCAST, saves=(),
                vjp=(lambda g, out, x, y: g,
                     lambda g, out, x, y: g))
neg = Primitive("neg", np.negative, jvp=LINEAR, saves=(),
                vjp=(lambda g, out, x: -g,))
mul = elementwise("mul", np.multiply,
                  lambda out, x, y: y,
                  lambda out, x, y: x, saves=OTHER)


def _power_dx(out, x, y):
    """∂(x^y)/∂x = y x^(y-1), and 0 where x = y = 0 (x^0 = 1 is flat, as PyTorch says): there x
    is replaced by 1, so no 0·inf arises at any order."""
    both = (x.data == 0) & (y.data == 0)
    if both.any():
        x = ops.where(both, 1, x)
    return y * x ** (y - 1)


def _power_dy(out, x, y):
    """∂(x^y)/∂y = x^y log x, and 0 where x = 0 (0^y = 0 is flat in y > 0; PyTorch and JAX):
    there log's input is replaced by 1, so no 0·(-inf) arises at any order."""
    zero = x.data == 0
    if zero.any():
        x = ops.where(zero, 1, x)
    return out * ops.log(x)


power = elementwise("power", np.power, _power_dx, _power_dy, saves=((0, 1), (0, OUT)),
                    shape_rule=BROADCAST + "; integers cannot be raised to negative integers")
maximum = elementwise("maximum", np.maximum,     # ties split the derivative evenly
                      lambda out, x, y: mask((x.data > y.data) + 0.5 * (x.data == y.data), out),
                      lambda out, x, y: mask((y.data > x.data) + 0.5 * (x.data == y.data), out),
                      saves=(0, 1, OUT))
minimum = elementwise("minimum", np.minimum,
                      lambda out, x, y: mask((x.data < y.data) + 0.5 * (x.data == y.data), out),
                      lambda out, x, y: mask((y.data < x.data) + 0.5 * (x.data == y.data), out),
                      saves=(0, 1, OUT))
select = elementwise("select", lambda x, y, cond: array_module(x).where(cond, x, y),
                     lambda out, x, y, cond: const(cond.astype(out.dtype)),     # cond: a given
                     lambda out, x, y, cond: const((~cond).astype(out.dtype)),  # constant
                     saves=())
identity = Primitive("identity", lambda x: x, jvp=LINEAR, saves=(),  # a fresh variable for grad
                     vjp=(lambda g, out, x: g,))
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), jvp=LINEAR, saves=(),
                   vjp=(lambda g, out, x, dtype: ops.astype(g, x.dtype),))
