"""Arithmetic: add, neg, mul, power, maximum, select, identity, astype.

``out = f(x, y)``; ``t`` a tangent, ``g`` a cotangent. add and neg are linear (their own JVP);
the others give their partial derivatives (rules.elementwise)."""
import numpy as np

from .. import ops
from ..interpreter import LINEAR, Primitive
from .rules import BROADCAST, array_module, elementwise, mask

add = Primitive("add", np.add, jvp=LINEAR, shape_rule=BROADCAST,
                vjp=(lambda g, out, x, y: g,
                     lambda g, out, x, y: g))
neg = Primitive("neg", np.negative, jvp=LINEAR,
                vjp=(lambda g, out, x: -g,))
mul = elementwise("mul", np.multiply,
                  lambda out, x, y: y,
                  lambda out, x, y: x)
power = elementwise("power", np.power,
                    lambda out, x, y: y * x ** (y - 1),
                    lambda out, x, y: out * ops.log(x))
maximum = elementwise("maximum", np.maximum,
                      lambda out, x, y: mask((x.data > y.data) + 0.5 * (x.data == y.data), out),
                      lambda out, x, y: mask((y.data > x.data) + 0.5 * (x.data == y.data), out))
select = elementwise("select", lambda x, y, cond: array_module(x).where(cond, x, y),
                     lambda out, x, y, cond: mask(cond, out),
                     lambda out, x, y, cond: mask(~cond, out))
identity = Primitive("identity", lambda x: x, jvp=LINEAR,      # a fresh variable for ``grad``
                     vjp=(lambda g, out, x: g,))
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), jvp=LINEAR,
                   vjp=(lambda g, out, x, dtype: ops.astype(g, x.dtype),))
