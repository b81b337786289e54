"""Arithmetic: add, neg, mul, power, maximum, minimum, select, identity, astype.

``out = f(x, y)``; ``t`` a tangent, ``g`` a cotangent. add and neg are linear (their own JVP);
the others give their partial derivatives (rules.elementwise). ``saves``: what the VJP rules
read (node.Saves): OTHER, each input's rule reads the other input."""
import numpy as np

from .. import ops
from ..batching import map_arrays
from ..interpreter import LINEAR, Primitive
from ..node import OUT
from .batching import broadcasting
from .rules import BROADCAST, array_module, elementwise, mask, zeros_like

OTHER = ((1,), (0,))

add = Primitive("add", np.add, jvp=LINEAR, shape_rule=BROADCAST, batch=broadcasting, saves=(),
                vjp=(lambda g, out, x, y: g,
                     lambda g, out, x, y: g))
neg = Primitive("neg", np.negative, jvp=LINEAR, batch=broadcasting, saves=(),
                vjp=(lambda g, out, x: -g,))
mul = elementwise("mul", np.multiply,
                  lambda out, x, y: y,
                  lambda out, x, y: x, saves=OTHER)


def _power_dx(out, x, y):
    """∂(x^y)/∂x = y x^(y-1), and 0 where x = y = 0 (x^0 = 1 is flat, as PyTorch says): there x
    is replaced by 1, so no 0·inf arises at any order."""
    both = map_arrays(lambda x, y: (x == 0) & (y == 0), x, y)
    if both._data.any():                 # any example: where() leaves the others as they are
        x = ops.where(both, 1, x)
    return y * x ** (y - 1)


def _power_dy(out, x, y):
    """∂(x^y)/∂y = x^y log x, and 0 where x = 0 (0^y = 0 is flat in y > 0; PyTorch and JAX):
    there log's input is replaced by 1, so no 0·(-inf) arises at any order."""
    zero = map_arrays(lambda x: x == 0, x)
    if zero._data.any():
        x = ops.where(zero, 1, x)
    return out * ops.log(x)


power = elementwise("power", np.power, _power_dx, _power_dy, saves=((0, 1), (0, OUT)),
                    shape_rule=BROADCAST + "; integers cannot be raised to negative integers")
maximum = elementwise("maximum", np.maximum,     # ties split the derivative evenly
                      lambda out, x, y: mask(lambda x, y: (x > y) + 0.5 * (x == y), x, y, out=out),
                      lambda out, x, y: mask(lambda x, y: (y > x) + 0.5 * (x == y), x, y, out=out),
                      saves=(0, 1, OUT))
minimum = elementwise("minimum", np.minimum,
                      lambda out, x, y: mask(lambda x, y: (x < y) + 0.5 * (x == y), x, y, out=out),
                      lambda out, x, y: mask(lambda x, y: (y < x) + 0.5 * (x == y), x, y, out=out),
                      saves=(0, 1, OUT))
select = elementwise("select", lambda x, y, cond: array_module(x).where(cond, x, y),
                     lambda out, x, y, cond: _chosen(cond, out, True),
                     lambda out, x, y, cond: _chosen(cond, out, False),
                     lambda out, x, y, cond: zeros_like(out),   # cond: a boolean, no derivative
                     saves=(2,))                # out: its shape and dtype only
identity = Primitive("identity", lambda x: x, jvp=LINEAR, saves=(),  # a fresh variable for grad
                     vjp=(lambda g, out, x: g,), batch=broadcasting)
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), jvp=LINEAR, batch=broadcasting,
                   saves=(),
                   vjp=(lambda g, out, x, dtype: ops.astype(g, x.dtype),))


def _chosen(cond, out, where):
    """1.0 where select took this input (cond == where), else 0.0, in out's dtype."""
    dtype = out.dtype
    return map_arrays(lambda c: (c == where).astype(dtype), cond)
